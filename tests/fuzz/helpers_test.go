package fuzz

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// queryTimeout bounds every statement: a hang is a finding, not a stuck run.
const queryTimeout = 30 * time.Second

// baseDirPrefix names the directory of every cluster these targets start,
// followed by the pid of the process that owns it, so that a later run can
// remove the clusters of a fuzzing worker that was killed before its
// cleanup ran (see reapStaleClusters).
const baseDirPrefix = "pgseccomp-fuzz-"

// targetCluster starts the cluster a fuzz target's inputs run against, and
// removes it when the target ends. It must be called before f.Fuzz, in
// every process that runs inputs: go test -fuzz kills a worker whose input
// takes over ten seconds, and starting a cluster under load can. The
// coordinating process of go test -fuzz runs no inputs, so there it starts
// nothing and returns nil; it only removes, once its workers have ended, the
// clusters of workers that were killed before they could.
func targetCluster(f *testing.F, settings map[string]string, setup func(*cluster.Cluster) error) *cluster.Cluster {
	f.Helper()
	if fuzzCoordinator() {
		f.Cleanup(func() { reapStaleClusters(f.Logf) })
		return nil
	}
	c, err := startCluster(settings, f.Logf)
	if errors.Is(err, cluster.ErrNoInitdb) {
		f.Skip(err)
	}
	if err != nil {
		f.Fatal(err)
	}
	f.Logf("started a cluster in %s (port %d)", c.BaseDir, c.Port)
	f.Cleanup(func() {
		if f.Failed() {
			f.Logf("last 40 lines of %s:\n%s", c.LogFile, c.LogTail(40))
		}
		// An immediate shutdown: go test -fuzz kills a worker that takes
		// over two seconds to end.
		if pid, err := c.PostmasterPID(); err == nil {
			stopPostmaster(pid)
		}
		if err := c.Remove(); err != nil {
			f.Error(err)
		}
	})
	if err := setup(c); err != nil {
		f.Fatal(err)
	}
	return c
}

// fuzzCoordinator reports whether this process coordinates go test -fuzz:
// fuzzing was asked for (-test.fuzz) and this is not one of the worker
// processes (-test.fuzzworker) that run the inputs.
func fuzzCoordinator() bool {
	fuzz, worker := flag.Lookup("test.fuzz"), flag.Lookup("test.fuzzworker")
	return fuzz != nil && fuzz.Value.String() != "" && (worker == nil || worker.Value.String() != "true")
}

// startCluster starts a cluster with pgseccomp preloaded and enabled and the
// given settings (plain values, quoted here). logf reports removed stale
// clusters; the cluster itself reports nothing, as it is also used inside
// fuzz functions, where f.Logf may not be called.
func startCluster(settings map[string]string, logf func(string, ...any)) (*cluster.Cluster, error) {
	reapStaleClusters(logf)
	markInheritedCloseOnExec()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	base := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-%s", baseDirPrefix, os.Getpid(), hex.EncodeToString(suffix)))
	c, err := cluster.New(context.Background(), cluster.Options{
		BaseDir:  base,
		Settings: confSettings(settings),
	})
	if err != nil {
		return nil, err
	}
	if err := c.Start(context.Background()); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

// confSettings quotes plain values for postgresql.conf and adds what every
// cluster here needs: pgseccomp preloaded and enabled.
func confSettings(settings map[string]string) map[string]string {
	conf := map[string]string{}
	for k, v := range withPreload(settings) {
		conf[k] = cluster.QuoteValue(v)
	}
	return conf
}

// withPreload returns settings plus pgseccomp preloaded and enabled, as
// the model needs them too.
func withPreload(settings map[string]string) map[string]string {
	out := map[string]string{
		policy.PreloadLibrariesName: "pgseccomp",
		policy.EnabledName:          "on",
	}
	for k, v := range settings {
		out[k] = v
	}
	return out
}

// reapStaleClusters removes clusters left behind by fuzzing processes that
// no longer exist (a worker killed before its cleanup ran): it stops their
// postmaster with an immediate shutdown (SIGQUIT, by pid, only when that
// pid runs postgres on exactly that data directory) and deletes the
// directory. Clusters of live processes are left alone.
func reapStaleClusters(logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), baseDirPrefix+"*"))
	for _, dir := range dirs {
		owner, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(dir), baseDirPrefix), "-")
		pid, err := strconv.Atoi(owner)
		if !ok || err != nil || processAlive(pid) {
			continue
		}
		dataDir := filepath.Join(dir, "data")
		if f, err := procs.ReadPostmasterPID(dataDir); err == nil && f.DataDir == dataDir && processAlive(f.PID) {
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", f.PID))
			if filepath.Base(exe) != "postgres" {
				continue // not ours any more: leave it
			}
			stopPostmaster(f.PID)
		}
		if err := os.RemoveAll(dir); err == nil {
			logf("removed the cluster %s left by process %d", dir, pid)
		}
	}
}

