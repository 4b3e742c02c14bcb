package lint

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// HBA is the server's pg_hba.conf as lint read it.
type HBA struct {
	File  string
	Lines []pgconf.HBALine
	Err   error // why it could not be read (or not all of it)
}

// ReadHBA reads the pg_hba.conf the configuration names (hba_file, by
// default pg_hba.conf in the data directory). Problems are in HBA.Err.
func ReadHBA(conf *pgconf.File) *HBA {
	h := &HBA{File: filepath.Join(conf.DataDir, "pg_hba.conf")}
	if s, ok := conf.Lookup("hba_file"); ok && s.Value != "" {
		h.File = s.Value
		if !filepath.IsAbs(h.File) {
			h.File = filepath.Join(conf.DataDir, h.File)
		}
	}
	h.Lines, h.Err = pgconf.ReadHBA(h.File)
	return h
}

// FetchRoles returns every role name of the server dsn connects to (pgx's
// connection string: a URL or key=value pairs, with libpq's environment).
func FetchRoles(ctx context.Context, dsn string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to read pg_roles: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT rolname::text FROM pg_catalog.pg_roles")
	if err != nil {
		return nil, fmt.Errorf("reading pg_roles: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading pg_roles: %w", err)
	}
	return names, nil
}

// FetchMajor returns the PostgreSQL major of the server dsn connects to
// (server_version_num).
func FetchMajor(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("connecting to read server_version_num: %w", err)
	}
	defer conn.Close(ctx)
	return cluster.ConnMajor(ctx, conn)
}

