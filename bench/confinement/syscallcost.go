package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/filterprog"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// syscallCostKey selects the per-syscall kernel cost measure in --measures.
const syscallCostKey = "syscall-cost"

// syscallCostChildEnv makes the benchmark's own binary the measuring child:
// filters are loaded only into that re-executed process, never into the
// benchmark driver.
const syscallCostChildEnv = "PGSECCOMP_BENCH_SYSCALL_COST_CHILD"

// Rounds and calls per round of each stage; the figure is per call.
const (
	syscallCostRounds = 15
	syscallCostCalls  = 400_000
)

// syscallCostStage is the cost of one syscall with the filters loaded so far.
type syscallCostStage struct {
	Filters string  `json:"filters"` // what is loaded: none, global, global+session
	MinNS   float64 `json:"min_ns"`
	// MedianNS is the median over rounds of the mean time per call.
	MedianNS float64 `json:"median_ns"`
}

// syscallCostResult is the measure: what the kernel adds to every syscall
// of a confined backend, with the very programs the confined side loads.
type syscallCostResult struct {
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	Syscall      string             `json:"syscall"`
	Rounds       int                `json:"rounds"`
	CallsEach    int                `json:"calls_per_round"`
	Instructions map[string]int     `json:"program_instructions"`
	Stages       []syscallCostStage `json:"stages"`
	// AddedNS is the confined backend's cost over no filter, medians.
	AddedNS float64 `json:"added_ns"`
}

// confinedPrograms compiles, as the extension does, the global program and
// the session program of a role not in session_roles from the confined
// side's settings.
func confinedPrograms(settings map[string]string) (global, session []bpf.RawInstruction, err error) {
	// The settings are postgresql.conf values, quoted.
	values := map[string]string{}
	for name, v := range settings {
		values[name] = pgconf.Unquote(v)
	}
	s, err := policy.ParseSettingsMap(values)
	if err != nil {
		return nil, nil, fmt.Errorf("the confined side's settings: %w", err)
	}
	arch, err := policy.NativeArch()
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Build(arch)
	if err != nil {
		return nil, nil, fmt.Errorf("the confined side's settings: %w", err)
	}
	if global, err = filterprog.Compile(p.Global); err != nil {
		return nil, nil, err
	}
	if session, err = filterprog.Compile(p.SessionLayer("").Over(p.Global)); err != nil {
		return nil, nil, err
	}
	return global, session, nil
}

// measureSyscallCost runs this binary again as the measuring child and
// reads its result.
func measureSyscallCost(ctx context.Context, o options, progress io.Writer) (syscallCostResult, error) {
	res := syscallCostResult{
		Name: "syscall cost",
		Description: "time of one getppid() (a syscall that does next to nothing) in a process with no filter, with the confined side's global program, " +
			"and with its global and session programs: what every syscall of a confined client backend pays the kernel",
		Syscall:   "getppid",
		Rounds:    syscallCostRounds,
		CallsEach: syscallCostCalls,
	}
	global, session, err := confinedPrograms(confinedSettings(o.Scale))
	if err != nil {
		return res, err
	}
	res.Instructions = map[string]int{"global": len(global), "session": len(session)}
	self, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("%s: find this benchmark's binary to run it again: %w", res.Name, err)
	}
	fmt.Fprintf(progress, "%s: %d rounds of %d getppid() calls per stage, in a child process\n", res.Name, res.Rounds, res.CallsEach)
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), syscallCostChildEnv+"=1")
	in, err := json.Marshal([][]bpf.RawInstruction{global, session})
	if err != nil {
		return res, err
	}
	cmd.Stdin = bytes.NewReader(in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return res, fmt.Errorf("%s: the measuring child failed: %w\n%s", res.Name, err, stderr.String())
	}
	if err := json.Unmarshal(out, &res.Stages); err != nil || len(res.Stages) != 3 {
		return res, fmt.Errorf("%s: the measuring child printed %q, not three stages: %v", res.Name, out, err)
	}
	res.AddedNS = res.Stages[2].MedianNS - res.Stages[0].MedianNS
	return res, nil
}

// runSyscallCostChild is the child: it reads the two programs as JSON on
// stdin, times getppid() with none, then the global, then both loaded into
// one locked thread, and prints the stages as JSON. The thread ends with
// the goroutine, filters and all.
func runSyscallCostChild(stdin io.Reader, stdout io.Writer) error {
	var progs [][]bpf.RawInstruction
	if err := json.NewDecoder(stdin).Decode(&progs); err != nil || len(progs) != 2 {
		return fmt.Errorf("read the programs: want a JSON array of two programs: %v", err)
	}
	type result struct {
		stages []syscallCostStage
		err    error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		var r result
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			r.err = fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
			done <- r
			return
		}
		r.stages = append(r.stages, timeGetppid("none"))
		for i, name := range []string{"global", "global+session"} {
			if r.err = loadThreadFilter(progs[i], i+1); r.err != nil {
				r.err = fmt.Errorf("load the %s program: %w", strings.TrimPrefix(name, "global+"), r.err)
				done <- r
				return
			}
			r.stages = append(r.stages, timeGetppid(name))
		}
		done <- r
	}()
	r := <-done
	if r.err != nil {
		return r.err
	}
	return json.NewEncoder(stdout).Encode(r.stages)
}

// loadThreadFilter attaches prog to the calling thread only (no TSYNC),
// then checks that the thread has want filters and that getppid() still
// answers: a program that denied it would time the error path instead.
func loadThreadFilter(prog []bpf.RawInstruction, want int) error {
	if len(prog) == 0 {
		return errors.New("empty program")
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filters[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	runtime.KeepAlive(filters)
	status, err := threadStatus()
	if err != nil {
		return err
	}
	if line := fmt.Sprintf("Seccomp_filters:\t%d\n", want); !strings.Contains(status, line) {
		return fmt.Errorf("the thread does not have %d filters after loading:\n%s", want, status)
	}
	if ppid, _, errno := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); errno != 0 || int(ppid) != os.Getppid() {
		return fmt.Errorf("getppid() = %d, %v under the program, want %d: the program must allow it", ppid, errno, os.Getppid())
	}
	return nil
}

// threadStatus reads /proc/thread-self/status with plain syscalls: under
// the filter, the os package's files would start the runtime's poller,
// whose eventfd the programs deny.
func threadStatus() (string, error) {
	fd, err := unix.Open("/proc/thread-self/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open /proc/thread-self/status: %w", err)
	}
	defer unix.Close(fd)
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return "", fmt.Errorf("read /proc/thread-self/status: %w", err)
		}
		if n == 0 {
			return b.String(), nil
		}
		b.Write(buf[:n])
	}
}

// timeGetppid times rounds of raw getppid() calls (no Go scheduler hooks,
// as a C caller makes them); one unmeasured round warms caches first.
func timeGetppid(filters string) syscallCostStage {
	perCall := make([]float64, 0, syscallCostRounds)
	for round := -1; round < syscallCostRounds; round++ {
		start := time.Now()
		for range syscallCostCalls {
			unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		if round >= 0 {
			perCall = append(perCall, float64(time.Since(start).Nanoseconds())/syscallCostCalls)
		}
	}
	return syscallCostStage{Filters: filters, MinNS: slices.Min(perCall), MedianNS: median(perCall)}
}
