package extension

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"
	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// auditWatch collects the kernel's seccomp audit records (type 1326) of one
// cluster's processes while a workload runs.
//
// It reads the audit netlink multicast group rather than /dev/kmsg: with no
// audit daemon the kernel also prints each record to the kernel log, but
// rate-limited ("kauditd_printk_skb: N callbacks suppressed"), and on a
// shared machine other clusters' records use up that budget. The multicast
// group gets every record; the socket gets a large receive buffer, so that
// bursts of other processes' records do not overflow it (the kernel would
// drop records, and the watch would say so). A record belongs to the
// cluster when its process
// is the postmaster or descends from it: checked when the record arrives,
// and, for a process already gone by then, against every process a poller
// saw in the cluster.
type auditWatch struct {
	fd   int // netlink socket in the audit multicast group
	stop chan struct{}
	done sync.WaitGroup

	mu         sync.Mutex
	postmaster int
	members    map[int]bool // pids seen in the cluster
	ours       []seccompRecord
	pending    []seccompRecord // process gone before it could be placed
	lost       error

	// whether another PostgreSQL server runs, checked at most every
	// 200 ms, when a record cannot be placed
	othersRunning bool
	othersChecked time.Time
}

// seccompRecord is one type=1326 audit record.
type seccompRecord struct {
	PID     int
	Comm    string
	Exe     string
	Syscall string // the name, as libseccomp resolves number and arch
	Action  string // log, error, kill_process, ... (audit.Action)
	Raw     string
	Title   string // the process's title when the record arrived, if it was alive
	// OthersRunning: another PostgreSQL server ran when this record of a
	// process that could not be placed arrived.
	OthersRunning bool
	early         bool // arrived before the watch knew the postmaster
}

func (r seccompRecord) String() string {
	who := r.Title
	if who == "" {
		who = r.Comm
	}
	return fmt.Sprintf("pid %d (%s): %s -> %s", r.PID, who, r.Syscall, r.Action)
}

// watchSeccompAudit starts reading seccomp audit records; call cluster with
// the postmaster's pid once it runs, and records to stop and get them.
func watchSeccompAudit(t *testing.T) *auditWatch {
	t.Helper()
	fd, err := openAuditMulticast()
	if err != nil {
		t.Fatalf("join the audit netlink multicast group to read seccomp records (needs CAP_AUDIT_READ and Linux 3.16+): %v", err)
	}
	w := &auditWatch{fd: fd, stop: make(chan struct{}), members: map[int]bool{}}
	w.done.Add(2)
	go w.read()
	go w.pollMembers()
	t.Cleanup(func() { w.records() })
	return w
}

// cluster names the postmaster whose records are wanted.
func (w *auditWatch) cluster(postmaster int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.postmaster = postmaster
	w.members[postmaster] = true
}

// records stops the watch and returns the cluster's records, the records
// of PostgreSQL processes that were gone before they could be placed while
// another PostgreSQL server ran (with none running, they are the
// cluster's), and an error if records were lost.
func (w *auditWatch) records() (ours, unplaced []seccompRecord, lost error) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
		w.done.Wait()
		unix.Close(w.fd)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ours = append([]seccompRecord(nil), w.ours...)
	for _, r := range w.pending {
		if w.members[r.PID] {
			ours = append(ours, r)
			continue
		}
		if r.early { // it came before cluster(): place it now, if it still runs
			if in, alive := descendsFrom(r.PID, w.postmaster); alive {
				if in {
					ours = append(ours, r)
				}
				continue
			}
		}
		if r.OthersRunning {
			unplaced = append(unplaced, r)
		} else {
			ours = append(ours, r)
		}
	}
	return ours, unplaced, w.lost
}

// seen reports whether a record of the cluster so far matches.
func (w *auditWatch) seen(match func(seccompRecord) bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.ours, match)
}

// openAuditMulticast opens a netlink socket in the audit group that every
// record is multicast to (AUDIT_NLGRP_READLOG), with a 64 MB receive buffer.
func openAuditMulticast() (int, error) {
	const auditGroupReadLog = 1 // AUDIT_NLGRP_READLOG
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return -1, fmt.Errorf("socket(AF_NETLINK, NETLINK_AUDIT): %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: auditGroupReadLog}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind to the audit read-log group: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("set SO_RCVBUFFORCE (needs CAP_NET_ADMIN): %w", err)
	}
	return fd, nil
}

func (w *auditWatch) read() {
	defer w.done.Done()
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(w.fd, buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			time.Sleep(2 * time.Millisecond)
			continue
		case errors.Is(err, unix.ENOBUFS):
			w.fail(errors.New("the audit socket's buffer overflowed and the kernel dropped records"))
			continue
		case err != nil:
			w.fail(fmt.Errorf("read the audit multicast socket: %w", err))
			return
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 || n < unix.NLMSG_HDRLEN {
			continue // not a message from the kernel
		}
		// One record per datagram; the audit subsystem's nlmsg_len is not
		// to be trusted (go-libaudit reads it the same way).
		if binary.NativeEndian.Uint16(buf[4:6]) != uint16(auparse.AUDIT_SECCOMP) {
			continue
		}
		rec, err := parseSeccompRecord(strings.TrimRight(string(buf[unix.NLMSG_HDRLEN:n]), "\x00"))
		if err != nil {
			w.fail(err)
			continue
		}
		w.place(rec)
	}
}

func (w *auditWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lost = err
}

