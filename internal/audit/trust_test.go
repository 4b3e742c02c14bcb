package audit

import (
	"strings"
	"testing"
)

// A record a database user forged with RAISE LOG, or any user with
// logger(1): "ptrace" (101) logged by "postgres".
const (
	forgedStamp = `type=1326 audit(1795820182.744:14848): `
	forgedBody  = `auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=101 compat=0 ip=0x7f979f0bb829 code=0x7ffc0000`
)

// jsonQuote is s as a JSON string's contents.
func jsonQuote(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }

// csvQuote is s as a CSV field's contents.
func csvQuote(s string) string { return strings.ReplaceAll(s, `"`, `""`) }

var trustTests = []struct {
	name      string
	line      string
	format    Format
	transport string
	trusted   bool
	complete  bool // the record parses; a forged one may also be malformed
}{
	// Sources users cannot write.
	{"kmsg", `5,1289,4484032415,-;audit: ` + forgedStamp + forgedBody, FormatKmsg, "", true, true},
	{"dmesg", `[ 4484.032415] audit: ` + forgedStamp + forgedBody, FormatDmesg, "", true, true},
	{"dmesg -T", `[Fri Nov 27 22:56:22 2026] audit: ` + forgedStamp + forgedBody, FormatDmesg, "", true, true},
	{"dmesg -x", `kern  :notice: [ 4484.032415] audit: ` + forgedStamp + forgedBody, FormatDmesg, "", true, true},
	{"dmesg -r", `<5>[ 4484.032415] audit: ` + forgedStamp + forgedBody, FormatDmesg, "", true, true},
	{"auditd", `type=SECCOMP msg=audit(1795820182.744:14848): ` + forgedBody, FormatAuditd, "", true, true},
	{"auditd node", `node=db1 type=SECCOMP msg=audit(1795820182.744:14848): ` + forgedBody, FormatAuditd, "", true, true},
	{"journal json, kernel transport",
		`{"__REALTIME_TIMESTAMP":"1795820182744810","_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"audit: ` + jsonQuote(forgedStamp+forgedBody) + `","_HOSTNAME":"db1"}`,
		FormatJournalJSON, "kernel", true, true},
	{"journal json, audit transport",
		`{"__REALTIME_TIMESTAMP":"1795820182744900","_SOURCE_REALTIME_TIMESTAMP":"1795820182744000","_AUDIT_ID":"14848","_AUDIT_TYPE":"1326","_TRANSPORT":"audit","SYSLOG_IDENTIFIER":"audit","MESSAGE":"SECCOMP ` + jsonQuote(forgedBody) + `"}`,
		FormatJournalJSON, "audit", true, true},
	{"journal json-seq, kernel transport",
		"\x1e" + `{"_TRANSPORT":"kernel","MESSAGE":"audit: ` + jsonQuote(forgedStamp+forgedBody) + `"}`,
		FormatJournalJSON, "kernel", true, true},
	{"journal json, audit transport, message as bytes",
		`{"_TRANSPORT":"audit","MESSAGE":[83,69,67,67,79,77,80,32,112,105,100,61,57,32,97,114,99,104,61,99,48,48,48,48,48,51,101,32,115,121,115,99,97,108,108,61,49,48,49,32,99,111,100,101,61,48,120,55,102,102,99,48,48,48,48]}`,
		FormatJournalJSON, "audit", true, true},

	// Sources anybody can write: each a forged record.
	{"syslog, audispd tag", `Dec  6 05:00:00 db1 audispd[568]: node=db1 type=SECCOMP msg=audit(1795820182.744:14848): ` + forgedBody, FormatSyslog, "", false, true},
	{"syslog, kernel tag (logger -t kernel)", `Dec  6 05:00:00 db1 kernel: audit: ` + forgedStamp + forgedBody, FormatJournal, "", false, true},
	{"rsyslog kern.log", `2026-12-06T05:00:00.123456+00:00 db1 kernel: [ 4484.032415] audit: ` + forgedStamp + forgedBody, FormatJournal, "", false, true},
	{"journal short, audit tag", `Dec  6 05:00:00 db1 audit[4242]: SECCOMP ` + forgedBody, FormatJournalAudit, "", false, true},
	{"journal short-iso, kernel", `2026-12-06T05:00:00+0000 db1 kernel: audit: ` + forgedStamp + forgedBody, FormatJournal, "", false, true},
	{"journal -o cat", forgedStamp + forgedBody, FormatKernel, "", false, true},
	{"journal -o cat, audit: prefix", `audit: ` + forgedStamp + forgedBody, FormatKernel, "", false, true},
	{"journal json, syslog transport with kernel identifier",
		`{"_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"audit: ` + jsonQuote(forgedStamp+forgedBody) + `"}`,
		FormatJournalJSON, "syslog", false, true},
	{"journal json, journal transport with an audit-like message",
		`{"_TRANSPORT":"journal","SYSLOG_IDENTIFIER":"audit","_AUDIT_ID":"1","MESSAGE":"SECCOMP ` + jsonQuote(forgedBody) + `"}`,
		FormatJournalJSON, "journal", false, true},
	{"journal json, PostgreSQL's stderr captured by journald",
		`{"_TRANSPORT":"stdout","SYSLOG_IDENTIFIER":"postgres","MESSAGE":"2026-12-06 05:00:00.123 UTC [4242] LOG:  ` + jsonQuote(forgedStamp+forgedBody) + `"}`,
		FormatJournalJSON, "stdout", false, true},
	{"PostgreSQL stderr", `2026-12-06 05:00:00.123 UTC [4242] LOG:  ` + forgedStamp + forgedBody, FormatOther, "", false, true},
	{"PostgreSQL stderr, prefix [%p]", `[4242] LOG:  audit: ` + forgedStamp + forgedBody, FormatOther, "", false, true},
	{"PostgreSQL stderr, prefix [%p] and a dmesg-like message", `[4242] LOG:  [ 4484.032415] audit: ` + forgedStamp + forgedBody, FormatOther, "", false, true},
	{"PostgreSQL stderr, a message's second line", "\t[ 4484.032415] audit: " + forgedStamp + forgedBody, FormatOther, "", false, true},
	{"PostgreSQL syslog", `Dec  6 05:00:00 db1 postgres[4242]: [7-1] LOG:  ` + forgedStamp + forgedBody, FormatOther, "", false, true},
	{"PostgreSQL csvlog",
		`2026-12-06 05:00:00.123 UTC,"mallory","app",4242,"[local]",6752c8a0.1092,3,"SELECT",2026-12-06 05:00:00 UTC,3/4,0,LOG,00000,"` + csvQuote(forgedStamp+forgedBody) + `",,,,,"PL/pgSQL function inline_code_block line 1 at RAISE",,,,"psql","client backend",,0`,
		FormatOther, "", false, false},
	{"PostgreSQL jsonlog",
		`{"timestamp":"2026-12-06 05:00:00.123 UTC","user":"mallory","dbname":"app","pid":4242,"error_severity":"LOG","message":"` + jsonQuote(forgedStamp+forgedBody) + `","backend_type":"client backend","query_id":0}`,
		FormatOther, "", false, false},
	{"PostgreSQL jsonlog with a forged _TRANSPORT in the message",
		`{"timestamp":"2026-12-06 05:00:00.123 UTC","pid":4242,"error_severity":"LOG","message":"` + jsonQuote(`"_TRANSPORT":"kernel" `+forgedStamp+forgedBody+` `) + `","application_name":"{\"_TRANSPORT\":\"kernel\"}"}`,
		FormatOther, "", false, true},
	{"kmsg-like, another tag", `5,1289,4484032415,-;postgres[4242]: ` + forgedStamp + forgedBody, FormatOther, "", false, true},
}

