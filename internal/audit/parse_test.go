package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// want is what a test expects ParseLine to make of a line.
type want struct {
	found  bool
	err    string // substring of the error; "" for a complete record
	format Format
	pid    int
	arch   syscalls.Arch
	name   string // libseccomp's name
	action Action
	comm   string
	exe    string
	time   string // RFC 3339 in UTC, "" for no date
	serial uint64
	compat int
}

// A real record body from this machine (testdata/kmsg.log) and variations.
const body = `auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6002 comm="exerciser" exe="/tmp/x/exerciser" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7f979f0bb829 code=0x7ffc0000`

var getppid = want{found: true, pid: 6002, arch: syscalls.X86_64, name: "getppid", action: ActionLog,
	comm: "exerciser", exe: "/tmp/x/exerciser", time: "2026-11-27T22:56:22.744Z", serial: 14848}

func with(w want, change func(*want)) want {
	change(&w)
	return w
}

func format(f Format) func(*want) { return func(w *want) { w.format = f } }

var parseTests = []struct {
	name string
	line string
	want want
}{
	// Every format, same record.
	{"kmsg", `5,1289,4484032415,-;audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatKmsg))},
	{"dmesg", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatDmesg))},
	{"dmesg -T", `[Fri Nov 27 22:56:22 2026] audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatDmesg))},
	{"dmesg -x", `kern  :notice: [ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatDmesg))},
	{"dmesg -r", `<5>[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatDmesg))},
	{"journalctl -k", `Nov 27 22:56:22 vm kernel: audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatJournal))},
	{"rsyslog kern.log", `2026-11-27T22:56:22.744810+00:00 vm kernel: [ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatJournal))},
	{"printk text", `audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatKernel))},
	{"bare", `type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatKernel))},
	{"auditd", `type=SECCOMP msg=audit(1795820182.744:14848): ` + body, with(getppid, format(FormatAuditd))},
	{"auditd node", `node=db1 type=SECCOMP msg=audit(1795820182.744:14848): ` + body, with(getppid, format(FormatAuditd))},
	{"auditd numeric type", `type=1326 msg=audit(1795820182.744:14848): ` + body, with(getppid, format(FormatAuditd))},
	{"auditd enriched", "type=SECCOMP msg=audit(1795820182.744:14848): " + body + "\x1dAUID=\"unset\" UID=\"root\" GID=\"root\" ARCH=x86_64 SYSCALL=getppid", with(getppid, format(FormatAuditd))},
	{"auditd enriched cut", "type=SECCOMP msg=audit(1795820182.744:14848): " + body + "\x1dAUID=\"unset\" UID=\"ro", with(getppid, format(FormatAuditd))},
	{"newline", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body + "\n", with(getppid, format(FormatDmesg))},
	{"crlf", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body + "\r\n", with(getppid, format(FormatDmesg))},
	{"journal audit short-iso", `2026-11-27T22:56:22+0000 vm audit[6002]: SECCOMP ` + body,
		with(getppid, func(w *want) { w.format, w.time, w.serial = FormatJournalAudit, "2026-11-27T22:56:22Z", 0 })},
	{"journal audit short-iso-precise", `2026-11-27T22:56:22.744810+00:00 vm audit[6002]: SECCOMP ` + body,
		with(getppid, func(w *want) { w.format, w.time, w.serial = FormatJournalAudit, "2026-11-27T22:56:22.74481Z", 0 })},
	{"journal audit short-unix", `1795820182.744810 vm audit[6002]: SECCOMP ` + body,
		with(getppid, func(w *want) { w.format, w.time, w.serial = FormatJournalAudit, "2026-11-27T22:56:22.74481Z", 0 })},
	{"journal audit short", `Nov 27 22:56:22 vm audit[6002]: SECCOMP ` + body,
		with(getppid, func(w *want) { w.format, w.time, w.serial = FormatJournalAudit, "", 0 })},
	{"journal audit without pid", `Nov 27 22:56:22 vm audit: SECCOMP ` + body,
		with(getppid, func(w *want) { w.format, w.time, w.serial = FormatJournalAudit, "", 0 })},
	{"journal audit, comm with type=", `Nov 27 22:56:22 vm audit[6002]: SECCOMP ` + strings.Replace(body, `comm="exerciser"`, `comm="type=1326"`, 1),
		with(getppid, func(w *want) { w.format, w.time, w.serial, w.comm = FormatJournalAudit, "", 0, "type=1326" })},
	{"journalctl -o short-monotonic", `[ 4484.032415] vm kernel: audit: type=1326 audit(1795820182.744:14848): ` + body, with(getppid, format(FormatJournal))},

	// Real lines from public reports (GitHub issues firejail#3543,
	// nsjail#158, seafile_ynh#95, systemd#9939).
	{"firejail journal kernel", `Jul 24 09:10:46 korte kernel: audit: type=1326 audit(1595581845.049:36): auid=4294967295 uid=1000 gid=1000 ses=4294967295 pid=14351 comm="github-desktop" exe="/usr/lib/github-desktop/github-desktop" sig=31 arch=c000003e syscall=161 compat=0 ip=0x7f024fe5d70d code=0x0`,
		want{found: true, format: FormatJournal, pid: 14351, arch: syscalls.X86_64, name: "chroot", action: ActionKillThread,
			comm: "github-desktop", exe: "/usr/lib/github-desktop/github-desktop", time: "2020-07-24T09:10:45.049Z", serial: 36}},
	{"firejail journal audit", `Jul 24 09:10:45 korte audit[14351]: SECCOMP auid=4294967295 uid=1000 gid=1000 ses=4294967295 pid=14351 comm="github-desktop" exe="/usr/lib/github-desktop/github-desktop" sig=31 arch=c000003e syscall=161 compat=0 ip=0x7f024fe5d70d code=0x0`,
		want{found: true, format: FormatJournalAudit, pid: 14351, arch: syscalls.X86_64, name: "chroot", action: ActionKillThread,
			comm: "github-desktop", exe: "/usr/lib/github-desktop/github-desktop"}},
	{"audispd syslog, AppArmor label with a space", `Jan 29 07:58:12 host audispd[568]: node=host type=SECCOMP msg=audit(1611907092.540:26626): auid=22776 uid=22776 gid=89939 ses=11 subj==untrusted (complain) pid=7743 comm="clang++" exe="/usr/local/bin/clang" sig=31 arch=c000003e syscall=12 compat=0 ip=0x7fa45496bcb7 code=0x0`,
		want{found: true, format: FormatSyslog, pid: 7743, arch: syscalls.X86_64, name: "brk", action: ActionKillThread,
			comm: "clang++", exe: "/usr/local/bin/clang", time: "2021-01-29T07:58:12.54Z", serial: 26626}},
	{"localized journal, kill_process", `oct. 24 00:48:51 home.example.net audit[811024]: SECCOMP auid=4294967295 uid=993 gid=993 ses=4294967295 subj==unconfined pid=811024 comm="python3" exe="/usr/bin/python3.9" sig=31 arch=c000003e syscall=105 compat=0 ip=0x7f58148a5782 code=0x80000000`,
		want{found: true, format: FormatJournalAudit, pid: 811024, arch: syscalls.X86_64, name: "setuid", action: ActionKillProcess,
			comm: "python3", exe: "/usr/bin/python3.9"}},

	// Other ABIs: resolved by the record's arch=, never the host's.
	{"i386", `type=SECCOMP msg=audit(1795820196.324:14930): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6283 comm="exerciser" exe="/tmp/x/exerciser" sig=0 arch=40000003 syscall=20 compat=1 ip=0x558415135200 code=0x7ffc0000`,
		want{found: true, format: FormatAuditd, pid: 6283, arch: syscalls.I386, name: "getpid", action: ActionLog,
			comm: "exerciser", exe: "/tmp/x/exerciser", time: "2026-11-27T22:56:36.324Z", serial: 14930, compat: 1}},
	{"x32", `type=SECCOMP msg=audit(1795820196.324:14931): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6283 comm="exerciser" exe="/tmp/x/exerciser" sig=0 arch=c000003e syscall=1073741863 compat=0 ip=0x55841513520e code=0x7ffc0000`,
		want{found: true, format: FormatAuditd, pid: 6283, arch: syscalls.X32, name: "getpid", action: ActionLog,
			comm: "exerciser", exe: "/tmp/x/exerciser", time: "2026-11-27T22:56:36.324Z", serial: 14931}},
	{"aarch64", `[  812.114721] audit: type=1326 audit(1700000000.001:77): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c00000b7 syscall=78 compat=0 ip=0xffff8a1c2d34 code=0x50000`,
		want{found: true, format: FormatDmesg, pid: 4242, arch: syscalls.AArch64, name: "readlinkat", action: ActionErrno,
			comm: "postgres", exe: "/usr/lib/postgresql/15/bin/postgres", time: "2023-11-14T22:13:20.001Z", serial: 77}},
	{"arm compat", `[  812.114721] audit: type=1326 audit(1700000000.001:78): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4243 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=40000028 syscall=85 compat=1 ip=0xf7a1c2d4 code=0x7ffc0000`,
		want{found: true, format: FormatDmesg, pid: 4243, arch: syscalls.ARM, name: "readlink", action: ActionLog,
			comm: "postgres", exe: "/usr/lib/postgresql/15/bin/postgres", time: "2023-11-14T22:13:20.001Z", serial: 78, compat: 1}},

	// Field encodings.
	{"hex comm and exe", `[ 4477.006421] audit: type=1326 audit(1795820176.720:14834): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=5868 comm=657865722063697365 exe=2F746D702F6F646420646972 sig=0 arch=c000003e syscall=110 compat=0 ip=0x7f1b2c3d4e5f code=0x7ffc0000`,
		want{found: true, format: FormatDmesg, pid: 5868, arch: syscalls.X86_64, name: "getppid", action: ActionLog,
			comm: "exer cise", exe: "/tmp/odd dir", time: "2026-11-27T22:56:16.72Z", serial: 14834}},
	{"null comm, bare exe", `audit: type=1326 audit(1795820176.720:1): auid=0 uid=0 gid=0 ses=1 pid=1 comm=(null) exe=/sbin/init sig=0 arch=c000003e syscall=0 compat=0 ip=0x1 code=0x7ffc0000`,
		want{found: true, format: FormatKernel, pid: 1, arch: syscalls.X86_64, name: "read", action: ActionLog,
			comm: "", exe: "/sbin/init", time: "2026-11-27T22:56:16.72Z", serial: 1}},
	{"no compat (old kernel), errno with data", `audit: type=1326 audit(1400000000.000:9): auid=0 uid=0 gid=0 ses=1 pid=9 comm="a" exe="/a" sig=0 arch=c000003e syscall=2 ip=0x1 code=0x5000d`,
		want{found: true, format: FormatKernel, pid: 9, arch: syscalls.X86_64, name: "open", action: ActionErrno,
			comm: "a", exe: "/a", time: "2014-05-13T16:53:20Z", serial: 9, compat: -1}},
	{"unknown syscall number", `audit: type=1326 audit(1400000000.000:9): auid=0 uid=0 gid=0 ses=1 pid=9 comm="a" exe="/a" sig=0 arch=c000003e syscall=999 compat=0 ip=0x1 code=0x7ffc0000`,
		want{found: true, format: FormatKernel, pid: 9, arch: syscalls.X86_64, name: "", action: ActionLog,
			comm: "a", exe: "/a", time: "2014-05-13T16:53:20Z", serial: 9}},
	{"unknown arch", `audit: type=1326 audit(1400000000.000:9): auid=0 uid=0 gid=0 ses=1 pid=9 comm="a" exe="/a" sig=0 arch=8 syscall=4001 compat=0 ip=0x1 code=0x7ffc0000`,
		want{found: true, format: FormatKernel, pid: 9, arch: 0, name: "", action: ActionLog,
			comm: "a", exe: "/a", time: "2014-05-13T16:53:20Z", serial: 9}},

	// Cut short: dmesg and the journal cut long lines at the kernel's limit.
	{"cut in exe", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6002 comm="exerciser" exe="/tmp/dddddddd`, want{found: true, err: "cut short"}},
	{"cut before code", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6002 comm="exerciser" exe="/tmp/x" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7f979f0bb829`, want{found: true, err: "cut short"}},
	{"cut in code", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=0 uid=0 gid=0 ses=1 pid=6002 comm="x" exe="/x" sig=0 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x7ffc000`, want{found: true, err: "truncated"}},
	{"cut in kill code", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=0 uid=0 gid=0 ses=1 pid=6002 comm="x" exe="/x" sig=31 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x8000000`, want{found: true, err: "truncated"}},
	{"cut in errno code", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=0 uid=0 gid=0 ses=1 pid=6002 comm="x" exe="/x" sig=0 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x5000`, want{found: true, err: "truncated"}},
	{"cut at code=0x", `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=0 uid=0 gid=0 ses=1 pid=6002 comm="x" exe="/x" sig=0 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x`, want{found: true, err: "truncated"}},
	{"cut in stamp", `[ 4484.032415] audit: type=1326 audit(1795820182.7`, want{found: true, err: "cut short"}},
	{"cut after type", `type=SECCOMP`, want{found: true, err: "cut short"}},
	{"cut after msg", `type=SECCOMP msg=aud`, want{found: true, err: "cut short"}},
	{"cut after stamp", `type=SECCOMP msg=audit(1795820182.744:14848): auid=4294967295`, want{found: true, err: "cut short"}},

	// Malformed fields.
	{"bad arch", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 comm="a" exe="/a" sig=0 arch=zz syscall=1 compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: `bad arch= value "zz"`}},
	{"bad syscall", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 comm="a" exe="/a" sig=0 arch=c000003e syscall=read compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: `bad syscall= value "read"`}},
	{"bad pid", `type=SECCOMP msg=audit(1795820182.744:1): pid=-1 comm="a" exe="/a" sig=0 arch=c000003e syscall=1 compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: `bad pid= value "-1"`}},
	{"no arch", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 comm="a" exe="/a" sig=0 syscall=1 compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: "no arch= field"}},
	{"no syscall", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 comm="a" exe="/a" sig=0 arch=c000003e compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: "no syscall= field"}},
	{"no pid", `type=SECCOMP msg=audit(1795820182.744:1): comm="a" exe="/a" sig=0 arch=c000003e syscall=1 compat=0 ip=0x1 code=0x7ffc0000`, want{found: true, err: "no pid= field"}},
	{"data on a log code", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 arch=c000003e syscall=1 code=0x7ffc0001`, want{found: true, err: "not a seccomp action"}},
	{"unknown action", `type=SECCOMP msg=audit(1795820182.744:1): pid=1 arch=c000003e syscall=1 code=0x12340000`, want{found: true, err: "not a seccomp action"}},
	{"no stamp", `type=SECCOMP msg=hello pid=1 arch=c000003e syscall=1 code=0x7ffc0000`, want{found: true, err: "no audit(TIME:SERIAL) stamp"}},
	{"bad stamp", `type=SECCOMP msg=audit(17958x0182.744:1): pid=1 arch=c000003e syscall=1 code=0x7ffc0000`, want{found: true, err: "malformed audit(TIME:SERIAL) stamp"}},

	// Unrelated lines.
	{"empty", ``, want{}},
	{"syscall record", `type=SYSCALL msg=audit(1795820182.744:2): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="ls" exe="/bin/ls" key=(null)`, want{}},
	{"daemon start", `type=DAEMON_START msg=audit(1795820196.291:3328): op=start ver=3.0.9 format=raw kernel=6.18.44-fc-v669 auid=4294967295 pid=6276 uid=0 ses=4294967295 res=success`, want{}},
	{"rate limit", `4,1306,4496154579,-;kauditd_printk_skb: 20 callbacks suppressed`, want{}},
	{"journald", `Nov 27 22:56:37 vm systemd-journald[6306]: Journal started`, want{}},
	{"kmsg continuation", ` SUBSYSTEM=virtio`, want{}},
	{"user message quoting a record", `type=USER msg=audit(1795820182.744:3): pid=1 uid=0 auid=0 ses=1 msg='text type=SECCOMP msg=audit(1.000:1): pid=1 arch=c000003e syscall=59 code=0x7ffc0000 exe="/usr/sbin/auditctl" hostname=vm addr=? terminal=pts/0 res=success'`, want{}},
	{"kernel user message quoting a record", `[ 4496.1] audit: type=1107 audit(1795820182.744:3): pid=1 uid=0 auid=0 ses=1 msg='x type=1326 audit(1.000:1): pid=1 arch=c000003e syscall=59 code=0x7ffc0000'`, want{}},
	{"journal user message quoting a record", `Nov 27 22:56:37 vm audit[1]: USER pid=1 uid=0 msg='x audit[2]: SECCOMP pid=1 arch=c000003e syscall=59 code=0x7ffc0000'`, want{}},
	{"other type number", `audit: type=13260 audit(1795820182.744:1): pid=1 arch=c000003e syscall=1 code=0x7ffc0000`, want{}},
	{"other type name", `type=SECCOMPX msg=audit(1795820182.744:1): pid=1 arch=c000003e syscall=1 code=0x7ffc0000`, want{}},
	{"word SECCOMP", `Nov 27 22:56:37 vm postgres[12]: LOG: SECCOMP filter loaded`, want{}},
	{"postgres pgseccomp", `2026-11-27 22:56:37 UTC [12] LOG:  pgseccomp: session filter loaded`, want{}},
}

