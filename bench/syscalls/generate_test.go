package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The generated log is what the benchmark claims: the mix of lines, real
// record layouts every parser reads, and the same bytes every time.
func TestGeneratedLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mixed.log")
	const size = 4 << 20
	if err := generateLog(path, size); err != nil {
		t.Fatal(err)
	}
	var info logInfo
	if err := describeLog(path, &info); err != nil {
		t.Fatal(err)
	}
	if info.Bytes < size || info.Bytes > size+2000 {
		t.Errorf("%d bytes, want about %d", info.Bytes, size)
	}
	share := func(n int64) float64 { return float64(n) / float64(info.Lines) }
	wantRecords := float64(mixAuditdSeccomp+mixDmesgSeccomp+mixKmsgSeccomp) / 1000
	wantMalformed := float64(mixTruncated) / 1000
	if math.Abs(share(info.Records)-wantRecords) > 0.02 || math.Abs(share(info.Malformed)-wantMalformed) > 0.003 {
		t.Errorf("%d lines: %.3f records (want %.3f), %.4f malformed (want %.4f)",
			info.Lines, share(info.Records), wantRecords, share(info.Malformed), wantMalformed)
	}
	var names []string
	for _, w := range workload {
		names = append(names, w.name)
	}
	for _, n := range info.X86_64 {
		if !slices.Contains(names, n) {
			t.Errorf("x86_64 syscall %q is not in the workload", n)
		}
	}
	if len(info.X86_64) < len(workload)*3/4 {
		t.Errorf("only %d of the workload's %d syscalls: %v", len(info.X86_64), len(workload), info.X86_64)
	}

	again := filepath.Join(dir, "again.log")
	if err := generateLog(again, size); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two runs of the generator differ")
	}
}

// The talk's script, run as the benchmark runs it, reads auditd's
// type=SECCOMP lines by field position and names numbers as x86_64's.
func TestTalkScript(t *testing.T) {
	for _, tool := range []string{"bash", "grep", "cut", "sort", "uniq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	lines := []string{
		"type=SECCOMP msg=audit(1795820196.324:1): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm=\"postgres\" exe=\"/usr/lib/postgresql/15/bin/postgres\" sig=0 arch=c000003e syscall=89 compat=0 ip=0x1 code=0x7ffc0000\x1dARCH=x86_64 SYSCALL=readlink",
		"type=SECCOMP msg=audit(1795820196.324:2): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm=\"postgres\" exe=\"/usr/lib/postgresql/15/bin/postgres\" sig=0 arch=c000003e syscall=0 compat=0 ip=0x1 code=0x7ffc0000",
		"type=SECCOMP msg=audit(1795820196.324:3): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm=\"postgres\" exe=\"/usr/lib/postgresql/15/bin/postgres\" sig=0 arch=40000003 syscall=20 compat=1 ip=0x1 code=0x7ffc0000",
		"[ 4484.032415] audit: type=1326 audit(1795820182.744:4): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm=\"postgres\" exe=\"/usr/lib/postgresql/15/bin/postgres\" sig=0 arch=c000003e syscall=1 compat=0 ip=0x1 code=0x7ffc0000",
	}
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "get_syscalls.sh")
	if err := os.WriteFile(script, []byte(talkScript), 0o755); err != nil {
		t.Fatal(err)
	}
	// scmp_sys_resolver, or this test binary standing in for it (TestMain).
	resolver, _, err := findResolver()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script, log)
	cmd.Env = append(os.Environ(), "SYS_RESOLVER="+resolver)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// i386's getpid (20) comes out as x86_64's writev; the kernel-log
	// record (write) is not read at all.
	if got := strings.TrimSpace(string(out)); got != "read,readlink,writev" {
		t.Errorf("talk script printed %q", got)
	}
}

func TestCheckLists(t *testing.T) {
	c := checkLists("read,write", "read,writev", []string{"read", "write"})
	if c.Pgseccomp != 2 || len(c.MissingFromPgseccomp) != 0 || len(c.ExtraInPgseccomp) != 0 ||
		!slices.Equal(c.MissingFromTalk, []string{"write"}) || !slices.Equal(c.ExtraInTalk, []string{"writev"}) {
		t.Errorf("%+v", c)
	}
	if c := checkLists("", "", []string{"read"}); !slices.Equal(c.MissingFromPgseccomp, []string{"read"}) {
		t.Errorf("empty output: %+v", c)
	}
}

func TestMedian(t *testing.T) {
	if median([]float64{1, 2, 9}) != 2 || median([]float64{1, 2, 3, 9}) != 2.5 {
		t.Error("median")
	}
}

// TestMain lets the test binary stand in for scmp_sys_resolver, as the
// benchmark's binary does.
func TestMain(m *testing.M) {
	if os.Getenv(resolverEnv) == "1" {
		os.Exit(resolve(os.Args[1:]))
	}
	os.Exit(m.Run())
}
