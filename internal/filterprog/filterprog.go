// Package filterprog compiles a layer of the pgseccomp model into the BPF
// program the extension loads for it, with libseccomp and the attributes
// extension/filter.c sets: the binary-tree layout (optimize level 2) for a
// layer with rules (libseccomp before 2.5.4 ignores the default action of a
// binary tree with no rules, so an empty layer keeps the default layout), every
// other architecture killed, errors as EACCES, kill as kill-process. The
// tool uses it to show what each layer costs the kernel (explain --bpf), and
// the tests run the programs in a BPF virtual machine.
//
// C twin: extension/filter.c.
package filterprog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// MaxInstructions is the largest program the kernel loads (BPF_MAXINSNS).
const MaxInstructions = 4096

// Seccomp return values (SECCOMP_RET_*), as the program returns them.
const (
	RetKillProcess uint32 = 0x80000000
	RetErrno       uint32 = 0x00050000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000
)

// Ret is the value the program returns for an action: what the kernel
// does with the syscall.
func Ret(a policy.Action) uint32 {
	switch a {
	case policy.Allow:
		return RetAllow
	case policy.Log:
		return RetLog
	case policy.Error:
		return RetErrno | uint32(syscall.EACCES)
	default:
		return RetKillProcess
	}
}

func scmpAction(a policy.Action) seccomp.ScmpAction {
	switch a {
	case policy.Allow:
		return seccomp.ActAllow
	case policy.Log:
		return seccomp.ActLog
	case policy.Error:
		return seccomp.ActErrno.SetReturnCode(int16(syscall.EACCES))
	default:
		return seccomp.ActKillProcess
	}
}

// Compile returns the program the extension would load for layer l.
func Compile(l *policy.Layer) ([]bpf.RawInstruction, error) {
	f, err := seccomp.NewFilter(scmpAction(l.Default))
	if err != nil {
		return nil, fmt.Errorf("compile %s layer: %w", l.Origin, err)
	}
	defer f.Release()

	if err := configure(f, l, hasRules(l)); err != nil {
		return nil, fmt.Errorf("compile %s layer for %s: %w", l.Origin, l.Arch, err)
	}
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return nil, err
	}
	for _, nr := range l.Syscalls() {
		action := l.Rules[nr]
		if action == l.Default {
			continue // libseccomp refuses a rule that repeats the default
		}
		// libseccomp takes native numbers (or its own pseudo-numbers for
		// syscalls the native architecture lacks) and translates them for
		// each architecture of the filter, so go through the name.
		call := seccomp.ScmpSyscall(nr)
		if l.Arch.Seccomp() != native {
			if call, err = seccomp.GetSyscallFromName(policy.SyscallName(l.Arch, nr)); err != nil {
				return nil, fmt.Errorf("compile %s layer: %s syscall %d: %w", l.Origin, l.Arch, nr, err)
			}
		}
		if err := f.AddRule(call, scmpAction(action)); err != nil {
			return nil, fmt.Errorf("compile %s layer: rule for %s (%d): %w",
				l.Origin, policy.SyscallName(l.Arch, nr), nr, err)
		}
	}
	return export(f)
}

// hasRules says whether any rule of l differs from its default: only then
// does the program get the binary-tree layout, as in extension/filter.c.
func hasRules(l *policy.Layer) bool {
	for _, action := range l.Rules {
		if action != l.Default {
			return true
		}
	}
	return false
}

// configure gives f the extension's attributes and the layer's
// architecture as its only one.
func configure(f *seccomp.ScmpFilter, l *policy.Layer, tree bool) error {
	if err := f.SetBadArchAction(seccomp.ActKillProcess); err != nil {
		return err
	}
	if tree {
		if err := f.SetOptimize(2); err != nil {
			return err
		}
	}
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return err
	}
	if want := l.Arch.Seccomp(); want != native {
		if err := f.AddArch(want); err != nil {
			return err
		}
		if err := f.RemoveArch(native); err != nil {
			return err
		}
	}
	return nil
}

