package fuzz

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// clientFilterSettings give every kind of session something to inherit:
// global lists of each action, session-level lists, a listed role (joe)
// whose own allow list and error default make its session an allow-list
// session, a listed role (alice) with its own log and kill lists, and
// unlisted roles (bob, and the bootstrap superuser).
var clientFilterSettings = map[string]string{
	"pgseccomp.global_syscall_default":  "allow",
	"pgseccomp.global_syscall_log":      "sethostname",
	"pgseccomp.global_syscall_error":    "kexec_load,swapon",
	"pgseccomp.global_syscall_kill":     "init_module",
	"pgseccomp.session_syscall_default": "allow",
	"pgseccomp.session_syscall_log":     "acct",
	"pgseccomp.session_syscall_error":   "chroot,mount",
	"pgseccomp.session_roles":           "joe,alice",
	"session_syscall_allow.joe":         demo.HandDerivedSessionAllowSetting(),
	"session_syscall_error.joe":         "ptrace",
	"session_syscall_default.joe":       "error",
	"session_syscall_log.alice":         "swapoff,setdomainname",
	"session_syscall_kill.alice":        "kexec_file_load",
}

// clientFilterRoles are the session roles an input picks from; "" is the
// bootstrap superuser.
var clientFilterRoles = []string{"", "joe", "alice", "bob"}

