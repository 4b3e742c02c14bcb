package audit

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// The records testdata/exerciser.c and the live test's helper make (see
// testdata/README.md).
var fixtureKinds = []wantRecord{
	{syscalls.X86_64, "getppid", ActionLog},
	{syscalls.X86_64, "getpgrp", ActionErrno},
	{syscalls.X86_64, "getsid", ActionTrace},
	{syscalls.X86_64, "getpriority", ActionTrap},
	{syscalls.X86_64, "setpgid", ActionKillProcess},
	{syscalls.I386, "getpid", ActionLog},
	{syscalls.X32, "getpid", ActionLog},
}

// fixtureFiles are the fixtures and the format of their records (journal
// files also hold journald's audit transport, FormatJournalAudit); dated
// tells whether journal-audit lines carry a date in their prefix.
var fixtureFiles = []struct {
	name   string
	format Format
	dated  bool
}{
	{"kmsg.log", FormatKmsg, true},
	{"dmesg.log", FormatDmesg, true},
	{"dmesg-T.log", FormatDmesg, true},
	{"dmesg-x.log", FormatDmesg, true},
	{"audit-enriched.log", FormatAuditd, true},
	{"audit-raw.log", FormatAuditd, true},
	{"journal-k.log", FormatJournal, true},
	{"journal-short.log", FormatJournal, false},
	{"journal-short-precise.log", FormatJournal, false},
	{"journal-short-full.log", FormatJournal, false},
	{"journal-short-monotonic.log", FormatJournal, false},
	{"journal-short-iso.log", FormatJournal, true},
	{"journal-short-iso-precise.log", FormatJournal, true},
	{"journal-short-unix.log", FormatJournal, true},
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return lines
}

var stampRE = regexp.MustCompile(`audit\((\d+)\.(\d{3}):(\d+)\)`)

// TestFixtures checks every line of every fixture against what an
// independent reading of the line (substrings, a regular expression)
// says it is.
func TestFixtures(t *testing.T) {
	for _, ff := range fixtureFiles {
		t.Run(ff.name, func(t *testing.T) {
			kinds := map[wantRecord]int{}
			var records, malformed, unrelated int
			for i, line := range readLines(t, filepath.Join("testdata", ff.name)) {
				where := fmt.Sprintf("%s:%d", ff.name, i+1)
				kernel := strings.Contains(line, "audit: type=1326 audit(")
				auditd := strings.HasPrefix(line, "type=SECCOMP msg=audit(")
				journalAudit := strings.Contains(line, "]: SECCOMP ")
				cut := strings.Contains(line, "dddddddddd") && !strings.Contains(line, " code=0x")

				var r Record
				found, err := ParseLine([]byte(line), &r)
				switch {
				case found != (kernel || auditd || journalAudit):
					t.Fatalf("%s: found %v, err %v: %s", where, found, err, line)
				case !found:
					unrelated++
					continue
				case cut:
					if err == nil || !strings.Contains(err.Error(), "cut short") {
						t.Fatalf("%s: a cut record gave error %v: %s", where, err, line)
					}
					malformed++
					continue
				case err != nil:
					t.Fatalf("%s: %v: %s", where, err, line)
				}
				records++
				checkFixtureRecord(t, where, line, &r, ff.format, journalAudit, ff.dated)
				arch, name, _ := r.Resolve()
				kinds[wantRecord{arch, name, r.Action()}]++
			}
			for k := range kinds {
				if !contains(fixtureKinds, k) {
					t.Errorf("unexpected record kind %v", k)
				}
			}
			// Kernel logs lose records to the rate limit; auditd does not.
			if ff.format == FormatAuditd && len(kinds) != len(fixtureKinds) {
				t.Errorf("record kinds %v, want all of %v", kinds, fixtureKinds)
			}
			if len(kinds) < 3 {
				t.Errorf("only %d record kinds: %v", len(kinds), kinds)
			}
			t.Logf("%d records, %d malformed, %d unrelated; kinds %v", records, malformed, unrelated, kinds)
			if ff.format != FormatAuditd && malformed == 0 {
				t.Error("no cut records: the long-path exerciser's records should be cut in kernel logs")
			}
		})
	}
}

