package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// maxErrors is how many problems Parse reports before it stops listing
// them: a file that wrong is better fixed a few at a time.
const maxErrors = 50

// maxRoleNameBytes is PostgreSQL's NAMEDATALEN - 1: no role has a longer
// name.
const maxRoleNameBytes = 63

// Error is one problem in a profile: where (the file, and the JSON location
// such as session.allow[3] or roles."joe".default, or a line and column for
// a JSON syntax error), the offending value, and what is wrong and what to
// do.
type Error struct {
	File     string
	Line     int    // for JSON syntax errors; 0 otherwise
	Column   int    // with Line
	Location string // JSON location, "" for the whole file
	Value    string // the offending value as JSON, "" when there is none
	Msg      string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Location != "" {
		b.WriteString(e.Location)
		if e.Value != "" {
			b.WriteString(" = " + e.Value)
		}
		b.WriteString(": ")
	} else if e.Value != "" {
		b.WriteString(e.Value + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found in a profile, in file order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Read reads and checks the profile in the file at path (see Parse).
func Read(path string) (*Profile, error) {
	data, err := pgconf.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read profile %s: %v", path, err)
	}
	return Parse(data, path)
}

// Sniff reports whether data is meant to be a profile rather than a
// postgresql.conf: its first non-blank byte opens a JSON object (no
// configuration file can start so). Parse then says whether it is one.
func Sniff(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// Parse reads a profile from data; name is its file, for messages and
// Profile.Source. It checks everything pgseccomp would need to load the
// profile: the format version, the JSON's shape (unknown or repeated keys
// are errors, since a misspelt list would otherwise be lost), the actions,
// every syscall name against libseccomp on the profile's architecture, a
// syscall named twice in a layer, role names PostgreSQL cannot give
// per-role settings. The error is Errors, each naming the file, the JSON
// location and the value.
//
// The profile returned is normalized as Write writes it: lists sorted,
// empty lists nil, times in UTC, the architecture by its canonical name.
func Parse(data []byte, name string) (*Profile, error) {
	if name == "" {
		name = "profile"
	}
	d := &decoder{file: name}
	p := d.decode(data)
	if p == nil {
		return nil, capErrors(d.errs)
	}
	p.Source = name
	// The values' problems too, except where the JSON's shape is already
	// reported wrong (a value of the wrong type is read as empty).
	errs := d.errs
	for _, e := range p.validate() {
		if !covered(e.Location, d.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return d.position(errs[i].Location) < d.position(errs[j].Location) })
		return nil, capErrors(errs)
	}
	p.normalize()
	return p, nil
}

// covered reports whether one of errs is at loc or a location containing it.
func covered(loc string, errs Errors) bool {
	for _, e := range errs {
		if e.Location == loc || strings.HasPrefix(loc, e.Location+".") || strings.HasPrefix(loc, e.Location+"[") {
			return true
		}
	}
	return false
}

func capErrors(errs Errors) Errors {
	if len(errs) <= maxErrors {
		return errs
	}
	more := &Error{File: errs[0].File, Msg: fmt.Sprintf("and %d more problems", len(errs)-maxErrors)}
	return append(errs[:maxErrors:maxErrors], more)
}

// decoder checks a profile's JSON shape and reads its values, reporting
// each problem at its JSON location.
type decoder struct {
	file  string
	errs  Errors
	order map[string]int // every location read, in file order
}

// visit notes that the value at loc comes next in the file.
func (d *decoder) visit(loc string) {
	if d.order == nil {
		d.order = map[string]int{}
	}
	if _, ok := d.order[loc]; !ok {
		d.order[loc] = len(d.order)
	}
}

// position is where in the file the value at loc is, for sorting
// problems: that of loc, or of the innermost location containing it.
func (d *decoder) position(loc string) int {
	for {
		if n, ok := d.order[loc]; ok {
			return n
		}
		i := strings.LastIndexAny(loc, ".[")
		if i < 0 {
			return -1
		}
		loc = loc[:i]
	}
}

func (d *decoder) fail(loc string, raw json.RawMessage, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Location: loc, Value: shortJSON(raw), Msg: fmt.Sprintf(format, args...)})
}

