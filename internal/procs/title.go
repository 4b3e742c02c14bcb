package procs

import (
	"path"
	"strconv"
	"strings"
)

// Kind says what a process of a PostgreSQL cluster is. The values are the
// names PostgreSQL itself uses (pg_stat_activity.backend_type) where it has
// one.
type Kind string

// Kinds of PostgreSQL processes, and of the other processes the status
// command may show.
const (
	KindPostmaster         Kind = "postmaster"
	KindCheckpointer       Kind = "checkpointer"
	KindBackgroundWriter   Kind = "background writer"
	KindWalWriter          Kind = "walwriter"
	KindAutovacuumLauncher Kind = "autovacuum launcher"
	KindAutovacuumWorker   Kind = "autovacuum worker"
	KindLogicalLauncher    Kind = "logical replication launcher"
	KindLogicalWorker      Kind = "logical replication worker"
	KindStatsCollector     Kind = "stats collector" // PostgreSQL 14 and older
	KindArchiver           Kind = "archiver"
	KindWalSender          Kind = "walsender"
	KindWalReceiver        Kind = "walreceiver"
	KindWalSummarizer      Kind = "walsummarizer"   // PostgreSQL 17+
	KindSlotSyncWorker     Kind = "slotsync worker" // PostgreSQL 17+
	KindIOWorker           Kind = "io worker"       // PostgreSQL 18+
	KindStartup            Kind = "startup"
	KindLogger             Kind = "logger"
	KindParallelWorker     Kind = "parallel worker"
	KindBackgroundWorker   Kind = "background worker"
	KindClientBackend      Kind = "client backend"

	// KindStarting is a child the postmaster has forked that has not set
	// its process title yet, so it still shows the postmaster's arguments.
	KindStarting Kind = "starting"
	// KindSubprocess is a descendant of a postmaster that is not a
	// PostgreSQL process, e.g. an archive_command or COPY ... PROGRAM. It
	// inherits the filters of the process that started it.
	KindSubprocess Kind = "subprocess"
	// KindOther is a process that belongs to no PostgreSQL cluster.
	KindOther Kind = "other"
	// KindUnknown is a PostgreSQL process whose title is not recognized,
	// e.g. an empty one (a zombie).
	KindUnknown Kind = "unknown"
)

// titlePrefix starts every title PostgreSQL sets (ps_status.c).
const titlePrefix = "postgres: "

// Title is what a PostgreSQL process title says about the process.
type Title struct {
	Kind Kind
	// ClusterName is the cluster_name setting shown as a prefix of the
	// title ("postgres: main: checkpointer"), if any.
	ClusterName string
	// Role and Database are the user and database of a client backend or
	// walsender (a physical walsender has no database), and the database
	// of an autovacuum worker.
	Role     string
	Database string
	// Host is the client address of a client backend or walsender:
	// "[local]" or "host(port)".
	Host string
	// Detail is what follows the fixed part: a backend's activity ("idle",
	// "SELECT", "streaming 0/3000148"), the archiver's "last was ...", the
	// startup process's "recovering ...", a background worker's name.
	Detail string
	// LeaderPID is the PID of the leader a parallel worker works for.
	LeaderPID int
}

// auxNames maps the fixed titles of PostgreSQL's auxiliary processes to their
// kinds. Each entry matches the whole title or its start followed by a
// space; the rest is the Detail. The pre-10 spellings ("writer process")
// are included so that old servers are recognized too.
var auxNames = []struct {
	name string
	kind Kind
}{
	{"checkpointer process", KindCheckpointer},
	{"checkpointer", KindCheckpointer},
	{"background writer", KindBackgroundWriter},
	{"writer process", KindBackgroundWriter},
	{"walwriter", KindWalWriter},
	{"wal writer process", KindWalWriter},
	{"autovacuum launcher process", KindAutovacuumLauncher},
	{"autovacuum launcher", KindAutovacuumLauncher},
	{"autovacuum worker process", KindAutovacuumWorker},
	{"autovacuum worker", KindAutovacuumWorker},
	{"logical replication launcher", KindLogicalLauncher},
	{"logical replication", KindLogicalWorker}, // worker, apply worker, tablesync worker, ...
	{"stats collector process", KindStatsCollector},
	{"stats collector", KindStatsCollector},
	{"archiver process", KindArchiver},
	{"archiver", KindArchiver},
	{"walreceiver", KindWalReceiver},
	{"wal receiver process", KindWalReceiver},
	{"walsummarizer", KindWalSummarizer},
	{"slotsync worker", KindSlotSyncWorker},
	{"io worker", KindIOWorker},
	{"startup process", KindStartup},
	{"startup", KindStartup},
	{"logger process", KindLogger},
	{"logger", KindLogger},
}

