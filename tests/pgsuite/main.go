// Command pgsuite runs PostgreSQL's own test suites (the regression suite
// of `make installcheck`, the isolation suite, contrib's and the procedural
// languages' installchecks) against an installed PostgreSQL server: a
// throwaway cluster with the settings of --conf files (how a pgseccomp
// profile is put to the test), or a running server. It fetches the source
// of the server's release from Debian, checks it, and builds only the test
// drivers. See usage and tests/pgsuite/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

const usage = `Usage: go run ./tests/pgsuite [flags]

Run PostgreSQL's own test suites against an installed server, to prove that
a server configuration (a pgseccomp profile above all) breaks nothing.

The source tree comes from Debian: the orig tarball of the server's release,
found in the Sources indexes of the machine's Debian release (security,
updates, release) and checked through the archive's signed InRelease (gpgv,
Debian archive keyring) and the SHA-256 the index gives. If that release
cannot be downloaded, the newest one of the same major version that can is
used, with a warning (see --exact-version). Only pg_regress, regress.so,
the isolation tester and psql are built (about 20 s); the build is cached.
The tests run as the server's OS user, from psql of the same source.

Suites (--suite, comma-separated, or all):
  regress    src/test/regress: make installcheck (the serial schedule;
             --parallel for installcheck-parallel), or --tests
  isolation  src/test/isolation: make installcheck
  contrib    make installcheck in each contrib module with pg_regress or
             isolation tests whose extension the server has (modules marked
             NO_INSTALLCHECK are skipped, as make installcheck does)
  pl         make installcheck for each procedural language the server has
             (plpgsql, plperl, plpython, pltcl)

Server:
  By default a throwaway cluster (initdb -E UTF8 --locale=C, as the expected
  outputs assume) runs as the OS user postgres (when run as root) with the
  settings of the --conf files, e.g. shared_preload_libraries = 'pgseccomp'
  and a profile. It is removed afterwards; its log is kept in the output
  directory. With --server existing, the suites run against a running server
  on this machine (--host/--port/--user, else PGHOST/PGPORT/PGUSER): the
  role must be a superuser, --os-user the OS user the server runs as (some
  tests make the server read and write files in the tests' directories), and
  dblink and postgres_fdw find the server again through the PGHOST and PGPORT
  of its own environment.

Flags:
  --suite LIST          suites to run (default regress)
  --conf FILE           settings for the throwaway cluster, read as
                        postgresql.conf is (repeatable; a later file wins)
  --baseline            first run the same suites on a throwaway cluster with
                        the --conf settings minus pgseccomp (no pgseccomp.* or
                        session_syscall_*.<role> settings, pgseccomp removed
                        from shared_preload_libraries), then judge the server
                        only on failures the baseline does not share
  --compare DIR         judge against the server run of an earlier output
                        directory (its results.json) instead
  --server new|existing throwaway cluster (default) or a running server
  --host H, --port N, --user U
                        the existing server (default PGHOST, PGPORT, PGUSER,
                        else /var/run/postgresql, 5432, postgres)
  --os-user NAME        OS user that builds and runs the tests; the server's
                        (default postgres when root, else yourself)
  --bindir DIR          PostgreSQL programs for the throwaway cluster
                        (default pg_config --bindir)
  --parallel            regress: make installcheck-parallel
  --tests LIST          regress: only these tests (test_setup is added first)
  --openssl-legacy=false
                        do not give the throwaway cluster OpenSSL's legacy
                        provider (pgcrypto's Blowfish, CAST5 and DES tests
                        then fail: Debian's OpenSSL 3 does not load it)
  --audit-session       start the throwaway cluster in an audit session of its
                        own and print its id (ses= in audit records; root)
  --source FILE         a PostgreSQL source tarball instead of the download,
                        named postgresql-15.20.tar.bz2 or
                        postgresql-15_15.20.orig.tar.bz2
  --source-sha256 HEX   the SHA-256 --source must have
  --exact-version       fail rather than use another release's source
  --other-major         accept a --source of another major (when the server's
                        own source cannot be had): needs --baseline or
                        --compare, which tell the version skew (failing on
                        both servers the same way) from what the
                        configuration breaks
  --debian-mirror URL   (default http://deb.debian.org)
  --debian-codename C   (default VERSION_CODENAME of /etc/os-release)
  --keyring FILE        (default /usr/share/keyrings/debian-archive-keyring.gpg)
  --cache-dir DIR       downloads and builds (default /var/cache/pgseccomp/pgsuite
                        as root, else $XDG_CACHE_HOME/pgseccomp/pgsuite or
                        ~/.cache/pgseccomp/pgsuite)
  --out DIR             output directory (default <cache-dir>/runs/<time>)
  --jobs N              make -j for the build (default: number of CPUs)
  --verbose             show make's output and the clusters' progress

Output: per suite a line "regress: N of M passed", the failed tests, the
path of each regression.diffs (copied into the output directory: the server's
under server/, the baseline's under baseline/), lines of the server log that
show a crash (PANIC, a process killed by a signal, crash recovery) or an OS
call refused with "Permission denied" (what pgseccomp's error action looks
like; reported, not judged); results.json with everything.

Exit status:
  0  every test passed (with --baseline or --compare: no test failed that did
     not fail the same way on the baseline), no crash in the server log
  1  a test failed, a suite did not run to the end, or the server crashed
  2  bad flags

Examples:
  # validate the harness: all suites on a plain throwaway cluster
  go run ./tests/pgsuite --suite all

  # the suites against a server enforcing a profile, judged against the
  # same cluster without pgseccomp
  go run ./tests/pgsuite --suite all --conf profile.conf --baseline

  # a running server (as root: the tests run as OS user postgres)
  go run ./tests/pgsuite --server existing --host /var/run/postgresql --port 5432

  # a few regression tests, showing make's output
  go run ./tests/pgsuite --tests boolean,copy,largeobject --verbose
`

