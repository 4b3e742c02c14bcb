package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// The child loads the confined side's programs into a thread of a
// re-executed test binary, never into the test process, and reports three
// stages with sane figures.
func TestSyscallCostChild(t *testing.T) {
	if os.Getenv(syscallCostChildEnv) != "" {
		if err := runSyscallCostChild(os.Stdin, os.Stdout); err != nil {
			t.Fatal(err)
		}
		return
	}
	global, session, err := confinedPrograms(confinedSettings(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(global) < 10 || len(session) < 5 || len(session) >= len(global) {
		t.Fatalf("programs of %d and %d instructions; want a global program and a shorter session program over it", len(global), len(session))
	}
	in, err := json.Marshal([][]bpf.RawInstruction{global, session})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSyscallCostChild$")
	cmd.Env = append(os.Environ(), syscallCostChildEnv+"=1")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var stages []syscallCostStage
	if err := json.NewDecoder(strings.NewReader(string(out))).Decode(&stages); err != nil {
		t.Fatalf("child printed %q: %v", out, err)
	}
	if len(stages) != 3 || stages[0].Filters != "none" || stages[2].Filters != "global+session" {
		t.Fatalf("stages = %+v", stages)
	}
	for _, s := range stages {
		if s.MinNS <= 0 || s.MinNS > s.MedianNS || s.MedianNS > 1e6 {
			t.Errorf("stage %+v: want 0 < min <= median < 1 ms", s)
		}
	}
}

// A bad input is refused before anything is loaded.
func TestSyscallCostChildBadInput(t *testing.T) {
	for _, in := range []string{"", "[]", "[[]]", "not json"} {
		if err := runSyscallCostChild(strings.NewReader(in), new(bytes.Buffer)); err == nil {
			t.Errorf("runSyscallCostChild(%q) = nil, want an error", in)
		}
	}
}
