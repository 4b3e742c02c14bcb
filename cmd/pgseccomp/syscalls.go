package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
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
	t, err := audit.ParseSince(s, f.now())
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
	inputs, err := audit.OpenFiles(files, stdin)
	if err != nil {
		return usageError("syscalls", "%v", err)
	}
	defer inputs.Close()
	if inputs.ReadsStdin() && isTerminal(stdin) {
		fmt.Fprintln(stderr, "pgseccomp syscalls: reading seccomp records from the terminal (end with Ctrl-D); give a log file such as /var/log/audit/audit.log, or pipe dmesg into it")
	}
	var sum audit.Summary
	stats, err := inputs.Tally(&sum, &o.filter)
	if err != nil {
		return usageError("syscalls", "%v", err)
	}

	l := audit.Listing{Summary: &sum, Stats: stats, Files: files, Arches: o.arches, All: o.all, JSON: o.json, Untrusted: o.filter.Untrusted}
	if err := l.Write(stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "pgseccomp syscalls: writing JSON: %v\n", err)
		return 2
	}
	return 0
}

// stdin is where "-" reads from; tests replace it.
var stdin io.Reader = os.Stdin
