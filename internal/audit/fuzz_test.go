package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedLines adds the parse table's lines and every fixture line.
func seedLines(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.line))
	}
	for _, tt := range trustTests {
		f.Add([]byte(tt.line))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			f.Add(line)
		}
	}
}

// recordFields is a Record's fields for comparison, without buffers.
func recordFields(r *Record) string {
	c := *r
	c.commBuf, c.exeBuf, c.msgBuf = nil, nil, nil
	return fmt.Sprintf("%+v comm=%q exe=%q enriched=%q", c, r.Comm, r.Exe, r.Enriched)
}

func FuzzParseLine(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.TrimRight(line, "\r\n")
		// Whatever a database user makes PostgreSQL log, on the first line
		// of a message or on a later one, is never a trusted record.
		for _, prefix := range []string{"2026-12-06 05:00:00.123 UTC [4242] LOG:  ", "[4242] LOG:  ", "\t", "Dec  6 05:00:00 db1 postgres[4242]: [7-1] LOG:  "} {
			var forged Record
			if found, _ := ParseLine(append([]byte(prefix), line...), &forged); found && forged.Trusted {
				t.Fatalf("a record after %q is trusted: %s", prefix, recordFields(&forged))
			}
		}
		var r Record
		found, err := ParseLine(line, &r)
		if !found {
			if err != nil {
				t.Fatalf("not found, but error %v", err)
			}
			return
		}
		// The same line with a newline, or read into a used Record,
		// gives the same answer.
		var again Record
		ParseLine([]byte("type=SECCOMP msg=audit(1.000:1): pid=9 comm=\"x\" exe=\"/x\" arch=40000003 syscall=20 compat=1 ip=0x1 code=0x7ffc0000\x1dARCH=i386"), &again)
		found2, err2 := ParseLine(append(bytes.Clone(line), "\r\n"...), &again)
		if found2 != found || (err == nil) != (err2 == nil) || err == nil && recordFields(&r) != recordFields(&again) {
			t.Fatalf("with a newline, or in a used Record: found %v err %v\n%s\nbefore: found %v err %v\n%s",
				found2, err2, recordFields(&again), found, err, recordFields(&r))
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if !validCode(r.Code) || r.Format == 0 || int(r.Format) >= numFormats {
			t.Fatalf("complete record with code %#x format %v", r.Code, r.Format)
		}
		if r.Action().String() == "" || r.Compat < -1 || r.PID < 0 {
			t.Fatalf("odd record %s", recordFields(&r))
		}
	})
}

// FuzzFastPath: where the fast path reads a record body, the field-by-field
// parser reads the same.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte(body))
	f.Add([]byte(body + "\x1dAUID=\"unset\" ARCH=x86_64"))
	f.Add([]byte(`auid=1000 uid=1000 gid=1000 ses=3 subj=unconfined pid=12 comm=657865722063697365 exe=(null) sig=-1 arch=40000003 syscall=20 ip=0x1 code=0x5000d`))
	seedLines(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow Record
		fast.reset()
		if !fast.parseCanonical(b) {
			return
		}
		slow.reset()
		if err := slow.parseAnyFields(b); err != nil {
			t.Fatalf("fast path read %q, slow path says %v\nfast: %s", b, err, recordFields(&fast))
		}
		if recordFields(&fast) != recordFields(&slow) {
			t.Fatalf("%q:\nfast %s\nslow %s", b, recordFields(&fast), recordFields(&slow))
		}
	})
}

// FuzzTally: Tally (several goroutines, chunks, from a reader or a file)
// reads what a Scanner reads line by line, forged records included.
func FuzzTally(f *testing.F) {
	var all []byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		all = append(all, data...)
	}
	var forged []byte
	for _, tt := range trustTests {
		forged = append(forged, tt.line+"\n"...)
	}
	f.Add(forged)
	f.Add(all)
	f.Add([]byte("no newline at the end"))
	f.Add([]byte("\n\n\r\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantSyscalls := scanAll(t, data)
		for _, file := range []bool{false, true} {
			var s Summary
			var st Stats
			var err error
			if file {
				st, err = tallyFile(t, dir, data, &s)
			} else {
				st, err = s.Tally(bytes.NewReader(data), "input", nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(st); got != want {
				t.Fatalf("file %v: Tally stats\n%s\nScanner stats\n%s", file, got, want)
			}
			if got := describeSyscalls(s.Syscalls()); got != wantSyscalls {
				t.Fatalf("file %v: Tally\n%s\nScanner\n%s", file, got, wantSyscalls)
			}
		}
	})
}

// scanAll reads data with a Scanner into a Summary, and describes both.
func scanAll(t testing.TB, data []byte) (stats, syscalls string) {
	t.Helper()
	var s Summary
	sc := NewScanner(bytes.NewReader(data), "input")
	for sc.Scan() {
		s.Add(sc.Record())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(sc.Stats()), describeSyscalls(s.Syscalls())
}

func tallyFile(t testing.TB, dir string, data []byte, s *Summary) (Stats, error) {
	t.Helper()
	path := filepath.Join(dir, "input")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return s.Tally(f, "input", nil)
}

func describeSyscalls(list []*Syscall) string {
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "%s %s %d %v count=%d first=%v last=%v pids=%v actions=%v comms=%q exes=%q\n",
			e.ArchName(), e.Name, e.Number, e.Known, e.Count, e.FirstSeen.UnixMilli(), e.LastSeen.UnixMilli(),
			e.PIDs(), e.Actions(), e.Comms(), e.Exes())
	}
	return b.String()
}

func FuzzPrefixTime(f *testing.F) {
	for _, s := range []string{"2026-11-27T22:56:39+0000 vm", "1795820199.572000 vm", "Nov 27 22:56:39 vm", "", "2026-11-27T22:56:39.1234567890+00:00 x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, prefix []byte) {
		tm := prefixTime(prefix)
		if tm.IsZero() {
			return
		}
		// A date comes only from a first word in one of the two forms.
		first, _, _ := bytes.Cut(prefix, []byte(" "))
		if !bytes.Contains(first, []byte(".")) && !bytes.Contains(first, []byte("T")) {
			t.Fatalf("%q gave %v", prefix, tm)
		}
	})
}

func FuzzParseActions(f *testing.F) {
	for _, s := range []string{"log", "error,kill", "0x7ffc0000", "Kill_Process", "", ",", "0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acts, err := ParseActions(s)
		if err != nil {
			if !strings.Contains(err.Error(), "unknown action") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(acts) == 0 {
			t.Fatalf("%q: no actions and no error", s)
		}
		for _, a := range acts {
			if !a.known() {
				t.Fatalf("%q gave unknown action %v", s, a)
			}
		}
	})
}

// refParseDec is parseDec the simple way.
func refParseDec(b []byte) (uint64, int) {
	var v uint64
	n := 0
	for n < len(b) && n < 19 && isDigit(b[n]) {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

func FuzzParseDec(f *testing.F) {
	for _, s := range []string{"", "0", "12345678", "123456789", "4294967295 ", "1795820182.744",
		"99999999999999999999999", "0000000000000000001", "18446744073709551615", "7\xff9", "\xfa5", "12345678\xfa9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := parseDec(b)
		if rv, rn := refParseDec(b); v != rv || n != rn {
			t.Fatalf("parseDec(%q) = %d, %d; want %d, %d", b, v, n, rv, rn)
		}
	})
}
