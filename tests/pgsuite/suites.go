package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// The suites, in the order "all" runs them.
const (
	suiteRegress   = "regress"
	suiteIsolation = "isolation"
	suiteContrib   = "contrib"
	suitePL        = "pl"
)

var allSuites = []string{suiteRegress, suiteIsolation, suiteContrib, suitePL}

// unit is one `make installcheck` in one directory of the source tree.
type unit struct {
	Suite  string
	Name   string // "regress", "isolation", a contrib module, a language
	Dir    string // relative to the tree, e.g. "contrib/hstore"
	Target string // make target
	Vars   []string
	Skip   string // why it is not run; empty when it is
}

// id names a unit in reports: "regress", "contrib/hstore", "pl/plperl".
func (u unit) id() string {
	if u.Name == u.Suite {
		return u.Suite
	}
	return u.Suite + "/" + u.Name
}

// regressUnit is the main regression suite: `make installcheck` (the
// serial schedule, as the PostgreSQL documentation says to run it against
// an installed server), installcheck-parallel, or chosen tests.
func regressUnit(parallel bool, tests []string) unit {
	u := unit{Suite: suiteRegress, Name: suiteRegress, Dir: "src/test/regress", Target: "installcheck"}
	switch {
	case len(tests) > 0:
		// Nearly every test needs the tables test_setup makes.
		if !slices.Contains(tests, "test_setup") {
			tests = append([]string{"test_setup"}, tests...)
		}
		u.Target, u.Vars = "installcheck-tests", []string{"TESTS=" + strings.Join(tests, " ")}
	case parallel:
		u.Target = "installcheck-parallel"
	}
	return u
}

func isolationUnit() unit {
	return unit{Suite: suiteIsolation, Name: suiteIsolation, Dir: "src/test/isolation", Target: "installcheck"}
}

// plLanguages are the procedural languages with regression suites, the
// extension each needs, and the Debian package that installs it.
var plLanguages = []struct{ name, dir, extension, debPackage string }{
	{"plpgsql", "src/pl/plpgsql/src", "plpgsql", ""},
	{"plperl", "src/pl/plperl", "plperl", "postgresql-plperl-15"},
	{"plpython", "src/pl/plpython", "plpython3u", "postgresql-plpython3-15"},
	{"pltcl", "src/pl/tcl", "pltcl", "postgresql-pltcl-15"},
}

func plUnits(f serverFacts) []unit {
	var out []unit
	for _, l := range plLanguages {
		u := unit{Suite: suitePL, Name: l.name, Dir: l.dir, Target: "installcheck"}
		if !f.Extensions[l.extension] {
			u.Skip = fmt.Sprintf("the server has no %s extension", l.extension)
			if l.debPackage != "" {
				u.Skip += " (Debian: apt-get install " + l.debPackage + ")"
			}
		}
		out = append(out, u)
	}
	return out
}

// makeVars are the variables of one contrib Makefile that decide whether
// and how `make installcheck` runs there.
type makeVars struct {
	Regress, Isolation, NoInstallcheck, Extension, Modules, ModuleBig string
}

// varsMakefile prints makeVars; it is added to a module's Makefile with
// make -f Makefile -f varsMakefile.
const varsMakefile = `# Written by pgseccomp tests/pgsuite: print what installcheck would run.
pgsuite-vars:
	$(info PGSUITE REGRESS=$(strip $(REGRESS)))
	$(info PGSUITE ISOLATION=$(strip $(ISOLATION)))
	$(info PGSUITE NO_INSTALLCHECK=$(strip $(NO_INSTALLCHECK)))
	$(info PGSUITE EXTENSION=$(strip $(EXTENSION)))
	$(info PGSUITE MODULES=$(strip $(MODULES)))
	$(info PGSUITE MODULE_big=$(strip $(MODULE_big)))
	@:
`

// parseMakeVars reads the PGSUITE lines varsMakefile prints.
func parseMakeVars(out string) makeVars {
	var v makeVars
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "PGSUITE ")
		if !ok {
			continue
		}
		name, value, _ := strings.Cut(rest, "=")
		switch name {
		case "REGRESS":
			v.Regress = value
		case "ISOLATION":
			v.Isolation = value
		case "NO_INSTALLCHECK":
			v.NoInstallcheck = value
		case "EXTENSION":
			v.Extension = value
		case "MODULES":
			v.Modules = value
		case "MODULE_big":
			v.ModuleBig = value
		}
	}
	return v
}

