package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// generatorVersion names the generator's output: a cached log made by
// another version is made again.
const generatorVersion = "1"

// The mix of lines, in parts per thousand. It follows the talk's recording
// step, where auditd's log fills with SECCOMP records of PostgreSQL under a
// log default, among the other records auditd writes and kernel log lines
// (collected with dmesg or from /dev/kmsg) appended to the same file.
const (
	mixAuditdSeccomp = 700 // type=SECCOMP, ENRICHED as Debian's auditd writes it
	mixAuditdOther   = 150 // SYSCALL, EXECVE, CWD, PATH, PROCTITLE, USER_*, SERVICE_*
	mixDmesgSeccomp  = 60  // [ 1234.567890] audit: type=1326 ...
	mixDmesgOther    = 20  // other kernel messages
	mixKmsgSeccomp   = 50  // 5,SEQ,USEC,-;audit: type=1326 ...
	mixKmsgOther     = 15
	mixTruncated     = 5 // kernel-log records cut short
)

// workload is PostgreSQL's syscalls under load, with rough weights: what a
// busy server's backends, checkpointer and WAL writer make most.
var workload = []struct {
	name   string
	weight int
}{
	{"pread64", 160}, {"read", 120}, {"recvfrom", 100}, {"sendto", 100}, {"epoll_wait", 80},
	{"pwrite64", 70}, {"lseek", 70}, {"write", 50}, {"openat", 40}, {"close", 40},
	{"fdatasync", 20}, {"futex", 20}, {"newfstatat", 15}, {"rt_sigprocmask", 15}, {"kill", 10},
	{"getpid", 8}, {"epoll_ctl", 8}, {"fsync", 8}, {"sync_file_range", 6}, {"fadvise64", 5},
	{"getrusage", 5}, {"brk", 4}, {"mmap", 4}, {"munmap", 4}, {"ftruncate", 3},
	{"fallocate", 2}, {"rt_sigaction", 2}, {"rt_sigreturn", 2}, {"madvise", 2}, {"pselect6", 2},
	{"clone", 1}, {"wait4", 1}, {"exit_group", 1}, {"unlink", 1}, {"rename", 1},
	{"readlink", 1}, {"epoll_create1", 1}, {"accept", 1}, {"setsockopt", 1}, {"getsockname", 1},
	{"pipe2", 1}, {"dup", 1}, {"mremap", 1}, {"getdents64", 1}, {"statfs", 1},
	{"pwritev", 1}, {"setitimer", 1}, {"umask", 1}, {"chdir", 1}, {"socket", 1},
}

// generator writes the mixed log. Its PRNG has a fixed seed, so the same
// version writes the same file.
type generator struct {
	rng      *rand.Rand
	w        *bufio.Writer
	buf      []byte
	nums     []int // workload syscall numbers, repeated by weight
	names    []string
	sec      int64 // audit stamp seconds, milliseconds and serial
	msec     int64
	serial   int64
	uptime   int64 // microseconds since boot, for dmesg and kmsg
	kmsgSeq  int64
	pid      int
	pidLeft  int // records left for the current pid
	i386Left int
}

func newGenerator(w io.Writer) (*generator, error) {
	g := &generator{
		rng:    rand.New(rand.NewPCG(1326, 15)),
		w:      bufio.NewWriterSize(w, 1<<20),
		sec:    1795800000,
		serial: 100000,
		uptime: 812_000_000,
	}
	for _, s := range workload {
		nr, ok := syscalls.X86_64.Number(s.name)
		if !ok {
			return nil, fmt.Errorf("generator: x86_64 has no syscall %q", s.name)
		}
		for range s.weight {
			g.nums = append(g.nums, nr)
			g.names = append(g.names, s.name)
		}
	}
	return g, nil
}

