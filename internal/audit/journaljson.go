package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// journalEntry is what the parser reads of one entry of journalctl -o
// json. Journald sets the fields that start with "_" itself; a client
// cannot (systemd.journal-fields(7)), so _TRANSPORT tells the kernel's
// and the audit subsystem's messages from anything a program logged.
type journalEntry struct {
	Transport string          `json:"_TRANSPORT"`
	Message   json.RawMessage `json:"MESSAGE"`
	// The audit transport's record has no audit(TIME:SERIAL) stamp in its
	// MESSAGE: journald keeps them here.
	SourceRealtime string `json:"_SOURCE_REALTIME_TIMESTAMP"`
	Realtime       string `json:"__REALTIME_TIMESTAMP"`
	AuditID        string `json:"_AUDIT_ID"`
}

// isJournalJSONCandidate is a cheap test that a line starting with "{"
// may be a journal entry holding a seccomp record, so that the other lines
// of a large journal are not decoded.
func isJournalJSONCandidate(line []byte) bool {
	return bytes.Contains(line, []byte(`"_TRANSPORT"`)) &&
		(bytes.Contains(line, []byte("SECCOMP")) || bytes.Contains(line, []byte("1326")) ||
			bytes.Contains(line, []byte(`"MESSAGE":[`)))
}

// parseJournalJSON parses a line of journalctl -o json. A line that does
// not decode, or has no _TRANSPORT (PostgreSQL's jsonlog, say), is read as
// text, so a record in it is still found (and is FormatOther).
func (r *Record) parseJournalJSON(line []byte) (found bool, err error) {
	var e journalEntry
	if json.Unmarshal(line, &e) != nil || e.Transport == "" {
		return parseText(line, r)
	}
	msg, ok := journalMessage(e.Message, r.msgBuf[:0])
	if !ok {
		return false, nil
	}
	r.msgBuf = msg
	// The audit transport's MESSAGE is the record's type and fields,
	// "SECCOMP auid=... code=0x7ffc0000" ("AUDIT1326" when journald has
	// no name for the type); the kernel transport's is the printk text,
	// "audit: type=1326 audit(...): ...".
	if rest, ok := cutAuditType(msg); ok {
		r.reset()
		if t, err := strconv.ParseInt(e.SourceRealtime, 10, 64); err == nil {
			r.Time = time.UnixMicro(t)
		} else if t, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil {
			r.Time = time.UnixMicro(t)
		}
		r.Serial, _ = strconv.ParseUint(e.AuditID, 10, 64)
		err = r.parseFields(rest)
		found = true
	} else {
		found, err = parseText(msg, r)
	}
	if found {
		r.Format = FormatJournalJSON
		r.Transport = transportName(e.Transport)
	}
	return found, err
}

// cutAuditType returns what follows the audit transport's type word.
func cutAuditType(msg []byte) ([]byte, bool) {
	for _, t := range []string{"SECCOMP ", "AUDIT1326 "} {
		if rest, ok := bytes.CutPrefix(msg, []byte(t)); ok {
			return rest, true
		}
	}
	return nil, false
}

// journalMessage returns MESSAGE's bytes: journald writes a string, or an
// array of byte values when the message is not valid UTF-8 text.
func journalMessage(raw json.RawMessage, buf []byte) ([]byte, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return append(buf, s...), true
	}
	var b []byte
	var nums []int
	if json.Unmarshal(raw, &nums) != nil {
		return nil, false
	}
	b = buf
	for _, n := range nums {
		if n < 0 || n > 255 {
			return nil, false
		}
		b = append(b, byte(n))
	}
	return b, true
}

// transportName returns journald's transport names as constants, and
// "other" for anything else, so a Record does not hold on to the line.
func transportName(t string) string {
	for _, n := range []string{"kernel", "audit", "syslog", "journal", "stdout", "driver"} {
		if t == n {
			return n
		}
	}
	return "other"
}