// shortJSON is a JSON value as it appears in messages: compact, cut short.
func shortJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.Write(raw)
	}
	s := b.String()
	if len(s) > 72 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func (d *decoder) decode(data []byte) *Profile {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Msg: "the file is empty; a profile is a JSON object, as pgseccomp record writes it"})
		return nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		e := &Error{File: d.file, Msg: fmt.Sprintf("invalid JSON: %v; a profile is a JSON object, as pgseccomp record writes it", err)}
		if errors.As(err, &se) {
			e.Line, e.Column = lineColumn(data, se.Offset)
		}
		d.errs = append(d.errs, e)
		return nil
	}
	p := &Profile{}
	top := d.object("", data, []string{"format", "provenance", "global", "session", "roles"}, []string{"format", "provenance", "global", "session"})
	if top == nil {
		return nil
	}
	// The format first: a profile of another version may mean anything.
	if raw, ok := find(top, "format"); ok {
		format, ok := d.str("format", raw)
		switch {
		case !ok:
		case format == Format:
			p.Format = format
		case strings.HasPrefix(format, FormatPrefix):
			d.fail("format", raw, "this pgseccomp reads profiles of format %s only: use the pgseccomp that wrote the profile (or a newer one), or record the profile again", Format)
			return nil
		default:
			d.fail("format", raw, "not a pgseccomp profile (its format would be %s); give a file pgseccomp record or pgseccomp profile merge wrote", Format)
			return nil
		}
	}
	if raw, ok := find(top, "provenance"); ok {
		p.Provenance = d.provenance("provenance", raw)
	}
	if raw, ok := find(top, "global"); ok {
		p.Global = d.layer("global", raw)
	}
	if raw, ok := find(top, "session"); ok {
		p.Session = d.layer("session", raw)
	}
	if raw, ok := find(top, "roles"); ok && !isNull(raw) {
		members := d.members("roles", raw)
		if members != nil {
			p.Roles = map[string]Layer{}
		}
		for _, m := range members {
			p.Roles[m.key] = d.layer(roleLoc(m.key), m.value)
		}
	}
	return p
}

// lineColumn turns a byte offset into a 1-based line and column.
func lineColumn(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

func (d *decoder) provenance(loc string, raw json.RawMessage) Provenance {
	var pv Provenance
	f := d.object(loc, raw, []string{"tool", "recorded_at", "architecture", "postgresql", "glibc", "kernel",
		"distribution", "workloads", "passes", "seconds", "added", "withheld", "merged_from", "paths"}, []string{"architecture"})
	for _, m := range f {
		key, raw, at := m.key, m.value, loc+"."+m.key
		switch key {
		case "tool":
			pv.Tool, _ = d.str(at, raw)
		case "recorded_at":
			if s, ok := d.str(at, raw); ok {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					d.fail(at, raw, "not a time: write it as RFC 3339, e.g. \"2025-01-31T14:05:00Z\"")
				}
				pv.RecordedAt = t
			}
		case "architecture":
			pv.Architecture, _ = d.str(at, raw)
		case "postgresql":
			pv.PostgreSQL, _ = d.str(at, raw)
		case "glibc":
			pv.Glibc, _ = d.str(at, raw)
		case "kernel":
			pv.Kernel, _ = d.str(at, raw)
		case "distribution":
			pv.Distribution, _ = d.str(at, raw)
		case "workloads":
			pv.Workloads = d.strList(at, raw)
		case "merged_from":
			pv.MergedFrom = d.strList(at, raw)
		case "seconds":
			pv.Seconds = d.float(at, raw)
		case "passes":
			for i, item := range d.array(at, raw) {
				d.visit(fmt.Sprintf("%s[%d]", at, i))
				pv.Passes = append(pv.Passes, d.pass(fmt.Sprintf("%s[%d]", at, i), item))
			}
		case "paths":
			if isNull(raw) {
				continue
			}
			for _, m := range d.members(at, raw) {
				if pv.Paths == nil {
					pv.Paths = map[string]PathSyscalls{}
				}
				pv.Paths[m.key] = d.pathSyscalls(at+"."+quoteJSON(m.key), m.value)
			}
		case "added", "withheld":
			for i, item := range d.array(at, raw) {
				d.visit(fmt.Sprintf("%s[%d]", at, i))
				a := d.addition(fmt.Sprintf("%s[%d]", at, i), item)
				if key == "added" {
					pv.Added = append(pv.Added, a)
				} else {
					pv.Withheld = append(pv.Withheld, a)
				}
			}
		}
	}
	return pv
}

