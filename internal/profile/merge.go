package profile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// MergeTool is Provenance.Tool of a merged profile.
const MergeTool = "pgseccomp profile merge"

// Merge returns a profile that allows whatever any of the profiles allows:
// recordings of different workloads, or of different servers of one
// architecture, combined.
//
// For each layer, and each role, a syscall gets the most permissive of the
// actions the inputs give it (allow < log < error < kill), each input's
// action being the one its lists give or else its default; the default is
// the most permissive of the defaults. A role that only some inputs have
// is merged, in the others, against their session layer, which is what
// the role's sessions get there. Counts add up (a role's only from the
// inputs that have the role). The inputs must be of one architecture.
//
// The provenance: Tool is MergeTool, RecordedAt the latest input's,
// MergedFrom the inputs' files, workloads (each once) and additions in
// input order, Seconds the sum; version fields the inputs agree on are
// kept, others list every distinct value, separated by "; ". Passes are
// left out: they describe one recording each, and stay in the inputs.
func Merge(profiles ...*Profile) (*Profile, error) {
	if len(profiles) == 0 {
		return nil, errors.New("nothing to merge: give at least one profile")
	}
	for i, p := range profiles {
		if p == nil {
			return nil, fmt.Errorf("profile %d to merge is missing", i+1)
		}
	}
	first := profiles[0]
	arch, err := first.Arch()
	if err != nil {
		return nil, fmt.Errorf("%s: provenance.architecture: %v", first.name(), err)
	}
	for _, p := range profiles[1:] {
		a, err := p.Arch()
		if err != nil {
			return nil, fmt.Errorf("%s: provenance.architecture: %v", p.name(), err)
		}
		if a != arch {
			return nil, fmt.Errorf("cannot merge %s (%s) with %s (%s): syscall names and numbers differ between architectures, so a merged profile would hold names one of them does not have; merge the profiles of each architecture separately",
				first.name(), arch, p.name(), a)
		}
	}

	out := &Profile{Format: Format}
	globals := make([]Layer, len(profiles))
	sessions := make([]Layer, len(profiles))
	for i, p := range profiles {
		globals[i], sessions[i] = p.Global, p.Session
	}
	out.Global = mergeLayers(globals, globals)
	out.Session = mergeLayers(sessions, sessions)

	// Roles: union by exact name; two that differ only in case cannot both
	// have per-role settings.
	byFold := map[string]string{}
	from := map[string]string{}
	for _, p := range profiles {
		for _, r := range p.RoleNames() {
			f := pgconf.FoldName(r)
			if other, ok := byFold[f]; ok && other != r {
				return nil, fmt.Errorf("cannot merge role %s of %s with role %s of %s: the names differ only in case, and pgseccomp's per-role settings (%sallow.<role>) do not; rename one in its profile, or remove it",
					quoteJSON(other), from[other], quoteJSON(r), p.name(), policy.RoleSettingPrefix)
			}
			if _, ok := byFold[f]; !ok {
				byFold[f], from[r] = r, p.name()
			}
		}
	}
	for _, r := range sortedValues(byFold) {
		layers := make([]Layer, len(profiles))
		var own []Layer // for counts: only the inputs that have the role
		for i, p := range profiles {
			layers[i] = p.SessionLayerOf(r)
			if l, ok := p.Roles[r]; ok {
				own = append(own, l)
			}
		}
		if out.Roles == nil {
			out.Roles = map[string]Layer{}
		}
		out.Roles[r] = mergeLayers(layers, own)
	}

	out.Provenance = mergeProvenance(profiles, arch)
	out.normalize()
	return out, nil
}

// mergeLayers merges layers as Merge says, with the counts of counted.
func mergeLayers(layers, counted []Layer) Layer {
	def := policy.Kill
	for _, l := range layers {
		def = min(def, l.Default)
	}
	out := Layer{Default: def}
	var names []string
	for _, l := range layers {
		names = append(names, l.Names()...)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		a := policy.Kill
		for _, l := range layers {
			a = min(a, l.Action(name))
		}
		p := out.list(a)
		*p = append(*p, name)
	}
	for _, l := range counted {
		for name, n := range l.Counts {
			if out.Counts == nil {
				out.Counts = map[string]uint64{}
			}
			out.Counts[name] = addSaturating(out.Counts[name], n)
		}
	}
	out.normalize()
	return out
}

func mergeProvenance(profiles []*Profile, arch policy.Arch) Provenance {
	pv := Provenance{Tool: MergeTool, Architecture: arch.String()}
	var postgres, glibc, kernel, distro []string
	for _, p := range profiles {
		in := &p.Provenance
		if in.RecordedAt.After(pv.RecordedAt) {
			pv.RecordedAt = in.RecordedAt
		}
		postgres = appendNew(postgres, in.PostgreSQL)
		glibc = appendNew(glibc, in.Glibc)
		kernel = appendNew(kernel, in.Kernel)
		distro = appendNew(distro, in.Distribution)
		for _, w := range in.Workloads {
			pv.Workloads = appendNew(pv.Workloads, w)
		}
		pv.Seconds += in.Seconds
		pv.Added = append(pv.Added, cloneAdditions(in.Added)...)
		pv.Withheld = append(pv.Withheld, cloneAdditions(in.Withheld)...)
		pv.MergedFrom = append(pv.MergedFrom, p.name())
		for name, ps := range in.Paths {
			if pv.Paths == nil {
				pv.Paths = map[string]PathSyscalls{}
			}
			sum := pv.Paths[name]
			sum.Global = append(sum.Global, ps.Global...)
			sum.Session = append(sum.Session, ps.Session...)
			pv.Paths[name] = sum
		}
	}
	pv.PostgreSQL = strings.Join(postgres, "; ")
	pv.Glibc = strings.Join(glibc, "; ")
	pv.Kernel = strings.Join(kernel, "; ")
	pv.Distribution = strings.Join(distro, "; ")
	return pv
}

// appendNew appends s unless it is empty or already there.
func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
