package serverlog

import (
	"strings"
	"testing"
	"time"
)

// Lines as PostgreSQL 15 writes them.
const (
	jsonAuthorized = `{"timestamp":"2026-12-06 05:50:01.123 UTC","user":"joe","dbname":"app","pid":4242,"remote_host":"[local]","session_id":"6752a1b9.1092","line_num":2,"ps":"authentication","session_start":"2026-12-06 05:50:01 UTC","vxid":"3/1","txid":0,"error_severity":"LOG","message":"connection authorized: user=joe database=app application_name=psql","backend_type":"client backend","query_id":0}`
	jsonError      = `{"timestamp":"2026-12-06 05:50:01.130 UTC","user":"joe","dbname":"app","pid":4242,"remote_host":"[local]","error_severity":"ERROR","state_code":"58030","message":"could not read symbolic link \"pg_tblspc/16384\": Permission denied","statement":"SELECT pg_tablespace_location(16384)","application_name":"psql","backend_type":"client backend","leader_pid":4200,"query_id":0}`
	csvError       = "2026-12-06 05:50:01.130 UTC,\"joe\",\"app\",4242,\"127.0.0.1:51234\",6752a1b9.1092,3,\"SELECT\",2026-12-06 05:50:01 UTC,3/2,0,ERROR,58030,\"could not read symbolic link \"\"pg_tblspc/16384\"\": Permission denied\",,,,,,\"SELECT pg_tablespace_location(16384),\n  1\",,,\"psql\",\"client backend\",,0\n"
)

func TestParseJSON(t *testing.T) {
	e, err := ParseJSON([]byte(jsonError))
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{Time: time.Date(2026, 12, 6, 5, 50, 1, 130e6, time.UTC), PID: 4242, User: "joe", Database: "app",
		Application: "psql", Host: "[local]", BackendType: "client backend", LeaderPID: 4200, Severity: "ERROR",
		Message: `could not read symbolic link "pg_tblspc/16384": Permission denied`, Statement: "SELECT pg_tablespace_location(16384)"}
	if !e.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", e.Time, want.Time)
	}
	e.Time = want.Time
	if e != want {
		t.Errorf("ParseJSON = %+v\nwant %+v", e, want)
	}
}

func TestStreamCSVAcrossWrites(t *testing.T) {
	s, _ := NewStream(CSV, nil)
	var got []Entry
	emit := func(e Entry) { got = append(got, e) }
	half := len(csvError) / 2
	s.Write([]byte(csvError[:half]), emit)
	if len(got) != 0 {
		t.Fatalf("an entry from half a record: %+v", got)
	}
	s.Write([]byte(csvError[half:]+csvError), emit)
	if len(got) != 2 {
		t.Fatalf("%d entries, want 2 (skipped %d)", len(got), s.Skipped)
	}
	e := got[0]
	if e.PID != 4242 || e.User != "joe" || e.Host != "127.0.0.1" || e.Application != "psql" ||
		e.Statement != "SELECT pg_tablespace_location(16384),\n  1" || e.Severity != "ERROR" {
		t.Errorf("csv entry %+v", e)
	}
}

