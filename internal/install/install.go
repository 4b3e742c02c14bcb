// Package install puts a profile in force on an existing cluster, and
// takes it out again: pgseccomp install and uninstall.
//
// Everything install changes is one file, conf.d/pgseccomp.conf in the
// cluster's configuration directory (Debian's postgresql.conf reads conf.d
// with include_dir): the profile's settings and, when the server does not
// load pgseccomp yet, a shared_preload_libraries line that keeps every
// library the server loads now and adds pgseccomp. The cluster's own files
// are never edited, so uninstall, which removes that one file, gives back
// exactly the configuration there was. Before it writes anything, install
// reads the configuration as the postmaster would with the file in place
// (pgconf's Overlay) and refuses when the file would not be read, when a
// later line would override it, or when the check (lint) finds something
// that would stop the server or refuse a configured login.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

const (
	// ConfDir is the directory, in the configuration directory, that
	// Debian's postgresql.conf includes (include_dir = 'conf.d').
	ConfDir = "conf.d"
	// SnippetName is the file install writes into ConfDir.
	SnippetName = "pgseccomp.conf"
	// Marker starts every file install writes; uninstall removes only
	// such a file.
	Marker = "# Written by pgseccomp install:"
	// Library is the name of the extension in shared_preload_libraries.
	Library = "pgseccomp"
)

// Check finds what in a configuration would stop the server from
// starting or refuse a configured login, one message per problem (with
// file:line where it has one). pgseccomp lint provides it.
type Check func(f *pgconf.File) []string

// RefusedError is an install or uninstall that would leave a server that
// does not start, or refuses logins, or that cannot be done as asked:
// nothing was written.
type RefusedError struct{ Reasons []string }

func (e *RefusedError) Error() string {
	return "refused, nothing written:\n  " + strings.Join(e.Reasons, "\n  ")
}

// Plan is a change to a cluster's configuration, checked and ready to be
// applied.
type Plan struct {
	Cluster *cluster.Existing
	Path    string // the snippet
	Content []byte // what Apply writes there; nil: Apply removes it
	// Preload is shared_preload_libraries after the change, PreloadWas
	// before it, and PreloadWhere where the value in force was set
	// ("" when nowhere).
	Preload, PreloadWas, PreloadWhere string
	// Notes are things the operator should know; they do not refuse.
	Notes []string
	// Conf is the configuration as the postmaster reads it after Apply.
	Conf *pgconf.File
}

