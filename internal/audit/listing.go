package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/report"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Listing is what pgseccomp syscalls prints of the records it tallied:
// on stdout a line of names per ABI, or JSON; on stderr which line is
// which ABI, unknown numbers, records of ABIs not printed, untrusted and
// malformed lines, and a summary line.
type Listing struct {
	Summary *Summary
	Stats   Stats
	// Files are the inputs as named, "-" for standard input.
	Files []string
	// Arches are the ABIs asked for; nil is the native one, and every
	// one in JSON.
	Arches []syscalls.Arch
	// All asks for every ABI seen.
	All bool
	// JSON prints JSON instead of lines.
	JSON bool
	// Untrusted says the records of untrusted sources were included.
	Untrusted bool
}

// Write writes the listing to stdout and the report to stderr. Its error
// is one of writing JSON.
func (l *Listing) Write(stdout, stderr io.Writer) error {
	all := l.Summary.Syscalls()
	arches := l.Arches
	switch {
	case l.All:
		arches = archesOf(all)
		if len(arches) == 0 {
			arches = []syscalls.Arch{syscalls.Native()} // an empty line: nothing was logged
		}
	case arches == nil && !l.JSON:
		arches = []syscalls.Arch{syscalls.Native()}
	}
	if l.JSON {
		if err := writeJSON(stdout, selectArches(all, arches, l.All || l.Arches == nil), l.Summary, l.Stats, l.Untrusted); err != nil {
			return err
		}
	} else {
		writeSyscallLines(stdout, all, arches)
	}
	l.report(stderr, all, arches)
	return nil
}

// archesOf returns the resolved ABIs of list, in its order.
func archesOf(list []*Syscall) []syscalls.Arch {
	var out []syscalls.Arch
	for _, s := range list {
		if s.Arch.Valid() && !slices.Contains(out, s.Arch) {
			out = append(out, s.Arch)
		}
	}
	return out
}

// selectArches returns the syscalls of the given ABIs, or every syscall
// (unresolved ABIs too) when every is set.
func selectArches(list []*Syscall, arches []syscalls.Arch, every bool) []*Syscall {
	if every {
		return list
	}
	var out []*Syscall
	for _, s := range list {
		if slices.Contains(arches, s.Arch) {
			out = append(out, s)
		}
	}
	return out
}

// writeSyscallLines prints one line of names per ABI, in the order given.
func writeSyscallLines(w io.Writer, list []*Syscall, arches []syscalls.Arch) {
	for _, a := range arches {
		var names []string
		for _, s := range list {
			if s.Arch == a {
				names = append(names, s.Name)
			}
		}
		slices.Sort(names)
		fmt.Fprintln(w, strings.Join(slices.Compact(names), ","))
	}
}