func checkFixtureRecord(t *testing.T, where, line string, r *Record, format Format, journalAudit, dated bool) {
	t.Helper()
	wantFormat := format
	if journalAudit {
		wantFormat = FormatJournalAudit
	}
	if r.Format != wantFormat {
		t.Errorf("%s: format %v, want %v", where, r.Format, wantFormat)
	}
	if r.PID <= 0 || r.UID != 0 || r.GID != 0 || r.AUID != Unset || r.IP == 0 {
		t.Errorf("%s: pid %d uid %d gid %d auid %d ip %#x", where, r.PID, r.UID, r.GID, r.AUID, r.IP)
	}
	if !strings.Contains(line, fmt.Sprintf(" pid=%d ", r.PID)) {
		t.Errorf("%s: pid %d is not the line's", where, r.PID)
	}
	wantExe := map[string]string{"audit.test": "/audit.test", "exerciser": "/exerciser", "exer cise": "/odd dir/exer cise"}[string(r.Comm)]
	if wantExe == "" || !strings.HasSuffix(string(r.Exe), wantExe) {
		t.Errorf("%s: comm %q exe %q", where, r.Comm, r.Exe)
	}
	if m := stampRE.FindStringSubmatch(line); m != nil {
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		ms, _ := strconv.ParseInt(m[2], 10, 64)
		serial, _ := strconv.ParseUint(m[3], 10, 64)
		if want := time.Unix(sec, ms*1e6); !r.Time.Equal(want) || r.Serial != serial {
			t.Errorf("%s: time %v serial %d, want %v %d", where, r.Time, r.Serial, want, serial)
		}
	} else if journalAudit {
		if r.Time.IsZero() == dated || r.Serial != 0 {
			t.Errorf("%s: time %v serial %d; this prefix is dated: %v", where, r.Time, r.Serial, dated)
		}
	} else {
		t.Errorf("%s: a stamped format without a stamp", where)
	}
	arch, _ := r.Arch()
	if r.Signal != 0 && r.Action() != ActionKillProcess || r.Action() == ActionKillProcess && r.Signal != 31 {
		t.Errorf("%s: sig %d for %v", where, r.Signal, r.Action())
	}
	if (arch == syscalls.I386) != (r.Compat == 1) {
		t.Errorf("%s: compat %d for %v", where, r.Compat, arch)
	}
	if strings.Contains(line, "\x1d") {
		wantArch := "x86_64" // auditd knows no x32: it reports the audit arch
		if arch == syscalls.I386 {
			wantArch = "i386"
		}
		if got := string(r.EnrichedField("ARCH")); got != wantArch {
			t.Errorf("%s: enriched ARCH %q, want %q", where, got, wantArch)
		}
	} else if r.Enriched != nil {
		t.Errorf("%s: enriched %q on a line without 0x1d", where, r.Enriched)
	}
}

// recordKey identifies one kernel record across logs: its stamp.
type recordKey struct {
	serial uint64
	pid    int
}

// TestFixturesAgree: a record the kernel wrote once parses the same from
// every log that shows it.
func TestFixturesAgree(t *testing.T) {
	seen := map[recordKey]*Record{}
	where := map[recordKey]string{}
	compared := 0
	for _, ff := range fixtureFiles {
		for i, line := range readLines(t, filepath.Join("testdata", ff.name)) {
			var r Record
			if found, err := ParseLine([]byte(line), &r); !found || err != nil || r.Serial == 0 {
				continue
			}
			key := recordKey{r.Serial, r.PID}
			here := fmt.Sprintf("%s:%d", ff.name, i+1)
			first, ok := seen[key]
			if !ok {
				seen[key], where[key] = r.Clone(), here
				continue
			}
			a, b := *first, *r.Clone()
			a.Format, b.Format, a.Enriched, b.Enriched = 0, 0, nil, nil
			a.commBuf, a.exeBuf, b.commBuf, b.exeBuf = nil, nil, nil, nil
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("record %d differs:\n%s: %+v\n%s: %+v", key.serial, where[key], a, here, b)
			}
			compared++
		}
	}
	if compared < 50 {
		t.Errorf("only %d records appear in more than one log", compared)
	}
}

// TestAuparseAgrees: on auditd's lines, go-libaudit's parser reads the
// same fields. (It reads only auditd's format, and on ENRICHED lines runs
// the 0x1d separator into code=, so code is compared on RAW lines only.)
func TestAuparseAgrees(t *testing.T) {
	for _, name := range []string{"audit-raw.log", "audit-enriched.log"} {
		n := 0
		for i, line := range readLines(t, filepath.Join("testdata", name)) {
			var r Record
			if found, err := ParseLine([]byte(line), &r); !found || err != nil {
				continue
			}
			msg, err := auparse.ParseLogLine(line)
			if err != nil {
				t.Fatalf("%s:%d: auparse: %v", name, i+1, err)
			}
			data, err := msg.Data()
			if err != nil {
				t.Fatalf("%s:%d: auparse: %v", name, i+1, err)
			}
			arch, sysName, _ := r.Resolve()
			wantArch := arch.String()
			if arch == syscalls.X32 {
				wantArch = "x86_64"
			}
			checks := map[string]string{
				"pid":  strconv.Itoa(r.PID),
				"comm": string(r.Comm),
				"exe":  string(r.Exe),
				"arch": wantArch,
			}
			// auparse names the syscall from its own table, and leaves a
			// number it does not know (x32's) as it is.
			if _, err := strconv.Atoi(data["syscall"]); err == nil {
				checks["syscall"] = strconv.FormatInt(r.Syscall, 10)
			} else {
				checks["syscall"] = sysName
			}
			if name == "audit-raw.log" {
				checks["code"] = fmt.Sprintf("0x%x", r.Code)
			}
			if !msg.Timestamp.Equal(r.Time) || uint64(msg.Sequence) != r.Serial {
				t.Errorf("%s:%d: auparse time %v serial %d, ours %v %d", name, i+1, msg.Timestamp, msg.Sequence, r.Time, r.Serial)
			}
			// auparse leaves SECCOMP records' hex-encoded comm= and exe= as
			// they are.
			for _, k := range []string{"comm", "exe"} {
				if b, err := hex.DecodeString(data[k]); err == nil {
					data[k] = string(b)
				}
			}
			for k, want := range checks {
				if data[k] != want {
					t.Errorf("%s:%d: auparse %s=%q, ours %q", name, i+1, k, data[k], want)
				}
			}
			n++
		}
		if n < 20 {
			t.Errorf("%s: only %d records compared", name, n)
		}
	}
}
