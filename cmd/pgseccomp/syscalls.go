package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/report"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

const syscallsUsage = `Usage: pgseccomp syscalls [flags] [FILE...]

List the syscalls named in seccomp audit records, sorted and without
duplicates, on one comma-separated line ready to paste into a pgseccomp
list in postgresql.conf (the talk's get_syscalls.sh, for every log format).

Reads each FILE, or standard input when there is none or FILE is "-", and
finds the records on each line by itself, so files may mix formats:
  auditd       /var/log/audit/audit.log: type=SECCOMP msg=audit(...): ...
               (also node= and log_format=ENRICHED)
  kernel log   dmesg, dmesg -T, dmesg -x, dmesg -r, /dev/kmsg:
               audit: type=1326 ...
  journal      journalctl -o json or json-seq: entries of the kernel
               transport ("audit: type=1326 ...") and of the audit
               transport ("SECCOMP ...")
Only these are evidence: no user can write them. Any user can write a line
that looks like a record into a syslog file (logger -t kernel), the
journal's text (journalctl -o short shows a program's message as it shows
the kernel's), or PostgreSQL's log (RAISE LOG). Records found in such lines
(syslog, journalctl -k or -o short/short-iso/cat text, journal JSON entries
of another _TRANSPORT, a line after a program's log prefix) are counted as
untrusted, named on stderr with an example, and left out of the list unless
--include-untrusted is given. Read the journal as JSON instead of text:
  journalctl -k -o json | pgseccomp syscalls
  journalctl _TRANSPORT=audit _TRANSPORT=kernel -o json | pgseccomp syscalls
Other lines are counted as unrelated; seccomp records that are cut short
(dmesg and the journal cut lines near 1 KiB) or have a bad field are counted
as malformed, and the first few are named on stderr. None stops the run. A
line longer than 1 MiB is read from its first 1 MiB, from a file as from
standard input.

Each syscall number is named in its record's own ABI (arch=, and the x32
bit of the number), as libseccomp and so the pgseccomp extension name it: a
32-bit i386 process's syscall 20 is getpid, not x86_64's writev. A number
libseccomp does not know is printed as syscall_NUMBER, with a warning; the
extension refuses that word, so such a list fails closed until you decide.

Which records:
  --pid PID         only records of these processes (repeat, or PID,PID)
  --comm NAME       only these commands, the record's comm= (e.g. postgres)
  --exe PATH        only these executables: a full path, or a name that
                    matches its last element (e.g. postgres)
  --action ACTION   only these actions: allow, log, error (errno), trap,
                    trace, user_notif, kill (both kinds), kill_process,
                    kill_thread, or a code such as 0x7ffc0000
  --since WHEN      only records written at or after WHEN: a duration back
                    from now (90m, 12h, 7d) or a time (2026-11-27 22:00,
                    2026-11-27T22:00:00Z, @1795820182). Records carry their
                    own audit(EPOCH.MS:SERIAL) stamp, so this works for plain
                    dmesg output too; the audit transport's journal entries
                    are dated by journald (-o json), and its text lines
                    ("audit[PID]: SECCOMP", untrusted) from their prefix
                    when it has a year (-o short-iso or short-unix);
                    otherwise --since leaves them out and says how many.
  --include-untrusted
                    also list the syscalls of records from sources anybody
                    can write (see above), with a warning: a database user
                    may have forged them
  Flags that take lists accept commas and can be repeated.

Output:
  --arch ARCH       which ABIs' syscalls to print: x86_64, i386, x32,
                    aarch64, arm, ... or all (repeat, or ARCH,ARCH). The
                    default is this machine's native ABI, the one
                    pgseccomp's lists are for; records of other ABIs are
                    counted on stderr. With several ABIs stdout has one line
                    per ABI, in the order given, and stderr says which is
                    which. --json prints every ABI unless --arch is given.
  --json            print a JSON object instead: "syscalls", one entry per
                    syscall and ABI (name, number, arch, known, count,
                    first_seen, last_seen, pids, actions, comms, exes), and
                    "totals" (lines, records, matched, filtered_out,
                    undated_filtered_out, unrelated, malformed,
                    malformed_examples, formats, untrusted,
                    untrusted_included, untrusted_formats, untrusted_examples)

A summary line goes to stderr: lines read, records found and selected,
unrelated and malformed lines. The same event read from two logs (auditd's
and the journal's, say) is counted twice.

Exit status:
  0  the input was read (the list may be empty: nothing was logged)
  2  bad flags, or a FILE that cannot be read

Examples:
  # the talk's workflow: every syscall PostgreSQL made under a log filter
  pgseccomp syscalls /var/log/audit/audit.log --comm postgres

  # no auditd: the kernel log, or the journal as JSON
  dmesg | pgseccomp syscalls --comm postgres
  journalctl -k -o json --since "2 hours ago" | pgseccomp syscalls --comm postgres

  # what the error and kill lists blocked today, per syscall
  pgseccomp syscalls --action error,kill --since 24h --json /var/log/audit/audit.log

  # syscalls of one backend, from rotated logs too
  pgseccomp syscalls --pid 12345 /var/log/audit/audit.log.1 /var/log/audit/audit.log

  # 32-bit syscalls (which pgseccomp's filters kill) next to native ones
  pgseccomp syscalls --arch x86_64,i386,x32 /var/log/audit/audit.log
`

