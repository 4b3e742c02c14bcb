package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// driver holds what every step of a run shares.
type driver struct {
	o           options
	runner      runner
	release     pgVersion // the server's
	binDir      string    // the throwaway clusters' programs; "" for an existing server
	tree        *tree
	outDir      string
	verbose     io.Writer // make's output goes here too with --verbose
	logf        func(string, ...any)
	clusterLogf func(string, ...any)
}

// drive does the whole job; it reports whether everything passed.
func drive(ctx context.Context, o options) (bool, error) {
	started := time.Now()
	d := &driver{o: o, clusterLogf: func(string, ...any) {}}
	d.logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	if o.Verbose {
		d.clusterLogf, d.verbose = d.logf, stderr
	}
	var err error
	if d.runner, err = lookupRunner(o.OSUser); err != nil {
		return false, err
	}

	var baseline *serverRun
	if o.Compare != "" {
		b, err := readBaseline(o.Compare)
		if err != nil {
			return false, err
		}
		b.Label = "the server run in " + o.Compare + " (" + b.Label + ")"
		baseline = &b
	}
	var settings map[string]string
	if len(o.Confs) > 0 {
		var where map[string]string
		if settings, where, err = confSettings(o.Confs); err != nil {
			return false, err
		}
		for _, line := range settingsSummary(settings) {
			name, _, _ := strings.Cut(line, " = ")
			d.logf("pgsuite: setting %s (%s)", line, where[name])
		}
	}

	// Which release the server is decides which source to test with.
	var existing *server
	if o.Server == "existing" {
		if existing, err = existingServer(o.Host, o.Port, o.User); err != nil {
			return false, err
		}
		f, err := existing.facts(ctx)
		if err != nil {
			return false, err
		}
		d.release = f.Release
	} else {
		if d.binDir, err = cluster.FindBinDir(o.BinDir); err != nil {
			return false, err
		}
		if d.release, err = binaryRelease(ctx, d.binDir); err != nil {
			return false, err
		}
	}

	res := results{Tool: "pgseccomp tests/pgsuite", Started: started.UTC()}
	if err := d.prepare(ctx, &res); err != nil {
		return false, err
	}
	defer d.tree.unlock()

	// The server first: a configuration that keeps it from starting fails
	// the run before the baseline spends minutes.
	srv := existing
	if srv == nil {
		if srv, err = newThrowaway(ctx, d.throwaway("throwaway", settings, o.AuditSession)); err != nil {
			return false, fmt.Errorf("start the cluster: %w", err)
		}
	}
	sr, err := d.runOn(ctx, "server", srv, settings)
	if err != nil {
		return false, err
	}
	res.Runs = append(res.Runs, sr)
	if o.Baseline {
		base := withoutPgseccomp(settings)
		srv, err := newThrowaway(ctx, d.throwaway("baseline", base, false))
		if err != nil {
			return false, fmt.Errorf("start the baseline cluster: %w", err)
		}
		br, err := d.runOn(ctx, "baseline", srv, base)
		if err != nil {
			return false, fmt.Errorf("baseline: %w", err)
		}
		br.Label = "the baseline: " + br.Label
		res.Runs = append(res.Runs, br)
		baseline = &res.Runs[len(res.Runs)-1]
	}

	passed := d.verdict(&res, baseline)
	res.Finished = time.Now().UTC()
	path, err := writeResults(d.outDir, res)
	if err != nil {
		return false, fmt.Errorf("write results: %w", err)
	}
	verdict := "PASSED"
	if !passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(stdout, "\n%s in %s; results: %s\n", verdict, time.Since(started).Round(time.Second), path)
	return passed, nil
}

// binaryRelease asks BinDir/postgres its release.
func binaryRelease(ctx context.Context, binDir string) (pgVersion, error) {
	prog := filepath.Join(binDir, "postgres")
	out, err := exec.CommandContext(ctx, prog, "--version").Output()
	if err != nil {
		return pgVersion{}, fmt.Errorf("%s --version: %w", prog, err)
	}
	v, err := parsePGVersion(string(out))
	if err != nil {
		return pgVersion{}, fmt.Errorf("%s --version: %w", prog, err)
	}
	return v, nil
}

