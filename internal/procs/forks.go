package procs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The proc connector's constants (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventFork     = 1
	cnMsgLen          = 20 // struct cn_msg without its data
)

// Forks reads the kernel's process events (the proc connector,
// CONFIG_PROC_EVENTS): every fork on the machine, with its parent, as it
// happens. A watcher that learns a process only from /proc misses those
// that live less than its polling interval; with Forks it knows the
// parent of every process, however short-lived.
//
// The kernel queues a fork's event before the child runs, so once a
// record of the child's (an audit record of its denied exec) is read,
// Drain hands over its fork event: it does not depend on which reader
// the scheduler ran first.
type Forks struct {
	fd        int
	wake      [2]int
	closeOnce sync.Once
	overflows atomic.Uint64

	// mu makes Run and Drain read in turn, so that events are handled
	// in the kernel's order (a child's fork before its own children's).
	mu     sync.Mutex
	handle func(parent, child int)
	buf    []byte
	closed bool
}

// OpenForks subscribes to the process events. It needs CAP_NET_ADMIN:
// run as root.
func OpenForks() (*Forks, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("open a netlink connector socket for process events: %w (needs a kernel with CONFIG_PROC_EVENTS)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("join the process events group: %w (needs CAP_NET_ADMIN: run as root)", err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	msg := make([]byte, unix.NLMSG_HDRLEN+cnMsgLen+4)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.NLMSG_DONE)
	binary.NativeEndian.PutUint32(msg[12:], uint32(os.Getpid()))
	cn := msg[unix.NLMSG_HDRLEN:]
	binary.NativeEndian.PutUint32(cn[0:], cnIdxProc)
	binary.NativeEndian.PutUint32(cn[4:], cnValProc)
	binary.NativeEndian.PutUint16(cn[16:], 4)
	binary.NativeEndian.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ask for process events: %w", err)
	}
	f := &Forks{fd: fd}
	if err := unix.Pipe2(f.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("create a pipe to stop reading process events: %w", err)
	}
	return f, nil
}

// Run calls handle for every new process (not thread) until Stop:
// parent and child are process ids. It returns nil after Stop.
func (f *Forks) Run(handle func(parent, child int)) error {
	f.mu.Lock()
	f.handle, f.buf = handle, make([]byte, 1<<16)
	f.mu.Unlock()
	fds := []unix.PollFd{{Fd: int32(f.fd), Events: unix.POLLIN}, {Fd: int32(f.wake[0]), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for process events: %w", err)
		}
		f.mu.Lock()
		err := f.drain()
		f.mu.Unlock()
		if err != nil {
			return err
		}
		if fds[1].Revents != 0 {
			return nil
		}
	}
}

// Drain handles, on the caller's goroutine, every event the kernel has
// queued so far, with Run's handle; it does nothing before Run has
// started or after Close. A reader of another source (audit records)
// calls it when a record names a process it does not know yet.
func (f *Forks) Drain() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handle == nil || f.closed {
		return nil
	}
	return f.drain()
}

// drain reads the socket until it is empty; f.mu is held.
func (f *Forks) drain() error {
	for {
		n, _, err := unix.Recvfrom(f.fd, f.buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		if errors.Is(err, unix.ENOBUFS) {
			f.overflows.Add(1)
			continue
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read process events: %w", err)
		}
		if parent, child, ok := parseFork(f.buf[:n]); ok {
			f.handle(parent, child)
		}
	}
}

// parseFork reads a fork event of a new process from one datagram:
// nlmsghdr, cn_msg, proc_event {what, cpu, timestamp, fork {parent_pid,
// parent_tgid, child_pid, child_tgid}}.
func parseFork(b []byte) (parent, child int, ok bool) {
	const data = unix.NLMSG_HDRLEN + cnMsgLen
	if len(b) < data+32 || binary.NativeEndian.Uint32(b[data:]) != procEventFork {
		return 0, 0, false
	}
	ev := b[data+16:]
	parentTgid := binary.NativeEndian.Uint32(ev[4:])
	childPid, childTgid := binary.NativeEndian.Uint32(ev[8:]), binary.NativeEndian.Uint32(ev[12:])
	if childPid != childTgid {
		return 0, 0, false // a thread
	}
	return int(parentTgid), int(childTgid), true
}

// Overflows returns how many times the socket overflowed (events lost).
func (f *Forks) Overflows() uint64 { return f.overflows.Load() }

// Stop ends Run.
func (f *Forks) Stop() {
	f.closeOnce.Do(func() { unix.Write(f.wake[1], []byte{1}) })
}

// Close releases the socket; call it after Run has returned.
func (f *Forks) Close() error {
	f.Stop()
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	unix.Close(f.wake[0])
	unix.Close(f.wake[1])
	return unix.Close(f.fd)
}