// syscallsOptions are the flags of the syscalls command.
type syscallsOptions struct {
	filter audit.Filter
	arches []syscalls.Arch // nil: the default
	all    bool            // --arch all
	json   bool
}

// listFlag is a flag that can be repeated and takes comma-separated lists.
type listFlag struct {
	add func(word string) error
}

func (l listFlag) String() string { return "" }

func (l listFlag) Set(s string) error {
	for word := range strings.SplitSeq(s, ",") {
		word = strings.TrimSpace(word)
		if word == "" {
			return fmt.Errorf("empty entry in %q", s)
		}
		if err := l.add(word); err != nil {
			return err
		}
	}
	return nil
}

// sinceFlag parses --since.
type sinceFlag struct {
	t   *time.Time
	now func() time.Time
}

func (f sinceFlag) String() string { return "" }

func (f sinceFlag) Set(s string) error {
	t, err := parseSince(s, f.now())
	if err != nil {
		return err
	}
	*f.t = t
	return nil
}

func newSyscallsFlags(now func() time.Time) (*flag.FlagSet, *syscallsOptions) {
	o := &syscallsOptions{}
	fs := newFlagSet("syscalls")
	fs.Var(listFlag{func(w string) error {
		pid, err := strconv.Atoi(w)
		if err != nil || pid <= 0 {
			return fmt.Errorf("%q is not a process ID", w)
		}
		o.filter.PIDs = append(o.filter.PIDs, pid)
		return nil
	}}, "pid", "only these processes")
	fs.Var(listFlag{func(w string) error { o.filter.Comms = append(o.filter.Comms, w); return nil }}, "comm", "only these commands")
	fs.Var(listFlag{func(w string) error { o.filter.Exes = append(o.filter.Exes, w); return nil }}, "exe", "only these executables")
	fs.Var(listFlag{func(w string) error {
		acts, err := audit.ParseActions(w)
		o.filter.Actions = append(o.filter.Actions, acts...)
		return err
	}}, "action", "only these actions")
	fs.Var(sinceFlag{&o.filter.Since, now}, "since", "only records at or after this time")
	fs.Var(listFlag{func(w string) error {
		if strings.EqualFold(w, "all") {
			o.all = true
			return nil
		}
		a, err := syscalls.ParseArch(w)
		if err != nil {
			return err
		}
		if !slices.Contains(o.arches, a) {
			o.arches = append(o.arches, a)
		}
		return nil
	}}, "arch", "which ABIs to print")
	fs.BoolVar(&o.filter.Untrusted, "include-untrusted", false, "also list records from sources anybody can write")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	return fs, o
}

// timeNow is the clock --since durations count back from; tests set it.
var timeNow = time.Now