func TestParseLine(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			found, err := ParseLine([]byte(tt.line), &r)
			w := tt.want
			if found != w.found {
				t.Fatalf("found = %v (err %v), want %v", found, err, w.found)
			}
			if !found {
				return
			}
			switch {
			case w.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case w.err != "" && (err == nil || !strings.Contains(err.Error(), w.err)):
				t.Fatalf("error %v, want one containing %q", err, w.err)
			case w.err != "":
				return
			}
			checkRecord(t, &r, w)
		})
	}
}

func checkRecord(t *testing.T, r *Record, w want) {
	t.Helper()
	if r.Format != w.format {
		t.Errorf("format %v, want %v", r.Format, w.format)
	}
	if r.PID != w.pid || string(r.Comm) != w.comm || string(r.Exe) != w.exe {
		t.Errorf("pid %d comm %q exe %q, want %d %q %q", r.PID, r.Comm, r.Exe, w.pid, w.comm, w.exe)
	}
	arch, name, _ := r.Resolve()
	if arch != w.arch || name != w.name || r.Action() != w.action {
		t.Errorf("%v %q %v, want %v %q %v", arch, name, r.Action(), w.arch, w.name, w.action)
	}
	gotTime := ""
	if !r.Time.IsZero() {
		gotTime = r.Time.UTC().Format(time.RFC3339Nano)
	}
	if gotTime != w.time || r.Serial != w.serial {
		t.Errorf("time %q serial %d, want %q %d", gotTime, r.Serial, w.time, w.serial)
	}
	if r.Compat != w.compat {
		t.Errorf("compat %d, want %d", r.Compat, w.compat)
	}
}