// checkRoleNames: names in session_roles that fold to lower case (a
// notice), and with the server's roles (--dsn) names that match no role,
// or match one only in another case (warnings).
func (l *linter) checkRoleNames() {
	s := l.t.Settings
	v, ok := s.Lookup(policy.SessionRolesName)
	if !ok || s.SessionRoles == nil {
		return
	}
	written := map[string]string{} // folded name -> as written, when it folded
	for _, w := range strings.Split(v.Text, ",") {
		w = strings.TrimSpace(w)
		if w != "" && !strings.HasPrefix(w, `"`) && pgconf.FoldName(w) != w {
			written[policy.TruncateIdentifier(pgconf.FoldName(w))] = w
		}
	}
	for _, role := range s.SessionRoles {
		w, folded := written[role]
		exists := l.in.Roles == nil || slices.Contains(l.in.Roles, role)
		var other string
		for _, r := range l.in.Roles {
			if r != role && strings.EqualFold(r, role) {
				other = r
			}
		}
		switch {
		case other != "" && (folded || !exists):
			msg := fmt.Sprintf("%s names %q, but the server's role is %q", policy.SessionRolesName, role, other)
			if folded {
				msg = fmt.Sprintf("%s names %s, which folds to %q, not the server's role %q", policy.SessionRolesName, w, role, other)
			}
			l.add(Finding{Check: "session-roles", Severity: Warning, Setting: policy.SessionRolesName, Role: role,
				Message: msg,
				Why:     fmt.Sprintf("pgseccomp matches the authenticated role exactly (PostgreSQL folds unquoted names in the list to lower case): sessions of %q get the session-level lists, not the ones meant for it", other),
				Fix:     fmt.Sprintf("list the role in double quotes as it is spelt (\"%s\"); per-role setting names are case-insensitive, so its session_syscall_* settings need no change", other)})
		case !exists:
			l.add(Finding{Check: "session-roles", Severity: Warning, Setting: policy.SessionRolesName, Role: role,
				Message: fmt.Sprintf("%s names %q, but the server has no such role", policy.SessionRolesName, role),
				Why:     "the per-role settings of a role that does not exist confine nobody: a misspelt name leaves the role it was meant for with the session-level lists",
				Fix:     "correct the name (SELECT rolname FROM pg_roles), or remove it and its per-role settings"})
		case folded:
			l.add(Finding{Check: "session-roles", Severity: Notice, Setting: policy.SessionRolesName, Role: role,
				Message: fmt.Sprintf("%s names %s, which folds to %q", policy.SessionRolesName, w, role),
				Why:     fmt.Sprintf("PostgreSQL folds unquoted names to lower case: the settings apply to role %q only, and a role %q would get the session-level lists", role, w),
				Fix:     fmt.Sprintf("write %s in lower case, or quote it (\"%s\") if the role is spelt that way; lint --dsn checks the names against the server's roles", w, w)})
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkIOUring: a layer that lets io_uring through while it denies
// something: an error when io_uring is allowed by a default, a warning
// when an allow list names it (a choice, still a bypass).
func (l *linter) checkIOUring(sessions []sessionLayer) {
	layers := append([]sessionLayer{{"", l.t.Policy.Global}}, sessions...)
	globalFound := false
	for _, ly := range layers {
		if globalFound {
			return // the global layer's finding is every session's too
		}
		if ly.layer.Default < policy.Error && len(ly.layer.List(policy.Error)) == 0 && len(ly.layer.List(policy.Kill)) == 0 &&
			(ly.layer.Origin == policy.Global || l.t.Policy.Global.Default < policy.Error && len(l.t.Policy.Global.List(policy.Error)) == 0 && len(l.t.Policy.Global.List(policy.Kill)) == 0) {
			continue // denies nothing: nothing to go around
		}
		var allowed []string
		explicit := true
		for _, name := range policy.IOUring {
			if !l.allows(ly.layer, name) {
				continue
			}
			allowed = append(allowed, name)
			if !l.named(ly.layer, name, policy.Allow) {
				explicit = false
			}
		}
		if len(allowed) == 0 {
			continue
		}
		fd := Finding{Check: "io-uring", Severity: Error, Setting: l.settingFor(ly.layer, allowed[0]), Role: ly.role,
			Message: fmt.Sprintf("%s allows %s while it denies other syscalls", layerName(ly.layer, ly.role), strings.Join(allowed, ", ")),
			Why:     policy.IOUringWhy,
			Fix:     fmt.Sprintf("deny %s (add them to %s); PostgreSQL 15 to 17 never use io_uring, and 18's default io_method = worker does not either", strings.Join(policy.IOUring, ", "), errorSetting(ly.layer, ly.role))}
		if explicit {
			fd.Severity = Warning
			fd.Message = fmt.Sprintf("%s names %s in an allow list while it denies other syscalls", layerName(ly.layer, ly.role), strings.Join(allowed, ", "))
			fd.Fix = "keep it only if the server runs io_method = io_uring and you accept that its rings are not filtered; otherwise deny them"
		}
		globalFound = ly.layer.Origin == policy.Global
		l.add(fd)
	}
}

// named reports whether an explicit list of layer (not its default) gives
// the syscall action a.
func (l *linter) named(layer *policy.Layer, name string, a policy.Action) bool {
	nr, err := policy.SyscallNumber(l.arch, name)
	if err != nil {
		return false
	}
	act, ok := layer.Rules[nr]
	return ok && act == a
}

// errorSetting is the list to add a syscall to, to deny it in layer.
func errorSetting(layer *policy.Layer, role string) string {
	switch {
	case layer.Origin == policy.Global:
		return policy.GlobalListName(policy.Error) + " (restart)"
	case role == "":
		return policy.SessionListName(policy.Error) + " (reload)"
	}
	return policy.RoleListName(policy.Error, role) + " (reload)"
}

// checkIOMethod: PostgreSQL 18's io_method = io_uring creates rings in the
// postmaster for every process: an error unless the global layer names
// io_uring in its allow list.
func (l *linter) checkIOMethod() {
	if l.in.Conf == nil {
		return
	}
	s, ok := l.in.Conf.Lookup("io_method")
	if !ok || strings.ToLower(strings.TrimSpace(s.Value)) != "io_uring" {
		return
	}
	g := l.t.Policy
	if g != nil && g.Global != nil && l.named(g.Global, "io_uring_setup", policy.Allow) && l.named(g.Global, "io_uring_enter", policy.Allow) {
		return // asked for explicitly; checkIOUring says what it costs
	}
	l.add(Finding{Check: "io-method", Severity: Error, Where: s.Where(),
		Message: "io_method = io_uring, but the global layer does not name io_uring_setup and io_uring_enter in its allow list",
		Why:     "PostgreSQL 18 and later create io_uring rings in the postmaster for every process with io_method = io_uring: denied, the server does not start; allowed, the cluster's reads and writes go through rings, and " + policy.IOUringWhy,
		Fix:     "use io_method = worker (the default), which keeps every I/O a syscall the filters see; or, accepting the bypass, name io_uring_setup, io_uring_enter and io_uring_register in " + policy.GlobalListName(policy.Allow)})
}

// checkGlobalOnly: PostgreSQL runs a role's code in processes that never
// load a session filter; the role's own denials do not confine it there.
func (l *linter) checkGlobalOnly(sessions []sessionLayer) {
	for _, s := range sessions {
		var beyond []string
		setting := ""
		for _, nr := range s.layer.Syscalls() {
			if s.layer.Action(nr) >= policy.Error && l.t.Policy.Global.Action(nr) < policy.Error {
				beyond = append(beyond, policy.SyscallName(l.arch, nr))
				if setting == "" {
					setting = s.layer.Why(nr)
				}
			}
		}
		slices.Sort(beyond)
		if s.layer.Default >= policy.Error && l.t.Policy.Global.Default < policy.Error {
			beyond = append(beyond, "everything its allow list does not name")
			setting = s.layer.DefaultFrom
		}
		if len(beyond) == 0 {
			continue
		}
		fd := Finding{Check: "global-only", Severity: Warning, Setting: setting, Role: s.role,
			Message: fmt.Sprintf("%s denies %s, which the global layer allows: code of role %q run by other processes gets them", layerName(s.layer, s.role), nameList(beyond), s.role),
			Why:     "autovacuum's ANALYZE evaluates the role's expression indexes and extended statistics, a logical replication apply worker runs its tables' ENABLE ALWAYS/REPLICA triggers, and background workers (pg_cron jobs, for example) run its SQL, all under the global filter only: the role's functions called there are not confined by its session lists",
			Fix:     "deny in the global layer what no process of the server needs; do not let a role whose lists must hold own index expressions, statistics or triggers that call untrusted code, nor schedule jobs as it"}
		if s.role == "" {
			fd.Severity = Notice
			fd.Message = fmt.Sprintf("the session layer denies %s, which the global layer allows: code of any role run by other processes gets them", nameList(beyond))
		}
		l.add(fd)
	}
}

// checkAttribution: the server settings that tie a denial's pid to a role
// after the session ended (pgseccomp watch, or a DBA reading the log).
func (l *linter) checkAttribution() {
	conf := l.in.Conf
	if conf == nil || !l.t.Settings.Active() {
		return
	}
	lc := setting(conf, "log_connections", "off")
	if !logsConnections(lc.Value) {
		l.add(Finding{Check: "attribution", Severity: Notice, Where: l.whereOf(lc), Setting: "log_connections",
			Message: fmt.Sprintf("log_connections = %s: the server log does not name the role of each connection", pgconf.Quote(lc.Value)),
			Why:     "a seccomp audit record names only the pid; with log_connections on, the server log ties each backend's pid to its role and database, also after the session ended (pgseccomp watch and record --per-role read it)",
			Fix:     "set log_connections = on (reload)"})
	}
	dest := setting(conf, "log_destination", "stderr")
	structured := strings.Contains(strings.ToLower(dest.Value), "csvlog") || strings.Contains(strings.ToLower(dest.Value), "jsonlog")
	prefix := setting(conf, "log_line_prefix", "%m [%p] ")
	collector := setting(conf, "logging_collector", "off")
	switch {
	case structured && !isOn(collector.Value):
		l.add(Finding{Check: "attribution", Severity: Notice, Where: l.whereOf(collector), Setting: "logging_collector",
			Message: fmt.Sprintf("log_destination = %s, but logging_collector = %s: no csvlog or jsonlog file is written", pgconf.Quote(dest.Value), pgconf.Quote(collector.Value)),
			Why:     "csvlog and jsonlog are written only by the logging collector; without them, only a stderr log with a pid in its prefix ties a line to the audit records of its process",
			Fix:     "set logging_collector = on (restart)"})
	case !structured && (!strings.Contains(prefix.Value, "%p") || !strings.Contains(prefix.Value, "%m")):
		l.add(Finding{Check: "attribution", Severity: Notice, Where: l.whereOf(prefix), Setting: "log_line_prefix",
			Message: fmt.Sprintf("log_line_prefix = %s lacks %%m or %%p, and log_destination = %s writes no csvlog or jsonlog", pgconf.Quote(prefix.Value), pgconf.Quote(dest.Value)),
			Why:     "without the time and pid on each line, a log line cannot be tied to the audit records of the process that wrote it (pgseccomp watch reads the log by pid and time)",
			Fix:     "have log_line_prefix include %m and %p (e.g. '%m [%p] %q%u@%d '), or log to jsonlog or csvlog with logging_collector = on (reload)"})
	}
	if les := setting(conf, "log_min_error_statement", "error"); slices.Contains([]string{"log", "fatal", "panic"}, strings.ToLower(strings.TrimSpace(les.Value))) {
		l.add(Finding{Check: "attribution", Severity: Notice, Where: l.whereOf(les), Setting: "log_min_error_statement",
			Message: fmt.Sprintf("log_min_error_statement = %s: a statement that fails with an error is not logged", pgconf.Quote(les.Value)),
			Why:     "a syscall denied with error makes a statement fail; with log_min_error_statement at error (the default) or lower, the log names that statement next to the error",
			Fix:     "set log_min_error_statement = error (reload)"})
	}
}

// whereOf is where a setting is set, or the main configuration file for
// a default.
func (l *linter) whereOf(s pgconf.Setting) string {
	if s.File == "" {
		return l.in.Conf.Path
	}
	return s.Where()
}

// logsConnections reads log_connections: a boolean up to PostgreSQL 17, a
// list of aspects from 18 (on and all include authorization, which names
// the role).
func logsConnections(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if isOn(v) || v == "all" {
		return true
	}
	for _, a := range strings.Split(v, ",") {
		if strings.TrimSpace(a) == "authorization" {
			return true
		}
	}
	return false
}
