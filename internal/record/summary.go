package record

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// WriteFiles writes the profile to profilePath and the conf.d snippet
// that puts it in force, with enforce for every default action, to
// confPath.
func (r *Result) WriteFiles(profilePath, confPath string, enforce policy.Action) error {
	if err := r.Profile.WriteFile(profilePath); err != nil {
		return fmt.Errorf("write the profile: %v", err)
	}
	if err := os.WriteFile(confPath, []byte(profile.Snippet(r.Profile, &enforce)), 0o644); err != nil {
		return fmt.Errorf("write the conf.d snippet: %v", err)
	}
	return nil
}

// WriteSummary writes what the recording did, with measured figures only:
// its passes and the records read, the kernel's lost counter, what the
// enforce pass proved, the size of each layer, what was withheld, and a
// warning for each io_uring syscall a session layer allows.
func (r *Result) WriteSummary(w io.Writer) {
	p := r.Profile
	var phases []string
	for _, ps := range p.Provenance.Passes {
		phases = append(phases, ps.Phase)
	}
	var records uint64
	for _, ps := range p.Provenance.Passes {
		records += ps.Records
	}
	fmt.Fprintf(w, "recorded in %s: %d passes (%s), %d audit records of the server read; kernel audit lost counter %d before and %d after, capture socket never overflowed\n",
		r.Elapsed.Round(1e9), len(phases), strings.Join(phases, ", "), records, r.LostBefore, r.LostAfter)
	fmt.Fprintf(w, "proven with the recorded lists and error defaults: %s\n", strings.Join(r.Proven, ", "))
	if len(r.NotRun) > 0 {
		fmt.Fprintf(w, "not run in place, so not proven (they crash or restart the server, which only a copy may): %s\n", strings.Join(r.NotRun, ", "))
	}
	if len(r.Unexercised) > 0 {
		fmt.Fprintf(w, "not exercised (pg_hba.conf methods the recording cannot log in with; what the shipped profile saw on their login paths is added, see provenance.added): %s\n", strings.Join(r.Unexercised, "; "))
	}
	fmt.Fprintf(w, "global layer: %d syscalls; session layer: %d syscalls", len(p.Global.Allow), len(p.Session.Allow))
	if len(p.Roles) > 0 {
		fmt.Fprintf(w, "; %d roles with their own lists", len(p.Roles))
	}
	fmt.Fprintln(w)
	for _, wh := range p.Provenance.Withheld {
		fmt.Fprintf(w, "left out of the %s layer, though recorded: %s (%s)\n", wh.Layer, strings.Join(wh.Syscalls, ", "), wh.Why)
	}
	layers := map[string][]string{"session": p.Session.Allow}
	for _, role := range p.RoleNames() {
		layers["role "+role] = p.Roles[role].Allow
	}
	for _, layer := range slices.Sorted(maps.Keys(layers)) {
		for _, name := range policy.IOUring {
			if slices.Contains(layers[layer], name) {
				fmt.Fprintf(w, "warning: the %s layer allows %s (--keep-io-uring): operations submitted through a ring are not seen by seccomp\n", layer, name)
			}
		}
	}
}
