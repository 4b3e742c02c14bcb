package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildStampFile, in a build directory, records a finished build; a
// directory without it is rebuilt from scratch.
const buildStampFile = "pgsuite-build.json"

// buildStamp is what buildStampFile holds.
type buildStamp struct {
	SourceSHA256 string    `json:"source_sha256"`
	Configure    []string  `json:"configure"`
	Targets      []string  `json:"targets"`
	Finished     time.Time `json:"finished"`
}

// buildTargets are the directories `make` builds: pg_regress and regress.so
// (with contrib/spi's autoinc.so and refint.so), pg_isolation_regress and
// isolationtester, and psql. Contrib modules and procedural languages are
// not built: their suites test what the server has installed.
var buildTargets = []string{"src/test/regress", "src/test/isolation", "src/bin/psql"}

// configureArgs are the options for ./configure. Only pg_regress, the
// isolation tester, psql and regress.so are built, so nothing optional is
// needed; --bindir is the server's, as in a tree the server was installed
// from, so that a plain `make installcheck` in the tree finds the server's
// programs.
func configureArgs(serverBinDir string) []string {
	args := []string{"--without-readline", "--without-zlib", "--without-icu"}
	if serverBinDir != "" {
		args = append(args, "--bindir="+serverBinDir)
	}
	return args
}

// tree is a configured and built PostgreSQL source tree.
type tree struct {
	Dir      string        // the source tree (…/postgresql-15.18)
	Reused   bool          // an earlier run built it
	Extract  time.Duration // zero when reused
	Config   time.Duration
	Make     time.Duration
	unlockFn func()
}

// unlock releases the tree for other runs.
func (t *tree) unlock() {
	if t.unlockFn != nil {
		t.unlockFn()
		t.unlockFn = nil
	}
}

// prepareTree extracts, configures and builds src under buildRoot as the
// runner, unless a finished build of the same tarball and options is there.
// The tree stays locked (against other pgsuite runs, which would overwrite
// each other's results) until unlock.
func prepareTree(ctx context.Context, r runner, src source, buildRoot string, configure []string, jobs int, logf func(string, ...any)) (*tree, error) {
	key := sha256.Sum256([]byte(src.SHA256 + "\n" + strings.Join(configure, "\n")))
	name := fmt.Sprintf("postgresql-%s-%s", src.Release, hex.EncodeToString(key[:6]))
	if err := os.MkdirAll(buildRoot, 0o755); err != nil {
		return nil, fmt.Errorf("create the build directory %s: %w; choose another --cache-dir", buildRoot, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(buildRoot, name+".lock"), logf)
	if err != nil {
		return nil, err
	}
	t := &tree{unlockFn: unlock}
	ok := false
	defer func() {
		if !ok {
			t.unlock()
		}
	}()

	dir := filepath.Join(buildRoot, name)
	stampPath := filepath.Join(dir, buildStampFile)
	if data, err := os.ReadFile(stampPath); err == nil {
		var st buildStamp
		if json.Unmarshal(data, &st) == nil && st.SourceSHA256 == src.SHA256 &&
			slices.Equal(st.Configure, configure) && slices.Equal(st.Targets, buildTargets) {
			if top, err := topDir(dir); err == nil {
				t.Dir, t.Reused, ok = top, true, true
				logf("pgsuite: reusing the build in %s (built %s)", top, st.Finished.Local().Format(time.DateTime))
				return t, nil
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove the unfinished build %s: %w", dir, err)
	}
	if err := r.MkdirOwned(dir); err != nil {
		return nil, err
	}
	if err := r.canReach(dir); err != nil {
		return nil, err
	}
	if err := r.canReach(filepath.Dir(src.Path)); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	if err := r.Chown(logPath); err != nil {
		return nil, err
	}
	step := func(what string, workDir string, name string, args ...string) (time.Duration, error) {
		begin := time.Now()
		fmt.Fprintf(logFile, "\n==> %s: %s %s\n", what, name, strings.Join(args, " "))
		cmd := r.command(ctx, workDir, nil, name, args...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s (%s %s in %s, as OS user %q) failed: %w\nlast lines of %s:\n%s",
				what, name, strings.Join(args, " "), workDir, r.Name, err, logPath, tailFile(logPath, 25))
		}
		d := time.Since(begin)
		logf("pgsuite: %s took %v", what, d.Round(100*time.Millisecond))
		return d, nil
	}

	if t.Extract, err = step("extract "+filepath.Base(src.Path), dir, "tar", "-xf", src.Path); err != nil {
		return nil, err
	}
	top, err := topDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	if t.Config, err = step("configure", top, "./configure", configure...); err != nil {
		return nil, err
	}
	begin := time.Now()
	for _, target := range buildTargets {
		if _, err := step("build "+target, top, "make", "-j", strconv.Itoa(jobs), "-C", target, "all"); err != nil {
			return nil, err
		}
	}
	t.Make = time.Since(begin)
	data, _ := json.MarshalIndent(buildStamp{SourceSHA256: src.SHA256, Configure: configure, Targets: buildTargets, Finished: time.Now().UTC()}, "", "  ")
	if err := os.WriteFile(stampPath, append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	t.Dir, ok = top, true
	return t, nil
}

// topDir returns the one postgresql-* directory a tarball extracted into dir.
func topDir(dir string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "postgresql-*"))
	if err != nil {
		return "", err
	}
	var dirs []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			dirs = append(dirs, m)
		}
	}
	if len(dirs) != 1 {
		return "", fmt.Errorf("want exactly one postgresql-* directory in %s, found %d: not a PostgreSQL source tarball?", dir, len(dirs))
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "src", "test", "regress", "parallel_schedule")); err != nil {
		return "", fmt.Errorf("%s has no src/test/regress/parallel_schedule: not a PostgreSQL source tree", dirs[0])
	}
	return dirs[0], nil
}

// lockFile takes an exclusive flock on path, waiting (and saying so) while
// another run holds it. The returned function releases it.
func lockFile(ctx context.Context, path string, logf func(string, ...any)) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the lock file %s: %w", path, err)
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !said {
			logf("pgsuite: another pgsuite run is using this build (lock %s); waiting for it to finish", path)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s: %w", path, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// defaultJobs is make's -j: the number of CPUs.
func defaultJobs() int { return max(1, runtime.NumCPU()) }
