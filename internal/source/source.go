// Package source reads what a command takes pgseccomp's settings from, a
// postgresql.conf with everything it includes or a profile, and checks it on
// an architecture as pgseccomp would (explain, lint, systemd, export, watch).
package source

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// Input is what a command reads pgseccomp's settings from: a
// postgresql.conf with everything it includes, or a profile.
type Input struct {
	Path    string           // the main file (absolute), or the profile as given
	Files   []string         // every file read
	Conf    *pgconf.File     // nil for a profile
	Profile *profile.Profile // nil for a configuration
	// Installed is the profile a configuration was previewed with (a
	// cluster's configuration as 'pgseccomp install' would leave it), and
	// Refusals what install would refuse in it; nil otherwise.
	Installed *profile.Profile
	Refusals  []string
	// TargetMajor is the PostgreSQL major of the server the input is
	// checked for (its PG_VERSION, or lint's --dsn), 0 if not known.
	TargetMajor int
}

// Major is the PostgreSQL major the input is checked for: the server's
// when known, else a profile's own; 0 when neither says.
func (in *Input) Major() int {
	if p := in.forProfile(); in.TargetMajor == 0 && p != nil {
		return p.Provenance.Major()
	}
	return in.TargetMajor
}

// OSRelease is this machine's distribution (tests replace it).
var OSRelease = profile.OSRelease

// Target says which system the input's profile (read, or installed) is
// for, and how that differs from where it is used: the server's major and
// this machine's distribution. Nothing for a plain configuration.
func (in *Input) Target() (forWhat string, mismatch []string) {
	p := in.forProfile()
	if p == nil {
		return "", nil
	}
	pv := p.Provenance
	return pv.For(), profile.TargetMismatch(pv, profile.Target{Major: in.TargetMajor, Distribution: OSRelease()})
}

func (in *Input) forProfile() *profile.Profile {
	if in.Profile != nil {
		return in.Profile
	}
	return in.Installed
}

// Kind says what the input is, for messages: "configuration" or "profile".
func (in *Input) Kind() string {
	if in.Profile != nil {
		return "profile"
	}
	return "configuration"
}

// Settings reads pgseccomp's settings from the input: a profile's are
// located in the profile (profile.json: session.allow).
func (in *Input) Settings() (*policy.Settings, error) {
	if in.Profile != nil {
		return profile.ToSettings(in.Profile)
	}
	return policy.SettingsFromConf(in.Conf)
}

// ForConf is the input of a configuration already read.
func ForConf(f *pgconf.File) *Input {
	return &Input{Path: f.Path, Files: f.Files, Conf: f}
}

// LoadConf reads the postgresql.conf at file as the postmaster reads it
// (postgresql.auto.conf from dataDir when it is not ""). Its error says
// what to do.
func LoadConf(file, dataDir string) (*Input, error) {
	f, err := pgconf.LoadOptions(file, pgconf.Options{DataDir: dataDir})
	if err != nil {
		return nil, fmt.Errorf("%v\nPostgreSQL would not start with this configuration either; correct it and run again", err)
	}
	return ForConf(f), nil
}

// ReadProfile reads the profile at path as a command's input.
func ReadProfile(path string) (*Input, error) {
	p, err := profile.Read(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	return &Input{Path: path, Files: []string{abs}, Profile: p}, nil
}

// SniffProfile reports whether the file --config names is a profile (a
// JSON object; no postgresql.conf starts so) and reads it if so. A file
// that cannot be read is left to the configuration reader to report.
func SniffProfile(path string) (*Input, bool, error) {
	data, err := pgconf.ReadFile(path)
	if err != nil || !profile.Sniff(data) {
		return nil, false, nil
	}
	p, err := profile.Parse(data, path)
	if err != nil {
		return nil, true, fmt.Errorf("%v\n%s is JSON, so it was read as a pgseccomp profile", err, path)
	}
	abs, _ := filepath.Abs(path)
	return &Input{Path: path, Files: []string{abs}, Profile: p}, true, nil
}

// ParseArch returns the architecture an --arch flag names, or this
// machine's for "".
func ParseArch(name string) (policy.Arch, error) {
	if name == "" {
		return policy.NativeArch()
	}
	return policy.ParseArch(name)
}

// Arch is the architecture a command checks on: flagValue (--arch) when
// given, else a profile's own, else this machine's.
func Arch(flagValue string, in *Input) (policy.Arch, error) {
	if flagValue == "" && in != nil && in.Profile != nil {
		return in.Profile.Arch()
	}
	return ParseArch(flagValue)
}

// Checked is an input read and checked on one architecture.
type Checked struct {
	Input    *Input
	Settings *policy.Settings
	Policy   *policy.Policy  // nil, or with nil layers, when they could not be built
	Problems policy.Problems // what pgseccomp would reject
}

// Check reads pgseccomp's settings from in and builds the layers on arch
// as the postmaster builds them.
func Check(in *Input, arch policy.Arch) *Checked {
	c := &Checked{Input: in}
	var problems policy.Problems
	if in.Profile != nil {
		if problems := missingProblems(in, arch); problems != nil {
			c.Settings, _ = in.Settings()
			c.Problems = problems
			return c
		}
	}
	s, err := in.Settings()
	if errors.As(err, &problems) {
		c.Problems = append(c.Problems, problems...)
	}
	c.Settings = s
	p, err := s.Build(arch)
	if errors.As(err, &problems) {
		c.Problems = append(c.Problems, problems...)
	}
	c.Policy = p
	return c
}

// missingProblems are the syscalls of a profile that do not exist on arch,
// one problem per list, located in the profile and naming every such
// syscall; nil when every name exists.
func missingProblems(in *Input, arch policy.Arch) policy.Problems {
	var problems policy.Problems
	for _, m := range profile.MissingOn(in.Profile, arch) {
		detail := fmt.Sprintf("Syscall %q does not exist on this architecture (%s).", m.Names[0], arch)
		if len(m.Names) > 1 {
			detail = fmt.Sprintf("Syscalls %s do not exist on this architecture (%s).", strings.Join(quoteAll(m.Names), ", "), arch)
		}
		problems = append(problems, policy.Problem{Where: in.Path + ": " + m.Location, Detail: detail +
			fmt.Sprintf(" The profile was recorded on %s; a server of %s would refuse it: record a profile there.", in.Profile.Provenance.Architecture, arch)})
	}
	return problems
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// Rewrite rewrites setting names in a message about a profile into the
// profile's JSON locations ("allow pwritev in pgseccomp.global_syscall_allow
// (restart)" becomes "allow pwritev in global.allow of pg15.json"), since
// the user edits the profile, not settings. A configuration's messages are
// returned as they are.
func (in *Input) Rewrite(s string) string {
	if in.Profile == nil {
		return s
	}
	locs := profile.Locations(in.Profile)
	names := make([]string, 0, len(locs))
	for name := range locs {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	var pairs []string
	for _, name := range names {
		loc := locs[name] + " of " + in.Path
		pairs = append(pairs, name+" (restart)", loc, name+" (reload)", loc, name, locs[name])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
