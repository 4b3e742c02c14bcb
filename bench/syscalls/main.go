// Command syscalls measures how fast `pgseccomp syscalls` reads a large
// mixed log, against `grep -c type=` and the talk's get_syscalls.sh on the
// same file. `make bench` runs it; see usage for the flags.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

const usage = `Usage: go run ./bench/syscalls [flags]

Measure the throughput of "pgseccomp syscalls" on a large mixed log, against
two baselines on the same file:
  grep     grep -c type= FILE: one pass that finds a word on every line, a
           bound on what reading and scanning the file costs
  talk     the talk's get_syscalls.sh (CrunchyData/pgseccomp), reproduced
           as its shell pipeline: grep "type=SECCOMP" | cut -d" " -f12 |
           cut -d= -f2 | sort | uniq, scmp_sys_resolver for each number,
           then sort and join with commas
The three run alternately (pgseccomp, grep, talk, pgseccomp, ...) after one
unmeasured round that brings the file into the page cache. Each run's
throughput is the file's size over its wall-clock time.

The log (about --size bytes) is generated once and cached in --data: 70%
auditd SECCOMP records (ENRICHED), 15% other auditd records, 15% kernel log
lines from dmesg and /dev/kmsg, most of them seccomp records, some cut short;
a fixed seed makes the same file every time.

Output: per command the throughput min/median/max in MB/s, the ratio of the
medians against each baseline, the goal (pgseccomp >= 0.5 x grep) with PASS
or MISS, and the lists each command printed. Everything, every run too, goes
to the JSON file --out.

Flags:
  --size BYTES   size of the generated log (default 1073741824)
  --data DIR     where the generated log is cached (default bench/syscalls/data)
  --rounds N     measured rounds (default 5, at least 3)
  --out FILE     JSON results (default bench/results/syscalls.json)

Exit status:
  0  every run completed; the goal met or not (timing never fails the benchmark)
  1  a command failed, or pgseccomp's list lacks a syscall of the log
  2  bad flags

Examples:
  go run ./bench/syscalls
  go run ./bench/syscalls --size 100000000 --rounds 3 --out /tmp/syscalls.json
`

// resolverEnv makes this program act as scmp_sys_resolver (print the
// x86_64 name of the syscall number in its argument) when the machine has
// none: the talk's script runs the resolver once per distinct number.
const resolverEnv = "PGSECCOMP_BENCH_RESOLVER"

type options struct {
	size   int64
	data   string
	rounds int
	out    string
}

func main() {
	if os.Getenv(resolverEnv) == "1" {
		os.Exit(resolve(os.Args[1:]))
	}
	o := options{}
	fs := flag.NewFlagSet("syscalls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Int64Var(&o.size, "size", 1<<30, "")
	fs.StringVar(&o.data, "data", filepath.Join("bench", "syscalls", "data"), "")
	fs.IntVar(&o.rounds, "rounds", 5, "")
	fs.StringVar(&o.out, "out", filepath.Join("bench", "results", "syscalls.json"), "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(usage)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "bench/syscalls: %v\nRun 'go run ./bench/syscalls --help' for usage.\n", err)
		os.Exit(2)
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "bench/syscalls: unexpected argument %q\n", fs.Arg(0))
		os.Exit(2)
	case o.rounds < 3:
		fmt.Fprintf(os.Stderr, "bench/syscalls: --rounds %d: give at least 3\n", o.rounds)
		os.Exit(2)
	case o.size < 1<<20:
		fmt.Fprintf(os.Stderr, "bench/syscalls: --size %d: give at least 1048576 bytes\n", o.size)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench/syscalls: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	log, err := ensureLog(o)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "pgseccomp-bench-syscalls-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	bin := filepath.Join(work, "pgseccomp")
	fmt.Printf("building %s from ./cmd/pgseccomp\n", bin)
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/pgseccomp").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/pgseccomp (run from the repository root): %v\n%s", err, out)
	}
	resolver, resolverNote, err := findResolver()
	if err != nil {
		return err
	}
	script := filepath.Join(work, "get_syscalls.sh")
	if err := os.WriteFile(script, []byte(talkScript), 0o755); err != nil {
		return err
	}

	cmds := []*command{
		{Name: "pgseccomp", Argv: []string{bin, "syscalls", log.Path}},
		{Name: "grep", Argv: []string{"grep", "-c", "type=", log.Path}},
		{Name: "talk", Argv: []string{"bash", script, log.Path}, Env: []string{"SYS_RESOLVER=" + resolver}},
	}
	res := results{
		Log: log, Rounds: o.rounds, Machine: machine(), Resolver: resolverNote,
		Started: time.Now().UTC().Format(time.RFC3339),
	}
	fmt.Printf("log %s: %.0f MB, %d lines; %d measured rounds of %s\n", log.Path, mb(log.Bytes), log.Lines, o.rounds, names(cmds))
	fmt.Printf("machine: %d CPUs, load average %s (other work on the machine slows every command)\n", res.Machine.CPUs, res.Machine.LoadBefore)
	for round := 0; round <= o.rounds; round++ {
		for _, c := range cmds {
			r, err := c.run()
			if err != nil {
				return err
			}
			if round == 0 {
				c.Output = r.Stdout // the warm-up round's output is every round's
				continue
			}
			r.MBps = mb(log.Bytes) / r.Seconds
			c.Runs = append(c.Runs, r)
		}
		if round > 0 {
			fmt.Printf("round %d:", round)
			for _, c := range cmds {
				fmt.Printf("  %s %.0f MB/s", c.Name, c.Runs[round-1].MBps)
			}
			fmt.Println()
		}
	}
	res.Machine.LoadAfter = loadAverage()
	for _, c := range cmds {
		c.summarize()
	}
	res.Commands = cmds
	res.Ratios = map[string]float64{
		"pgseccomp_vs_grep": cmds[0].MBps.Median / cmds[1].MBps.Median,
		"pgseccomp_vs_talk": cmds[0].MBps.Median / cmds[2].MBps.Median,
	}
	res.Goal = goal{Ratio: 0.5, Against: "grep", Met: res.Ratios["pgseccomp_vs_grep"] >= 0.5}
	check := checkLists(cmds[0].Output, cmds[2].Output, log.X86_64)
	res.Lists = check

	report(os.Stdout, &res)
	if err := writeJSON(o.out, &res); err != nil {
		return err
	}
	fmt.Printf("results: %s\n", o.out)
	if len(check.MissingFromPgseccomp) > 0 {
		return fmt.Errorf("pgseccomp's list lacks %s, which the log's records name", strings.Join(check.MissingFromPgseccomp, ", "))
	}
	return nil
}