// generateLog writes about size bytes of mixed log to path, through a
// temporary file so that an interrupted run leaves no partial log.
func generateLog(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	g, err := newGenerator(f)
	if err != nil {
		f.Close()
		return err
	}
	var written int64
	for written < size {
		n, err := g.line()
		if err != nil {
			f.Close()
			return err
		}
		written += int64(n)
	}
	if err := g.w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// line writes one line and returns its length.
func (g *generator) line() (int, error) {
	g.tick()
	b := g.buf[:0]
	switch r := g.rng.IntN(1000); {
	case r < mixAuditdSeccomp:
		b = g.auditdSeccomp(b)
	case r < mixAuditdSeccomp+mixAuditdOther:
		b = g.auditdOther(b)
	case r < mixAuditdSeccomp+mixAuditdOther+mixDmesgSeccomp:
		b = g.kernelSeccomp(g.dmesgPrefix(b))
	case r < mixAuditdSeccomp+mixAuditdOther+mixDmesgSeccomp+mixDmesgOther:
		b = g.kernelOther(g.dmesgPrefix(b))
	case r < mixAuditdSeccomp+mixAuditdOther+mixDmesgSeccomp+mixDmesgOther+mixKmsgSeccomp:
		b = g.kernelSeccomp(g.kmsgPrefix(b, 5))
	case r < 1000-mixTruncated:
		b = g.kernelOther(g.kmsgPrefix(b, 6))
	default:
		b = g.kernelSeccomp(g.dmesgPrefix(b))
		b = b[:len(b)-1-g.rng.IntN(len(b)/2)] // cut, as the kernel log cuts long lines
	}
	b = append(b, '\n')
	g.buf = b
	return g.w.Write(b)
}

// tick advances the clocks: some 10,000 records a second.
func (g *generator) tick() {
	g.serial++
	g.uptime += 50 + int64(g.rng.IntN(100))
	if g.rng.IntN(10) == 0 {
		g.msec++
		if g.msec == 1000 {
			g.msec = 0
			g.sec++
		}
	}
}

func (g *generator) stamp(b []byte) []byte {
	b = append(b, "audit("...)
	b = strconv.AppendInt(b, g.sec, 10)
	b = append(b, '.')
	if g.msec < 100 {
		b = append(b, '0')
	}
	if g.msec < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, g.msec, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, g.serial, 10)
	return append(b, "): "...)
}

// nextPID returns the process of the next record: backends make runs of
// syscalls, so a PID repeats for a while.
func (g *generator) nextPID() int {
	if g.pidLeft == 0 {
		g.pid = 20000 + g.rng.IntN(3000)
		g.pidLeft = 1 + g.rng.IntN(40)
	}
	g.pidLeft--
	return g.pid
}

// body appends a seccomp record's fields, as the kernel writes them.
// About one record in ten thousand is an i386 getpid (int $0x80), which
// pgseccomp's filters kill.
func (g *generator) body(b []byte) (out []byte, name string, i386 bool) {
	pid := g.nextPID()
	arch, nr := "c000003e", 0
	if g.rng.IntN(10000) == 0 {
		arch, nr, name, i386 = "40000003", 20, "getpid", true
	} else {
		i := g.rng.IntN(len(g.nums))
		nr, name = g.nums[i], g.names[i]
	}
	code, sig := "0x7ffc0000", "0"
	switch r := g.rng.IntN(1000); {
	case r < 15:
		code = "0x50000"
	case r < 16:
		code, sig = "0x80000000", "31"
	}
	b = append(b, "auid=4294967295 uid=101 gid=104 ses=4294967295 pid="...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, ` comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=`...)
	b = append(b, sig...)
	b = append(b, " arch="...)
	b = append(b, arch...)
	b = append(b, " syscall="...)
	b = strconv.AppendInt(b, int64(nr), 10)
	if arch == "40000003" {
		b = append(b, " compat=1 ip=0x"...)
	} else {
		b = append(b, " compat=0 ip=0x"...)
	}
	b = strconv.AppendUint(b, 0x7f0000000000|g.rng.Uint64N(1<<40), 16)
	b = append(b, " code="...)
	return append(b, code...), name, i386
}

func (g *generator) auditdSeccomp(b []byte) []byte {
	b = append(b, "type=SECCOMP msg="...)
	b = g.stamp(b)
	b, name, i386 := g.body(b)
	b = append(b, "\x1dAUID=\"unset\" UID=\"postgres\" GID=\"postgres\" ARCH="...)
	if i386 {
		b = append(b, "i386"...)
	} else {
		b = append(b, "x86_64"...)
	}
	b = append(b, " SYSCALL="...)
	return append(b, name...)
}

