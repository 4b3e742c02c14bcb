package audit

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Format is the kind of log a record's line came from, told by what
// precedes the record on the line.
type Format uint8

const (
	// FormatAuditd: auditd's log, /var/log/audit/audit.log:
	// "type=SECCOMP msg=audit(1795818914.536:8336): auid=...", optionally
	// after "node=HOST " and, with log_format=ENRICHED, followed by a
	// 0x1d byte and interpreted fields (ARCH=x86_64 SYSCALL=openat).
	FormatAuditd Format = iota + 1
	// FormatSyslog: an auditd record forwarded to syslog (audisp-syslog,
	// audispd): "Jan 29 07:58:12 host audispd[568]: node=host type=SECCOMP msg=audit(...): ...".
	// Not trusted: any program can log with the tag audispd.
	FormatSyslog
	// FormatKmsg: /dev/kmsg: "5,1234,5678,-;audit: type=1326 audit(...): ...".
	FormatKmsg
	// FormatDmesg: dmesg with any of its time prefixes:
	// "[ 3215.827637] audit: type=1326 audit(...): ..." or, with -T,
	// "[Fri Nov 27 22:35:13 2026] audit: ...".
	FormatDmesg
	// FormatJournal: the kernel's records in journalctl (-k, -o short,
	// short-iso, ...) or a syslog file such as kern.log:
	// "Nov 27 22:35:13 host kernel: audit: type=1326 audit(...): ...".
	// Not trusted: logger -t kernel writes the same line.
	FormatJournal
	// FormatJournalAudit: journald's audit transport, which drops the
	// audit(TIME:SERIAL) stamp: "Jul 24 09:10:45 host audit[14351]: SECCOMP auid=...".
	// Not trusted in text (logger -t audit); see FormatJournalJSON.
	FormatJournalAudit
	// FormatKernel: a kernel record with no log prefix:
	// "audit: type=1326 audit(...): ..." or "type=1326 audit(...): ...".
	// dmesg -t writes such lines, but so do journalctl -o cat and any
	// program that logs a message verbatim, so they are not trusted.
	FormatKernel
	// FormatJournalJSON: an entry of journalctl -o json (one JSON object a
	// line), whose MESSAGE holds the record and whose _TRANSPORT journald
	// itself sets: "kernel" (the kernel log) and "audit" (its audit
	// transport) are trusted, any other (syslog, journal, stdout) is not.
	FormatJournalJSON
	// FormatOther: a record after a prefix of no kernel or audit log: a
	// line of a program's own log, such as PostgreSQL's stderr, csvlog or
	// jsonlog with a RAISE LOG message that looks like a record.
	FormatOther
	// FormatNetlink: a record read from the kernel's audit netlink socket
	// by [Capture] (never from a line of a log).
	FormatNetlink

	numFormats = iota + 1
)