// findResolver returns scmp_sys_resolver (Debian package seccomp), or this
// program acting as one when the machine has none.
func findResolver() (path, note string, err error) {
	if p, err := exec.LookPath("scmp_sys_resolver"); err == nil {
		return p, p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", "", err
	}
	// The script calls "$SYS_RESOLVER" NUMBER: a wrapper script passes the
	// environment variable that selects resolver mode.
	wrapper := filepath.Join(filepath.Dir(self), "scmp_sys_resolver")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\n"+resolverEnv+"=1 exec '"+self+"' \"$@\"\n"), 0o755); err != nil {
		return "", "", err
	}
	return wrapper, "scmp_sys_resolver is not installed (Debian package seccomp): this program stood in for it, one process per distinct number as the script runs it", nil
}

// resolve prints the x86_64 name of the syscall number in args, as
// scmp_sys_resolver does for the native ABI.
func resolve(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: scmp_sys_resolver NUMBER")
		return 2
	}
	nr, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Println(args[0])
		return 1
	}
	name, ok := syscalls.X86_64.Name(nr)
	if !ok {
		fmt.Println("UNKNOWN")
		return 1
	}
	fmt.Println(name)
	return 0
}

// talkScript is get_syscalls.sh from CrunchyData/pgseccomp, the talk's
// helper, with two changes that keep its work the same: the log is the
// first argument instead of the fixed /var/log/audit/audit.log (the
// original's FOI variable names that path but process_foi does not use
// it), and the resolver's path comes from $SYS_RESOLVER.
const talkScript = `#!/bin/bash

SYS_RESOLVER="${SYS_RESOLVER:-/usr/bin/scmp_sys_resolver}"
FOI="$1"

function syscall_resolve ()
{
    F_SYSCALLNUM="$1"

    "${SYS_RESOLVER}" "${F_SYSCALLNUM}"
}

function process_foi ()
{
  for scn in $(grep "type=SECCOMP" "${FOI}"|cut -d" " -f12|cut -d= -f2|sort|uniq)
  do
    echo "$(syscall_resolve ${scn})"
  done
}

function build_list ()
{
  dlm=""
  for syscall in $(process_foi | sort)
  do
    echo -n "${dlm}${syscall}"
    dlm=","
  done
  echo
}

build_list
`

func names(cmds []*command) string {
	var s []string
	for _, c := range cmds {
		s = append(s, c.Name)
	}
	return strings.Join(s, ", ")
}

func mb(bytes int64) float64 { return float64(bytes) / 1e6 }

func writeJSON(path string, res *results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func goVersion() string { return runtime.Version() }
