package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// Difference is what two profiles, A and B, do differently, layer by
// layer, and how their provenance differs.
type Difference struct {
	A          string            `json:"a"` // A's file
	B          string            `json:"b"`
	AFor       string            `json:"a_for"` // what A is for: Provenance.For
	BFor       string            `json:"b_for"`
	Layers     []LayerDifference `json:"layers"`     // only the layers that differ, global, session, then roles by name
	Provenance []FieldDifference `json:"provenance"` // only the fields that differ
}

// LayerDifference is how one layer differs. Actions are effective: the
// list's action where a list names the syscall, else the layer's default.
type LayerDifference struct {
	Layer string `json:"layer"` // "global", "session" or "role <name>"
	Role  string `json:"role,omitempty"`
	// OnlyIn is "a" or "b" when only that profile gives the role a layer
	// of its own; the other's session layer, which that role's sessions
	// get there, stands for it.
	OnlyIn   string              `json:"only_in,omitempty"`
	Default  *ActionChange       `json:"default,omitempty"`
	Syscalls []SyscallDifference `json:"syscalls,omitempty"` // by name
}

// ActionChange is an action in A and in B.
type ActionChange struct {
	A      policy.Action `json:"a"`
	B      policy.Action `json:"b"`
	Change string        `json:"change"` // Looser or Tighter: what B does compared with A
}

// SyscallDifference is one syscall the layer treats differently.
type SyscallDifference struct {
	Syscall string        `json:"syscall"`
	A       policy.Action `json:"a"`
	B       policy.Action `json:"b"`
	Change  string        `json:"change"` // Looser or Tighter: what B does compared with A
}

// The values of Change: B's action is more permissive than A's (allow <
// log < error < kill), or less.
const (
	Looser  = "looser"
	Tighter = "tighter"
)

func change(a, b policy.Action) string {
	if b < a {
		return Looser
	}
	return Tighter
}

// FieldDifference is one provenance field, as text, in A and in B.
type FieldDifference struct {
	Field string `json:"field"` // the JSON key, e.g. "postgresql"
	A     string `json:"a"`
	B     string `json:"b"`
}

// Diff compares two profiles.
func Diff(a, b *Profile) *Difference {
	d := &Difference{A: a.name(), B: b.name(), AFor: a.Provenance.For(), BFor: b.Provenance.For(), Layers: []LayerDifference{}, Provenance: []FieldDifference{}}
	add := func(ld LayerDifference, la, lb Layer) {
		if la.Default != lb.Default {
			ld.Default = &ActionChange{la.Default, lb.Default, change(la.Default, lb.Default)}
		}
		names := append(la.Names(), lb.Names()...)
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			if x, y := la.Action(name), lb.Action(name); x != y {
				ld.Syscalls = append(ld.Syscalls, SyscallDifference{name, x, y, change(x, y)})
			}
		}
		if ld.Default != nil || ld.Syscalls != nil || ld.OnlyIn != "" {
			d.Layers = append(d.Layers, ld)
		}
	}
	add(LayerDifference{Layer: GlobalLayerName}, a.Global, b.Global)
	add(LayerDifference{Layer: SessionLayerName}, a.Session, b.Session)
	roles := append(a.RoleNames(), b.RoleNames()...)
	slices.Sort(roles)
	for _, r := range slices.Compact(roles) {
		ld := LayerDifference{Layer: RoleLayerName(r), Role: r}
		_, inA := a.Roles[r]
		_, inB := b.Roles[r]
		switch {
		case inA && !inB:
			ld.OnlyIn = "a"
		case inB && !inA:
			ld.OnlyIn = "b"
		}
		add(ld, a.SessionLayerOf(r), b.SessionLayerOf(r))
	}

	pa, pb := &a.Provenance, &b.Provenance
	field := func(name, x, y string) {
		if x != y {
			d.Provenance = append(d.Provenance, FieldDifference{name, x, y})
		}
	}
	field("tool", pa.Tool, pb.Tool)
	field("recorded_at", timeText(pa.RecordedAt), timeText(pb.RecordedAt))
	field("architecture", pa.Architecture, pb.Architecture)
	field("postgresql", pa.PostgreSQL, pb.PostgreSQL)
	field("glibc", pa.Glibc, pb.Glibc)
	field("kernel", pa.Kernel, pb.Kernel)
	field("distribution", pa.Distribution, pb.Distribution)
	field("workloads", strings.Join(pa.Workloads, ", "), strings.Join(pb.Workloads, ", "))
	field("passes", passesText(pa.Passes), passesText(pb.Passes))
	field("seconds", secondsText(pa.Seconds), secondsText(pb.Seconds))
	field("added", addedText(pa.Added), addedText(pb.Added))
	field("withheld", addedText(pa.Withheld), addedText(pb.Withheld))
	field("merged_from", strings.Join(pa.MergedFrom, ", "), strings.Join(pb.MergedFrom, ", "))
	return d
}