// prepare gets the source, builds the tree and makes the output directory.
func (d *driver) prepare(ctx context.Context, res *results) error {
	begin := time.Now()
	src, err := getSource(ctx, d.o, d.release, d.logf)
	if err != nil {
		return err
	}
	tm := timings{Source: time.Since(begin).Seconds()}
	d.logf("pgsuite: source %s (%s), SHA-256 %s", src.Path, src.Release, src.SHA256)
	if src.Version != d.release {
		d.logf("pgsuite: WARNING: the tests come from PostgreSQL %s but the server is %s. Tests whose expected output\n"+
			"changed between the two releases fail on any server; --baseline (or --compare) tells those from\n"+
			"failures the server's configuration causes.", src.Release, d.release)
	}
	serverBinDir := d.binDir
	if serverBinDir == "" {
		serverBinDir, _ = cluster.FindBinDir("") // "" leaves configure's default
	}
	d.tree, err = prepareTree(ctx, d.runner, src, filepath.Join(d.o.CacheDir, "build"), configureArgs(serverBinDir), d.o.Jobs, d.logf)
	if err != nil {
		return err
	}
	tm.Extract, tm.Configure, tm.Make, tm.Reused = d.tree.Extract.Seconds(), d.tree.Config.Seconds(), d.tree.Make.Seconds(), d.tree.Reused
	if !tm.Reused {
		d.logf("pgsuite: download and build took %.1fs (source %.1fs, extract %.1fs, configure %.1fs, make %.1fs)",
			tm.Source+tm.Extract+tm.Configure+tm.Make, tm.Source, tm.Extract, tm.Configure, tm.Make)
	}
	res.Source, res.Tree, res.Timings = src, d.tree.Dir, tm

	d.outDir = d.o.Out
	if d.outDir == "" {
		d.outDir = filepath.Join(d.o.CacheDir, "runs", res.Started.Local().Format("20060102-150405"))
	}
	if d.outDir, err = filepath.Abs(d.outDir); err != nil {
		return err
	}
	if err := os.MkdirAll(d.outDir, 0o755); err != nil {
		return fmt.Errorf("create the output directory: %w; choose another --out", err)
	}
	return nil
}

// throwaway configures a throwaway cluster.
func (d *driver) throwaway(label string, settings map[string]string, auditSession bool) throwawayOptions {
	return throwawayOptions{BinDir: d.binDir, OSUser: d.o.OSUser, Settings: settings, OpenSSLLegacy: d.o.OpenSSLLegacy,
		AuditSession: auditSession, Label: label, Logf: d.clusterLogf}
}

// runOn runs the chosen suites on srv as role ("server" or "baseline");
// a throwaway srv is removed afterwards, its log kept in the output
// directory.
func (d *driver) runOn(ctx context.Context, role string, srv *server, confSettings map[string]string) (sr serverRun, err error) {
	sr = serverRun{Role: role, Label: srv.Label, Settings: settingsSummary(confSettings)}
	if srv.c != nil {
		defer func() {
			sr.LogFile = filepath.Join(d.outDir, role, "server.log")
			os.MkdirAll(filepath.Dir(sr.LogFile), 0o755)
			if rerr := srv.remove(sr.LogFile); rerr != nil {
				d.logf("pgsuite: %v", rerr)
			}
		}()
	}
	f, err := srv.facts(ctx)
	if err != nil {
		return sr, err
	}
	sr.Facts = f
	if f.Release != d.release {
		return sr, fmt.Errorf("the %s says it is PostgreSQL %s, but %s was expected", srv.Label, f.Release, d.release)
	}
	d.logf("pgsuite: %s: running %s on the %s (PostgreSQL %s)", role, strings.Join(d.o.Suites, ", "), srv.Label, f.Version)
	if len(f.Pgseccomp) > 0 {
		d.logf("pgsuite: %s: shared_preload_libraries = '%s'; %s", role, f.Preload, strings.Join(pgseccompSummary(f.Pgseccomp), "; "))
	}
	if len(f.Confinement) > 0 {
		d.logf("pgsuite: %s: postmaster %s; client backend %s", role, f.Confinement["postmaster"], f.Confinement["backend"])
	}
	if f.AuditSessID != 0 {
		d.logf("pgsuite: %s: the server's audit session is ses=%d", role, f.AuditSessID)
	}
	units, err := d.plan(ctx, srv, f)
	if err != nil {
		return sr, err
	}
	rc := &runContext{runner: d.runner, tree: d.tree, server: srv, outDir: filepath.Join(d.outDir, role), verbose: d.verbose}
	for _, u := range units {
		if ctx.Err() != nil {
			return sr, ctx.Err()
		}
		ur := rc.runUnit(ctx, u)
		sr.Units = append(sr.Units, ur)
		if ur.Skipped == "" {
			d.logf("pgsuite: %s: %s", role, unitLine(ur))
		}
	}
	for _, s := range d.o.Suites {
		sr.Suites = append(sr.Suites, summarize(s, sr.Units))
	}
	return sr, nil
}

// verdict prints the summaries (and the comparison with the baseline, if
// any) and decides: the server's run (res.Runs[0]) must have no errors,
// crashes or unfinished tests, and no failures (with a baseline: none the
// baseline does not share with the same diff).
func (d *driver) verdict(res *results, baseline *serverRun) bool {
	for _, run := range res.Runs {
		printSummary(stdout, fmt.Sprintf("%s (%s)", run.Role, run.Label), run.Suites)
		if run.LogFile != "" {
			fmt.Fprintf(stdout, "server log: %s\n", run.LogFile)
		}
	}
	server := res.Runs[0]
	passed := true
	for _, s := range server.Suites {
		if len(s.Errors) > 0 || len(s.Crash) > 0 || len(s.Incomplete) > 0 || (baseline == nil && len(s.Failed) > 0) {
			passed = false
		}
	}
	if baseline != nil {
		c := compare(baseline.Label, baseline.Units, server.Units)
		res.Comparison = &c
		printComparison(stdout, c)
		passed = passed && c.ok()
	}
	res.Passed = passed
	return passed
}