// place files rec as the cluster's, or as pending when its process is a
// PostgreSQL one that is gone (or came before cluster()); it ignores the
// records of other processes.
func (w *auditWatch) place(rec seccompRecord) {
	w.mu.Lock()
	postmaster := w.postmaster
	known := w.members[rec.PID]
	w.mu.Unlock()
	in, alive := known, true
	if !known && postmaster != 0 {
		in, alive = descendsFrom(rec.PID, postmaster)
	}
	if args, err := (procs.Reader{}).Cmdline(rec.PID); err == nil {
		rec.Title = procs.TitleOf(args)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case in:
		w.ours = append(w.ours, rec)
	case (!alive || postmaster == 0) && isPostgresExe(rec.Exe):
		if time.Since(w.othersChecked) > 200*time.Millisecond {
			w.othersRunning = otherPostmasters(postmaster)
			w.othersChecked = time.Now()
		}
		rec.OthersRunning = w.othersRunning
		rec.early = postmaster == 0
		w.pending = append(w.pending, rec)
	default: // another process's: ignored
	}
}

// pollMembers notes every process of the cluster, so that a record of a
// process that has exited can still be placed.
func (w *auditWatch) pollMembers() {
	defer w.done.Done()
	r := procs.Reader{}
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		w.mu.Lock()
		postmaster := w.postmaster
		w.mu.Unlock()
		if postmaster == 0 {
			continue
		}
		pids, err := r.PIDs()
		if err != nil {
			continue
		}
		var found []int
		for _, pid := range pids {
			if in, _ := descendsFrom(pid, postmaster); in {
				found = append(found, pid)
			}
		}
		w.mu.Lock()
		for _, pid := range found {
			w.members[pid] = true
		}
		w.mu.Unlock()
	}
}

// descendsFrom reports whether pid is ancestor or one of its descendants,
// and whether pid still exists to tell.
func descendsFrom(pid, ancestor int) (in, alive bool) {
	for range 16 {
		if pid == ancestor {
			return true, true
		}
		st, err := procs.Reader{}.Stat(pid)
		if err != nil {
			return false, false
		}
		if st.PPID <= 1 {
			return false, true
		}
		pid = st.PPID
	}
	return false, true
}

// otherPostmasters reports whether a PostgreSQL server other than ours
// runs on this machine.
func otherPostmasters(ours int) bool {
	clusters, _, err := procs.Reader{}.Discover()
	if err != nil {
		return true // cannot tell: be cautious
	}
	for _, c := range clusters {
		if c.PostmasterPID != 0 && c.PostmasterPID != ours {
			return true
		}
	}
	return false
}

// isPostgresExe reports whether exe is a PostgreSQL server binary: a
// record of a gone process can be the cluster's only if it is.
func isPostgresExe(exe string) bool {
	base := filepath.Base(exe)
	return base == "postgres" || base == "postmaster"
}

// parseSeccompRecord reads the body of a type=1326 record, as the audit
// multicast group delivers it (the kernel log prints the same text after
// "type=1326 "), with the project's parser.
func parseSeccompRecord(body string) (seccompRecord, error) {
	var rec audit.Record
	found, err := audit.ParseLine([]byte("type=1326 "+body), &rec)
	if err == nil && !found {
		err = errors.New("not a seccomp record")
	}
	if err == nil && rec.PID <= 0 {
		err = errors.New("no pid")
	}
	if err != nil {
		return seccompRecord{}, fmt.Errorf("parse seccomp audit record %q: %w", body, err)
	}
	_, name, ok := rec.Resolve()
	if !ok {
		name = fmt.Sprintf("syscall %d", rec.Syscall)
	}
	return seccompRecord{
		PID:     rec.PID,
		Comm:    string(rec.Comm),
		Exe:     string(rec.Exe),
		Syscall: name,
		Action:  rec.Action().String(),
		Raw:     strings.TrimSpace(body),
	}, nil
}

// Bodies of real type=1326 records (Debian 12, x86_64): a log and an error
// action as the audit multicast group delivered them, and the kill of
// TestKillUnderLoadLosesNoCommit's victim as the kernel log printed it.
const (
	auditLogRecord   = `audit(1795819410.744:9386): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=29671 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=89 compat=0 ip=0x7f2e9ef19ab7 code=0x7ffc0000`
	auditErrorRecord = `audit(1795819410.760:9387): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=29675 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=89 compat=0 ip=0x7f2e9ef19ab7 code=0x50000`
	auditKillRecord  = `audit(1795819917.304:13599): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=25736 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=31 arch=c000003e syscall=89 compat=0 ip=0x7fa7e9319ab7 code=0x80000000`
)

func TestParseSeccompRecord(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    seccompRecord
		wantErr bool
	}{
		{"log", auditLogRecord, seccompRecord{PID: 29671, Comm: "postgres", Syscall: "readlink", Action: "log", Exe: "/usr/lib/postgresql/15/bin/postgres"}, false},
		{"error", auditErrorRecord, seccompRecord{PID: 29675, Comm: "postgres", Syscall: "readlink", Action: "error", Exe: "/usr/lib/postgresql/15/bin/postgres"}, false},
		{"kill", auditKillRecord, seccompRecord{PID: 25736, Comm: "postgres", Syscall: "readlink", Action: "kill_process", Exe: "/usr/lib/postgresql/15/bin/postgres"}, false},
		{"no pid", `audit(1795819410.760:9387): uid=101 syscall=89 arch=c000003e code=0x50000`, seccompRecord{}, true},
		{"not a record", `hello`, seccompRecord{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSeccompRecord(tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSeccompRecord: %+v, %v; want error %v", got, err, tt.wantErr)
			}
			got.Raw = ""
			if got != tt.want {
				t.Fatalf("parseSeccompRecord = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseSeccompRecord(f *testing.F) {
	for _, body := range []string{auditLogRecord, auditErrorRecord, auditKillRecord} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec, err := parseSeccompRecord(body)
		if err == nil && rec.Action == "" {
			t.Fatalf("record %q parsed without an action", body)
		}
	})
}