// report writes the stderr report: which line is which ABI,
// unknown numbers, records of ABIs not printed, and the summary line.
func (l *Listing) report(w io.Writer, list []*Syscall, arches []syscalls.Arch) {
	sum, st, files := l.Summary, l.Stats, l.Files
	const p = "pgseccomp syscalls: "
	if !l.JSON && len(arches) > 1 {
		parts := make([]string, len(arches))
		for i, a := range arches {
			n := 0
			for _, s := range list {
				if s.Arch == a {
					n++
				}
			}
			parts[i] = fmt.Sprintf("line %d: %s (%s)", i+1, a, report.Plural(n, "syscall", "syscalls"))
		}
		fmt.Fprintf(w, "%sstdout %s\n", p, strings.Join(parts, "; "))
	}
	printed := func(s *Syscall) bool {
		return l.JSON && (l.All || l.Arches == nil) || slices.Contains(arches, s.Arch)
	}
	for _, s := range list {
		if !s.Known && s.Arch.Valid() && printed(s) {
			fmt.Fprintf(w, "%swarning: libseccomp %s knows no syscall %d on %s (%s); it is printed as %s, which pgseccomp refuses until libseccomp knows it: upgrade libseccomp, or leave it out\n",
				p, syscalls.LibraryVersion(), s.Number, s.ArchName(), report.Plural(int(s.Count), "record", "records"), s.Name)
		}
	}
	for _, a := range arches {
		var names []string
		for _, s := range list {
			if s.Arch == a && printed(s) {
				names = append(names, s.Name)
			}
		}
		if newer := syscalls.NewerThanLibrary(a, names); len(newer) > 0 {
			fmt.Fprintf(w, "%snote: libseccomp %s, which this tool uses, does not know %s on %s; they are named from the kernel's syscall tables, and a server whose libseccomp does not know them refuses them\n",
				p, syscalls.LibraryVersion(), strings.Join(newer, ", "), a)
		}
	}
	// Records not printed: other ABIs, and arches this tool cannot resolve.
	other := map[string][]string{}
	otherCount := map[string]int64{}
	var otherOrder []string
	for _, s := range list {
		if printed(s) {
			continue
		}
		k := s.ArchName()
		if _, seen := other[k]; !seen {
			otherOrder = append(otherOrder, k)
		}
		other[k] = append(other[k], s.Name)
		otherCount[k] += s.Count
	}
	for _, k := range otherOrder {
		how := "add --arch " + k + " to print them"
		if _, err := syscalls.ParseArch(k); err != nil {
			how = "pgseccomp cannot name this ABI's syscalls; --json lists their numbers"
		}
		fmt.Fprintf(w, "%snote: %s for %s not printed (%s); %s\n", p, report.Plural(int(otherCount[k]), "record", "records"), k, clipList(other[k], 8), how)
	}

	fmt.Fprintf(w, "%sread %s from %s: %s, %d selected; %d unrelated, %d malformed, %d untrusted\n",
		p, report.Plural(int(st.Lines), "line", "lines"), inputsLabel(files), report.Plural(int(st.Records), "seccomp record", "seccomp records"),
		sum.Selected, st.Unrelated, st.Malformed, st.Untrusted)
	for _, e := range st.Examples {
		fmt.Fprintf(w, "%smalformed: %v\n", p, labelled(e))
	}
	reportUntrusted(w, l.Untrusted, st)
	if sum.UndatedFilteredOut > 0 {
		fmt.Fprintf(w, "%snote: --since left out %s without a date (journald's audit[PID]: SECCOMP lines with a prefix that has no year); read the journal with -o json, which dates them, or filter with journalctl --since\n",
			p, report.Plural(int(sum.UndatedFilteredOut), "record", "records"))
	}
	if st.Records == 0 && st.Untrusted == 0 && st.Lines > 0 {
		fmt.Fprintf(w, "%snote: no seccomp records found; auditd writes them to /var/log/audit/log, and without auditd the kernel log has them (dmesg, journalctl -k -o json)\n", p)
	}
}

// reportUntrusted warns about records from sources anybody can write:
// how many, in which formats, and the first one.
func reportUntrusted(w io.Writer, included bool, st Stats) {
	if st.Untrusted == 0 {
		return
	}
	const p = "pgseccomp syscalls: "
	var where []string
	for _, f := range Formats {
		if n := st.UntrustedFormats[f]; n > 0 {
			where = append(where, fmt.Sprintf("%d %s", n, f))
		}
	}
	what := fmt.Sprintf("%s in lines anybody can write (%s)", report.Plural(int(st.Untrusted), "record", "records"), strings.Join(where, ", "))
	if included {
		fmt.Fprintf(w, "%swarning: --include-untrusted: the list includes %s; a database user (RAISE LOG) or any local user (logger) may have forged them\n", p, what)
	} else {
		fmt.Fprintf(w, "%swarning: left out %s: a database user (RAISE LOG) or any local user (logger) can forge them; read the kernel log (dmesg), auditd's log, or the journal as JSON (journalctl -k -o json), or give --include-untrusted to list them anyway\n", p, what)
	}
	if len(st.UntrustedExamples) > 0 {
		fmt.Fprintf(w, "%suntrusted: %v\n", p, labelled(st.UntrustedExamples[0]))
	}
}