// stopPostmaster asks a postmaster for an immediate shutdown (SIGQUIT) and
// waits up to 30 s for it to exit.
func stopPostmaster(pid int) {
	syscall.Kill(pid, syscall.SIGQUIT)
	for i := 0; i < 300 && processAlive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

// markInheritedCloseOnExec marks every file descriptor above stderr
// close-on-exec. A go test -fuzz worker inherits its pipes to the
// coordinator without that flag; a postmaster started from the worker would
// inherit them too and, outliving a killed worker, keep the coordinator
// waiting for the pipes to close, forever.
func markInheritedCloseOnExec() {
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// connect opens a session of role ("" is the bootstrap superuser).
func connect(c *cluster.Cluster, role string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	return c.Connect(ctx, role, "postgres")
}

func exec(conn *pgx.Conn, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	_, err := conn.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// createRoles creates login roles allowed to run both functions.
func createRoles(c *cluster.Cluster, roles ...string) error {
	conn, err := connect(c, "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := exec(conn, "CREATE EXTENSION pgseccomp"); err != nil {
		return err
	}
	for _, role := range roles {
		id := pgx.Identifier{role}.Sanitize()
		for _, sql := range []string{
			"CREATE ROLE " + id + " LOGIN",
			"GRANT EXECUTE ON FUNCTION seccomp_filter() TO " + id,
			"GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO " + id,
		} {
			if err := exec(conn, sql); err != nil {
				return err
			}
		}
	}
	return nil
}

// row is one row of seccomp_filter(), without its context.
type row struct {
	Syscall string
	Number  int
	Origin  string // the layer that gives the action
	Action  policy.Action
}

func (r row) String() string {
	return fmt.Sprintf("%s | %d | %s->%s", r.Syscall, r.Number, r.Origin, r.Action)
}

// sessionRows returns the rows of seccomp_filter() in context rowContext
// ("global" or "session"), sorted by syscall number.
func sessionRows(conn *pgx.Conn, rowContext string) ([]row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	live, err := cluster.FilterRows(ctx, conn, "context = $1", rowContext)
	if err != nil {
		return nil, err
	}
	return modelRows(live), nil
}

// modelRows turns policy rows (the model's, or a server's) into rows,
// sorted by syscall number.
func modelRows(rows []policy.Row) []row {
	out := make([]row, len(rows))
	for i, r := range rows {
		out[i] = row{Syscall: r.Syscall, Number: r.Number, Origin: r.Origin.String(), Action: r.Action}
	}
	slices.SortFunc(out, func(a, b row) int { return a.Number - b.Number })
	return out
}

// diffRows describes how got differs from want, one row a line; "" when
// they are equal.
func diffRows(got, want []row) string {
	var b strings.Builder
	for _, r := range want {
		if !slices.Contains(got, r) {
			fmt.Fprintf(&b, "  missing: %s\n", r)
		}
	}
	for _, r := range got {
		if !slices.Contains(want, r) {
			fmt.Fprintf(&b, "  extra:   %s\n", r)
		}
	}
	if b.Len() == 0 && len(got) != len(want) {
		fmt.Fprintf(&b, "  %d rows, want %d (a row repeated)\n", len(got), len(want))
	}
	return b.String()
}

// effective is what rows say a session does with syscall nr: its row's
// action, or the <default> row's for a syscall no row names.
func effective(rows []row, nr int) policy.Action {
	def := policy.Action(-1)
	for _, r := range rows {
		if r.Number == nr {
			return r.Action
		}
		if r.Number == -1 {
			def = r.Action
		}
	}
	return def
}

// backendPID is the pid of the session's server process.
func backendPID(conn *pgx.Conn) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	var pid int32
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return 0, fmt.Errorf("SELECT pg_backend_pid(): %w", err)
	}
	return int(pid), nil
}

// seccompFilters is the number of seccomp filters the kernel has attached
// to process pid ("Seccomp_filters:" in /proc/PID/status).
func seccompFilters(pid int) (int, error) {
	s, err := procs.Reader{}.Status(pid)
	if err != nil {
		return 0, err
	}
	if s.SeccompFilters < 0 {
		return 0, fmt.Errorf("/proc/%d/status has no Seccomp_filters field (Linux 5.9+ needed)", pid)
	}
	return s.SeccompFilters, nil
}

// vmRSSKB is "VmRSS:" of /proc/PID/status in kB.
func vmRSSKB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// neededSyscalls are the syscalls a backend makes to run the statements of
// these targets and to end cleanly: the demo's hand-derived session allow
// list, resolved on arch. A configuration or client filter that does not
// allow every one of them would break the session (error) or kill it and
// restart the whole cluster (kill), so the targets skip such inputs rather
// than load them.
func neededSyscalls(arch policy.Arch) []int {
	var nrs []int
	for _, name := range demo.HandDerivedSessionAllowList {
		if nr, err := policy.SyscallNumber(arch, name); err == nil {
			nrs = append(nrs, nr)
		}
	}
	return nrs
}

// allowsAll reports whether the stack gives every syscall of nrs allow, and
// names the first one it does not.
func allowsAll(stack policy.Stack, arch policy.Arch, nrs []int) (bool, string) {
	for _, nr := range nrs {
		if a, origin := stack.Effective(nr); a != policy.Allow {
			return false, fmt.Sprintf("%s -> %s->%s", policy.SyscallName(arch, nr), origin, a)
		}
	}
	return true, ""
}

// sqlText turns fuzzed bytes into a value PostgreSQL can store in text:
// valid UTF-8 without NUL.
func sqlText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// confText turns fuzzed bytes into a value postgresql.conf can hold on one
// line: valid UTF-8, without NUL or line breaks.
func confText(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(sqlText(s))
}

// reportEnv names a file that figures are appended to. go test -fuzz
// discards what its worker processes print, so the top Makefile's fuzz
// target sets it to collect them.
const reportEnv = "PGSECCOMP_FUZZ_REPORT"

// reportFigure appends a line to the file $PGSECCOMP_FUZZ_REPORT, if set.
func reportFigure(line string) {
	path := os.Getenv(reportEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