// getSource returns the checked tarball: --source, or Debian's.
func getSource(ctx context.Context, o options, release pgVersion, logf func(string, ...any)) (source, error) {
	if o.Source != "" {
		s, err := localSource(o.Source, o.SourceSHA256)
		if err != nil {
			return source{}, err
		}
		if s.Version.Major != release.Major && !o.OtherMajor {
			return source{}, fmt.Errorf("--source %s is PostgreSQL %s, but the server is %s: give a %d.x tarball (or --other-major, to judge only against a baseline)", o.Source, s.Release, release, release.Major)
		}
		if s.Version.Major != release.Major {
			logf("pgsuite: warning: the tests are PostgreSQL %s's and the server is %s (--other-major): many fail on any server; only failures the baseline does not share count", s.Release, release)
		}
		if o.ExactVersion && s.Version != release {
			return source{}, fmt.Errorf("--source %s is PostgreSQL %s, but the server is %s (--exact-version)", o.Source, s.Release, release)
		}
		return s, nil
	}
	codename := o.Codename
	if codename == "" {
		var err error
		if codename, err = debianCodename(); err != nil {
			return source{}, err
		}
	}
	if _, err := os.Stat(o.Keyring); err != nil {
		return source{}, fmt.Errorf("keyring %s: %w; apt-get install debian-archive-keyring, or pass --keyring (or --source with a tarball)", o.Keyring, err)
	}
	f, err := newFetcher(filepath.Join(o.CacheDir, "downloads"), o.Keyring, logf)
	if err != nil {
		return source{}, err
	}
	return obtainSource(ctx, f, archives(o.Mirror, codename), release, o.ExactVersion)
}

// plan lists the units of the chosen suites.
func (d *driver) plan(ctx context.Context, srv *server, f serverFacts) ([]unit, error) {
	var units []unit
	for _, s := range d.o.Suites {
		switch s {
		case suiteRegress:
			units = append(units, regressUnit(d.o.Parallel, d.o.Tests))
		case suiteIsolation:
			units = append(units, isolationUnit())
		case suiteContrib:
			cu, err := contribUnits(ctx, d.runner, d.tree, srv, f)
			if err != nil {
				return nil, err
			}
			units = append(units, cu...)
		case suitePL:
			units = append(units, plUnits(f)...)
		}
	}
	return units, nil
}

// unitLine is the progress line of one finished unit.
func unitLine(u *unitResult) string {
	passed, total := 0, 0
	for _, run := range u.Runs {
		p, f, i, n := run.Counts()
		passed += p
		total += p + f + i + n
	}
	line := fmt.Sprintf("%s: %d of %d passed in %.1fs", u.id(), passed, total, u.Seconds)
	if u.Error != "" {
		line += " (ERROR: " + firstLine(u.Error) + ")"
	}
	if len(u.Crash) > 0 {
		line += fmt.Sprintf(" (the server log shows a crash: %s)", u.Crash[0])
	}
	if len(u.Denied) > 0 {
		line += fmt.Sprintf(" (%d server log lines with \"Permission denied\")", len(u.Denied))
	}
	return line
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// withoutPgseccomp is settings without what configures pgseccomp: its own
// settings, the per-role session lists and its entry in
// shared_preload_libraries.
func withoutPgseccomp(settings map[string]string) map[string]string {
	out := map[string]string{}
	for name, value := range settings {
		lower := strings.ToLower(name)
		switch {
		case strings.HasPrefix(lower, policy.SettingPrefix), strings.HasPrefix(lower, policy.RoleSettingPrefix):
			continue
		case lower == "shared_preload_libraries":
			var keep []string
			for _, lib := range strings.Split(strings.Trim(value, "'"), ",") {
				lib = strings.TrimSpace(lib)
				if lib != "" && lib != "pgseccomp" && lib != `"pgseccomp"` {
					keep = append(keep, lib)
				}
			}
			if len(keep) == 0 {
				continue
			}
			value = cluster.QuoteValue(strings.Join(keep, ","))
		}
		out[name] = value
	}
	return out
}

// pgseccompSummary renders the pgseccomp settings briefly: long lists by
// their length.
func pgseccompSummary(settings map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		v := settings[k]
		if n := strings.Count(v, ",") + 1; len(v) > 60 {
			v = fmt.Sprintf("(%d names)", n)
		}
		out = append(out, k+"="+v)
	}
	return out
}