func (d *decoder) pass(loc string, raw json.RawMessage) Pass {
	var ps Pass
	for _, m := range d.object(loc, raw, []string{"number", "phase", "records", "new", "seconds"}, []string{"number", "phase"}) {
		key, raw, at := m.key, m.value, loc+"."+m.key
		switch key {
		case "number":
			ps.Number = int(min(d.uint(at, raw), math.MaxInt32))
		case "phase":
			ps.Phase, _ = d.str(at, raw)
		case "records":
			ps.Records = d.uint(at, raw)
		case "new":
			ps.New = d.strList(at, raw)
		case "seconds":
			ps.Seconds = d.float(at, raw)
		}
	}
	return ps
}

func (d *decoder) pathSyscalls(loc string, raw json.RawMessage) PathSyscalls {
	var ps PathSyscalls
	for _, m := range d.object(loc, raw, []string{"global", "session"}, nil) {
		switch at := loc + "." + m.key; m.key {
		case "global":
			ps.Global = d.strList(at, m.value)
		case "session":
			ps.Session = d.strList(at, m.value)
		}
	}
	return ps
}

func (d *decoder) addition(loc string, raw json.RawMessage) Addition {
	var a Addition
	for _, m := range d.object(loc, raw, []string{"layer", "syscalls", "why"}, []string{"layer", "syscalls", "why"}) {
		key, raw, at := m.key, m.value, loc+"."+m.key
		switch key {
		case "layer":
			a.Layer, _ = d.str(at, raw)
		case "syscalls":
			a.Syscalls = d.strList(at, raw)
		case "why":
			a.Why, _ = d.str(at, raw)
		}
	}
	return a
}

var layerKeys = []string{"default", "allow", "log", "error", "kill", "counts"}

func (d *decoder) layer(loc string, raw json.RawMessage) Layer {
	var l Layer
	for _, m := range d.object(loc, raw, layerKeys, []string{"default"}) {
		key, raw, at := m.key, m.value, loc+"."+m.key
		switch key {
		case "default":
			if s, ok := d.str(at, raw); ok {
				a, err := policy.ParseAction(s)
				if err != nil {
					d.fail(at, raw, "unknown action: use allow, log, error or kill")
					a = -1
				}
				l.Default = a
			}
		case "allow":
			l.Allow = d.strList(at, raw)
		case "log":
			l.Log = d.strList(at, raw)
		case "error":
			l.Error = d.strList(at, raw)
		case "kill":
			l.Kill = d.strList(at, raw)
		case "counts":
			if isNull(raw) {
				continue
			}
			for _, m := range d.members(at, raw) {
				if l.Counts == nil {
					l.Counts = map[string]uint64{}
				}
				l.Counts[m.key] = d.uint(at+"."+quoteJSON(m.key), m.value)
			}
		}
	}
	return l
}

type member struct {
	key   string
	value json.RawMessage
}

// members returns an object's members in order, reporting a value that is
// not an object, and keys given twice (JSON readers keep one or the other).
func (d *decoder) members(loc string, raw json.RawMessage) []member {
	if kindOf(raw) != '{' {
		d.fail(loc, raw, "want a JSON object ({...}), not %s", kindName(raw))
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			d.fail(loc, nil, "invalid JSON object: %v", err)
			return out
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			d.fail(loc, nil, "invalid JSON object: %v", err)
			return out
		}
		if seen[key] {
			d.fail(memberLoc(loc, key), nil, "the key is given twice; JSON readers keep one or the other, so keep one")
			continue
		}
		seen[key] = true
		d.visit(memberLoc(loc, key))
		out = append(out, member{key, value})
	}
	if out == nil {
		out = []member{}
	}
	return out
}