func runSyscalls(args []string) int {
	fs, o := newSyscallsFlags(timeNow)
	if code, ok := parseFlags(fs, args, syscallsUsage); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	dashes := 0
	for _, f := range files {
		if f == "-" {
			dashes++
		}
	}
	if dashes > 1 {
		return usageError("syscalls", "standard input (-) is named %d times; name it once", dashes)
	}
	inputs, code := openInputs(files)
	if code != 0 {
		return code
	}
	defer func() {
		for _, in := range inputs {
			in.close()
		}
	}()

	var sum audit.Summary
	var stats audit.Stats
	for _, in := range inputs {
		st, err := sum.Tally(in.r, in.name, &o.filter)
		stats.Add(st)
		if err != nil {
			return usageError("syscalls", "reading %s: %v", in.label(), pgconf.UnwrapPathError(err))
		}
	}

	all := sum.Syscalls()
	arches := o.arches
	switch {
	case o.all:
		arches = archesOf(all)
		if len(arches) == 0 {
			arches = []syscalls.Arch{syscalls.Native()} // an empty line: nothing was logged
		}
	case arches == nil && !o.json:
		arches = []syscalls.Arch{syscalls.Native()}
	}
	if o.json {
		if err := writeSyscallsJSON(stdout, selectArches(all, arches, o.all || o.arches == nil), &sum, stats, o.filter.Untrusted); err != nil {
			fmt.Fprintf(stderr, "pgseccomp syscalls: writing JSON: %v\n", err)
			return 2
		}
	} else {
		writeSyscallLines(stdout, all, arches)
	}
	reportSyscalls(stderr, all, arches, o, &sum, stats, files)
	return 0
}

// input is one FILE argument, opened.
type input struct {
	name  string // as given; "" for standard input
	r     io.Reader
	close func()
}

func (in input) label() string {
	if in.name == "" {
		return "standard input"
	}
	return in.name
}

// openInputs opens every FILE before any is read, so that a typo fails
// the run before it prints anything.
func openInputs(files []string) ([]input, int) {
	var inputs []input
	for _, name := range files {
		if name == "-" {
			if isTerminal(stdin) {
				fmt.Fprintln(stderr, "pgseccomp syscalls: reading seccomp records from the terminal (end with Ctrl-D); give a log file such as /var/log/audit/audit.log, or pipe dmesg into it")
			}
			inputs = append(inputs, input{name: "", r: stdin, close: func() {}})
			continue
		}
		f, err := os.Open(name)
		if err == nil {
			if fi, serr := f.Stat(); serr == nil && fi.IsDir() {
				f.Close()
				err = errors.New("is a directory")
			}
		}
		if err != nil {
			for _, in := range inputs {
				in.close()
			}
			hint := ""
			switch {
			case errors.Is(err, fs.ErrNotExist):
				hint = "; check the path (auditd's log is /var/log/audit/audit.log; without auditd, pipe dmesg or journalctl -k -o json into pgseccomp syscalls)"
			case errors.Is(err, fs.ErrPermission):
				hint = "; audit logs are readable by root (or the adm group) only: run as root"
			}
			return nil, usageError("syscalls", "cannot read %s: %v%s", name, pgconf.UnwrapPathError(err), hint)
		}
		inputs = append(inputs, input{name: name, r: f, close: func() { f.Close() }})
	}
	return inputs, 0
}

// stdin is where "-" reads from; tests replace it.
var stdin io.Reader = os.Stdin

// isTerminal reports whether r is a terminal, which nobody pipes a log into.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// parseSince parses --since: a duration back from now (with a d suffix for
// days) or a point in time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	if epoch, ok := strings.CutPrefix(s, "@"); ok {
		if t, ok := parseEpoch(epoch); ok {
			return t, nil
		}
	} else if t, ok := parseEpoch(s); ok && len(s) >= 9 {
		return t, nil // an audit stamp's seconds, copied from a record
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		loc := time.Local
		if layout == time.RFC3339Nano {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 12h, 7d) nor a time (2026-11-27 22:00, 2026-11-27T22:00:00Z, @1795820182)", s)
}

