// Package explain is what pgseccomp explain shows of a checked
// configuration or profile: the rows seccomp_filter() would return for the
// global filter and for the sessions of roles, the notes on role names,
// each layer's BPF program, and the psql-style tables of them.
package explain

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/filterprog"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/report"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

// Options say what to show.
type Options struct {
	Roles    []string           // sessions of these roles, as given (--role)
	AllRoles bool               // and of every listed role and one not listed
	Client   *policy.ClientArgs // after set_client_filter with these arguments; nil: none
	Global   bool               // show the global filter
	Session  bool               // show the sessions' filters
	BPF      bool               // compile each layer shown
}

// Build is the report of c, which has no problems. The notes (how the
// server reads the role names given, syscalls newer than libseccomp) are
// in the report's warnings too; the caller prints them. A session whose
// filter cannot be built has its error in its SessionReport; err is a
// layer that would not compile, with BPF.
func Build(c *source.Checked, o Options) (r *Report, notes []string, err error) {
	roles := sessionRoles(o, c.Settings)
	r = &Report{
		Config:   c.Input.Path,
		Files:    c.Input.Files,
		Arch:     c.Policy.Arch.String(),
		Active:   c.Settings.Active(),
		Warnings: ActiveWarnings(c.Settings),
	}
	for _, w := range c.Settings.Warnings {
		r.Warnings = append(r.Warnings, w.Error())
	}
	notes = roleNotes(o.Roles, c.Settings)
	if n := c.Policy.NewerThanLibraryNote(); n != "" {
		notes = append(notes, n)
	}
	r.Warnings = append(r.Warnings, notes...)
	if o.Global {
		r.Global = c.Policy.GlobalRows()
	}
	if o.Session {
		for _, role := range roles {
			s := SessionReport{Role: role, Listed: isListed(c.Settings, role), ClientFilter: policy.ClientFilterSQL(o.Client)}
			rows, err := c.Policy.SessionRows(role, o.Client)
			if err != nil {
				s.Error = err.Error()
			}
			s.Rows = rows
			r.Sessions = append(r.Sessions, s)
		}
	}
	if o.BPF {
		if r.Programs, err = layerPrograms(c.Policy, roles, o.Client, o.Global, o.Session); err != nil {
			return r, notes, err
		}
	}
	return r, notes, nil
}

// WriteText writes the report as psql would show seccomp_filter()'s rows,
// one table a filter, then the programs' table.
func WriteText(w io.Writer, r *Report, why bool) {
	writeTables(w, r, why)
	if r.Programs != nil {
		fmt.Fprintln(w)
		writePrograms(w, r.Programs)
	}
}

// Report is what explain shows: the rows of the global filter and of
// each session asked for, and with BPF each layer's program (explain
// --json prints it).
type Report struct {
	Config   string          `json:"config"`
	Files    []string        `json:"files"`
	Arch     string          `json:"arch"`
	Active   bool            `json:"active"`
	Warnings []string        `json:"warnings"`
	Global   []policy.Row    `json:"global,omitempty"`
	Sessions []SessionReport `json:"sessions,omitempty"`
	Programs []ProgramReport `json:"programs,omitempty"`
}

// ProgramReport is one layer's BPF program, for --bpf.
type ProgramReport struct {
	Layer        string `json:"layer"` // global, session or client
	Role         string `json:"role"`  // "" for the global layer and roles not listed
	Instructions int    `json:"instructions"`
	Bytes        int    `json:"bytes"`
	LongestPath  int    `json:"longest_path"`
}

