package workload

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// stepTimeout bounds one step, so that a server that hangs (e.g. a
	// denied syscall in a walsender) fails the step instead of the run.
	stepTimeout  = 5 * time.Minute
	closeTimeout = 5 * time.Second
	// outputLines is how much of a client program's output an error shows.
	outputLines = 30
)

// runner is what a step's code gets: the target, the step's name for
// errors, and the connections and scratch files it must clean up.
type runner struct {
	t    Target
	step string

	mu       sync.Mutex
	sessions []*session
	scratch  string
}

// step makes a Step whose run gets a runner and cleans up after it.
func step(name string, destructive bool, run func(ctx context.Context, r *runner) error) Step {
	return Step{Name: name, Destructive: destructive, Run: func(ctx context.Context, t Target) error {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		r := &runner{t: t, step: name}
		err := run(ctx, r)
		r.closeAll()
		if r.scratch != "" {
			if rerr := r.removeAll(context.WithoutCancel(ctx), r.scratch); rerr != nil && err == nil {
				err = rerr
			}
		}
		return err
	}}
}

// errorf makes an error that names the step.
func (r *runner) errorf(format string, args ...any) error {
	return fmt.Errorf("workload step %q: %s", r.step, fmt.Sprintf(format, args...))
}

// connect opens a session to database db, with extra libpq key=value
// parameters (e.g. "options='-c work_mem=64kB'"). The step's name goes into
// application_name, so that the server log and pg_stat_activity show it.
func (r *runner) connect(ctx context.Context, db string, params ...string) (*session, error) {
	dsn := r.t.ConnString(db) + " application_name=" + quoteDSN("pgseccomp-workload/"+r.step)
	if len(params) > 0 {
		dsn += " " + strings.Join(params, " ")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, r.errorf("connect to database %q: %s", db, describe(err))
	}
	s := &session{step: r.step, db: db, conn: conn}
	r.mu.Lock()
	r.sessions = append(r.sessions, s)
	r.mu.Unlock()
	return s, nil
}

// quoteDSN quotes a libpq connection string value.
func quoteDSN(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// schemaName is the schema of the step in the workload database.
func (r *runner) schemaName() string {
	return "wl_" + strings.NewReplacer("-", "_").Replace(r.step)
}

// work connects to the workload database, with the step's schema dropped
// and recreated empty and first in the search_path. The database is made
// by the setup step; work creates it if a step runs on its own.
func (r *runner) work(ctx context.Context, params ...string) (*session, error) {
	if err := r.ensureWorkDB(ctx); err != nil {
		return nil, err
	}
	s, err := r.connect(ctx, workDB, params...)
	if err != nil {
		return nil, err
	}
	schema := quoteIdent(r.schemaName())
	err = s.exec(ctx,
		"SET client_min_messages = warning",
		"DROP SCHEMA IF EXISTS "+schema+" CASCADE",
		"CREATE SCHEMA "+schema,
		"SET search_path = "+schema+", public",
		"RESET client_min_messages")
	return s, err
}

// join connects another session to the step's schema, without resetting it.
func (r *runner) join(ctx context.Context, params ...string) (*session, error) {
	s, err := r.connect(ctx, workDB, params...)
	if err != nil {
		return nil, err
	}
	return s, s.exec(ctx, "SET search_path = "+quoteIdent(r.schemaName())+", public")
}

func (r *runner) ensureWorkDB(ctx context.Context) error {
	s, err := r.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer r.release(s)
	exists, err := s.bool(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", workDB)
	if err != nil || exists {
		return err
	}
	return s.exec(ctx, "CREATE DATABASE "+workDB+" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
}

// release closes a session before the step ends.
func (r *runner) release(s *session) {
	s.close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.sessions {
		if x == s {
			r.sessions = append(r.sessions[:i], r.sessions[i+1:]...)
			break
		}
	}
}

func (r *runner) closeAll() {
	r.mu.Lock()
	sessions := r.sessions
	r.sessions = nil
	r.mu.Unlock()
	for _, s := range sessions {
		s.close()
	}
}

// scratchDir returns the step's own directory in ScratchDir, created empty
// by the server's OS user (so that the server can write into it) and
// removed when the step ends.
func (r *runner) scratchDir(ctx context.Context) (string, error) {
	if r.scratch != "" {
		return r.scratch, nil
	}
	dir := filepath.Join(r.t.ScratchDir(), r.step)
	if err := r.removeAll(ctx, dir); err != nil {
		return "", err
	}
	if err := r.run(ctx, nil, "mkdir", "-m", "0700", dir); err != nil {
		return "", err
	}
	r.scratch = dir
	return dir, nil
}

// mkdir creates a directory (and its parents) as the server's OS user.
func (r *runner) mkdir(ctx context.Context, dir string) error {
	return r.run(ctx, nil, "mkdir", "-p", "-m", "0700", dir)
}

// removeAll removes path, as this process or, failing that, as the
// server's OS user (who owns what the server wrote).
func (r *runner) removeAll(ctx context.Context, path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	return r.run(ctx, nil, "rm", "-rf", "--", path)
}

// writeFile writes a file as the server's OS user, readable only by it.
func (r *runner) writeFile(ctx context.Context, path string, data []byte) error {
	return r.run(ctx, data, "sh", "-c", `umask 077 && cat > "$1"`, "sh", path)
}

// run runs a program through Target.Command (as the server's OS user, in
// the C locale), with stdin if not nil, and fails with its output.
func (r *runner) run(ctx context.Context, stdin []byte, name string, args ...string) error {
	_, err := r.output(ctx, stdin, name, args...)
	return err
}

// output is run returning the program's standard output.
func (r *runner) output(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	return r.command(ctx, cmdOpts{stdin: stdin}, name, args...)
}

// cmdOpts are what a program gets besides its arguments.
type cmdOpts struct {
	stdin []byte   // standard input, if not nil
	env   []string // added to Target.Env()
}

// command runs a program through Target.Command and returns its standard
// output; the error has the end of its output.
func (r *runner) command(ctx context.Context, opts cmdOpts, name string, args ...string) (string, error) {
	cmd := r.t.Command(ctx, name, args...)
	cmd.Env = append(append(cmd.Env, "LC_ALL=C"), opts.env...)
	if opts.stdin != nil {
		cmd.Stdin = bytes.NewReader(opts.stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		out := strings.TrimSpace(stdout.String() + "\n" + stderr.String())
		return stdout.String(), r.errorf("%s failed: %v\noutput (last %d lines):\n%s",
			commandLine(name, args), err, outputLines, lastLines(out, outputLines))
	}
	return stdout.String(), nil
}

func commandLine(name string, args []string) string {
	return strings.Join(append([]string{name}, args...), " ")
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond every interval until it reports true, fails, or
// timeout passes; what names the awaited condition in the error.
func (r *runner) waitFor(ctx context.Context, what string, timeout time.Duration, cond func() (bool, error)) error {
	begin := time.Now()
	deadline := begin.Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			if traceStatement != nil {
				traceStatement(r.step, "wait for "+what, time.Since(begin))
			}
			return nil
		}
		if time.Now().After(deadline) {
			return r.errorf("gave up after %v waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return r.errorf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// skipf logs that part of a step is skipped and why.
func (r *runner) skipf(format string, args ...any) {
	r.t.Logf("workload step %q: skipping %s", r.step, fmt.Sprintf(format, args...))
}

// hasExtension reports whether an extension is available to CREATE.
func hasExtension(ctx context.Context, s *session, name string) (bool, error) {
	return s.bool(ctx, "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = $1)", name)
}