// A Record reused for the next line holds nothing of the previous one.
func TestParseLineReuse(t *testing.T) {
	var r Record
	lines := []string{
		`audit: type=1326 audit(1795820176.720:14834): auid=1 uid=2 gid=3 ses=1 pid=5868 comm=657865722063697365 exe=2F746D702F6F646420646972 sig=31 arch=40000003 syscall=20 compat=1 ip=0x1 code=0x80000000`,
		"type=SECCOMP msg=audit(1.000:2): pid=7 comm=\"b\" arch=c000003e syscall=1 code=0x7ffc0000\x1dARCH=x86_64 SYSCALL=write",
		`Nov 27 22:56:22 vm audit[8]: SECCOMP pid=8 arch=c000003e syscall=2 code=0x7ffc0000`,
	}
	for _, l := range lines {
		if _, err := ParseLine([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
	}
	if r.PID != 8 || len(r.Comm) != 0 || len(r.Exe) != 0 || r.Signal != 0 || r.Compat != -1 || r.UID != Unset ||
		r.Enriched != nil || r.Serial != 0 || !r.Time.IsZero() || r.IP != 0 {
		t.Errorf("fields left from earlier lines: %+v", r)
	}
	// An unrelated line leaves the record alone.
	if found, _ := ParseLine([]byte("type=DAEMON_END msg=audit(1.000:3): op=terminate"), &r); found || r.PID != 8 {
		t.Errorf("unrelated line: found %v, pid %d", found, r.PID)
	}
	c := r.Clone()
	if _, err := ParseLine([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	if c.PID != 8 || string(r.Comm) != "exer cise" {
		t.Errorf("clone %+v, record %+v", c, r)
	}
}

func TestEnrichedFields(t *testing.T) {
	var r Record
	line := "type=SECCOMP msg=audit(1795820120.064:14741): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4129 comm=\"exerciser\" exe=\"/tmp/x\" sig=0 arch=40000003 syscall=20 compat=1 ip=0x558415135200 code=0x7ffc0000\x1dAUID=\"unset\" UID=\"root\" GID=\"root\" ARCH=i386 SYSCALL=unknown-syscall(-1)"
	if _, err := ParseLine([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	arch, sys, uid := r.EnrichedField("ARCH"), r.EnrichedField("SYSCALL"), r.EnrichedField("UID")
	if string(arch) != "i386" || string(sys) != "unknown-syscall(-1)" || string(uid) != "root" || r.Code != 0x7ffc0000 {
		t.Errorf("enriched ARCH %q SYSCALL %q UID %q code %#x", arch, sys, uid, r.Code)
	}
	if v := r.EnrichedField("ARC"); v != nil {
		t.Errorf("EnrichedField(ARC) = %q", v)
	}
}

func TestPrefixTime(t *testing.T) {
	for _, tt := range []struct{ prefix, want string }{
		{"2026-11-27T22:56:39+0000 vm audit[6318]: ", "2026-11-27T22:56:39Z"},
		{"2026-11-27T23:56:39+0100 vm audit[6318]: ", "2026-11-27T22:56:39Z"},
		{"2026-11-27T22:56:39.572000+0000 vm ", "2026-11-27T22:56:39.572Z"},
		{"2026-11-27T22:56:39.572000+00:00 vm ", "2026-11-27T22:56:39.572Z"},
		{"2026-11-27T22:56:39Z vm ", "2026-11-27T22:56:39Z"},
		{"1795820199.572000 vm audit[6318]: ", "2026-11-27T22:56:39.572Z"},
		{"1795820199.5 vm ", "2026-11-27T22:56:39.5Z"},
		{"Nov 27 22:56:39 vm audit[6318]: ", ""},
		{"Nov 27 22:56:39.572000 vm ", ""},
		{"Fri 2026-11-27 22:56:39 UTC vm ", ""},
		{"[ 4500.864663] vm audit[6318]: ", ""},
		{"", ""},
		{"2026-11-27T25:56:39+0000 vm ", ""},
		{"1795820199. vm ", ""},
		{"1795820199.12345678901 vm ", ""},
	} {
		got := ""
		if tm := prefixTime([]byte(tt.prefix)); !tm.IsZero() {
			got = tm.UTC().Format(time.RFC3339Nano)
		}
		if got != tt.want {
			t.Errorf("prefixTime(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestParseActions(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []Action
	}{
		{"log", []Action{ActionLog}},
		{"error,errno", []Action{ActionErrno, ActionErrno}},
		{" Kill ", []Action{ActionKillProcess, ActionKillThread}},
		{"kill_process,kill_thread,trap,trace,allow,user_notif,notify", []Action{ActionKillProcess, ActionKillThread, ActionTrap, ActionTrace, ActionAllow, ActionUserNotif, ActionUserNotif}},
		{"0x7ffc0000", []Action{ActionLog}},
		{"0x50000", []Action{ActionErrno}},
		{"0x5000d", []Action{ActionErrno}},
		{"0x0", []Action{ActionKillThread}},
	} {
		got, err := ParseActions(tt.in)
		if err != nil || !equalActions(got, tt.want) {
			t.Errorf("ParseActions(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "deny", "log,", "0x1234", "0xzz", "kill process"} {
		if _, err := ParseActions(bad); err == nil || !strings.Contains(err.Error(), "unknown action") {
			t.Errorf("ParseActions(%q) = %v, want an unknown action error", bad, err)
		}
	}
	for _, a := range Actions {
		back, err := ParseActions(a.String())
		if err != nil || len(back) != 1 || back[0] != a {
			t.Errorf("%v does not round-trip: %v, %v", a, back, err)
		}
	}
}

func equalActions(a, b []Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte("type=SECCOMP msg=audit(1795820182.744:14848): " + body + "\x1dAUID=\"unset\" UID=\"root\" GID=\"root\" ARCH=x86_64 SYSCALL=getppid")
	unrelated := []byte(`type=SYSCALL msg=audit(1795820182.744:2): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="ls" exe="/bin/ls" key=(null)`)
	var r Record
	b.Run("seccomp", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			ParseLine(line, &r)
		}
	})
	b.Run("unrelated", func(b *testing.B) {
		b.SetBytes(int64(len(unrelated)))
		for b.Loop() {
			ParseLine(unrelated, &r)
		}
	})
}

// TestSession reads ses=, the audit session a recorder tells its server's
// records by, on the fast path and on the field-by-field one.
func TestSession(t *testing.T) {
	withSes := strings.Replace(body, "ses=4294967295", "ses=42", 1)
	tests := []struct {
		name, line string
		want       uint32
	}{
		{"unset, fast path", "type=1326 audit(1795820182.744:14848): " + body, Unset},
		{"set, fast path", "type=1326 audit(1795820182.744:14848): " + withSes, 42},
		{"set, field by field", "type=1326 audit(1795820182.744:14848): uid=0 " + withSes, 42},
		{"unset word, field by field", "type=1326 audit(1795820182.744:14848): uid=0 " + strings.Replace(body, "ses=4294967295", "ses=unset", 1), Unset},
		{"absent", "type=1326 audit(1795820182.744:14848): pid=1 arch=c000003e syscall=0 code=0x7ffc0000", Unset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Record
			found, err := ParseLine([]byte(tt.line), &rec)
			if !found || err != nil {
				t.Fatalf("ParseLine: found %v, err %v", found, err)
			}
			if rec.Session != tt.want {
				t.Errorf("Session = %d, want %d", rec.Session, tt.want)
			}
		})
	}
}
