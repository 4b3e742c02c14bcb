package main

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// runCLI runs the command line args (without the program name) and returns
// the exit status and what was written to stdout and stderr.
func runCLI(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	code = run(args)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, c.name) || !strings.Contains(out, c.summary) {
				t.Errorf("%q: usage does not list %q: %s", args, c.name, out)
			}
		}
	}
}

func TestNoArguments(t *testing.T) {
	code, out, errOut := runCLI(t)
	if code != 2 || out != "" || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "stauts", "--pid", "1")
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{`unknown command "stauts"`, "status", "pgseccomp help"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not mention %q", errOut, want)
		}
	}
	code, _, errOut = runCLI(t, "help", "stauts")
	if code != 2 || !strings.Contains(errOut, `unknown command "stauts"`) {
		t.Errorf("help stauts: exit %d, stderr %q", code, errOut)
	}
}

// TestCommandHelp: every command in the table prints its usage line and
// examples for --help, -h and "help <command>", and exits 0.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			code, out, errOut := runCLI(t, args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			if !strings.Contains(out, "Usage: pgseccomp "+c.name) || !strings.Contains(out, "Examples:") {
				t.Errorf("%q: help lacks a usage line or examples:\n%s", args, out)
			}
		}
	}
}

// TestBadFlag: every command, and every subcommand of profile, refuses an
// unknown flag with exit 2, names it, and points to its --help, writing
// nothing to stdout.
func TestBadFlag(t *testing.T) {
	var cases [][]string
	for _, c := range commands {
		if c.name != "profile" {
			cases = append(cases, []string{c.name, "--frobnicate"})
		}
	}
	for _, sub := range slices.Sorted(maps.Keys(profileSubcommands)) {
		cases = append(cases, []string{"profile", sub, "--frobnicate"})
	}
	for _, args := range cases {
		code, out, errOut := runCLI(t, args...)
		name := strings.Join(args[:len(args)-1], " ")
		if code != 2 || out != "" || !strings.Contains(errOut, "frobnicate") || !strings.Contains(errOut, "pgseccomp "+name) || !strings.Contains(errOut, "--help") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