// object checks that raw is an object with only the given keys and the
// required ones, and returns its known members in file order (nil when it
// is not an object).
func (d *decoder) object(loc string, raw json.RawMessage, keys, required []string) []member {
	members := d.members(loc, raw)
	if members == nil {
		return nil
	}
	out := []member{}
	for _, m := range members {
		if !slices.Contains(keys, m.key) {
			what := "a profile"
			if loc != "" {
				what = loc
			}
			d.fail(childLoc(loc, m.key), nil, "unknown key: %s has %s; correct or remove it (a misspelt key would be ignored, and with it what it says)",
				what, strings.Join(keys, ", "))
			continue
		}
		out = append(out, m)
	}
	for _, k := range required {
		if _, ok := find(out, k); !ok {
			d.fail(childLoc(loc, k), nil, "missing: %s", missingHint(k))
		}
	}
	return out
}

// find returns the value of the member with key.
func find(members []member, key string) (json.RawMessage, bool) {
	for _, m := range members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

func missingHint(key string) string {
	switch key {
	case "format":
		return fmt.Sprintf("a profile says its format first, \"format\": %q", Format)
	case "provenance":
		return "a profile says where it was recorded, with at least its \"architecture\""
	case "architecture":
		return "the syscall names depend on it; give the libseccomp name of the server's architecture, e.g. \"x86_64\" or \"aarch64\""
	case "global", "session":
		return fmt.Sprintf("a profile has a %s layer, at least {\"default\": \"allow\"}", key)
	case "default":
		return "a layer gives its default action (allow, log, error or kill), the action for every syscall its lists do not name"
	}
	return "give it"
}

// memberLoc is the location of a member of the object at loc: a role or
// a count is always quoted (roles."joe"), a key of the format only when it
// is not a plain lower-case word.
func memberLoc(loc, key string) string {
	if loc == "roles" || strings.HasSuffix(loc, ".counts") {
		return loc + "." + quoteJSON(key)
	}
	return childLoc(loc, key)
}

func childLoc(loc, key string) string {
	if !isPlainKey(key) {
		key = quoteJSON(key)
	}
	if loc == "" {
		return key
	}
	return loc + "." + key
}

func isPlainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// quoteJSON writes s as a JSON string.
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func isNull(raw json.RawMessage) bool { return kindOf(raw) == 'n' }

// kindOf is the first byte of a JSON value: '{', '[', '"', 'n' (null), 't'
// or 'f' (booleans), or '0' for a number.
func kindOf(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"', 'n', 't', 'f':
		return c
	}
	return '0'
}