func TestStreamStderr(t *testing.T) {
	tests := []struct {
		name, prefix, log string
		want              []Entry
	}{
		{"debian default", "%m [%p] %q%u@%d ", `2026-12-06 05:50:01.123 UTC [4242] joe@app LOG:  connection authorized: user=joe database=app application_name=psql
2026-12-06 05:50:01.130 UTC [4242] joe@app ERROR:  could not read symbolic link "pg_tblspc/16384": Permission denied
2026-12-06 05:50:01.130 UTC [4242] joe@app STATEMENT:  SELECT pg_tablespace_location(16384),
	  1
2026-12-06 05:50:02.000 UTC [4100] LOG:  server process (PID 4242) was terminated by signal 31: Bad system call
2026-12-06 05:50:02.000 UTC [4100] DETAIL:  Failed process was running: SELECT 1
`, []Entry{
			{PID: 4242, User: "joe", Database: "app", Severity: "LOG", Message: "connection authorized: user=joe database=app application_name=psql"},
			{PID: 4242, User: "joe", Database: "app", Severity: "ERROR", Message: `could not read symbolic link "pg_tblspc/16384": Permission denied`, Statement: "SELECT pg_tablespace_location(16384),\n  1"},
			{PID: 4100, Severity: "LOG", Message: "server process (PID 4242) was terminated by signal 31: Bad system call", Detail: "Failed process was running: SELECT 1"},
		}},
		{"everything", "%t:%r:%u@%d:[%p]:%a: ", `2026-12-06 05:50:01 UTC:127.0.0.1(51234):joe@app:[4242]:psql: LOG:  statement: SELECT 1
not a log line
`, []Entry{{PID: 4242, User: "joe", Database: "app", Host: "127.0.0.1", Application: "psql", Severity: "LOG", Message: "statement: SELECT 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePrefix(tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := NewStream(Stderr, p)
			var got []Entry
			emit := func(e Entry) { got = append(got, e) }
			s.Write([]byte(tt.log), emit)
			s.Flush(emit)
			if len(got) != len(tt.want) {
				t.Fatalf("%d entries, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i].Time.IsZero() {
					t.Errorf("entry %d: no time", i)
				}
				got[i].Time = time.Time{}
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestMessages(t *testing.T) {
	e := Entry{Message: "connection authorized: user=joe database=app application_name=my app SSL enabled (protocol=TLSv1.3)"}
	if r, d, a, ok := e.Authorized(); !ok || r != "joe" || d != "app" || a != "my app" {
		t.Errorf("Authorized = %q %q %q %v", r, d, a, ok)
	}
	e = Entry{Message: "replication connection authorized: user=rep application_name=walreceiver"}
	if r, d, a, ok := e.Authorized(); !ok || r != "rep" || d != "" || a != "walreceiver" {
		t.Errorf("Authorized (replication) = %q %q %q %v", r, d, a, ok)
	}
	e = Entry{Message: "parallel worker (PID 77) was terminated by signal 31: Bad system call"}
	if pid, what, sig, st, ok := e.Terminated(); !ok || pid != 77 || what != "parallel worker" || sig != 31 || st != "" {
		t.Errorf("Terminated = %d %q %d %q %v", pid, what, sig, st, ok)
	}
	for msg, want := range map[string]string{
		"statement: SELECT 1":                   "SELECT 1",
		"execute S_1: SELECT $1":                "SELECT $1",
		"duration: 1.2 ms  statement: SELECT 2": "SELECT 2",
		"connection received: host=[local]":     "",
	} {
		e := Entry{Message: msg}
		if got, _ := e.RanStatement(); got != want {
			t.Errorf("RanStatement(%q) = %q, want %q", msg, got, want)
		}
	}
}

func FuzzStream(f *testing.F) {
	f.Add(uint8(JSON), "", jsonAuthorized+"\n"+jsonError+"\n")
	f.Add(uint8(CSV), "", csvError)
	f.Add(uint8(Stderr), "%m [%p] %q%u@%d ", "2026-12-06 05:50:01.123 UTC [4242] joe@app LOG:  x\n\ty\n")
	f.Fuzz(func(t *testing.T, format uint8, prefix, log string) {
		fm := Format(format%3 + 1)
		p, err := CompilePrefix(prefix)
		if err != nil {
			return
		}
		s, _ := NewStream(fm, p)
		n := 0
		emit := func(e Entry) {
			n++
			e.Authorized()
			e.Terminated()
			e.RanStatement()
		}
		// Fed whole or in two pieces, the log gives the same entries.
		s.Write([]byte(log), emit)
		s.Flush(emit)
		whole := n
		n = 0
		s2, _ := NewStream(fm, p)
		cut := len(log) / 2
		s2.Write([]byte(log[:cut]), emit)
		s2.Write([]byte(log[cut:]), emit)
		s2.Flush(emit)
		if n != whole && !strings.Contains(log, "\t") {
			t.Fatalf("%d entries whole, %d in two writes", whole, n)
		}
	})
}
