// Package profile is pgseccomp's profile format: the JSON file in which
// `pgseccomp record` keeps the syscalls a PostgreSQL server was seen to
// make, per layer (global, session, and each role with its own session
// layer), with where and how they were recorded.
//
// A profile says what each layer's filter does, exactly as the extension's
// settings do, but with the lists already resolved: a session layer names
// its own lists (there is no '*'), and a role's layer is complete (it does
// not fall back to the session layer setting by setting). Reading one
// checks every name against libseccomp on the profile's architecture, so a
// profile that reads is one pgseccomp can load there.
//
// What it gives:
//
//	Read, Parse           read and check a profile, errors naming file, JSON location and value
//	(*Profile).Write      deterministic JSON (sorted lists, UTC times)
//	Merge                 the union of profiles of one architecture: most permissive action wins
//	Diff                  what two profiles' filters do differently
//	Snippet               the conf.d file that makes a server load the profile
//	ToSettings            the profile as policy.Settings, for explain, lint and the exporters
package profile

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// Format is the value of "format" in the profiles this package reads and
// writes. A future incompatible change gets a new number.
const Format = "pgseccomp-profile/1"

// FormatPrefix starts the format of every pgseccomp profile version.
const FormatPrefix = "pgseccomp-profile/"

// The layer names of a profile, as Addition.Layer and messages write them;
// a role's layer is "role <name>" (see RoleLayerName).
const (
	GlobalLayerName  = "global"
	SessionLayerName = "session"
	rolePrefix       = "role "
)

// RoleLayerName is how Addition.Layer names role's layer: "role joe".
func RoleLayerName(role string) string { return rolePrefix + role }

// Profile is one profile file.
type Profile struct {
	Format     string           `json:"format"`
	Provenance Provenance       `json:"provenance"`
	Global     Layer            `json:"global"`
	Session    Layer            `json:"session"`
	Roles      map[string]Layer `json:"roles,omitempty"` // role name exactly as it authenticates (case kept); a role's layer is complete, not a partial override

	// Source is the file the profile was read from (as given to Read or
	// Parse), for messages; "" for a profile made in memory.
	Source string `json:"-"`
}

// Layer is one filter: an action for each syscall its lists name, and a
// default action for every other syscall.
type Layer struct {
	Default policy.Action     `json:"default"` // allow|log|error|kill
	Allow   []string          `json:"allow"`
	Log     []string          `json:"log,omitempty"`
	Error   []string          `json:"error,omitempty"`
	Kill    []string          `json:"kill,omitempty"`
	Counts  map[string]uint64 `json:"counts,omitempty"` // audit records seen per syscall while recording
}

// Provenance says where, when and how a profile was made.
type Provenance struct {
	Tool         string     `json:"tool"`                   // e.g. "pgseccomp record"
	RecordedAt   time.Time  `json:"recorded_at"`            // written in UTC
	Architecture string     `json:"architecture"`           // libseccomp arch name, e.g. x86_64
	PostgreSQL   string     `json:"postgresql"`             // server_version, e.g. "15.20 (Debian 15.20-0+deb12u1)"
	Glibc        string     `json:"glibc"`                  // e.g. "2.36"
	Kernel       string     `json:"kernel"`                 // uname -r
	Distribution string     `json:"distribution,omitempty"` // os-release PRETTY_NAME
	Workloads    []string   `json:"workloads"`              // what ran while recording
	Passes       []Pass     `json:"passes,omitempty"`
	Seconds      float64    `json:"seconds,omitempty"`     // wall time of the recording
	Added        []Addition `json:"added,omitempty"`       // syscalls put in a layer for a stated reason, not from records
	Withheld     []Addition `json:"withheld,omitempty"`    // syscalls recorded but kept out of a layer, and why (io_uring in sessions)
	MergedFrom   []string   `json:"merged_from,omitempty"` // for merged profiles: the inputs' files
	// Paths are the events of the recording (a workload step, a login by
	// one pg_hba.conf method, a server start) with the syscalls each layer
	// was seen making while it ran: what a path of PostgreSQL needs, so
	// that a recording of a cluster whose configuration uses the same path
	// can take what it missed there from a profile that has it.
	Paths map[string]PathSyscalls `json:"paths,omitempty"`
}

// PathSyscalls are the syscalls seen in each layer while one event of a
// recording ran (Provenance.Paths). The attribution is conservative: a
// syscall seen near an event's start or end counts for the event too.
type PathSyscalls struct {
	Global  []string `json:"global,omitempty"`
	Session []string `json:"session,omitempty"`
}