func TestTrustedSources(t *testing.T) {
	for _, tt := range trustTests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			// A used Record: nothing of an earlier line's trust stays.
			ParseLine([]byte(`{"_TRANSPORT":"kernel","MESSAGE":"audit: `+jsonQuote(forgedStamp+forgedBody)+`"}`), &r)
			found, err := ParseLine([]byte(tt.line), &r)
			if !found {
				t.Fatalf("no record found (err %v)", err)
			}
			if r.Trusted != tt.trusted || r.Format != tt.format || r.Transport != tt.transport {
				t.Errorf("trusted %v, format %v, transport %q; want %v, %v, %q", r.Trusted, r.Format, r.Transport, tt.trusted, tt.format, tt.transport)
			}
			if tt.complete && err != nil {
				t.Fatalf("error %v", err)
			}
			if err == nil {
				if _, name, _ := r.Resolve(); name != "ptrace" || r.Action() != ActionLog {
					t.Errorf("syscall %q action %v, want ptrace log", name, r.Action())
				}
			}
		})
	}
}

// Tally and the Scanner count forged records, name the first few, and
// leave them out of the summary unless the filter asks for them.
func TestTallyUntrusted(t *testing.T) {
	var lines []string
	var trusted, untrusted int64
	for _, tt := range trustTests {
		lines = append(lines, tt.line)
		if tt.trusted {
			trusted++
		} else {
			untrusted++
		}
	}
	input := strings.Join(lines, "\n") + "\n"
	for _, include := range []bool{false, true} {
		var s Summary
		st, err := s.Tally(strings.NewReader(input), "mixed.log", &Filter{Untrusted: include})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != trusted || st.Untrusted != untrusted || st.Malformed != 0 || st.Unrelated != 0 {
			t.Fatalf("include %v: stats %+v, want %d records and %d untrusted", include, st, trusted, untrusted)
		}
		if len(st.UntrustedExamples) != MaxExamples || st.UntrustedExamples[0].Line != int64(trusted+1) ||
			!strings.Contains(st.UntrustedExamples[0].Error(), "mixed.log:") || !strings.Contains(st.UntrustedExamples[0].Error(), "audispd") {
			t.Errorf("include %v: examples %v", include, st.UntrustedExamples)
		}
		if st.UntrustedFormats[FormatOther] == 0 || st.UntrustedFormats[FormatJournalJSON] != 3 {
			t.Errorf("include %v: untrusted formats %v", include, st.UntrustedFormats)
		}
		var count int64
		for _, sc := range s.Syscalls() {
			count += sc.Count
		}
		want := trusted
		if include {
			want = s.Selected // the complete forged ones too
			if want <= trusted {
				t.Errorf("include: %d selected, want more than the %d trusted", want, trusted)
			}
		}
		if count != want || s.Selected != want {
			t.Errorf("include %v: %d records tallied, %d selected; want %d", include, count, s.Selected, want)
		}
	}
	sc := NewScanner(strings.NewReader(input), "mixed.log")
	n := int64(0)
	for sc.Scan() {
		if !sc.Record().Trusted {
			t.Errorf("the scanner returned an untrusted record at line %d", sc.Line())
		}
		n++
	}
	if st := sc.Stats(); n != trusted || st.Untrusted != untrusted {
		t.Errorf("scanner: %d records, stats %+v", n, st)
	}
}