// ParseTitle classifies a process by its title, as returned by TitleOf.
//
// A title that does not start with "postgres: " is a postmaster's original
// command line when its program is named postgres or postmaster, and
// KindUnknown otherwise. For a title set by PostgreSQL, a client backend
// ("postgres: joe mydb [local] idle") is recognized by its client address,
// the auxiliary processes by their fixed names, and anything else is taken
// to be a background worker named by the rest of the title.
//
// Titles are not escaped by PostgreSQL, so role and database names that
// contain spaces, or a role name that contains ": ", cannot be told apart
// reliably; ParseTitle then assumes the role is one word.
func ParseTitle(title string) Title {
	title = strings.TrimRight(title, " \t\x00")
	rest, ok := strings.CutPrefix(title, titlePrefix)
	if !ok {
		if f := strings.Fields(title); len(f) > 0 && IsPostgresProgram(f[0]) {
			return Title{Kind: KindPostmaster}
		}
		return Title{Kind: KindUnknown}
	}
	var t Title
	rest = strings.TrimLeft(rest, " ")
	// The title was trimmed, so "postgres: main: " arrives as "main:".
	if name, after, ok := strings.Cut(rest+" ", ": "); ok && name != "bgworker" && !containsHost(strings.Fields(name)) {
		t.ClusterName, rest = name, strings.TrimSuffix(after, " ")
	}
	rest = strings.TrimPrefix(rest, "bgworker: ") // PostgreSQL 12 and older
	if rest == "" {
		t.Kind = KindUnknown
		return t
	}

	fields := strings.Fields(rest)
	if i := hostIndex(fields); i >= 0 {
		walsender := 0
		switch {
		case fields[0] == "walsender":
			walsender = 1
		case len(fields) > 2 && fields[0] == "wal" && fields[1] == "sender" && fields[2] == "process":
			walsender = 3
		}
		names := fields[walsender:i]
		if walsender > 0 && len(names) >= 1 {
			t.Kind = KindWalSender
			t.Role = names[0]
			t.Database = strings.Join(names[1:], " ")
		} else if walsender == 0 && len(names) >= 2 {
			t.Kind = KindClientBackend
			t.Role = names[0]
			t.Database = strings.Join(names[1:], " ")
		}
		if t.Kind != "" {
			t.Host = fields[i]
			t.Detail = strings.Join(fields[i+1:], " ")
			return t
		}
	}

	if after, ok := strings.CutPrefix(rest, "parallel worker for PID "); ok {
		t.Kind = KindParallelWorker
		pid, detail, _ := strings.Cut(after, " ")
		if n, err := strconv.Atoi(pid); err == nil && n > 0 {
			t.LeaderPID = n
		}
		t.Detail = strings.TrimSpace(detail)
		return t
	}
	for _, a := range auxNames {
		if detail, ok := cutWord(rest, a.name); ok {
			t.Kind = a.kind
			if a.kind == KindLogicalWorker {
				t.Detail = rest
			} else if a.kind == KindAutovacuumWorker {
				t.Database = detail
			} else {
				t.Detail = detail
			}
			return t
		}
	}
	t.Kind = KindBackgroundWorker
	t.Detail = rest
	return t
}

// cutWord reports whether s is prefix, or starts with prefix and a space,
// and returns what follows, trimmed.
func cutWord(s, prefix string) (string, bool) {
	after, ok := strings.CutPrefix(s, prefix)
	if !ok || (after != "" && after[0] != ' ') {
		return "", false
	}
	return strings.TrimSpace(after), true
}

// hostIndex returns the index of the first field, after the first, that is a
// client address as PostgreSQL shows it, or -1.
func hostIndex(fields []string) int {
	for i := 1; i < len(fields); i++ {
		if isHost(fields[i]) {
			return i
		}
	}
	return -1
}

func containsHost(fields []string) bool {
	for _, f := range fields {
		if isHost(f) {
			return true
		}
	}
	return false
}

// isHost reports whether s is "[local]" or "host(port)".
func isHost(s string) bool {
	if s == "[local]" {
		return true
	}
	open := strings.LastIndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return false
	}
	port := s[open+1 : len(s)-1]
	if port == "" {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsPostgresProgram reports whether a program path names the PostgreSQL
// server binary. A path read from /proc/PID/exe may end in " (deleted)" when
// the binary was replaced by a package upgrade.
func IsPostgresProgram(p string) bool {
	base := path.Base(strings.TrimSuffix(p, " (deleted)"))
	return base == "postgres" || base == "postmaster"
}
