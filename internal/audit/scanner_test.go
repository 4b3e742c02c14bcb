package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const (
	logLine  = `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): ` + body
	cutLine  = `[ 4484.032415] audit: type=1326 audit(1795820182.744:14849): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6002 comm="exerciser" exe="/tmp/ddd`
	daemonOK = `type=DAEMON_START msg=audit(1795820196.291:3328): op=start ver=3.0.9 format=raw res=success`
)

func TestScanner(t *testing.T) {
	for _, tt := range []struct {
		name                                 string
		input                                string
		lines, records, unrelated, malformed int64
		malformedLines                       []int64
	}{
		{"empty", "", 0, 0, 0, 0, nil},
		{"one newline", "\n", 1, 0, 1, 0, nil},
		{"no final newline", daemonOK + "\n" + logLine, 2, 1, 1, 0, nil},
		{"crlf", logLine + "\r\n" + daemonOK + "\r\n", 2, 1, 1, 0, nil},
		{"mixed", strings.Join([]string{daemonOK, logLine, cutLine, "", logLine, cutLine}, "\n") + "\n", 6, 2, 2, 2, []int64{3, 6}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tt.input)},
				{"one byte at a time", iotest.OneByteReader(strings.NewReader(tt.input))},
				{"data with EOF", iotest.DataErrReader(strings.NewReader(tt.input))},
			} {
				sc := NewScanner(r.r, "log")
				n := int64(0)
				for sc.Scan() {
					n++
					if sc.Record().PID != 6002 || sc.Line() < 1 {
						t.Errorf("%s: record %+v at line %d", r.name, sc.Record(), sc.Line())
					}
				}
				st := sc.Stats()
				if sc.Err() != nil || n != tt.records || st.Lines != tt.lines || st.Records != tt.records ||
					st.Unrelated != tt.unrelated || st.Malformed != tt.malformed {
					t.Errorf("%s: err %v, %d records scanned; stats %+v; want %d lines, %d records, %d unrelated, %d malformed",
						r.name, sc.Err(), n, st, tt.lines, tt.records, tt.unrelated, tt.malformed)
				}
				var got []int64
				for _, e := range st.Examples {
					got = append(got, e.Line)
					if !strings.HasPrefix(e.Error(), fmt.Sprintf("log:%d: ", e.Line)) || !strings.Contains(e.Error(), "cut short") {
						t.Errorf("%s: example %q", r.name, e.Error())
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.malformedLines) && !(len(got) == 0 && tt.malformedLines == nil) {
					t.Errorf("%s: malformed lines %v, want %v", r.name, got, tt.malformedLines)
				}
			}
		})
	}
}

// A line longer than maxLine is read from its first maxLine bytes, and
// the lines after it are numbered right.
func TestScannerLongLine(t *testing.T) {
	long := logLine + " " + strings.Repeat("x", 3*maxLine)
	input := daemonOK + "\n" + long + "\n" + logLine + "\n"
	sc := NewScanner(strings.NewReader(input), "log")
	var lines []int64
	for sc.Scan() {
		lines = append(lines, sc.Line())
	}
	if st := sc.Stats(); fmt.Sprint(lines) != "[2 3]" || st.Lines != 3 || st.Unrelated != 1 {
		t.Errorf("records at lines %v, stats %+v", lines, st)
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(logLine+"\n"+daemonOK+"\n"+logLine), iotest.ErrReader(boom))
	sc := NewScanner(r, "log")
	n := 0
	for sc.Scan() {
		n++
	}
	// The line cut by the error is still read.
	if !errors.Is(sc.Err(), boom) || n != 2 || sc.Stats().Lines != 3 {
		t.Errorf("err %v, %d records, stats %+v", sc.Err(), n, sc.Stats())
	}
}

func TestStatsAdd(t *testing.T) {
	var s Stats
	for i := range 3 {
		s.Add(Stats{Lines: 10, Records: 5, Unrelated: 3, Malformed: 2, Formats: [numFormats]int64{FormatDmesg: 5},
			Examples: []LineError{{"a", int64(i*10 + 1), errCutShort}, {"a", int64(i*10 + 2), errCutShort}}})
	}
	if s.Lines != 30 || s.Records != 15 || s.Unrelated != 9 || s.Malformed != 6 || s.Formats[FormatDmesg] != 15 || len(s.Examples) != MaxExamples {
		t.Errorf("%+v", s)
	}
	if s.Examples[4].Line != 21 {
		t.Errorf("examples %v: the first ones should stay", s.Examples)
	}
	if !errors.Is(s.Examples[0], errCutShort) {
		t.Error("LineError does not unwrap")
	}
	if got := (LineError{Line: 7, Err: errCutShort}).Error(); !strings.HasPrefix(got, "line 7: ") {
		t.Errorf("unnamed LineError %q", got)
	}
}

// bigLog repeats every fixture up to more than a few chunks, with lines
// numbered so that each is distinct.
func bigLog(t testing.TB, size int) []byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	var fixtures []byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, data...)
	}
	var b bytes.Buffer
	for b.Len() < size {
		b.Write(fixtures)
	}
	return b.Bytes()
}