// String returns the format's name as the tool reports it.
func (f Format) String() string {
	switch f {
	case FormatAuditd:
		return "auditd"
	case FormatSyslog:
		return "syslog"
	case FormatKmsg:
		return "kmsg"
	case FormatDmesg:
		return "dmesg"
	case FormatJournal:
		return "journal"
	case FormatJournalAudit:
		return "journal-audit"
	case FormatKernel:
		return "kernel"
	case FormatJournalJSON:
		return "journal-json"
	case FormatOther:
		return "other"
	case FormatNetlink:
		return "netlink"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// Formats lists every Format, for reports.
var Formats = []Format{FormatAuditd, FormatSyslog, FormatKmsg, FormatDmesg, FormatJournal, FormatJournalAudit, FormatKernel, FormatJournalJSON, FormatOther, FormatNetlink}

// Trusted reports whether records of format f come from a source that no
// database user (nor any other unprivileged program) can write: the kernel
// log as dmesg and /dev/kmsg print it, auditd's own log, and the audit
// netlink socket. A line of
// these formats is recognised by its exact prefix, so the trust holds for
// input that is such a log, not for a file that merely contains such lines
// (a PostgreSQL csvlog puts a multi-line message's later lines at the start
// of a line). Journald's JSON entries are trusted per entry, by their
// _TRANSPORT (see [Record.Trusted]); every other format can be written by
// anyone: logger(1) writes syslog and journal lines with any tag ("kernel",
// "audit", "audispd"), and RAISE LOG writes PostgreSQL's log.
func (f Format) Trusted() bool {
	switch f {
	case FormatAuditd, FormatKmsg, FormatDmesg, FormatNetlink:
		return true
	}
	return false
}

// Unset is the value audit prints for an unset auid or ses (4294967295).
const Unset = ^uint32(0)

// Record is one seccomp audit record: the kernel's AUDIT_SECCOMP (type
// 1326, "SECCOMP") message, written when a seccomp filter returns an action
// that is logged (log; kill; error, trap and trace when the filter has the
// log flag).
//
// The byte-slice fields alias the parsed line or buffers the Record owns:
// they stay valid until the Record is passed to [ParseLine] again. Copy
// them (string(r.Comm), [Record.Clone]) to keep them longer.
type Record struct {
	Format Format
	// Time is when the kernel wrote the record, from its
	// audit(SECONDS.MILLIS:SERIAL) stamp, or for FormatJournalAudit from
	// the line's journal prefix when that has a date (-o short-iso,
	// short-unix). Zero when the line says no date.
	Time   time.Time
	Serial uint64 // the stamp's serial number; 0 if the line has no stamp

	PID            int
	AUID, UID, GID uint32 // Unset when unset
	// Session is ses=, the audit session the process inherited (Unset when
	// none): a recorder that starts a server in a session of its own tells
	// that server's records from every other process's by it.
	Session   uint32
	Comm, Exe []byte // decoded: audit hex-encodes names with spaces or odd bytes
	Signal    int
	AuditArch uint32 // arch=: the AUDIT_ARCH_* value of the syscall's ABI
	Syscall   int64  // syscall=: its number in that ABI
	Compat    int    // compat=: 1 for an i386 (or, on kernels built with it, x32) syscall; -1 if absent
	IP        uint64
	Code      uint32 // code=: the seccomp action (see [Record.Action])

	// Trusted tells a record from a source users cannot write (see
	// [Format.Trusted]; for FormatJournalJSON, a _TRANSPORT of "kernel" or
	// "audit") from one anybody could have forged. ParseLine sets it also
	// for a malformed record.
	Trusted bool
	// Transport is journald's _TRANSPORT of a FormatJournalJSON record
	// ("kernel", "audit", "syslog", ...), "" for other formats.
	Transport string

	// Enriched is what auditd's log_format=ENRICHED added after the 0x1d
	// separator (AUID="unset" UID="postgres" ... ARCH=x86_64 SYSCALL=openat),
	// nil when absent; see [Record.EnrichedField].
	Enriched []byte

	commBuf, exeBuf []byte // hex-decoding buffers
	msgBuf          []byte // a journal JSON entry's MESSAGE, which the fields alias
}

// Action returns the seccomp action the record reports.
func (r *Record) Action() Action { return Action(r.Code & actionMask) }

// Arch returns the ABI of the record's syscall: arch= resolved, with x32
// told apart from x86_64 by the syscall number (see [syscalls.FromAudit]).
func (r *Record) Arch() (syscalls.Arch, error) {
	return syscalls.FromAudit(r.AuditArch, r.Syscall)
}

// Resolve returns the record's ABI and the syscall's name in it, as
// libseccomp (and so the pgseccomp extension) names it. ok is false when
// the arch is not one this tool resolves or libseccomp knows no syscall of
// that number there; arch is then 0 or the ABI, respectively.
func (r *Record) Resolve() (arch syscalls.Arch, name string, ok bool) {
	arch, err := r.Arch()
	if err != nil {
		return 0, "", false
	}
	if r.Syscall < 0 || r.Syscall > 1<<31 {
		return arch, "", false
	}
	name, ok = arch.Name(int(r.Syscall))
	return arch, name, ok
}

// EnrichedField returns the value of one of auditd's ENRICHED fields
// (ARCH, SYSCALL, AUID, UID, GID), unquoted, or nil. These are auditd's
// interpretations: its syscall names are audit's (pread for x86_64's 17),
// not always libseccomp's (pread64), and auditd 3.0.9 writes
// SYSCALL=unknown-syscall(-1) for every SECCOMP record; use
// [Record.Resolve] for the names filters take.
func (r *Record) EnrichedField(key string) []byte {
	b := r.Enriched
	for len(b) > 0 {
		tok := b
		if sp := bytes.IndexByte(b, ' '); sp >= 0 {
			tok, b = b[:sp], b[sp+1:]
		} else {
			b = nil
		}
		if len(tok) > len(key) && tok[len(key)] == '=' && string(tok[:len(key)]) == key {
			v := tok[len(key)+1:]
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return nil
}

// Clone returns a copy of r whose byte slices do not alias anything.
func (r *Record) Clone() *Record {
	c := *r
	c.commBuf, c.exeBuf, c.msgBuf = nil, nil, nil
	c.Comm = cloneBytes(r.Comm)
	c.Exe = cloneBytes(r.Exe)
	c.Enriched = cloneBytes(r.Enriched)
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