// parseAgo parses a non-negative duration, also in days ("7d", "1d12h").
func parseAgo(s string) (time.Duration, bool) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || days+d < days {
		return 0, false // bad, negative, or past 292 years
	}
	return days + d, true
}

func parseEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(sec, "+") {
		return time.Time{}, false
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			return time.Time{}, false
		}
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err != nil || strings.HasPrefix(frac, "+") || strings.HasPrefix(frac, "-") {
			return time.Time{}, false
		}
		nsec = f
	}
	return time.Unix(n, nsec), true
}

// archesOf returns the resolved ABIs of list, in its order.
func archesOf(list []*audit.Syscall) []syscalls.Arch {
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
func selectArches(list []*audit.Syscall, arches []syscalls.Arch, every bool) []*audit.Syscall {
	if every {
		return list
	}
	var out []*audit.Syscall
	for _, s := range list {
		if slices.Contains(arches, s.Arch) {
			out = append(out, s)
		}
	}
	return out
}

// writeSyscallLines prints one line of names per ABI, in the order given.
func writeSyscallLines(w io.Writer, list []*audit.Syscall, arches []syscalls.Arch) {
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

// reportSyscalls writes the stderr report: which line is which ABI,
// unknown numbers, records of ABIs not printed, and the summary line.
func reportSyscalls(w io.Writer, list []*audit.Syscall, arches []syscalls.Arch, o *syscallsOptions, sum *audit.Summary, st audit.Stats, files []string) {
	const p = "pgseccomp syscalls: "
	if !o.json && len(arches) > 1 {
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
	printed := func(s *audit.Syscall) bool {
		return o.json && (o.all || o.arches == nil) || slices.Contains(arches, s.Arch)
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
	reportUntrusted(w, o, st)
	if sum.UndatedFilteredOut > 0 {
		fmt.Fprintf(w, "%snote: --since left out %s without a date (journald's audit[PID]: SECCOMP lines with a prefix that has no year); read the journal with -o json, which dates them, or filter with journalctl --since\n",
			p, report.Plural(int(sum.UndatedFilteredOut), "record", "records"))
	}
	if st.Records == 0 && st.Untrusted == 0 && st.Lines > 0 {
		fmt.Fprintf(w, "%snote: no seccomp records found; auditd writes them to /var/log/audit/audit.log, and without auditd the kernel log has them (dmesg, journalctl -k -o json)\n", p)
	}
}

// reportUntrusted warns about records from sources anybody can write:
// how many, in which formats, and the first one.
func reportUntrusted(w io.Writer, o *syscallsOptions, st audit.Stats) {
	if st.Untrusted == 0 {
		return
	}
	const p = "pgseccomp syscalls: "
	var where []string
	for _, f := range audit.Formats {
		if n := st.UntrustedFormats[f]; n > 0 {
			where = append(where, fmt.Sprintf("%d %s", n, f))
		}
	}
	what := fmt.Sprintf("%s in lines anybody can write (%s)", report.Plural(int(st.Untrusted), "record", "records"), strings.Join(where, ", "))
	if o.filter.Untrusted {
		fmt.Fprintf(w, "%swarning: --include-untrusted: the list includes %s; a database user (RAISE LOG) or any local user (logger) may have forged them\n", p, what)
	} else {
		fmt.Fprintf(w, "%swarning: left out %s: a database user (RAISE LOG) or any local user (logger) can forge them; read the kernel log (dmesg), auditd's log, or the journal as JSON (journalctl -k -o json), or give --include-untrusted to list them anyway\n", p, what)
	}
	if len(st.UntrustedExamples) > 0 {
		fmt.Fprintf(w, "%suntrusted: %v\n", p, labelled(st.UntrustedExamples[0]))
	}
}

// labelled names standard input in a malformed-line example.
func labelled(e audit.LineError) audit.LineError {
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

func examplesJSON(list []audit.LineError) []malformedJSON {
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

func writeSyscallsJSON(w io.Writer, list []*audit.Syscall, sum *audit.Summary, st audit.Stats, includeUntrusted bool) error {
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
	for _, f := range audit.Formats {
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