// labelled names standard input in a malformed-line example.
func labelled(e LineError) LineError {
	if e.Name == "" {
		e.Name = "<stdin>"
	}
	return e
}

func inputsLabel(files []string) string {
	if len(files) == 1 {
		if files[0] == "-" {
			return "standard input"
		}
		return files[0]
	}
	return report.Plural(len(files), "input", "inputs")
}

func clipList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(", and %d more", len(names)-max)
}

func examplesJSON(list []LineError) []malformedJSON {
	out := []malformedJSON{}
	for _, e := range list {
		e = labelled(e)
		out = append(out, malformedJSON{e.Name, e.Line, e.Err.Error()})
	}
	return out
}

// syscallJSON is one entry of --json's "syscalls".
type syscallJSON struct {
	Name      string           `json:"name"`
	Number    int64            `json:"number"`
	Arch      string           `json:"arch"`
	Known     bool             `json:"known"`
	Count     int64            `json:"count"`
	FirstSeen *time.Time       `json:"first_seen"`
	LastSeen  *time.Time       `json:"last_seen"`
	PIDs      []int            `json:"pids"`
	Actions   map[string]int64 `json:"actions"`
	Comms     []string         `json:"comms"`
	Exes      []string         `json:"exes"`
}

type totalsJSON struct {
	Lines              int64            `json:"lines"`
	Records            int64            `json:"records"`
	Matched            int64            `json:"matched"`
	FilteredOut        int64            `json:"filtered_out"`
	UndatedFilteredOut int64            `json:"undated_filtered_out"`
	Unrelated          int64            `json:"unrelated"`
	Malformed          int64            `json:"malformed"`
	MalformedExamples  []malformedJSON  `json:"malformed_examples"`
	Formats            map[string]int64 `json:"formats"`
	Untrusted          int64            `json:"untrusted"`
	UntrustedIncluded  bool             `json:"untrusted_included"`
	UntrustedFormats   map[string]int64 `json:"untrusted_formats"`
	UntrustedExamples  []malformedJSON  `json:"untrusted_examples"`
}

type malformedJSON struct {
	File  string `json:"file"`
	Line  int64  `json:"line"`
	Error string `json:"error"`
}

func writeJSON(w io.Writer, list []*Syscall, sum *Summary, st Stats, includeUntrusted bool) error {
	out := struct {
		Syscalls []syscallJSON `json:"syscalls"`
		Totals   totalsJSON    `json:"totals"`
	}{Syscalls: []syscallJSON{}}
	for _, s := range list {
		e := syscallJSON{
			Name: s.Name, Number: s.Number, Arch: s.ArchName(), Known: s.Known, Count: s.Count,
			PIDs: s.PIDs(), Comms: s.Comms(), Exes: s.Exes(), Actions: map[string]int64{},
		}
		if !s.FirstSeen.IsZero() {
			first, last := s.FirstSeen.UTC(), s.LastSeen.UTC()
			e.FirstSeen, e.LastSeen = &first, &last
		}
		for a, n := range s.Actions() {
			e.Actions[a.String()] = n
		}
		out.Syscalls = append(out.Syscalls, e)
	}
	out.Totals = totalsJSON{
		Lines: st.Lines, Records: st.Records, Matched: sum.Selected,
		FilteredOut: sum.FilteredOut, UndatedFilteredOut: sum.UndatedFilteredOut,
		Unrelated: st.Unrelated, Malformed: st.Malformed,
		MalformedExamples: examplesJSON(st.Examples), Formats: map[string]int64{},
		Untrusted: st.Untrusted, UntrustedIncluded: includeUntrusted,
		UntrustedFormats: map[string]int64{}, UntrustedExamples: examplesJSON(st.UntrustedExamples),
	}
	for _, f := range Formats {
		if n := st.Formats[f]; n > 0 {
			out.Totals.Formats[f.String()] = n
		}
		if n := st.UntrustedFormats[f]; n > 0 {
			out.Totals.UntrustedFormats[f.String()] = n
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<stdin>", paths with & or <
	return enc.Encode(out)
}