func kindName(raw json.RawMessage) string {
	switch kindOf(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func (d *decoder) str(loc string, raw json.RawMessage) (string, bool) {
	var s string
	if kindOf(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		d.fail(loc, raw, "want a string, not %s", kindName(raw))
		return "", false
	}
	return s, true
}

func (d *decoder) array(loc string, raw json.RawMessage) []json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if kindOf(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		d.fail(loc, raw, "want an array ([...]), not %s", kindName(raw))
		return nil
	}
	return items
}

// strList reads an array of strings; null is the empty list.
func (d *decoder) strList(loc string, raw json.RawMessage) []string {
	var out []string
	for i, item := range d.array(loc, raw) {
		d.visit(fmt.Sprintf("%s[%d]", loc, i))
		s, _ := d.str(fmt.Sprintf("%s[%d]", loc, i), item) // "" when not a string, keeping the indexes
		out = append(out, s)
	}
	return out
}

func (d *decoder) uint(loc string, raw json.RawMessage) uint64 {
	var n uint64
	if kindOf(raw) != '0' || json.Unmarshal(raw, &n) != nil {
		d.fail(loc, raw, "want a whole number from 0 to %d", uint64(math.MaxUint64))
		return 0
	}
	return n
}

func (d *decoder) float(loc string, raw json.RawMessage) float64 {
	var f float64
	if kindOf(raw) != '0' || json.Unmarshal(raw, &f) != nil {
		d.fail(loc, raw, "want a number of seconds")
		return 0
	}
	return f
}

// Validate checks a profile made in memory as Parse checks a file: the
// format, the architecture, the actions, every syscall name on the
// profile's architecture, syscalls named twice in a layer, the role names,
// the provenance. Locations are indexes into the lists as they are.
func (p *Profile) Validate() error { return p.validate().err() }

func (p *Profile) validate() Errors {
	v := &validator{file: p.name()}
	if p.Format != Format {
		v.fail("format", quoteJSON(p.Format), "the format of this version is %s", Format)
	}
	pv := &p.Provenance
	arch, err := policy.ParseArch(pv.Architecture)
	archKnown := err == nil
	if !archKnown {
		v.fail("provenance.architecture", quoteJSON(pv.Architecture), "unknown architecture: give the libseccomp name of the server's architecture (%s)", archList())
	}
	v.arch, v.archKnown = arch, archKnown

	v.layer("global", &p.Global)
	v.layer("session", &p.Session)
	roles := p.RoleNames()
	folded := map[string]string{}
	for _, r := range roles {
		loc := roleLoc(r)
		switch {
		case r == "":
			v.fail(loc, "", "empty role name: give the role's name, or remove the entry")
		case len(r) > maxRoleNameBytes:
			v.fail(loc, "", "the role name is longer than PostgreSQL's %d-byte limit, so no role authenticates with it; correct or remove it", maxRoleNameBytes)
		case !fileRoleName(r):
			v.fail(loc, "", "a role with this name cannot have its own layer: its per-role settings (%sallow.%s) cannot be written in postgresql.conf, whose setting names allow only letters, digits (not first) and \"_\"; remove the entry, so that the role's sessions get the session layer", policy.RoleSettingPrefix, r)
		default:
			f := pgconf.FoldName(r)
			if other, ok := folded[f]; ok {
				v.fail(loc, "", "roles %s and %s differ only in case, and pgseccomp's per-role settings (%sallow.<role>) do not: keep one", quoteJSON(other), quoteJSON(r), policy.RoleSettingPrefix)
			}
			folded[f] = r
		}
		l := p.Roles[r]
		v.layer(loc, &l)
	}

	if pv.Seconds < 0 || math.IsNaN(pv.Seconds) || math.IsInf(pv.Seconds, 0) {
		v.fail("provenance.seconds", fmt.Sprint(pv.Seconds), "want the recording's wall time in seconds, 0 or more")
	}
	for i, ps := range pv.Passes {
		loc := fmt.Sprintf("provenance.passes[%d]", i)
		if !slices.Contains(Phases, ps.Phase) {
			v.fail(loc+".phase", quoteJSON(ps.Phase), "unknown phase: use %s", strings.Join(Phases, ", "))
		}
		if ps.Seconds < 0 || math.IsNaN(ps.Seconds) || math.IsInf(ps.Seconds, 0) {
			v.fail(loc+".seconds", fmt.Sprint(ps.Seconds), "want the pass's wall time in seconds, 0 or more")
		}
		for j, name := range ps.New {
			v.syscall(fmt.Sprintf("%s.new[%d]", loc, j), quoteJSON(name), name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pv.Paths)) {
		loc := "provenance.paths." + quoteJSON(name)
		if strings.TrimSpace(name) == "" {
			v.fail(loc, "", "empty path name: name the event the syscalls were seen in, or remove the entry")
		}
		ps := pv.Paths[name]
		for j, n := range ps.Global {
			v.syscall(fmt.Sprintf("%s.global[%d]", loc, j), quoteJSON(n), n)
		}
		for j, n := range ps.Session {
			v.syscall(fmt.Sprintf("%s.session[%d]", loc, j), quoteJSON(n), n)
		}
	}
	for i, a := range slices.Concat(pv.Added, pv.Withheld) {
		what, loc := "added", fmt.Sprintf("provenance.added[%d]", i)
		if i >= len(pv.Added) {
			what, loc = "withheld", fmt.Sprintf("provenance.withheld[%d]", i-len(pv.Added))
		}
		switch role, isRole := strings.CutPrefix(a.Layer, rolePrefix); {
		case a.Layer == GlobalLayerName || a.Layer == SessionLayerName:
		case isRole:
			if _, ok := p.Roles[role]; !ok {
				v.fail(loc+".layer", quoteJSON(a.Layer), "the profile has no layer for role %s; name a layer it has", quoteJSON(role))
			}
		default:
			v.fail(loc+".layer", quoteJSON(a.Layer), "unknown layer: use \"global\", \"session\" or \"role <name>\"")
		}
		for j, name := range a.Syscalls {
			v.syscall(fmt.Sprintf("%s.syscalls[%d]", loc, j), quoteJSON(name), name)
		}
		if strings.TrimSpace(a.Why) == "" {
			v.fail(loc+".why", quoteJSON(a.Why), "say why these syscalls were %s: whoever reads the profile next needs to know", what)
		}
	}
	return v.errs
}

type validator struct {
	file      string
	arch      policy.Arch
	archKnown bool
	errs      Errors
}

func (v *validator) fail(loc, value, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Location: loc, Value: value, Msg: fmt.Sprintf(format, args...)})
}