type options struct {
	Suites        []string
	Confs         []string
	Baseline      bool
	Compare       string
	Server        string
	Host          string
	Port          int
	User          string
	OSUser        string
	BinDir        string
	Parallel      bool
	Tests         []string
	OpenSSLLegacy bool
	AuditSession  bool
	Source        string
	SourceSHA256  string
	ExactVersion  bool
	OtherMajor    bool
	Mirror        string
	Codename      string
	Keyring       string
	CacheDir      string
	Out           string
	Jobs          int
	Verbose       bool
}

var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgsuite: %v\nRun with --help for the flags.\n", err)
		return 2
	}
	passed, err := drive(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "pgsuite: %v\n", err)
		return 1
	}
	if !passed {
		return 1
	}
	return 0
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("pgsuite", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var o options
	var suites, tests string
	var confs listFlag
	fs.StringVar(&suites, "suite", suiteRegress, "")
	fs.Var(&confs, "conf", "")
	fs.BoolVar(&o.Baseline, "baseline", false, "")
	fs.StringVar(&o.Compare, "compare", "", "")
	fs.StringVar(&o.Server, "server", "new", "")
	fs.StringVar(&o.Host, "host", "", "")
	fs.IntVar(&o.Port, "port", 0, "")
	fs.StringVar(&o.User, "user", "", "")
	fs.StringVar(&o.OSUser, "os-user", "", "")
	fs.StringVar(&o.BinDir, "bindir", "", "")
	fs.BoolVar(&o.Parallel, "parallel", false, "")
	fs.StringVar(&tests, "tests", "", "")
	fs.BoolVar(&o.OpenSSLLegacy, "openssl-legacy", true, "")
	fs.BoolVar(&o.AuditSession, "audit-session", false, "")
	fs.StringVar(&o.Source, "source", "", "")
	fs.StringVar(&o.SourceSHA256, "source-sha256", "", "")
	fs.BoolVar(&o.ExactVersion, "exact-version", false, "")
	fs.BoolVar(&o.OtherMajor, "other-major", false, "")
	fs.StringVar(&o.Mirror, "debian-mirror", "http://deb.debian.org", "")
	fs.StringVar(&o.Codename, "debian-codename", "", "")
	fs.StringVar(&o.Keyring, "keyring", "/usr/share/keyrings/debian-archive-keyring.gpg", "")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "")
	fs.StringVar(&o.Out, "out", "", "")
	fs.IntVar(&o.Jobs, "jobs", defaultJobs(), "")
	fs.BoolVar(&o.Verbose, "verbose", false, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; this command takes only flags", fs.Arg(0))
	}
	o.Confs = confs
	for _, s := range strings.Split(suites, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case s == "all":
			for _, a := range allSuites {
				if !slices.Contains(o.Suites, a) {
					o.Suites = append(o.Suites, a)
				}
			}
		case slices.Contains(allSuites, s):
			if !slices.Contains(o.Suites, s) {
				o.Suites = append(o.Suites, s)
			}
		default:
			return o, fmt.Errorf("--suite: unknown suite %q; choose from %s, or all", s, strings.Join(allSuites, ", "))
		}
	}
	if len(o.Suites) == 0 {
		return o, fmt.Errorf("--suite is empty; choose from %s, or all", strings.Join(allSuites, ", "))
	}
	// Run in the fixed order, whatever order they were given in.
	slices.SortFunc(o.Suites, func(a, b string) int { return slices.Index(allSuites, a) - slices.Index(allSuites, b) })
	for _, t := range strings.Split(tests, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if strings.ContainsAny(t, " \t'\"/\\$") {
				return o, fmt.Errorf("--tests: %q is not a test name (a file name in src/test/regress/sql without .sql)", t)
			}
			o.Tests = append(o.Tests, t)
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case len(o.Tests) > 0 && !slices.Contains(o.Suites, suiteRegress):
		return o, errors.New("--tests selects regression tests: use it with --suite regress")
	case len(o.Tests) > 0 && o.Parallel:
		return o, errors.New("--tests and --parallel do not go together: chosen tests run one after another")
	case o.Server != "new" && o.Server != "existing":
		return o, fmt.Errorf("--server %q: give new (a throwaway cluster) or existing (a running server)", o.Server)
	case o.Server == "new" && (given["host"] || given["port"] || given["user"]):
		return o, errors.New("--host, --port and --user name an existing server: add --server existing")
	case o.Server == "existing" && (len(o.Confs) > 0 || o.Baseline || given["bindir"] || given["audit-session"] || given["openssl-legacy"]):
		return o, errors.New("--conf, --baseline, --bindir, --audit-session and --openssl-legacy configure a throwaway cluster: drop them with --server existing (configure the running server yourself; --compare judges against an earlier run)")
	case o.Baseline && o.Compare != "":
		return o, errors.New("--baseline and --compare both give a baseline: choose one")
	case o.Port < 0 || o.Port > 65535:
		return o, fmt.Errorf("--port %d is not a TCP port", o.Port)
	case o.Jobs < 1:
		return o, fmt.Errorf("--jobs %d: give 1 or more", o.Jobs)
	case o.OtherMajor && (o.Source == "" || (!o.Baseline && o.Compare == "")):
		return o, errors.New("--other-major takes another major's --source and needs --baseline or --compare: alone, its version skew would read as failures")
	case o.SourceSHA256 != "" && o.Source == "":
		return o, errors.New("--source-sha256 checks --source: give both")
	case o.SourceSHA256 != "" && !sha256Re.MatchString(strings.ToLower(o.SourceSHA256)):
		return o, fmt.Errorf("--source-sha256 %q is not 64 hex digits", o.SourceSHA256)
	}
	if o.CacheDir == "" {
		dir, err := defaultCacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = dir
	}
	abs, err := filepath.Abs(o.CacheDir)
	if err != nil {
		return o, err
	}
	o.CacheDir = abs
	if strings.ContainsAny(o.CacheDir, " \t\n'\"\\$") {
		return o, fmt.Errorf("--cache-dir %q: make and pg_regress cannot use a path with spaces, quotes, backslashes or $; choose a plain one", o.CacheDir)
	}
	return o, nil
}

// defaultCacheDir is /var/cache/pgseccomp/pgsuite for root, else under
// $XDG_CACHE_HOME (or ~/.cache).
func defaultCacheDir() (string, error) {
	if os.Getuid() == 0 {
		return "/var/cache/pgseccomp/pgsuite", nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory: %w; pass --cache-dir", err)
	}
	return filepath.Join(base, "pgseccomp", "pgsuite"), nil
}