// otherRecords are the other records auditd writes while PostgreSQL is
// exercised: a DBA's session, a service restart, rule-based records.
var otherRecords = []string{
	"type=SYSCALL msg=%s arch=c000003e syscall=59 success=yes exit=0 a0=55d4c3a1e2a0 a1=55d4c3a1e3b0 a2=55d4c3a1e4c0 a3=0 items=2 ppid=20811 pid=20812 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"psql\" exe=\"/usr/lib/postgresql/15/bin/psql\" subj=unconfined key=\"exec\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"joe\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"",
	"type=EXECVE msg=%s argc=4 a0=\"psql\" a1=\"-c\" a2=\"SELECT count(*) FROM pgbench_accounts\" a3=\"bench\"",
	"type=CWD msg=%s cwd=\"/var/lib/postgresql\"",
	"type=PATH msg=%s item=0 name=\"/usr/lib/postgresql/15/bin/psql\" inode=1835209 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"root\"",
	"type=PROCTITLE msg=%s proctitle=7073716C002D630053454C45435420636F756E74282A292046524F4D2070676262656E63685F6163636F756E7473",
	"type=USER_START msg=%s pid=20790 uid=0 auid=1000 ses=3 subj=unconfined msg='op=PAM:session_open grantors=pam_limits,pam_unix acct=\"postgres\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=/dev/pts/0 res=success'\x1dUID=\"root\" AUID=\"joe\"",
	"type=CRED_ACQ msg=%s pid=20790 uid=0 auid=1000 ses=3 subj=unconfined msg='op=PAM:setcred grantors=pam_permit acct=\"postgres\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=/dev/pts/0 res=success'\x1dUID=\"root\" AUID=\"joe\"",
	"type=SERVICE_START msg=%s pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=postgresql@15-main comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'\x1dUID=\"root\" AUID=\"unset\"",
	"type=BPF msg=%s prog-id=117 op=LOAD",
	"type=USER_CMD msg=%s pid=20788 uid=1000 auid=1000 ses=3 subj=unconfined msg='cwd=\"/home/joe\" cmd=73797374656D63746C20726573746172742020706F737467726573716C exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\x1dUID=\"joe\" AUID=\"joe\"",
}

func (g *generator) auditdOther(b []byte) []byte {
	tmpl := otherRecords[g.rng.IntN(len(otherRecords))]
	stamp := g.stamp(nil)
	stamp = stamp[:len(stamp)-1] // the template puts its own space
	return fmt.Appendf(b, tmpl, stamp)
}

func (g *generator) kernelSeccomp(b []byte) []byte {
	b = append(b, "audit: type=1326 "...)
	b = g.stamp(b)
	b, _, _ = g.body(b)
	return b
}

var kernelMessages = []string{
	"kauditd_printk_skb: 489 callbacks suppressed",
	"EXT4-fs (vda): mounted filesystem 0f2d3c4b-aa11-4c2e-9b1e-2f1d3e4c5b6a r/w with ordered data mode. Quota mode: none.",
	"IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
	"audit: type=1400 audit(1795800000.123:4242): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"/usr/sbin/ntpd\" pid=712 comm=\"apparmor_parser\"",
	"postgres[20831]: segfault at 0 ip 000055d4c3a1e2a0 sp 00007ffd7c1b2c30 error 4 in postgres[55d4c3800000+5a4000] likely on CPU 1 (core 1, socket 0)",
	"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/postgresql@15-main.service,task=postgres,pid=20870,uid=101",
	"TCP: request_sock_TCP: Possible SYN flooding on port 5432. Sending cookies.",
}

func (g *generator) kernelOther(b []byte) []byte {
	return append(b, kernelMessages[g.rng.IntN(len(kernelMessages))]...)
}

// dmesgPrefix appends dmesg's "[ 1234.567890] ".
func (g *generator) dmesgPrefix(b []byte) []byte {
	s := strconv.FormatInt(g.uptime/1_000_000, 10)
	b = append(b, '[')
	for i := len(s); i < 5; i++ {
		b = append(b, ' ')
	}
	b = append(b, s...)
	b = append(b, '.')
	us := strconv.FormatInt(g.uptime%1_000_000, 10)
	for i := len(us); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, us...)
	return append(b, "] "...)
}

// kmsgPrefix appends /dev/kmsg's "LEVEL,SEQ,USEC,-;".
func (g *generator) kmsgPrefix(b []byte, level int) []byte {
	g.kmsgSeq++
	b = strconv.AppendInt(b, int64(level), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, g.kmsgSeq, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, g.uptime, 10)
	return append(b, ",-;"...)
}