// FuzzClientFilter calls set_client_filter() with arbitrary arguments (each
// may be NULL) in a fresh session of one of clientFilterRoles, and checks
// the session against the model (internal/policy) and against itself:
//   - the model says the call is invalid: the server rejected it, and the
//     session's rows and the kernel's filter count are unchanged;
//   - the model says it is valid: the server returned OK, the rows are the
//     model's, and the kernel has exactly one more filter;
//   - either way, the client layer only restricts: no syscall's effective
//     action is lower after the call than before.
//
// Inputs whose valid filter would deny a syscall the session itself needs
// (neededSyscalls) are skipped: loading them would break the session.
func FuzzClientFilter(f *testing.F) {
	type args struct {
		def, allow, log, errorList, kill string
		// NULL arguments
		defNull, allowNull, logNull, errorNull, killNull bool
	}
	seeds := []struct {
		role uint8
		args
	}{
		// Example 4 of the talk: block clone client-side, in joe's
		// allow-list session, and with the session's default elsewhere.
		{1, args{def: "error", errorList: "clone", allowNull: true, logNull: true, killNull: true}},
		{0, args{errorList: "clone", defNull: true, allowNull: true, logNull: true, killNull: true}},
		// All NULL: the session's own values again.
		{1, args{defNull: true, allowNull: true, logNull: true, errorNull: true, killNull: true}},
		// '*' everywhere but the default.
		{2, args{def: "allow", allow: "*", log: "*", errorList: "*", kill: "*"}},
		// An explicit list beats an inherited one: chroot is in the
		// session's error list, acct in its log list.
		{3, args{def: "allow", allow: "chroot", log: "", errorList: "acct", kill: "ptrace", defNull: true, logNull: true}},
		// joe's allow list kept (NULL), the default stays error.
		{1, args{def: "ERROR", errorList: "ptrace, clone ,execve", log: "vfork", allowNull: true, killNull: true}},
		// A kill list of syscalls a backend never makes.
		{2, args{kill: "reboot,pivot_root", defNull: true, allowNull: true, logNull: true, errorNull: true}},
		// Case in the default action; explicit empty lists.
		{0, args{def: "ALLOW", allow: "", log: "", errorList: "", kill: ""}},
		// Invalid: spaces around the action (PostgreSQL's enum settings
		// do not trim), an unknown action, unknown syscall, misplaced '*',
		// empty entries, two explicit lists naming one syscall,
		// separators that are not commas, names of other architectures.
		{0, args{def: " Allow\t", allowNull: true, logNull: true, errorNull: true, killNull: true}},
		{0, args{def: "deny", defNull: false, allowNull: true, logNull: true, errorNull: true, killNull: true}},
		{1, args{errorList: "clone,klone", defNull: true, allowNull: true, logNull: true, killNull: true}},
		{2, args{allow: "*,read", defNull: true, logNull: true, errorNull: true, killNull: true}},
		{3, args{log: "acct,,ptrace", defNull: true, allowNull: true, errorNull: true, killNull: true}},
		{0, args{errorList: "clone", kill: "clone", defNull: true, allowNull: true, logNull: true}},
		{3, args{errorList: "chroot swapon", defNull: true, allowNull: true, logNull: true, killNull: true}},
		{2, args{kill: "socketcall", defNull: true, allowNull: true, logNull: true, errorNull: true}},
		{1, args{def: strings.Repeat("x", 70), allow: strings.Repeat("y", 70), defNull: false, logNull: true, errorNull: true, killNull: true}},
	}
	for _, s := range seeds {
		f.Add(s.role, s.def, s.defNull, s.allow, s.allowNull, s.log, s.logNull, s.errorList, s.errorNull, s.kill, s.killNull)
	}

	arch, err := policy.NativeArch()
	if err != nil {
		f.Fatal(err)
	}
	settings, err := policy.ParseSettingsMap(withPreload(clientFilterSettings))
	if err != nil {
		f.Fatalf("the model rejects the settings of this target: %v", err)
	}
	model, err := settings.Build(arch)
	if err != nil {
		f.Fatalf("the model rejects the settings of this target: %v", err)
	}
	needed := neededSyscalls(arch)

	c := targetCluster(f, clientFilterSettings, func(c *cluster.Cluster) error {
		return createRoles(c, "joe", "alice", "bob")
	})
	var loaded, rejected, skipped int // calls, for the figures
	f.Cleanup(func() {
		if calls := loaded + rejected + skipped; calls > 0 {
			msg := fmt.Sprintf("FuzzClientFilter (process %d): %d calls: %d loaded a filter, %d were rejected, %d skipped (their filter would deny a syscall the session needs)",
				os.Getpid(), calls, loaded, rejected, skipped)
			f.Log(msg)
			reportFigure(msg)
		}
	})

	f.Fuzz(func(t *testing.T, roleIndex uint8,
		def string, defNull bool, allow string, allowNull bool, log string, logNull bool,
		errorList string, errorNull bool, kill string, killNull bool) {
		role := clientFilterRoles[int(roleIndex)%len(clientFilterRoles)]
		modelRole := role
		if role == "" {
			modelRole = c.OSUser
		}

		var sqlArgs [1 + policy.NumActions]*string
		for i, a := range []struct {
			value string
			null  bool
		}{{def, defNull}, {allow, allowNull}, {log, logNull}, {errorList, errorNull}, {kill, killNull}} {
			if !a.null {
				v := sqlText(a.value)
				sqlArgs[i] = &v
			}
		}
		call := describeCall(role, sqlArgs)
		client := policy.ClientArgsFromSQL(sqlArgs)
		before, err := model.SessionStack(modelRole, nil)
		if err != nil {
			t.Fatalf("the model has no session for role %q: %v", modelRole, err)
		}
		after, modelErr := model.SessionStack(modelRole, &client)
		if modelErr == nil {
			if ok, why := allowsAll(after, arch, needed); !ok {
				skipped++
				t.Skipf("%s: valid, but the filter would deny a syscall the session needs (%s)", call, why)
			}
		} else {
			var problems policy.Problems
			if !errors.As(modelErr, &problems) {
				t.Fatalf("%s: the model fails with %v, not with Problems: this configuration cannot load filters", call, modelErr)
			}
		}

		conn, err := connect(c, role)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		pid, err := backendPID(conn)
		if err != nil {
			t.Fatal(err)
		}
		filtersBefore, err := seccompFilters(pid)
		if err != nil {
			t.Fatal(err)
		}
		rowsBefore, err := sessionRows(conn, policy.ContextSession)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffRows(rowsBefore, modelRows(before.Rows(policy.ContextSession))); d != "" {
			t.Fatalf("a new session of role %q, before set_client_filter(): its rows differ from the model's:\n%s", modelRole, d)
		}

		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		var result string
		callErr := conn.QueryRow(ctx, "SELECT set_client_filter($1, $2, $3, $4, $5)",
			sqlArgs[0], sqlArgs[1], sqlArgs[2], sqlArgs[3], sqlArgs[4]).Scan(&result)
		var pgErr *pgconn.PgError
		if callErr != nil && !errors.As(callErr, &pgErr) {
			t.Fatalf("%s: the session failed, not with an SQL error: %v\nlast 20 lines of the server log:\n%s",
				call, callErr, c.LogTail(20))
		}

		filtersAfter, err := seccompFilters(pid)
		if err != nil {
			t.Fatalf("%s: the backend (pid %d) is gone: %v", call, pid, err)
		}
		rowsAfter, err := sessionRows(conn, policy.ContextSession)
		if err != nil {
			t.Fatalf("%s: after the call: %v", call, err)
		}

		if callErr == nil {
			loaded++
		} else {
			rejected++
		}
		if modelErr != nil {
			if callErr == nil {
				t.Fatalf("%s returned %q, but the model rejects it: %v", call, result, modelErr)
			}
			if !strings.Contains(pgErr.Message, "set_client_filter()") {
				t.Errorf("%s: the error does not name set_client_filter(): %s", call, pgErr.Message)
			}
			if arg := rejectedArgument(modelErr); arg != "" && !strings.Contains(pgErr.Message, arg) {
				t.Errorf("%s: the model rejects %s (%v), the server says: %s (%s)", call, arg, modelErr, pgErr.Message, pgErr.Detail)
			}
			if d := diffRows(rowsAfter, rowsBefore); d != "" {
				t.Errorf("%s was rejected (%s), yet the session's rows changed:\n%s", call, pgErr.Message, d)
			}
			if filtersAfter != filtersBefore {
				t.Errorf("%s was rejected (%s), yet the backend's Seccomp_filters went from %d to %d",
					call, pgErr.Message, filtersBefore, filtersAfter)
			}
		} else {
			if callErr != nil {
				t.Fatalf("%s failed: %s (%s); the model accepts it", call, pgErr.Message, pgErr.Detail)
			}
			if result != "OK" {
				t.Errorf("%s returned %q, want OK", call, result)
			}
			if d := diffRows(rowsAfter, modelRows(after.Rows(policy.ContextSession))); d != "" {
				t.Errorf("%s: the session's rows differ from the model's:\n%s", call, d)
			}
			if filtersAfter != filtersBefore+1 {
				t.Errorf("%s returned OK, but the backend's Seccomp_filters went from %d to %d, want %d",
					call, filtersBefore, filtersAfter, filtersBefore+1)
			}
		}

		// The client layer can only restrict, whatever the model says.
		for _, r := range append(rowsBefore, rowsAfter...) {
			if was, is := effective(rowsBefore, r.Number), effective(rowsAfter, r.Number); is < was {
				t.Errorf("%s widened the session's filter: %s was %s, is %s", call, r.Syscall, was, is)
			}
		}
	})
}

// describeCall renders the call for messages, with Go-quoted arguments.
func describeCall(role string, args [1 + policy.NumActions]*string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = "NULL"
		if a != nil {
			parts[i] = fmt.Sprintf("%q", *a)
		}
	}
	if role == "" {
		role = "the bootstrap superuser"
	}
	return fmt.Sprintf("set_client_filter(%s) as %s", strings.Join(parts, ", "), role)
}

// rejectedArgument is the argument (e.g. "error_list") that the first of
// the model's problems names, or "" when it names none (a conflict between
// two lists).
func rejectedArgument(err error) string {
	var problems policy.Problems
	if !errors.As(err, &problems) || len(problems) == 0 {
		return ""
	}
	setting := problems[0].Setting
	if arg, ok := strings.CutPrefix(setting, "argument "); ok {
		arg, _, _ = strings.Cut(arg, " ")
		return arg
	}
	return ""
}