// contribUnits lists the contrib modules with pg_regress or isolation
// tests, and says which cannot run against this server: those make
// installcheck skips itself (NO_INSTALLCHECK: they need settings of their
// own) and those whose extension or library the server lacks.
func contribUnits(ctx context.Context, r runner, t *tree, s *server, f serverFacts) ([]unit, error) {
	mk := filepath.Join(filepath.Dir(t.Dir), "pgsuite-vars.mk")
	if err := os.WriteFile(mk, []byte(varsMakefile), 0o644); err != nil {
		return nil, err
	}
	dirs, err := filepath.Glob(filepath.Join(t.Dir, "contrib", "*", "Makefile"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var units []unit
	libsOf := map[string][]string{}
	var allLibs []string
	for _, m := range dirs {
		dir := filepath.Dir(m)
		name := filepath.Base(dir)
		cmd := r.command(ctx, dir, nil, "make", "--no-print-directory", "-s", "-f", "Makefile", "-f", mk, "pgsuite-vars")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("read the Makefile variables of contrib/%s (make -f Makefile -f %s pgsuite-vars, as OS user %q): %v\n%s",
				name, mk, r.Name, err, strings.TrimSpace(string(out)))
		}
		v := parseMakeVars(string(out))
		if v.Regress == "" && v.Isolation == "" {
			continue // nothing for pg_regress (TAP tests only, or none)
		}
		u := unit{Suite: suiteContrib, Name: name, Dir: "contrib/" + name, Target: "installcheck"}
		switch {
		case v.NoInstallcheck != "":
			u.Skip = "make installcheck skips it (NO_INSTALLCHECK: its tests need server settings of their own)"
		case v.Extension != "":
			var missing []string
			for _, e := range strings.Fields(v.Extension) {
				if !f.Extensions[e] {
					missing = append(missing, e)
				}
			}
			if len(missing) > 0 {
				u.Skip = "the server has no extension " + strings.Join(missing, ", ") + debianHint(missing)
			}
		default:
			libs := strings.Fields(v.Modules + " " + v.ModuleBig)
			libsOf[name] = libs
			allLibs = append(allLibs, libs...)
		}
		units = append(units, u)
	}
	have, err := s.hasModules(ctx, f.PkgLibDir, allLibs)
	if err != nil {
		return nil, err
	}
	for i, u := range units {
		var missing []string
		for _, l := range libsOf[u.Name] {
			if !have[l] {
				missing = append(missing, l+".so")
			}
		}
		if len(missing) > 0 {
			units[i].Skip = "the server's " + f.PkgLibDir + " has no " + strings.Join(missing, ", ")
		}
	}
	return units, nil
}

// debianHint names the Debian package for the extensions Debian ships
// separately from postgresql-15.
func debianHint(exts []string) string {
	for _, e := range exts {
		switch {
		case strings.Contains(e, "plpython"):
			return " (Debian: apt-get install postgresql-plpython3-15)"
		case strings.Contains(e, "plperl"):
			return " (Debian: apt-get install postgresql-plperl-15)"
		case strings.Contains(e, "pltcl"):
			return " (Debian: apt-get install postgresql-pltcl-15)"
		}
	}
	return ""
}

// unitResult is what running one unit gave.
type unitResult struct {
	Suite   string   `json:"suite"`
	Name    string   `json:"name"`
	Dir     string   `json:"dir"`
	Skipped string   `json:"skipped,omitempty"`
	Runs    []*Run   `json:"runs,omitempty"`
	Error   string   `json:"error,omitempty"` // the unit did not run to a verdict
	Seconds float64  `json:"seconds"`
	OutDir  string   `json:"out_dir,omitempty"`
	Diffs   []string `json:"diffs,omitempty"` // copied regression.diffs files
	// Fingerprints maps "kind/test" of each failed test to a hash of its
	// diff (see DiffChunk), to compare runs.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
	Crash        []string          `json:"server_crash_lines,omitempty"`
	// Denied are server log lines with an operating system call that
	// failed with "Permission denied" (see scanLog).
	Denied []string `json:"server_denied_lines,omitempty"`
}

func (r *unitResult) id() string {
	if r.Name == r.Suite {
		return r.Suite
	}
	return r.Suite + "/" + r.Name
}

// mainKind is the kind of pg_regress run a unit is mostly about: its
// results go straight into the unit's output directory, any other kind's
// into a subdirectory named after it.
func (r *unitResult) mainKind() string {
	if r.Suite == suiteIsolation {
		return "isolation"
	}
	return "regress"
}

// runContext is what running units needs.
type runContext struct {
	runner  runner
	tree    *tree
	server  *server
	outDir  string // this server's output directory
	verbose io.Writer
}

// runUnit runs `make <target>` in the unit's directory against the server
// and collects its verdicts and diffs.
func (rc *runContext) runUnit(ctx context.Context, u unit) *unitResult {
	res := &unitResult{Suite: u.Suite, Name: u.Name, Dir: u.Dir, Skipped: u.Skip}
	if u.Skip != "" {
		return res
	}
	res.OutDir = filepath.Join(rc.outDir, u.Suite)
	if u.Name != u.Suite {
		res.OutDir = filepath.Join(res.OutDir, u.Name)
	}
	if err := os.MkdirAll(res.OutDir, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	dir := filepath.Join(rc.tree.Dir, u.Dir)
	// Results of an earlier run must not be taken for this one's.
	for _, p := range []string{"results", "output_iso", "regression.diffs", "regression.out", "log"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			res.Error = fmt.Sprintf("remove the old results in %s: %v", dir, err)
			return res
		}
	}
	if err := rc.server.alive(ctx); err != nil {
		res.Error = fmt.Sprintf("the %s does not accept connections before the run: %v", rc.server.Label, err)
		return res
	}
	rc.server.markLog()

	s := rc.server
	opts := []string{"--host=" + s.Host, fmt.Sprintf("--port=%d", s.Port), "--user=" + s.User,
		// psql from the same source as the tests: its output is what the
		// expected files were written for, even when the server is a
		// later minor release.
		"--bindir=" + filepath.Join(rc.tree.Dir, "src", "bin", "psql")}
	for i, o := range opts {
		opts[i] = shellQuote(o)
	}
	args := append([]string{"-C", u.Dir, u.Target, "EXTRA_REGRESS_OPTS=" + strings.Join(opts, " ")}, u.Vars...)
	env := append([]string{"PGHOST=" + s.Host, fmt.Sprintf("PGPORT=%d", s.Port), "PGUSER=" + s.User}, s.ClientEnv...)
	cmd := rc.runner.command(ctx, rc.tree.Dir, env, "make", args...)
	// On interrupt, stop make and everything under it (pg_regress, psql).
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	logPath := filepath.Join(res.OutDir, "make.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	w := io.MultiWriter(&out, logFile)
	if rc.verbose != nil {
		w = io.MultiWriter(w, rc.verbose)
	}
	cmd.Stdout, cmd.Stderr = w, w
	begin := time.Now()
	runErr := cmd.Run()
	res.Seconds = time.Since(begin).Seconds()
	logFile.Close()

	res.Runs = ParseOutput(out.String())
	res.Crash, res.Denied = s.logSinceMark()
	var problems []string
	for _, run := range res.Runs {
		if err := CheckRun(run); err != nil {
			problems = append(problems, err.Error())
		}
		problems = append(problems, run.Errors...)
		if err := rc.collect(res, run); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(res.Runs) == 0 {
		problems = append(problems, "make ran no pg_regress")
	}
	var exit *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exit) && len(problems) == 0 && failedCount(res) > 0:
		// make fails because tests failed: the verdicts say it all.
	default:
		problems = append(problems, fmt.Sprintf("make %s in %s failed: %v", u.Target, u.Dir, runErr))
	}
	if len(problems) > 0 {
		res.Error = strings.Join(problems, "; ") + fmt.Sprintf("\nlast lines of %s:\n%s", logPath, tailFile(logPath, 15))
	}
	return res
}

// collect copies a run's regression.diffs and regression.out into the
// unit's output directory and fingerprints the failed tests' diffs.
func (rc *runContext) collect(res *unitResult, run *Run) error {
	src := filepath.Join(rc.tree.Dir, run.Dir)
	if run.Kind == "isolation" {
		src = filepath.Join(src, "output_iso")
	}
	dst := res.OutDir
	if run.Kind != res.mainKind() {
		dst = filepath.Join(dst, run.Kind)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	}
	var errs []error
	for _, name := range []string{"regression.diffs", "regression.out"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) {
			continue // pg_regress removes both when every test passed
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, name), data, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("copy %s: %w", name, err))
			continue
		}
		if name == "regression.diffs" {
			res.Diffs = append(res.Diffs, filepath.Join(dst, name))
			byTest := map[string][]string{}
			for _, c := range ParseDiffs(string(data)) {
				byTest[c.Test] = append(byTest[c.Test], c.Fingerprint)
			}
			if res.Fingerprints == nil {
				res.Fingerprints = map[string]string{}
			}
			for test, fps := range byTest {
				res.Fingerprints[run.Kind+"/"+test] = strings.Join(fps, "+")
			}
		}
	}
	return errors.Join(errs...)
}

// failedCount is the number of FAILED tests of a unit.
func failedCount(res *unitResult) int {
	n := 0
	for _, run := range res.Runs {
		_, failed, _, _ := run.Counts()
		n += failed
	}
	return n
}

// shellQuote quotes s for the shell that runs make's recipe.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