// Pass is one run of the workloads under one recording configuration.
type Pass struct {
	Number  int      `json:"number"`
	Phase   string   `json:"phase"` // "global", "session", "confirm" (both layers log) or "enforce"
	Records uint64   `json:"records"`
	New     []string `json:"new,omitempty"` // syscalls first seen in this pass
	Seconds float64  `json:"seconds"`
}

// The phases a Pass may have.
var Phases = []string{"global", "session", "confirm", "enforce"}

// Addition is a set of syscalls put in a layer for a reason other than
// having been recorded (e.g. PostgreSQL's failure paths, docs/SPEC.md §7).
type Addition struct {
	Layer    string   `json:"layer"` // "global", "session" or "role <name>"
	Syscalls []string `json:"syscalls"`
	Why      string   `json:"why"`
}

// Arch is the architecture the profile's names are for.
func (p *Profile) Arch() (policy.Arch, error) {
	return policy.ParseArch(p.Provenance.Architecture)
}

// name is the profile's file for messages.
func (p *Profile) name() string {
	if p.Source == "" {
		return "profile"
	}
	return p.Source
}

// RoleNames returns the names of the roles with their own layer, sorted.
func (p *Profile) RoleNames() []string {
	names := make([]string, 0, len(p.Roles))
	for r := range p.Roles {
		names = append(names, r)
	}
	sort.Strings(names)
	return names
}

// SessionLayerOf is the layer a session of role gets: the role's own, or
// the session layer for a role without one.
func (p *Profile) SessionLayerOf(role string) Layer {
	if l, ok := p.Roles[role]; ok {
		return l
	}
	return p.Session
}

// List returns the layer's list for action a (the slice itself).
func (l Layer) List(a policy.Action) []string {
	switch a {
	case policy.Allow:
		return l.Allow
	case policy.Log:
		return l.Log
	case policy.Error:
		return l.Error
	case policy.Kill:
		return l.Kill
	}
	return nil
}

// list returns a pointer to the layer's list for action a.
func (l *Layer) list(a policy.Action) *[]string {
	switch a {
	case policy.Allow:
		return &l.Allow
	case policy.Log:
		return &l.Log
	case policy.Error:
		return &l.Error
	case policy.Kill:
		return &l.Kill
	}
	panic(fmt.Sprintf("profile: invalid action %d", int(a)))
}

// Lookup returns the action of the list that names syscall, and false when
// no list does.
func (l Layer) Lookup(syscall string) (policy.Action, bool) {
	for _, a := range policy.Actions {
		if slices.Contains(l.List(a), syscall) {
			return a, true
		}
	}
	return 0, false
}

// Action is what the layer does with syscall: the action of the list that
// names it, or the default.
func (l Layer) Action(syscall string) policy.Action {
	if a, ok := l.Lookup(syscall); ok {
		return a
	}
	return l.Default
}

// Actions returns every named syscall with its action.
func (l Layer) Actions() map[string]policy.Action {
	m := map[string]policy.Action{}
	for _, a := range policy.Actions {
		for _, name := range l.List(a) {
			m[name] = a
		}
	}
	return m
}

