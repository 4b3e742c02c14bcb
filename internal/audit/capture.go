package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	libaudit "github.com/elastic/go-libaudit/v2"
	"golang.org/x/sys/unix"
)

// auditGroupReadLog is AUDIT_NLGRP_READLOG, the netlink multicast group
// the kernel sends every audit record to, whether or not auditd runs.
const auditGroupReadLog = 1

// auditSeccompType is AUDIT_SECCOMP, the netlink message type of a
// seccomp record (type=1326 in the logs).
const auditSeccompType = 1326

// captureBuffer is the socket's receive buffer. Records arrive at up to
// ~50,000 a second when a busy server logs every syscall; 64 MB holds
// about half a million of them, so a reader that is briefly descheduled
// loses nothing. SO_RCVBUFFORCE needs CAP_NET_ADMIN.
const captureBuffer = 64 << 20

// ErrOverflow means the capture socket's buffer overflowed: the kernel
// dropped records for this reader (ENOBUFS), so a capture that must be
// complete has failed.
var ErrOverflow = errors.New("the audit capture socket's buffer overflowed and the kernel dropped records for it")

// Capture reads seccomp audit records as the kernel writes them, from the
// audit netlink multicast group. It is the lossless path: the kernel log
// (/dev/kmsg) is rate-limited and its ring holds a few hundred records,
// while the multicast group gets every record the audit subsystem emits,
// beside auditd if it runs. Records the audit subsystem itself drops (its
// backlog full) are counted in the kernel's lost counter: compare
// [KernelStatus] before and after.
type Capture struct {
	fd int

	overflows atomic.Uint64 // times the socket reported ENOBUFS

	closeOnce sync.Once
	wake      [2]int // pipe: a write ends Run
}

// OpenCapture joins the audit multicast group. It needs CAP_AUDIT_READ (to
// join) and CAP_NET_ADMIN (for the large buffer): run as root.
func OpenCapture() (*Capture, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("open an audit netlink socket: %w (needs a kernel with audit support)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: auditGroupReadLog}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("join the audit netlink multicast group: %w (needs CAP_AUDIT_READ: run as root)", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureBuffer); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set a %d MB receive buffer on the audit socket: %w (needs CAP_NET_ADMIN: run as root)", captureBuffer>>20, err)
	}
	c := &Capture{fd: fd}
	if err := unix.Pipe2(c.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("create a pipe to stop the audit capture: %w", err)
	}
	return c, nil
}

// Run reads records until Stop is called, calling handle for each seccomp
// record; rec and its byte slices are valid only during the call. It
// returns nil after Stop, [ErrOverflow] (after reading on, so that it
// stops only when told) if the socket overflowed, or the error that ended
// reading. A record that does not parse is passed to bad, which may be
// nil. Run must not be called concurrently with itself.
func (c *Capture) Run(handle func(rec *Record), bad func(body []byte, err error)) error {
	buf := make([]byte, 1<<16)
	line := make([]byte, 0, 1<<12)
	var rec Record
	var overflow error
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}, {Fd: int32(c.wake[0]), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for audit records: %w", err)
		}
		if fds[1].Revents != 0 {
			// Drain what is queued, then stop.
			if err := c.drain(buf, &line, &rec, handle, bad); err != nil && overflow == nil {
				overflow = err
			}
			return overflow
		}
		if err := c.drain(buf, &line, &rec, handle, bad); err != nil {
			if !errors.Is(err, ErrOverflow) {
				return err
			}
			overflow = err
		}
	}
}

// drain reads every datagram queued on the socket.
func (c *Capture) drain(buf []byte, line *[]byte, rec *Record, handle func(*Record), bad func([]byte, error)) error {
	var overflow error
	for {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return overflow
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			overflow = ErrOverflow
			c.overflows.Add(1)
			continue
		case err != nil:
			return fmt.Errorf("read the audit multicast socket: %w", err)
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 || n < unix.NLMSG_HDRLEN {
			continue // not from the kernel
		}
		// One record per datagram. The audit subsystem's nlmsg_len is not
		// to be trusted (go-libaudit reads it the same way): take the
		// datagram's length.
		if binary.NativeEndian.Uint16(buf[4:6]) != auditSeccompType {
			continue
		}
		body := buf[unix.NLMSG_HDRLEN:n]
		for len(body) > 0 && (body[len(body)-1] == 0 || body[len(body)-1] == '\n') {
			body = body[:len(body)-1]
		}
		*line = append(append((*line)[:0], "type=1326 "...), body...)
		found, err := ParseLine(*line, rec)
		if err == nil && !found {
			err = errors.New("not a seccomp record")
		}
		if err != nil {
			if bad != nil {
				bad(body, err)
			}
			continue
		}
		// From the kernel itself (the sender's port is 0), whatever the
		// text looks like.
		rec.Format, rec.Trusted = FormatNetlink, true
		handle(rec)
	}
}

// Overflows returns how many times so far the socket's buffer overflowed
// (each time the kernel dropped one or more records for this reader), for
// a reader that must say so while it runs rather than when Run returns.
func (c *Capture) Overflows() uint64 { return c.overflows.Load() }

// Stop ends Run (after it has read what is queued) and closes the socket
// when Run has returned; call it once Run's caller is done waiting, or
// from another goroutine to end Run.
func (c *Capture) Stop() {
	c.closeOnce.Do(func() {
		unix.Write(c.wake[1], []byte{1})
	})
}

// Close releases the socket; call it after Run has returned.
func (c *Capture) Close() error {
	c.Stop()
	unix.Close(c.wake[0])
	unix.Close(c.wake[1])
	return unix.Close(c.fd)
}

// KernelStatus is what the audit subsystem reports about itself.
type KernelStatus struct {
	Enabled      uint32 // 0 off, 1 on, 2 locked
	DaemonPID    uint32 // auditd's pid, 0 when none is registered
	Lost         uint32 // records the kernel dropped since boot
	Backlog      uint32 // records queued now
	BacklogLimit uint32
	RateLimit    uint32 // records a second, 0 for no limit
}

// ReadKernelStatus asks the kernel for the audit status (AUDIT_GET), with
// go-libaudit. It needs CAP_AUDIT_CONTROL.
func ReadKernelStatus() (KernelStatus, error) {
	client, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return KernelStatus{}, fmt.Errorf("open an audit control socket: %w (needs CAP_AUDIT_CONTROL: run as root)", err)
	}
	defer client.Close()
	st, err := client.GetStatus()
	if err != nil {
		return KernelStatus{}, fmt.Errorf("read the kernel's audit status (AUDIT_GET): %w", err)
	}
	return KernelStatus{
		Enabled:      st.Enabled,
		DaemonPID:    st.PID,
		Lost:         st.Lost,
		Backlog:      st.Backlog,
		BacklogLimit: st.BacklogLimit,
		RateLimit:    st.RateLimit,
	}, nil
}
