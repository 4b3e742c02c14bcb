package procs

import (
	"encoding/binary"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// forkEvent builds a proc connector datagram for a fork event.
func forkEvent(what uint32, parentTgid, childPid, childTgid uint32) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+cnMsgLen+16+16)
	ev := b[unix.NLMSG_HDRLEN+cnMsgLen:]
	binary.NativeEndian.PutUint32(ev[0:], what)
	binary.NativeEndian.PutUint32(ev[16:], parentTgid) // parent_pid
	binary.NativeEndian.PutUint32(ev[20:], parentTgid)
	binary.NativeEndian.PutUint32(ev[24:], childPid)
	binary.NativeEndian.PutUint32(ev[28:], childTgid)
	return b
}

func TestParseFork(t *testing.T) {
	tests := []struct {
		name          string
		b             []byte
		parent, child int
		ok            bool
	}{
		{"process", forkEvent(procEventFork, 100, 200, 200), 100, 200, true},
		{"thread", forkEvent(procEventFork, 100, 201, 200), 0, 0, false},
		{"exec event", forkEvent(2, 100, 200, 200), 0, 0, false},
		{"short", forkEvent(procEventFork, 100, 200, 200)[:40], 0, 0, false},
	}
	for _, tt := range tests {
		parent, child, ok := parseFork(tt.b)
		if parent != tt.parent || child != tt.child || ok != tt.ok {
			t.Errorf("%s: parseFork = %d, %d, %v; want %d, %d, %v", tt.name, parent, child, ok, tt.parent, tt.child, tt.ok)
		}
	}
}

func FuzzParseFork(f *testing.F) {
	f.Add(forkEvent(procEventFork, 100, 200, 200))
	f.Fuzz(func(t *testing.T, b []byte) {
		if parent, child, ok := parseFork(b); ok && (parent < 0 || child < 0) {
			t.Fatalf("negative pid %d, %d", parent, child)
		}
	})
}

// TestForksLive: the kernel reports a child this process starts, with
// this process as its parent; once the child has run, Drain hands its
// fork event over at once, whichever goroutine reads it.
func TestForksLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the process events group")
	}
	f, err := OpenForks()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	children := map[int]bool{}
	seen := make(chan int, 1024)
	done := make(chan error, 1)
	go func() {
		done <- f.Run(func(parent, child int) {
			if parent == os.Getpid() {
				mu.Lock()
				children[child] = true
				mu.Unlock()
				select {
				case seen <- child:
				default:
				}
			}
		})
	}()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case child := <-seen:
			found = child == cmd.Process.Pid
		case <-timeout:
			t.Fatalf("no fork event for child %d", cmd.Process.Pid)
		}
	}
	// Run is running: a second child's event is handed over by Drain.
	cmd = exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := f.Drain(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	drained := children[cmd.Process.Pid]
	mu.Unlock()
	if !drained && f.Overflows() == 0 {
		t.Errorf("child %d exited, Drain returned, and its fork event was not handled", cmd.Process.Pid)
	}
	f.Stop()
	if err := <-done; err != nil {
		t.Error(err)
	}
	f.Close()
	if err := f.Drain(); err != nil {
		t.Errorf("Drain after Close: %v", err)
	}
}
