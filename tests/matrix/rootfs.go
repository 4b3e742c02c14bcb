package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// recipeFile is written into every finished root: what it was made from.
const recipeFile = "pgseccomp-matrix-recipe.json"

// ensureRoot returns the cached root of r under cacheDir, building it first
// when it is missing (or when rebuild is set). A root is built in a
// temporary directory next to its final place and renamed when complete, so
// a root that exists is whole; a lock file per major keeps two runs from
// building the same root at once. Roots of older recipes of the same major
// are removed once the new one is in place.
// A root older than maxAge (0: any age) is built again too: the recipe
// names suites, not package versions, and unstable and experimental move.
// build makes the root (buildRoot; tests pass another) and must leave
// recipeFile in it.
func ensureRoot(cacheDir string, r recipe, rebuild bool, maxAge time.Duration, build func(dir string, r recipe) error,
	logf func(string, ...any)) (root string, built bool, err error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", false, fmt.Errorf("create the root cache %s: %w; pass --cache", cacheDir, err)
	}
	unlock, err := lockFile(filepath.Join(cacheDir, fmt.Sprintf("pg%d.lock", r.Major)), logf)
	if err != nil {
		return "", false, err
	}
	defer unlock()

	root = filepath.Join(cacheDir, r.dirName())
	if fi, err := os.Stat(filepath.Join(root, recipeFile)); err == nil && !rebuild {
		age := time.Since(fi.ModTime())
		if maxAge <= 0 || age <= maxAge {
			return root, false, nil
		}
		logf("PostgreSQL %d: the root %s is %v old, more than --max-age %v: building it again",
			r.Major, root, age.Round(time.Hour), maxAge)
	}
	tmp := root + ".tmp"
	for _, d := range []string{tmp, root + ".old"} {
		if err := os.RemoveAll(d); err != nil {
			return "", false, fmt.Errorf("remove the unfinished root %s: %w", d, err)
		}
	}
	begin := time.Now()
	logf("PostgreSQL %d: building its root %s from %s with mmdebstrap", r.Major, root, r.Distribution)
	if err := build(tmp, r); err != nil {
		os.RemoveAll(tmp)
		return "", false, fmt.Errorf("PostgreSQL %d: build the root: %w", r.Major, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, recipeFile)); err != nil {
		os.RemoveAll(tmp)
		return "", false, fmt.Errorf("PostgreSQL %d: the root was built without its %s: %w", r.Major, recipeFile, err)
	}
	if _, err := os.Stat(root); err == nil { // --rebuild: move the old one out first
		if err := os.Rename(root, root+".old"); err != nil {
			return "", false, err
		}
	}
	if err := os.Rename(tmp, root); err != nil {
		return "", false, fmt.Errorf("PostgreSQL %d: put the root in place: %w", r.Major, err)
	}
	logf("PostgreSQL %d: root built in %v (%s)", r.Major, time.Since(begin).Round(time.Second), sizeString(root))
	removeStaleRoots(cacheDir, r, logf)
	return root, true, nil
}

// buildRoot makes the root of r in dir with mmdebstrap.
func buildRoot(dir string, r recipe) error {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("%w: install it (apt-get install mmdebstrap; make deps does)", err)
	}
	skel, err := os.MkdirTemp("", "pgseccomp-matrix-skel-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(skel)
	if err := writeSkeleton(skel, r); err != nil {
		return err
	}
	cmd := exec.Command("mmdebstrap", mmdebstrapArgs(r, skel, dir)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap %s: %w (its messages are above; is %s reachable?)", r.Suite, err, r.Sources[0])
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, recipeFile), append(b, '\n'), 0o644)
}

// writeSkeleton writes the files a root needs before its packages are
// installed: no main cluster from postgresql-common (the tests make their
// own), and r's apt pin.
func writeSkeleton(skel string, r recipe) error {
	files := map[string]string{
		"etc/postgresql-common/createcluster.d/00-pgseccomp-matrix.conf": "create_main_cluster = false\n",
	}
	if len(r.Pin) > 0 {
		files["etc/apt/preferences.d/pgseccomp-matrix"] = strings.Join(r.Pin, "\n") + "\n"
	}
	for name, content := range files {
		p := filepath.Join(skel, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mmdebstrapArgs are the arguments that build r into dir, with the skeleton
// in skel. Unpacked packages are downloaded by apt inside the root (with
// the root's sources and pins) and unpacked by dpkg-deb, before mmdebstrap
// removes apt's lists and caches.
func mmdebstrapArgs(r recipe, skel, dir string) []string {
	args := []string{
		"--variant=apt",
		"--mode=root",
		`--aptopt=Acquire::Check-Valid-Until "false"`,
		"--setup-hook=sync-in " + skel + " /",
		"--include=" + strings.Join(r.Packages, ","),
	}
	if len(r.Unpacked) > 0 {
		pkgs := strings.Join(r.Unpacked, " ")
		args = append(args, `--customize-hook=chroot "$1" sh -ec 'cd /tmp && apt-get download -q `+pkgs+
			` && for d in *.deb; do dpkg-deb -x "$d" /; done && rm -f /tmp/*.deb'`)
	}
	args = append(args, r.Suite, dir)
	return append(args, r.Sources...)
}

// removeStaleRoots removes the roots of r's major made from other recipes.
func removeStaleRoots(cacheDir string, r recipe, logf func(string, ...any)) {
	old, _ := filepath.Glob(filepath.Join(cacheDir, fmt.Sprintf("pg%d-*", r.Major)))
	for _, d := range old {
		if filepath.Base(d) == r.dirName() {
			continue
		}
		logf("PostgreSQL %d: removing %s, the root of an older recipe", r.Major, d)
		if err := os.RemoveAll(d); err != nil {
			logf("PostgreSQL %d: could not remove %s: %v", r.Major, d, err)
		}
	}
}

// lockFile takes an exclusive flock on path, waiting for another run that
// holds it, and returns its release.
func lockFile(path string, logf func(string, ...any)) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
		logf("waiting for another run that holds %s", path)
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// sizeString is the size of the files under dir, e.g. "812 MB".
func sizeString(dir string) string {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return fmt.Sprintf("%d MB", total/1e6)
}
