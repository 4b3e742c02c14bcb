// Command matrix runs the extension's test suites (tests/extension: the
// pg_regress suite, the talk's examples, reload and bad-input tests,
// parallel workers, walsenders, the bypass tests) against PostgreSQL majors
// other than the host's, each in a minimal root file system made from
// Debian's packages with mmdebstrap and cached under
// /var/cache/pgseccomp/rootfs. The roots run with the host's kernel (a
// private mount namespace, /proc, a minimal /dev, chroot), so seccomp
// filters, audit records and no_new_privs behave as in production. See
// usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const usage = `Usage: go run ./tests/matrix [flags] [-- COMMAND ARGS...]   (as root)

Run tests/extension against PostgreSQL 17 (Debian 13 trixie), 18 (Debian
unstable) and 19 (Debian experimental), each in its own root file system.

For each major:
  1. the root: made by mmdebstrap from Debian's packages (the server, its
     client programs, libseccomp, gcc, make; the server-dev headers are
     unpacked without their clang/LLVM dependencies) and cached as
     CACHE/pg<major>-<hash of its recipe>. A missing root, or one whose
     recipe changed, or one older than --max-age, is built (a few minutes)
     in a temporary directory and renamed when complete; roots of older
     recipes are removed.
  2. a run: the root is seen through an overlay (the cache is never
     changed) in a private mount namespace with /proc, a minimal /dev and
     /dev/shm, and this worktree bind-mounted at the same path; the kernel
     is the host's.
  3. the extension is built there with that major's pg_config (-Wall
     -Werror) from a copy of extension/, and installed into the root.
  4. tests/extension, compiled on the host (go test -c), runs there with
     PG_CONFIG set to the major's pg_config; or, given after --, COMMAND
     runs there instead, in this source tree (e.g. bash, to look around, or
     bin/pgseccomp record to record that major's profile).

Flags:
  --pg LIST        majors to run, comma-separated (default all: 17,18,19)
  --cache DIR      where roots are cached (default /var/cache/pgseccomp/rootfs)
  --mirror URL     Debian mirror (default ` + defaultMirror + `)
  --run REGEXP     only the tests matching REGEXP (go test -run)
  --v              verbose test output (go test -v)
  --timeout D      per-major test timeout (default 15m: three majors and
                   the host's suite stay inside CI's 90 minutes)
  --roots-only     build or check the roots, run nothing
  --rebuild        build the roots again even when cached
  --max-age D      build a cached root again when older than D (default
                   168h: unstable and experimental move; 0 keeps any age)
  --log DIR        where each major's full output goes (default build/matrix)

Exit status 0 when every major passed, 1 when one failed, 2 on bad usage.

Examples:
  go run ./tests/matrix                      # 17, 18 and 19
  go run ./tests/matrix --pg 18 --run 'TestRegress|TestReload'
  make test PG=18                            # the same as --pg 18
  go run ./tests/matrix --pg 19 -- bash      # a shell in 19's root
`

// interrupted is set by SIGINT or SIGTERM: no further major starts.
var interrupted atomic.Bool

type options struct {
	majors    []int
	cache     string
	mirror    string
	run       string
	verbose   bool
	timeout   time.Duration
	rootsOnly bool
	rebuild   bool
	maxAge    time.Duration
	logDir    string
	command   []string // run instead of the tests

}

func main() {
	if spec := os.Getenv(inRootEnv); spec != "" {
		err := enterRoot(spec) // returns only on failure
		fmt.Fprintf(os.Stderr, "matrix: %v\n", err)
		os.Exit(1)
	}
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %v\n", err)
		os.Exit(2)
	}
	// Ctrl-C reaches the command running in a root (same process group);
	// this program stays to kill what it leaves behind, remove the run's
	// scratch directory and stop.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		interrupted.Store(true)
		fmt.Fprintf(os.Stderr, "matrix: %v: stopping after cleaning up the current run\n", sig)
	}()
	results, err := runMatrix(o)
	printSummary(os.Stdout, results)
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrix: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	var o options
	pg := fs.String("pg", "all", "")
	fs.StringVar(&o.cache, "cache", "/var/cache/pgseccomp/rootfs", "")
	fs.StringVar(&o.mirror, "mirror", defaultMirror, "")
	fs.StringVar(&o.run, "run", "", "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "")
	fs.BoolVar(&o.rootsOnly, "roots-only", false, "")
	fs.BoolVar(&o.rebuild, "rebuild", false, "")
	fs.DurationVar(&o.maxAge, "max-age", 7*24*time.Hour, "")
	fs.StringVar(&o.logDir, "log", "build/matrix", "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.command = fs.Args()
	var err error
	if o.majors, err = parseMajors(*pg); err != nil {
		return o, err
	}
	if os.Geteuid() != 0 {
		return o, errors.New("run as root: building roots, mount namespaces and chroot need it, and the tests run PostgreSQL as the postgres user")
	}
	return o, nil
}

// result is one major's outcome and how long each part took.
type result struct {
	major     int
	dist      string
	root      string
	built     bool
	rootTime  time.Duration
	buildTime time.Duration // the extension, in the root
	testTime  time.Duration
	versions  string // of the server, libseccomp, glibc and gcc in the root
	err       error
	log       string
}

func runMatrix(o options) ([]result, error) {
	src, err := sourceDir()
	if err != nil {
		return nil, err
	}
	logDir := o.logDir
	if !filepath.IsAbs(logDir) {
		logDir = filepath.Join(src, logDir)
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "matrix: "+format+"\n", args...)
	}

	testBin := ""
	if !o.rootsOnly && len(o.command) == 0 {
		// One test binary for every major: glibc is forward compatible, and
		// each root has libseccomp2.
		testBin = filepath.Join(logDir, "extension.test")
		begin := time.Now()
		cmd := exec.Command("go", "test", "-c", "-o", testBin, "./tests/extension")
		cmd.Dir, cmd.Stdout, cmd.Stderr = src, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go test -c ./tests/extension: %w", err)
		}
		logf("compiled tests/extension in %v", time.Since(begin).Round(100*time.Millisecond))
	}

	var results []result
	var failed []string
	for _, major := range o.majors {
		if interrupted.Load() {
			failed = append(failed, strconv.Itoa(major)+" (interrupted)")
			continue
		}
		r := runMajor(o, major, src, logDir, testBin, logf)
		if r.err != nil {
			failed = append(failed, strconv.Itoa(major))
			logf("PostgreSQL %d: FAIL: %v", major, r.err)
		} else {
			logf("PostgreSQL %d: ok", major)
		}
		results = append(results, r)
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("PostgreSQL %s failed; each major's whole output is in %s/pg<major>.log", strings.Join(failed, ", "), logDir)
	}
	return results, nil
}

func runMajor(o options, major int, src, logDir, testBin string, logf func(string, ...any)) (res result) {
	res = result{major: major}
	rec, err := newRecipe(major, o.mirror)
	if err != nil {
		res.err = err
		return res
	}
	res.dist = rec.Distribution
	begin := time.Now()
	res.root, res.built, res.err = ensureRoot(o.cache, rec, o.rebuild, o.maxAge, buildRoot, logf)
	res.rootTime = time.Since(begin)
	if res.err != nil || o.rootsOnly {
		return res
	}

	res.log = filepath.Join(logDir, fmt.Sprintf("pg%d.log", major))
	logFile, err := os.Create(res.log)
	if err != nil {
		res.err = err
		return res
	}
	defer logFile.Close()
	out := io.MultiWriter(os.Stdout, logFile)
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8", "TMPDIR=/tmp",
		"PG_CONFIG=" + rec.pgConfig(),
	}
	s, err := newSession(res.root, []string{src}, env, out)
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := s.close(); err != nil {
			res.err = errors.Join(res.err, err)
		}
	}()

	// What this root has, for the log and the summary: sid and experimental
	// move, so the same recipe can hold other versions from one day to the
	// next.
	versions, err := s.output("/", "dpkg-query", "-W", "-f", "${Package} ${Version}\n",
		fmt.Sprintf("postgresql-%d", major), "libseccomp2", "libc6", "gcc")
	if err != nil {
		res.err = fmt.Errorf("read the root's package versions: %w\n%s", err, versions)
		return res
	}
	res.versions = strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(versions), "\n", ", ")), " ")
	logf("PostgreSQL %d: root %s: %s", major, res.root, res.versions)

	// The extension, from a copy: the worktree's objects are the host's.
	begin = time.Now()
	ext := "/tmp/pgseccomp-extension"
	pgc := "PG_CONFIG=" + rec.pgConfig()
	for _, args := range [][]string{
		{"cp", "-a", filepath.Join(src, "extension"), ext},
		{"make", "-s", "-C", ext, pgc, "clean"},
		{"make", "-C", ext, pgc},
		{"make", "-s", "-C", ext, pgc, "install"},
	} {
		if err := s.run("/", args...); err != nil {
			res.buildTime = time.Since(begin)
			res.err = fmt.Errorf("build the extension against PostgreSQL %d: %w", major, err)
			return res
		}
	}
	res.buildTime = time.Since(begin)
	logf("PostgreSQL %d: extension built and installed in %v", major, res.buildTime.Round(100*time.Millisecond))

	if interrupted.Load() {
		res.err = errors.New("interrupted before the tests")
		return res
	}
	begin = time.Now()
	if len(o.command) > 0 {
		s.in = os.Stdin
		err = s.run(src, o.command...)
		res.testTime = time.Since(begin)
		if err != nil {
			res.err = fmt.Errorf("in the root of PostgreSQL %d: %w", major, err)
		}
		return res
	}
	args := []string{testBin, "-test.count=1", "-test.timeout=" + o.timeout.String()}
	if o.run != "" {
		args = append(args, "-test.run="+o.run)
	}
	if o.verbose {
		args = append(args, "-test.v")
	}
	err = s.run(filepath.Join(src, "tests/extension"), args...)
	res.testTime = time.Since(begin)
	if err != nil {
		res.err = fmt.Errorf("tests/extension against PostgreSQL %d: %w", major, err)
	}
	return res
}

// sourceDir is the top of the worktree: the directory with go.mod above
// the current one.
func sourceDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no go.mod in %s or above: run from the pgseccomp source tree", dir)
		}
	}
}

func printSummary(w io.Writer, results []result) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-4s %-30s %-16s %10s %10s %10s  %s\n", "PG", "distribution", "root", "root", "extension", "tests", "result")
	for _, r := range results {
		how := "cached"
		if r.built {
			how = "built"
		}
		status := "ok"
		if r.err != nil {
			status = "FAIL"
		}
		fmt.Fprintf(w, "%-4d %-30s %-16s %10s %10s %10s  %s\n", r.major, r.dist, how,
			r.rootTime.Round(time.Second), r.buildTime.Round(100*time.Millisecond), r.testTime.Round(time.Second), status)
	}
	for _, r := range results {
		if r.versions != "" {
			fmt.Fprintf(w, "%d: %s\n", r.major, r.versions)
		}
	}
}
