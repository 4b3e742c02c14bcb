package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEnsureRoot walks the cache through a root's life with a builder that
// writes a marker instead of running mmdebstrap: a failed build leaves
// nothing, a built root is found again without building, a changed recipe
// builds a new root and removes the old one, --rebuild and age replace a
// root.
func TestEnsureRoot(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "rootfs")
	r17, err := newRecipe(17, defaultMirror)
	if err != nil {
		t.Fatal(err)
	}
	changed := r17
	changed.Packages = append(slices.Clone(r17.Packages), "perl")
	var builds []string
	build := func(fail bool, writeRecipe bool) func(string, recipe) error {
		return func(dir string, r recipe) error {
			builds = append(builds, filepath.Base(dir))
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("build into %s, which exists: mmdebstrap wants a fresh directory", dir)
			}
			if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
				return err
			}
			if fail {
				return errors.New("mirror unreachable")
			}
			if writeRecipe {
				return os.WriteFile(filepath.Join(dir, recipeFile), []byte(r.hash()), 0o644)
			}
			return nil
		}
	}
	nolog := func(string, ...any) {}

	for _, step := range []struct {
		name        string
		r           recipe
		rebuild     bool
		age         time.Duration // of the cached root, set before the step
		fail, noRec bool
		wantBuilt   bool
		wantErr     string
		wantRoots   []string
	}{
		{name: "build fails", r: r17, fail: true, wantErr: "mirror unreachable", wantRoots: nil},
		{name: "build forgets the recipe file", r: r17, noRec: true, wantErr: "without its " + recipeFile, wantRoots: nil},
		{name: "first build", r: r17, wantBuilt: true, wantRoots: []string{r17.dirName()}},
		{name: "cached", r: r17, wantRoots: []string{r17.dirName()}},
		{name: "recipe changed", r: changed, wantBuilt: true, wantRoots: []string{changed.dirName()}},
		{name: "rebuild", r: changed, rebuild: true, wantBuilt: true, wantRoots: []string{changed.dirName()}},
		{name: "six days old: cached", r: changed, age: 6 * 24 * time.Hour, wantRoots: []string{changed.dirName()}},
		{name: "eight days old: built again", r: changed, age: 8 * 24 * time.Hour, wantBuilt: true, wantRoots: []string{changed.dirName()}},
		{name: "rebuild fails: the old root stays", r: changed, rebuild: true, fail: true, wantErr: "mirror unreachable", wantRoots: []string{changed.dirName()}},
	} {
		builds = nil
		if step.age > 0 {
			when := time.Now().Add(-step.age)
			if err := os.Chtimes(filepath.Join(cache, step.r.dirName(), recipeFile), when, when); err != nil {
				t.Fatal(err)
			}
		}
		root, built, err := ensureRoot(cache, step.r, step.rebuild, 7*24*time.Hour, build(step.fail, !step.noRec), nolog)
		switch {
		case step.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), step.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", step.name, err, step.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", step.name, err)
		case built != step.wantBuilt || root != filepath.Join(cache, step.r.dirName()):
			t.Errorf("%s: root %s, built %v; want %s, built %v", step.name, root, built, step.r.dirName(), step.wantBuilt)
		}
		if step.wantBuilt && (len(builds) != 1 || builds[0] != step.r.dirName()+".tmp") {
			t.Errorf("%s: built into %v, want the temporary %s.tmp", step.name, builds, step.r.dirName())
		}
		if !step.wantBuilt && step.wantErr == "" && len(builds) > 0 {
			t.Errorf("%s: built %v, want the cached root", step.name, builds)
		}
		var roots []string
		entries, _ := os.ReadDir(cache)
		for _, e := range entries {
			if e.IsDir() {
				roots = append(roots, e.Name())
			}
		}
		if !slices.Equal(roots, step.wantRoots) {
			t.Errorf("%s: the cache holds %v, want %v", step.name, roots, step.wantRoots)
		}
	}
}