// TestTallyMatchesScanner: over several chunks and goroutines, reading
// or mapping, Tally counts and tallies what a Scanner does line by line.
func TestTallyMatchesScanner(t *testing.T) {
	data := bigLog(t, 3*chunkSize+12345)
	data = append(data, "a last line without a newline"...)
	wantStats, wantSyscalls := scanAll(t, data)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, file := range []bool{false, true} {
		var s Summary
		var st Stats
		var err error
		if file {
			st, err = tallyFile(t, t.TempDir(), data, &s)
		} else {
			st, err = s.Tally(bytes.NewReader(data), "input", nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(st); got != wantStats {
			t.Errorf("file %v: stats\n%s\nwant\n%s", file, got, wantStats)
		}
		if got := describeSyscalls(s.Syscalls()); got != wantSyscalls {
			t.Errorf("file %v: syscalls\n%s\nwant\n%s", file, got, wantSyscalls)
		}
		if st.Lines < 10000 || st.Malformed == 0 || len(st.Examples) != MaxExamples {
			t.Errorf("file %v: a small test: %+v", file, st)
		}
	}
}

// A line longer than a chunk is cut, from a file as from a pipe, and the
// lines around it are counted right.
func TestTallyLongLine(t *testing.T) {
	long := logLine + " " + strings.Repeat("x", chunkSize+100)
	data := []byte(daemonOK + "\n" + long + "\n" + logLine + "\n" + cutLine + "\n")
	for _, file := range []bool{false, true} {
		var s Summary
		var st Stats
		var err error
		if file {
			st, err = tallyFile(t, t.TempDir(), data, &s)
		} else {
			st, err = s.Tally(bytes.NewReader(data), "input", nil)
		}
		if err != nil || st.Lines != 4 || st.Records != 2 || st.Malformed != 1 || st.Examples[0].Line != 4 {
			t.Errorf("file %v: err %v, stats %+v", file, err, st)
		}
	}
}

// TestTallyLongLineMemory: a regular file with a 64 MiB comm= (which audit
// would hex-encode) costs no more memory than any other input: the line is
// read from its first maxLine bytes, as from standard input.
func TestTallyLongLineMemory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	if _, err := f.WriteString("type=SECCOMP msg=audit(1795820182.744:1): auid=0 uid=0 gid=0 ses=1 pid=1 comm="); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte("41"), size/2)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(` exe="/x" sig=0 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x7ffc0000` + "\n" + logLine + "\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var s Summary
	st, err := s.Tally(f, path, nil)
	runtime.ReadMemStats(&after)
	if err != nil || st.Lines != 2 || st.Records != 1 || st.Malformed != 1 {
		t.Fatalf("err %v, stats %+v", err, st)
	}
	// Two workers' chunk buffers (2*2+1 of chunkSize), the cut line's
	// head, and change; the whole line, or its decoded comm=, is far more.
	alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(5*chunkSize+4*maxLine)
	if alloc > limit {
		t.Errorf("reading a %d MiB line allocated %d MiB, want at most %d MiB", size>>20, alloc>>20, limit>>20)
	}
	t.Logf("a %d MiB line: %.1f MiB allocated (bound %d MiB)", size>>20, float64(alloc)/(1<<20), limit>>20)
}

func TestTallyReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	var s Summary
	st, err := s.Tally(io.MultiReader(strings.NewReader(logLine+"\n"), iotest.ErrReader(boom)), "input", nil)
	if !errors.Is(err, boom) || st.Records != 1 {
		t.Errorf("err %v, stats %+v", err, st)
	}
}

func TestTallyFilter(t *testing.T) {
	input := strings.Join([]string{
		logLine,
		`type=SECCOMP msg=audit(1795820183.000:2): auid=1 uid=2 gid=3 ses=4 pid=7 comm="psql" exe="/usr/bin/psql" sig=0 arch=c000003e syscall=0 compat=0 ip=0x1 code=0x50000`,
		`Nov 27 22:56:22 vm audit[8]: SECCOMP auid=1 uid=2 gid=3 ses=4 pid=8 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=1 compat=0 ip=0x1 code=0x7ffc0000`,
	}, "\n")
	var s Summary
	f := &Filter{Comms: []string{"exerciser", "postgres"}, Since: mustTime(t, "2026-11-27T22:56:00Z"), Untrusted: true}
	st, err := s.Tally(strings.NewReader(input), "input", f)
	if err != nil || st.Records != 2 || st.Untrusted != 1 {
		t.Fatalf("err %v stats %+v", err, st)
	}
	list := s.Syscalls()
	if len(list) != 1 || list[0].Name != "getppid" || s.FilteredOut != 2 || s.UndatedFilteredOut != 1 {
		t.Errorf("syscalls %s filtered out %d (undated %d)", describeSyscalls(list), s.FilteredOut, s.UndatedFilteredOut)
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// countingReader gives its lines one Read at a time and counts the Reads.
type countingReader struct {
	lines []string
	reads int
}

func (r *countingReader) Read(p []byte) (int, error) {
	r.reads++
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.lines[0])
	r.lines = r.lines[1:]
	return n, nil
}

// The Scanner returns a record as soon as its line is whole, without
// waiting for a chunk to fill: it can follow a pipe a program writes to
// slowly (journalctl, a live log).
func TestScannerStreams(t *testing.T) {
	r := &countingReader{lines: []string{logLine + "\n", daemonOK + "\n", logLine + "\n"}}
	sc := NewScanner(r, "pipe")
	if !sc.Scan() || r.reads != 1 {
		t.Fatalf("first record after %d reads, want 1", r.reads)
	}
	if !sc.Scan() || r.reads != 3 || sc.Line() != 3 {
		t.Fatalf("second record at line %d after %d reads, want line 3 after 3", sc.Line(), r.reads)
	}
	if sc.Scan() || sc.Err() != nil {
		t.Fatalf("a third record, or error %v", sc.Err())
	}
}