// layerPrograms compiles every layer shown: the global one, and the
// session (and client) layer of each role.
func layerPrograms(p *policy.Policy, roles []string, client *policy.ClientArgs, global, session bool) ([]ProgramReport, error) {
	var out []ProgramReport
	add := func(l *policy.Layer, role string) error {
		prog, err := filterprog.Compile(l)
		if err != nil {
			return err
		}
		out = append(out, ProgramReport{Layer: l.Origin.String(), Role: role,
			Instructions: len(prog), Bytes: 8 * len(prog), LongestPath: filterprog.LongestPath(prog)})
		return nil
	}
	if global || session {
		if err := add(p.Global, ""); err != nil {
			return nil, err
		}
	}
	if !session {
		return out, nil
	}
	for _, role := range roles {
		if err := add(p.SessionLayer(role).Over(p.Global), role); err != nil {
			return nil, err
		}
		if client != nil {
			l, err := p.ClientLayer(role, *client)
			if err != nil {
				continue // reported with the session's rows
			}
			if err := add(l, role); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func writePrograms(w io.Writer, programs []ProgramReport) {
	fmt.Fprintln(w, "BPF programs (as the extension compiles them):")
	var cells [][]string
	for _, p := range programs {
		role := p.Role
		if role == "" && p.Layer != "global" {
			role = "(any role not listed)"
		}
		cells = append(cells, []string{p.Layer, role, strconv.Itoa(p.Instructions),
			strconv.Itoa(p.Bytes), strconv.Itoa(p.LongestPath)})
	}
	report.Table(w, []string{"layer", "role", "instructions", "bytes", "longest_path"},
		map[int]bool{2: true, 3: true, 4: true}, cells)
}

// SessionReport is the rows of a session of one role, or why there are
// none (set_client_filter would fail).
type SessionReport struct {
	Role         string       `json:"role"`   // "" is any role not in session_roles
	Listed       bool         `json:"listed"` // the role is in pgseccomp.session_roles
	ClientFilter string       `json:"client_filter,omitempty"`
	Rows         []policy.Row `json:"rows"`
	Error        string       `json:"error,omitempty"`
}

// ActiveWarnings say when the configuration loads no filter at all.
func ActiveWarnings(s *policy.Settings) []string {
	var w []string
	if !s.Preloaded {
		w = append(w, "pgseccomp is not in shared_preload_libraries: the server loads no filter, and these rows describe what it would load once it is")
	}
	if !s.Enabled {
		w = append(w, policy.EnabledName+" is off: the server loads no filter, and these rows describe what it would load with enabled = on")
	}
	return w
}

func isListed(s *policy.Settings, role string) bool {
	for _, r := range s.SessionRoles {
		if r == role {
			return true
		}
	}
	return false
}

// roleNotes say how the server reads the --role names given: a name
// longer than NAMEDATALEN-1 bytes is truncated, and a name that is not
// listed in pgseccomp.session_roles but would be in lower case was folded
// there.
func roleNotes(given []string, s *policy.Settings) []string {
	var notes []string
	for _, r := range given {
		role := policy.TruncateIdentifier(r)
		if role != r {
			notes = append(notes, fmt.Sprintf("role name %q is %d bytes; PostgreSQL truncates names to 63 bytes (NAMEDATALEN-1), so this is a session of role %q", r, len(r), role))
		}
		if folded := pgconf.FoldName(role); folded != role && !isListed(s, role) && isListed(s, folded) {
			notes = append(notes, fmt.Sprintf("role %q is not in %s, which lists %q: an unquoted name there is folded to lower case, so %q gets the session-level settings; write it in double quotes (\"%s\") to list %q", role, policy.SessionRolesName, folded, role, role, role))
		}
	}
	return notes
}

// sessionRoles are the roles whose sessions to show: the --role names as
// the server knows them (truncated to NAMEDATALEN-1 bytes), and with
// --all-roles every listed role and one not listed ("").
func sessionRoles(o Options, s *policy.Settings) []string {
	var roles []string
	for _, r := range o.Roles {
		roles = append(roles, policy.TruncateIdentifier(r))
	}
	if o.AllRoles {
		seen := map[string]bool{}
		for _, r := range roles {
			seen[r] = true
		}
		for _, r := range s.SessionRoles {
			if !seen[r] {
				roles = append(roles, r)
				seen[r] = true
			}
		}
		roles = append(roles, "")
	}
	if len(roles) == 0 {
		roles = []string{""}
	}
	return roles
}

// Title names the session in a heading or a message.
func (s SessionReport) Title() string {
	var title string
	switch {
	case s.Role == "":
		title = "a session of any role not in pgseccomp.session_roles"
	case s.Listed:
		title = fmt.Sprintf("a session of role %q (in pgseccomp.session_roles)", s.Role)
	default:
		title = fmt.Sprintf("a session of role %q (not in pgseccomp.session_roles: session-level settings)", s.Role)
	}
	if s.ClientFilter != "" {
		title += ", after SELECT set_client_filter(" + s.ClientFilter + ")"
	}
	return title
}

func writeTables(w io.Writer, r *Report, why bool) {
	first := true
	section := func(title string, rows []policy.Row) {
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		fmt.Fprintln(w, title+":")
		headers := []string{"syscall", "syscallnum", "filter_action", "context"}
		if why {
			headers = append(headers, "why")
		}
		var cells [][]string
		for _, row := range rows {
			line := []string{row.Syscall, strconv.Itoa(row.Number), row.FilterAction(), row.Context}
			if why {
				line = append(line, row.Why)
			}
			cells = append(cells, line)
		}
		report.Table(w, headers, map[int]bool{1: true}, cells)
	}
	if r.Global != nil {
		section(fmt.Sprintf("Global filter (every process of the server; %s)", r.Arch), r.Global)
	}
	for _, s := range r.Sessions {
		if s.Error != "" {
			if !first {
				fmt.Fprintln(w)
			}
			first = false
			fmt.Fprintf(w, "%s:\n  no rows: %s\n", upperFirst(s.Title()), s.Error)
			continue
		}
		section(upperFirst(s.Title()), s.Rows)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