// export writes the program to a memory file (libseccomp 2.5 exports only
// to a file descriptor) and reads it back as instructions.
func export(f *seccomp.ScmpFilter) ([]bpf.RawInstruction, error) {
	fd, err := unix.MemfdCreate("pgseccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export BPF program: memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "pgseccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("export BPF program: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export BPF program: %w", err)
	}
	raw, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("export BPF program: %w", err)
	}
	return decode(raw)
}

// decode splits a program in the kernel's struct sock_filter layout (code
// u16, jt u8, jf u8, k u32, in native byte order).
func decode(raw []byte) ([]bpf.RawInstruction, error) {
	const size = 8
	if len(raw) == 0 || len(raw)%size != 0 {
		return nil, fmt.Errorf("export BPF program: %d bytes is not a whole number of instructions", len(raw))
	}
	prog := make([]bpf.RawInstruction, len(raw)/size)
	for i := range prog {
		b := raw[i*size:]
		prog[i] = bpf.RawInstruction{
			Op: uint16(binary.NativeEndian.Uint16(b[0:])),
			Jt: b[2],
			Jf: b[3],
			K:  binary.NativeEndian.Uint32(b[4:]),
		}
	}
	if len(prog) > MaxInstructions {
		return prog, errors.New("the program has more instructions than the kernel loads")
	}
	return prog, nil
}

// Evaluate runs prog, in a BPF virtual machine, on the seccomp data of
// syscall nr of arch (no arguments) and returns what the program returns.
func Evaluate(prog []bpf.RawInstruction, arch uint32, nr int) (uint32, error) {
	vm, err := bpf.NewVM(disassemble(prog))
	if err != nil {
		return 0, fmt.Errorf("BPF program rejected by the virtual machine: %w", err)
	}
	// struct seccomp_data: nr, arch, instruction_pointer, args[6]. The
	// kernel loads 32-bit words in native order, the virtual machine in
	// network order, so each word goes in big-endian.
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], uint32(nr))
	binary.BigEndian.PutUint32(data[4:], arch)
	ret, err := vm.Run(data)
	if err != nil {
		return 0, err
	}
	return uint32(ret), nil
}

func disassemble(prog []bpf.RawInstruction) []bpf.Instruction {
	out := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		out[i] = ins.Disassemble()
	}
	return out
}

// ArgumentLoads counts the instructions that read a syscall argument
// (seccomp_data from offset 16 on). A program without any keeps every
// syscall it allows in the kernel's constant-action cache, where an allowed
// syscall costs no filter run at all.
func ArgumentLoads(prog []bpf.RawInstruction) int {
	n := 0
	for _, ins := range prog {
		if load, ok := ins.Disassemble().(bpf.LoadAbsolute); ok && load.Off >= 16 {
			n++
		}
	}
	return n
}

// LongestPath is the most instructions one run of prog can execute (jumps
// only go forward, so this is the longest path to a return). The kernel
// runs a new filter once per syscall number when it is loaded, to find the
// syscalls it always allows, so this bounds what a load costs as well as
// what a filtered syscall costs.
func LongestPath(prog []bpf.RawInstruction) int {
	longest := make([]int, len(prog)+1) // from instruction i to the end
	for i := len(prog) - 1; i >= 0; i-- {
		next := func(offset int) int {
			if j := i + 1 + offset; j < len(prog) {
				return longest[j]
			}
			return 0
		}
		steps := 0
		switch ins := prog[i].Disassemble().(type) {
		case bpf.RetConstant, bpf.RetA:
		case bpf.Jump:
			steps = next(int(ins.Skip))
		case bpf.JumpIf:
			steps = max(next(int(ins.SkipTrue)), next(int(ins.SkipFalse)))
		case bpf.JumpIfX:
			steps = max(next(int(ins.SkipTrue)), next(int(ins.SkipFalse)))
		default:
			steps = next(0)
		}
		longest[i] = 1 + steps
	}
	if len(prog) == 0 {
		return 0
	}
	return longest[0]
}