// listEntry is where a layer names a syscall.
type listEntry struct {
	loc    string
	name   string
	action policy.Action
}

func (v *validator) layer(loc string, l *Layer) {
	if !l.Default.Valid() {
		v.fail(loc+".default", fmt.Sprint(int(l.Default)), "unknown action: use allow, log, error or kill")
	}
	byName := map[string]listEntry{}
	byNumber := map[int]listEntry{}
	for _, a := range policy.Actions {
		for i, name := range l.List(a) {
			at := fmt.Sprintf("%s.%s[%d]", loc, a, i)
			nr, ok := v.syscall(at, quoteJSON(name), name)
			if !ok {
				continue
			}
			if first, dup := byName[name]; dup {
				if first.action == a {
					v.fail(at, quoteJSON(name), "named twice (also %s): name each syscall once", first.loc)
				} else {
					v.fail(at, quoteJSON(name), "also in %s: a syscall has one action in a layer, so keep it in one list", first.loc)
				}
				continue
			}
			byName[name] = listEntry{at, name, a}
			if first, dup := byNumber[nr]; dup {
				v.fail(at, quoteJSON(name), "the same syscall (number %d on %s) as %s = %s: keep one name", nr, v.arch, first.loc, quoteJSON(first.name))
				continue
			}
			byNumber[nr] = listEntry{at, name, a}
		}
	}
	names := make([]string, 0, len(l.Counts))
	for name := range l.Counts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v.syscall(loc+".counts."+quoteJSON(name), "", name)
	}
}

// syscall checks one syscall name, shown as value, and returns its number
// on the profile's architecture.
func (v *validator) syscall(loc, value, name string) (int, bool) {
	if !wellFormed(name) {
		if name == "" {
			v.fail(loc, value, "empty syscall name: remove it")
		} else {
			v.fail(loc, value, "not a syscall name (syscall names are lower-case letters, digits and \"_\"); correct or remove it")
		}
		return 0, false
	}
	if !v.archKnown {
		return 0, false
	}
	nr, err := policy.SyscallNumber(v.arch, name)
	if err == nil {
		return nr, true
	}
	if others := syscalls.ArchesWith(name); len(others) > 0 {
		var names []string
		for _, o := range others {
			names = append(names, o.String())
		}
		v.fail(loc, value, "no such syscall on %s, the profile's architecture (it exists on %s); remove it, or keep profiles of one architecture apart", v.arch, strings.Join(names, ", "))
	} else {
		v.fail(loc, value, "unknown syscall: libseccomp %s knows no syscall of that name on %s or any other architecture; correct or remove it", syscalls.LibraryVersion(), v.arch)
	}
	return 0, false
}

// fileRoleName reports whether role can have per-role settings in a
// configuration file: session_syscall_allow.<role> must be a qualified name
// to PostgreSQL's configuration file lexer (guc-file.l), so the role name
// is letters, "_", bytes above 0x7f and, after the first, digits. (SET and
// policy.ValidRoleSettingName also accept "$", which no file can carry.)
func fileRoleName(role string) bool {
	if role == "" {
		return false
	}
	for i := 0; i < len(role); i++ {
		c := role[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// wellFormed reports whether name can be a syscall name: lower-case
// letters, digits and "_", at most 64 bytes (the extension's limit). It is
// checked before libseccomp sees the name, which stops at a NUL byte.
func wellFormed(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func archList() string {
	var names []string
	for _, a := range syscalls.Arches() {
		names = append(names, a.String())
	}
	return strings.Join(names, ", ")
}