// Differ reports whether the profiles' filters differ: any layer's default
// or a syscall's action, or a role with its own layer in only one of them.
// Provenance alone does not count.
func (d *Difference) Differ() bool { return len(d.Layers) > 0 }

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func secondsText(s float64) string {
	if s == 0 {
		return ""
	}
	return strconv.FormatFloat(s, 'f', 1, 64) + " s"
}

func passesText(passes []Pass) string {
	var parts []string
	for _, p := range passes {
		parts = append(parts, fmt.Sprintf("%d %s (%d records, %d new)", p.Number, p.Phase, p.Records, len(p.New)))
	}
	return strings.Join(parts, "; ")
}

func addedText(added []Addition) string {
	var parts []string
	for _, a := range added {
		parts = append(parts, fmt.Sprintf("%s: %s", a.Layer, strings.Join(a.Syscalls, ", ")))
	}
	return strings.Join(parts, "; ")
}

// Text renders the difference for people, like a unified diff's header
// followed by one block per layer that differs ("syscall  A -> B") and the
// provenance that differs.
func (d *Difference) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s (%s)\n+++ %s (%s)\n", d.A, d.AFor, d.B, d.BFor)
	other := func(side string) string {
		if side == "a" {
			return d.B
		}
		return d.A
	}
	own := func(side string) string {
		if side == "a" {
			return d.A
		}
		return d.B
	}
	for _, l := range d.Layers {
		b.WriteString("\n")
		title := describeLayer(l.Layer)
		if l.OnlyIn != "" {
			title += fmt.Sprintf(" (only %s has one; %s gives the role's sessions its session layer)", own(l.OnlyIn), other(l.OnlyIn))
		}
		fmt.Fprintf(&b, "%s:\n", upperFirst(title))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		if l.Default != nil {
			fmt.Fprintf(tw, "  default\t%s\t->\t%s\n", l.Default.A, l.Default.B)
		}
		for _, s := range l.Syscalls {
			fmt.Fprintf(tw, "  %s\t%s\t->\t%s\n", s.Syscall, s.A, s.B)
		}
		tw.Flush()
		if l.Default == nil && l.Syscalls == nil {
			b.WriteString("  no syscall is treated differently\n")
		}
	}
	if len(d.Provenance) > 0 {
		b.WriteString("\nProvenance:\n")
		for _, f := range d.Provenance {
			fmt.Fprintf(&b, "  %s:\n    - %s\n    + %s\n", f.Field, orNone(f.A), orNone(f.B))
		}
	}
	b.WriteString("\n")
	if !d.Differ() {
		b.WriteString("The filters are the same.\n")
		return b.String()
	}
	var syscalls, defaults, only int
	for _, l := range d.Layers {
		syscalls += len(l.Syscalls)
		if l.Default != nil {
			defaults++
		}
		if l.OnlyIn != "" {
			only++
		}
	}
	var what []string
	if syscalls > 0 {
		what = append(what, plural(syscalls, "syscall", "syscalls"))
	}
	if defaults > 0 {
		what = append(what, plural(defaults, "default", "defaults"))
	}
	if only > 0 {
		what = append(what, plural(only, "role with a layer of its own in one profile only", "roles with a layer of their own in one profile only"))
	}
	fmt.Fprintf(&b, "The filters differ in %s: %s.\n", plural(len(d.Layers), "layer", "layers"), strings.Join(what, ", "))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