// Names returns every syscall the layer's lists name, sorted, once each.
func (l Layer) Names() []string {
	var names []string
	for _, a := range policy.Actions {
		names = append(names, l.List(a)...)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// Set puts syscall in the list of action a, taking it out of the others.
func (l *Layer) Set(syscall string, a policy.Action) {
	for _, other := range policy.Actions {
		list := l.list(other)
		if i := slices.Index(*list, syscall); i >= 0 && other != a {
			*list = slices.Delete(*list, i, i+1)
		}
	}
	list := l.list(a)
	if !slices.Contains(*list, syscall) {
		*list = append(*list, syscall)
		sort.Strings(*list)
	}
}

// NewLayer makes a layer from a default and the actions of named syscalls.
func NewLayer(def policy.Action, actions map[string]policy.Action) Layer {
	l := Layer{Default: def}
	for name, a := range actions {
		p := l.list(a)
		*p = append(*p, name)
	}
	l.normalize()
	return l
}

// Records returns the sum of the layer's counts.
func (l Layer) Records() uint64 {
	var n uint64
	for _, c := range l.Counts {
		n = addSaturating(n, c)
	}
	return n
}

func addSaturating(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// normalize sorts the layer's lists, drops names repeated within one list,
// and turns empty lists and maps into nil, so that equal layers compare
// equal however they were made.
func (l *Layer) normalize() {
	for _, a := range policy.Actions {
		p := l.list(a)
		*p = sortedSet(*p)
	}
	if len(l.Counts) == 0 {
		l.Counts = nil
	}
}

// sortedSet returns names sorted without repeats; nil when empty.
func sortedSet(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := slices.Clone(names)
	sort.Strings(out)
	return slices.Compact(out)
}

// clone returns a deep copy of the layer.
func (l Layer) clone() Layer {
	out := l
	for _, a := range policy.Actions {
		p := out.list(a)
		*p = slices.Clone(*p)
	}
	if l.Counts != nil {
		out.Counts = make(map[string]uint64, len(l.Counts))
		for k, v := range l.Counts {
			out.Counts[k] = v
		}
	}
	return out
}

// Clone returns a deep copy of the profile.
func (p *Profile) Clone() *Profile {
	out := *p
	out.Global = p.Global.clone()
	out.Session = p.Session.clone()
	if p.Roles != nil {
		out.Roles = make(map[string]Layer, len(p.Roles))
		for r, l := range p.Roles {
			out.Roles[r] = l.clone()
		}
	}
	pv := &out.Provenance
	pv.Workloads = slices.Clone(pv.Workloads)
	pv.MergedFrom = slices.Clone(pv.MergedFrom)
	pv.Passes = slices.Clone(pv.Passes)
	for i := range pv.Passes {
		pv.Passes[i].New = slices.Clone(pv.Passes[i].New)
	}
	pv.Added = cloneAdditions(pv.Added)
	pv.Withheld = cloneAdditions(pv.Withheld)
	pv.Paths = clonePaths(pv.Paths)
	return &out
}

func clonePaths(paths map[string]PathSyscalls) map[string]PathSyscalls {
	if paths == nil {
		return nil
	}
	out := make(map[string]PathSyscalls, len(paths))
	for name, ps := range paths {
		out[name] = PathSyscalls{Global: slices.Clone(ps.Global), Session: slices.Clone(ps.Session)}
	}
	return out
}

func cloneAdditions(list []Addition) []Addition {
	list = slices.Clone(list)
	for i := range list {
		list[i].Syscalls = slices.Clone(list[i].Syscalls)
	}
	return list
}

func normalizeAdditions(list []Addition) []Addition {
	if len(list) == 0 {
		return nil
	}
	for i := range list {
		list[i].Syscalls = sortedSet(list[i].Syscalls)
	}
	return list
}

// normalize puts the profile in the form Write writes and Parse returns:
// sorted lists, nil for empty ones, times in UTC, the architecture by its
// canonical name when it is known.
func (p *Profile) normalize() {
	p.Global.normalize()
	p.Session.normalize()
	if len(p.Roles) == 0 {
		p.Roles = nil
	}
	for r, l := range p.Roles {
		l.normalize()
		p.Roles[r] = l
	}
	pv := &p.Provenance
	pv.RecordedAt = pv.RecordedAt.UTC()
	if a, err := policy.ParseArch(pv.Architecture); err == nil {
		pv.Architecture = a.String()
	}
	if len(pv.Workloads) == 0 {
		pv.Workloads = nil
	}
	if len(pv.Passes) == 0 {
		pv.Passes = nil
	}
	for i := range pv.Passes {
		pv.Passes[i].New = sortedSet(pv.Passes[i].New)
	}
	pv.Added = normalizeAdditions(pv.Added)
	pv.Withheld = normalizeAdditions(pv.Withheld)
	if len(pv.MergedFrom) == 0 {
		pv.MergedFrom = nil
	}
	if len(pv.Paths) == 0 {
		pv.Paths = nil
	}
	for name, ps := range pv.Paths {
		pv.Paths[name] = PathSyscalls{Global: sortedSet(ps.Global), Session: sortedSet(ps.Session)}
	}
}

// layerRef is one layer of a profile with its name and JSON location.
type layerRef struct {
	name  string // "global", "session", "role joe"
	loc   string // "global", "session", `roles."joe"`
	role  string // the role, for a role's layer
	layer *Layer
}

// layers returns the profile's layers in order: global, session, then the
// roles by name. The pointers point at copies for roles (map values).
func (p *Profile) layers() []layerRef {
	refs := []layerRef{
		{name: GlobalLayerName, loc: "global", layer: &p.Global},
		{name: SessionLayerName, loc: "session", layer: &p.Session},
	}
	for _, r := range p.RoleNames() {
		l := p.Roles[r]
		refs = append(refs, layerRef{name: RoleLayerName(r), loc: roleLoc(r), role: r, layer: &l})
	}
	return refs
}

// roleLoc is the JSON location of a role's layer: roles."joe".
func roleLoc(role string) string { return "roles." + quoteJSON(role) }

// describeLayer names a layer for people: "the global layer", "the layer of
// role "joe"".
func describeLayer(name string) string {
	if r, ok := strings.CutPrefix(name, rolePrefix); ok {
		return fmt.Sprintf("the layer of role %s", quoteJSON(r))
	}
	return "the " + name + " layer"
}