// Install plans putting profile p in force on cluster e with default
// action enforce (log or error) at every layer; check (which may be nil)
// vets the configuration that results.
func Install(e *cluster.Existing, p *profile.Profile, enforce policy.Action, check Check) (*Plan, error) {
	if enforce != policy.Log && enforce != policy.Error {
		return nil, fmt.Errorf("--enforce %s: install takes log (to watch first) or error; kill makes every denial a crash restart of the whole cluster", enforce)
	}
	pl := &Plan{Cluster: e, Path: filepath.Join(e.ConfigDir, ConfDir, SnippetName)}
	var refused []string
	if err := pl.checkOurs(); err != nil {
		return nil, err
	}
	// The configuration without the snippet: what the server has now.
	before, err := pl.load(nil)
	if err != nil {
		return nil, err
	}
	libs := []string{}
	if s, ok := before.Lookup(policy.PreloadLibrariesName); ok {
		pl.PreloadWas, pl.PreloadWhere = s.Value, s.Where()
		libs = splitList(s.Value)
	}
	pl.Preload = pl.PreloadWas
	var preloadLine string
	if !slices.Contains(libs, Library) {
		pl.Preload = strings.Join(append(slices.Clone(libs), Library), ",")
		was := "not set"
		if pl.PreloadWhere != "" {
			was = fmt.Sprintf("%q at %s", pl.PreloadWas, pl.PreloadWhere)
		}
		preloadLine = fmt.Sprintf("\n# The libraries the server loaded (%s), and pgseccomp.\n%s = %s\n",
			commentSafe(was), policy.PreloadLibrariesName, pgconf.Quote(pl.Preload))
		if s, ok := before.Lookup(policy.PreloadLibrariesName); ok && filepath.Base(s.File) == pgconf.AutoConfName {
			refused = append(refused, fmt.Sprintf("%s sets %s = %q (ALTER SYSTEM), which overrides any file: run ALTER SYSTEM SET %s = %s; yourself, then install again (uninstall will not undo that)",
				s.Where(), policy.PreloadLibrariesName, s.Value, policy.PreloadLibrariesName, sqlLiteral(pl.Preload)))
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s --enforce %s; 'pgseccomp uninstall' removes this file.\n", Marker, e, enforce)
	b.WriteString("# Do not edit: install it again with another profile instead.\n#\n")
	b.WriteString(profile.Snippet(p, &enforce))
	b.WriteString(preloadLine)
	pl.Content = b.Bytes()

	after, err := pl.load(pl.Content)
	if err != nil {
		return nil, err
	}
	pl.Conf = after
	if !slices.Contains(after.Files, pl.Path) {
		refused = append(refused, fmt.Sprintf("%s does not read %s: add  include_dir = '%s'  at the end of %s (Debian's postgresql.conf has it), then install again",
			e.ConfigFile, filepath.Dir(pl.Path), ConfDir, e.ConfigFile))
	} else {
		refused = append(refused, overridden(after, pl.Path)...)
		if s, ok := after.Lookup(policy.PreloadLibrariesName); ok && s.File != pl.Path && !slices.Contains(splitList(s.Value), Library) {
			refused = append(refused, fmt.Sprintf("%s sets %s = %q after %s, so pgseccomp would not be loaded: add pgseccomp to that line, then install again",
				s.Where(), policy.PreloadLibrariesName, s.Value, pl.Path))
		}
	}
	if lib := libraryPath(e); lib != "" {
		if _, err := os.Stat(lib); err != nil {
			refused = append(refused, fmt.Sprintf("%s: %v: the server would not start with pgseccomp in shared_preload_libraries; install the extension first (make install)", lib, pgconf.UnwrapPathError(err)))
		}
	}
	if check != nil && len(refused) == 0 {
		refused = append(refused, check(after)...)
	}
	for _, s := range before.Effective() {
		if policy.IsSetting(s.Name) && s.File != pl.Path {
			pl.Notes = append(pl.Notes, fmt.Sprintf("%s sets %s, which %s overrides", s.Where(), s.Name, pl.Path))
		}
	}
	// A profile of another major or distribution: a warning, not a refusal.
	if major, err := e.Major(); err == nil {
		pl.Notes = append(pl.Notes, profile.TargetMismatch(p.Provenance, profile.Target{Major: major, Distribution: profile.OSRelease()})...)
	}
	if len(refused) > 0 {
		return pl, &RefusedError{Reasons: refused}
	}
	return pl, nil
}

// Preview is the configuration of cluster e as the postmaster would read
// it after Install of p with default action enforce, without writing
// anything: what lint and explain check before an install. refusals are
// what Install would refuse (the snippet not read, or overridden, the
// library missing); err is a configuration that cannot be read at all.
func Preview(e *cluster.Existing, p *profile.Profile, enforce policy.Action) (conf *pgconf.File, refusals []string, err error) {
	pl, err := Install(e, p, enforce, nil)
	var refused *RefusedError
	if errors.As(err, &refused) && pl != nil && pl.Conf != nil {
		return pl.Conf, refused.Reasons, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", e, err)
	}
	return pl.Conf, nil, nil
}

// Uninstall plans removing what Install wrote.
func Uninstall(e *cluster.Existing) (*Plan, error) {
	pl := &Plan{Cluster: e, Path: filepath.Join(e.ConfigDir, ConfDir, SnippetName)}
	if err := pl.checkOurs(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(pl.Path); errors.Is(err, fs.ErrNotExist) {
		pl.Notes = append(pl.Notes, fmt.Sprintf("%s does not exist: pgseccomp install did not confine %s (nothing to do)", pl.Path, e))
	}
	after, err := pl.load(nil)
	if err != nil {
		return nil, err
	}
	pl.Conf = after
	if s, ok := after.Lookup(policy.PreloadLibrariesName); ok {
		pl.Preload, pl.PreloadWhere = s.Value, s.Where()
		if slices.Contains(splitList(s.Value), Library) {
			pl.Notes = append(pl.Notes, fmt.Sprintf("%s still loads pgseccomp (%s = %q), as it did before install: remove it there to stop loading the library", s.Where(), s.Name, s.Value))
		}
	}
	for _, s := range after.Effective() {
		if policy.IsSetting(s.Name) {
			pl.Notes = append(pl.Notes, fmt.Sprintf("%s still sets %s (not written by install)", s.Where(), s.Name))
		}
	}
	return pl, nil
}

// checkOurs refuses a snippet path that holds a file install did not write.
func (pl *Plan) checkOurs() error {
	data, err := os.ReadFile(pl.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", pl.Path, err)
	case !bytes.HasPrefix(data, []byte(Marker)):
		return &RefusedError{Reasons: []string{fmt.Sprintf("%s exists and was not written by pgseccomp install (a snippet copied by hand?): move it out of %s, then run install, which writes its own",
			pl.Path, filepath.Dir(pl.Path))}}
	}
	return nil
}

// load reads the cluster's configuration with the snippet replaced by
// content (nil: without it).
func (pl *Plan) load(content []byte) (*pgconf.File, error) {
	f, err := pgconf.LoadOptions(pl.Cluster.ConfigFile, pgconf.Options{
		DataDir: pl.Cluster.DataDir,
		Overlay: map[string][]byte{pl.Path: content},
	})
	if err != nil {
		return nil, fmt.Errorf("read the configuration of %s: %w", pl.Cluster, err)
	}
	return f, nil
}

// overridden names every setting of the snippet that a line read after
// it overrides.
func overridden(f *pgconf.File, path string) []string {
	var out []string
	for _, s := range f.Effective() {
		if s.File == path {
			continue
		}
		for _, o := range f.Overridden(s.Name) {
			if o.File == path {
				out = append(out, fmt.Sprintf("%s sets %s after %s, so the value install writes would not be in force: remove that line (or put its value into the profile), then install again",
					s.Where(), s.Name, path))
				break
			}
		}
	}
	return out
}

// Apply writes (or removes) the snippet atomically: a temporary file in
// the same directory, named so that include_dir skips it, synced and
// renamed over the snippet, owned like the directory.
func (pl *Plan) Apply() error {
	dir := filepath.Dir(pl.Path)
	if pl.Content == nil {
		if err := os.Remove(pl.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", pl.Path, err)
		}
		return syncDir(dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+SnippetName+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", pl.Path, err)
	}
	tmp := f.Name()
	_, err = f.Write(pl.Content)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && err == nil && os.Geteuid() == 0 {
		err = f.Chown(int(st.Uid), int(st.Gid))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, pl.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", pl.Path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// libraryPath is where the cluster's server looks for pgseccomp.so, when
// postgresql-common's layout says it ("" otherwise).
func libraryPath(e *cluster.Existing) string {
	if e.Version == "" {
		return ""
	}
	return filepath.Join("/usr/lib/postgresql", e.Version, "lib", Library+".so")
}

// splitList splits shared_preload_libraries as the server does: commas,
// blanks around names, double quotes around a name.
func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.Trim(strings.TrimSpace(part), `"`)
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
