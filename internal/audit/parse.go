package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// The parser is hand-written rather than go-libaudit's auparse: auparse
// reads only auditd's "type=X msg=audit(...)" lines, splits fields with a
// regular expression that runs the 0x1d separator of ENRICHED logs into
// the code= value, and builds a map per line, which is some 20 times
// slower than this loop over the few fields a seccomp record has. The
// tests check that both agree on auditd lines.

var (
	typeWord       = []byte("type=")
	journalSeccomp = []byte(": SECCOMP ")
)

// errCutShort is the reason for records that end before their last field.
var errCutShort = errors.New("record cut short before its code= field (truncated line?)")

// ParseLine finds a seccomp audit record in one line of any supported log
// (see [Format]) and parses it into rec. found is false for a line without
// a seccomp record, which ParseLine leaves rec unchanged for. found is true
// and err non-nil for a seccomp record that is cut short (dmesg and the
// journal truncate long lines) or has a field that does not parse; rec then
// holds what was read before the problem. The line may end in "\n" or
// "\r\n".
//
// ParseLine sets rec.Trusted for every record it finds, and rec.Format
// tells where the line came from; a record from a source users can write
// (see [Format.Trusted]) may be forged, so callers count it apart.
//
// ParseLine does not allocate except to describe a malformed record or to
// decode a journal JSON entry, and rec's byte slices alias line, or for a
// journal JSON entry a buffer rec owns (see [Record]).
func ParseLine(line []byte, rec *Record) (found bool, err error) {
	line = trimEOL(line)
	// journalctl -o json-seq puts an RS byte before each entry.
	line = bytes.TrimPrefix(line, []byte{0x1e})
	if len(line) > 0 && line[0] == '{' && isJournalJSONCandidate(line) {
		found, err = rec.parseJournalJSON(line)
	} else {
		found, err = parseText(line, rec)
	}
	if found {
		if rec.Format != FormatJournalJSON {
			rec.Transport = ""
		}
		rec.Trusted = rec.Format.Trusted() ||
			rec.Format == FormatJournalJSON && (rec.Transport == "kernel" || rec.Transport == "audit")
	}
	return found, err
}

// parseText is ParseLine for a line of text (not a journal JSON entry).
func parseText(line []byte, rec *Record) (found bool, err error) {
	// The first "type=" on a line is its record's: auditd's
	// "type=SECCOMP msg=audit(", the kernel's "type=1326 audit(" (auditd
	// writes "type=1326 msg=audit(" for a type it has no name for). Any
	// later one is text inside the record.
	i := 0 // auditd's lines start with their type
	if !hasKey(line, "type=") {
		i = bytes.Index(line, typeWord)
	}
	if i >= 0 {
		rest := line[i+len(typeWord):]
		n := 0
		switch {
		case hasKey(rest, "SECCOMP"):
			n = len("SECCOMP")
		case hasKey(rest, "1326"):
			n = len("1326")
		}
		if n > 0 && (n == len(rest) || rest[n] == ' ') && !insideRecord(line[:i]) {
			return true, rec.parseStamped(line, i, rest[n:])
		}
		if i == 0 {
			return false, nil // another auditd record
		}
	}
	// journald's audit transport: "audit[PID]: SECCOMP ", whose fields
	// (comm="type=x") may hold a "type=".
	for off := 0; off < len(line); {
		i := bytes.Index(line[off:], journalSeccomp)
		if i < 0 {
			break
		}
		i += off + 2 // at "SECCOMP"
		end := i + len("SECCOMP")
		if isJournalAuditTag(line[:i]) && !insideRecord(line[:i]) {
			return true, rec.parseJournalAudit(line, i, line[end:])
		}
		off = end
	}
	return false, nil
}

// insideRecord reports whether text that looks like a seccomp record's
// header is inside another record: a seccomp header is the first thing on
// its line after the log's prefix, while user messages (type=USER ...
// msg='... audit[2]: SECCOMP ...') carry text, which can be anything,
// after "msg=".
func insideRecord(before []byte) bool {
	return bytes.Contains(before, []byte("msg="))
}

func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// isJournalAuditTag reports whether before (the line up to "SECCOMP") ends
// in journald's tag for its audit transport, "audit[PID]: " or "audit: ".
func isJournalAuditTag(before []byte) bool {
	b, ok := bytes.CutSuffix(before, []byte("]: "))
	if !ok {
		return bytes.HasSuffix(before, []byte(" audit: "))
	}
	digits := 0
	for len(b) > 0 && isDigit(b[len(b)-1]) {
		b = b[:len(b)-1]
		digits++
	}
	return digits > 0 && bytes.HasSuffix(b, []byte("audit["))
}

// parseStamped parses a record with an audit(SECONDS.MILLIS:SERIAL) stamp:
// the line has "type=SECCOMP" or "type=1326" at typeAt, and rest follows it.
func (r *Record) parseStamped(line []byte, typeAt int, rest []byte) error {
	// auditd puts "msg=" before the stamp, the kernel does not.
	rest = bytes.TrimPrefix(rest, []byte(" "))
	rest, auditd := bytes.CutPrefix(rest, []byte("msg="))
	format := classify(line[:typeAt], auditd)
	body, err := r.parseStamp(rest)
	if err != nil {
		r.reset()
		r.Format = format
		return err
	}
	r.Format = format
	return r.parseFields(body)
}

// parseStamp parses "audit(1795818914.536:8336): " and returns what follows.
func (r *Record) parseStamp(b []byte) ([]byte, error) {
	const open = "audit("
	if len(b) < len(open) || string(b[:len(open)]) != open {
		if len(b) < len(open) && string(open[:len(b)]) == string(b) {
			return nil, errCutShort
		}
		return nil, fmt.Errorf("no audit(TIME:SERIAL) stamp after the record type: %q", clip(b))
	}
	b = b[len(open):]
	sec, n := parseDec(b)
	if n == 0 || n > 12 || n >= len(b) || b[n] != '.' {
		return nil, stampError(b)
	}
	b = b[n+1:]
	ms, n := parseDec(b)
	if n != 3 || n >= len(b) || b[n] != ':' {
		return nil, stampError(b)
	}
	b = b[n+1:]
	serial, n := parseDec(b)
	if n == 0 || n > 19 || n+1 >= len(b) || b[n] != ')' || b[n+1] != ':' {
		return nil, stampError(b)
	}
	r.Time = time.Unix(int64(sec), int64(ms)*int64(time.Millisecond))
	r.Serial = serial
	return b[n+2:], nil
}

func stampError(b []byte) error {
	if bytes.IndexByte(b, ')') < 0 {
		return errCutShort
	}
	return fmt.Errorf("malformed audit(TIME:SERIAL) stamp near %q", clip(b))
}

// parseJournalAudit parses journald's audit transport line: the record's
// fields follow "SECCOMP", and its time is only in the line's prefix.
func (r *Record) parseJournalAudit(line []byte, at int, rest []byte) error {
	r.Format = FormatJournalAudit
	r.Time = prefixTime(line[:at])
	r.Serial = 0
	return r.parseFields(rest)
}

// classify tells the log format from what precedes "type=" on the line;
// auditd tells whether the record has auditd's "msg=" before its stamp.
func classify(prefix []byte, auditd bool) Format {
	p := bytes.TrimRight(prefix, " ")
	if auditd {
		if len(p) == 0 || bytes.HasPrefix(p, []byte("node=")) && bytes.IndexByte(p, ' ') < 0 {
			return FormatAuditd
		}
		return FormatSyslog
	}
	if len(p) == 0 || string(p) == "audit:" {
		return FormatKernel
	}
	// The kernel log's own prefixes are matched exactly, up to the
	// kernel's "audit:" right before the record: they are trusted, and a
	// program's log line (PostgreSQL's "[%p] LOG:  ") must not pass.
	switch {
	case isKmsgPrefix(p):
		return FormatKmsg
	case isDmesgPrefix(p):
		return FormatDmesg
	case bytes.Contains(p, []byte(" kernel:")):
		return FormatJournal // also journalctl -o short-monotonic: "[ 4500.8] host kernel: audit:"
	}
	return FormatOther
}

// isKmsgPrefix reports whether p is a /dev/kmsg record's prefix:
// "PRIORITY,SEQUENCE,MICROSECONDS,FLAGS[,...];audit:".
func isKmsgPrefix(p []byte) bool {
	head, ok := bytes.CutSuffix(p, []byte(";audit:"))
	if !ok || bytes.IndexByte(head, ';') >= 0 || bytes.IndexByte(head, ' ') >= 0 {
		return false
	}
	f := bytes.Split(head, []byte(","))
	if len(f) < 4 {
		return false
	}
	for _, n := range f[:3] {
		if _, ok := parseDecAll(n); !ok {
			return false
		}
	}
	return true
}

// isDmesgPrefix reports whether p is dmesg's prefix of a kernel audit
// line: "[ 3215.827637] audit:", "[Fri Nov 27 22:35:13 2026] audit:"
// (-T), "<5>[ 3215.8] audit:" (-r), "kern  :notice: [ 3215.8] audit:" (-x).
func isDmesgPrefix(p []byte) bool {
	head, ok := bytes.CutSuffix(p, []byte("] audit:"))
	if !ok {
		return false
	}
	open := bytes.LastIndexByte(head, '[')
	if open < 0 || bytes.IndexByte(head[open:], ']') >= 0 {
		return false
	}
	for _, c := range head[open+1:] {
		if !(isDigit(c) || c == ' ' || c == '.' || c == ':' || c == ',' || c == '<' || c == '>' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	lead := head[:open]
	switch {
	case len(lead) == 0:
		return true
	case lead[0] == '<': // -r: "<5>"
		n, ok := bytes.CutSuffix(lead[1:], []byte(">"))
		_, digits := parseDecAll(n)
		return ok && digits
	case bytes.HasPrefix(lead, []byte("kern ")): // -x: "kern  :notice: "
		rest := bytes.TrimLeft(lead[len("kern"):], " ")
		level, ok := bytes.CutPrefix(rest, []byte(":"))
		level, ok2 := bytes.CutSuffix(level, []byte(": "))
		if !ok || !ok2 || len(level) == 0 {
			return false
		}
		for _, c := range bytes.TrimLeft(level, " ") {
			if c < 'a' || c > 'z' {
				return false
			}
		}
		return true
	}
	return false
}

// Field bits, to check a record has the fields it needs.
const (
	hasPID = 1 << iota
	hasArch
	hasSyscall
	hasCode
)

func (r *Record) reset() {
	commBuf, exeBuf, msgBuf := r.commBuf, r.exeBuf, r.msgBuf
	*r = Record{Compat: -1, AUID: Unset, UID: Unset, GID: Unset, Session: Unset, commBuf: commBuf, exeBuf: exeBuf, msgBuf: msgBuf}
}

// resetFields resets what parseFields sets, keeping the line's format
// and stamp.
func (r *Record) resetFields() {
	format, tm, serial := r.Format, r.Time, r.Serial
	r.reset()
	r.Format, r.Time, r.Serial = format, tm, serial
}

// parseFields parses the record's key=value fields, separated by spaces.
// Values are quoted ("postgres"), hexadecimal (audit encodes names with
// spaces, quotes or odd bytes so), or bare; a word without "=" (an
// AppArmor label "subj==foo (complain)" has one) is skipped. After a 0x1d
// byte come auditd's ENRICHED fields, in capitals.
func (r *Record) parseFields(b []byte) error {
	// The fast path sets every field; when it gives up, start over.
	if r.parseCanonical(b) {
		return nil
	}
	r.resetFields()
	return r.parseAnyFields(b)
}

// parseAnyFields is parseFields' slow path: fields in any order, and an
// error that says what is wrong.
func (r *Record) parseAnyFields(b []byte) error {
	if e := bytes.IndexByte(b, 0x1d); e >= 0 {
		r.Enriched = b[e+1:]
		b = b[:e]
	}
	seen := 0
	var bad error
	for len(b) > 0 {
		if b[0] == ' ' {
			b = b[1:]
			continue
		}
		tok := b
		if sp := bytes.IndexByte(b, ' '); sp >= 0 {
			tok, b = b[:sp], b[sp:]
		} else {
			b = nil
		}
		eq := bytes.IndexByte(tok, '=')
		if eq <= 0 {
			continue // a word without "=": skip it
		}
		key, val := tok[:eq], tok[eq+1:]
		quoted := len(val) > 0 && val[0] == '"'
		if quoted {
			if len(val) >= 2 && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			} else {
				// Audit hex-encodes values with spaces, so only a cut
				// line leaves a quote open; but read on to a closing
				// quote if there is one (tok and b are adjacent).
				q := bytes.IndexByte(b, '"')
				if q < 0 {
					return errCutShort
				}
				val = tok[eq+2 : len(tok)+q]
				b = b[q+1:]
			}
		}
		var ok bool
		switch string(key) {
		case "pid":
			var v uint64
			v, ok = parseDecAll(val)
			r.PID = int(v)
			seen |= hasPID
		case "arch":
			var v uint64
			v, ok = parseHexAll(val)
			ok = ok && v <= 0xffffffff
			r.AuditArch = uint32(v)
			seen |= hasArch
		case "syscall":
			r.Syscall, ok = parseSignedAll(val)
			seen |= hasSyscall
		case "code":
			// The kernel ends the record with code=, so a cut line can
			// end inside its value; validCode catches every such prefix.
			h, isHex := bytes.CutPrefix(val, []byte("0x"))
			v, hexOK := parseHexAll(h)
			if !isHex || !hexOK || v > 0xffffffff || !validCode(uint32(v)) {
				return fmt.Errorf("code=%s is not a seccomp action (truncated line?)", clip(val))
			}
			r.Code = uint32(v)
			seen |= hasCode
			ok = true
		case "comm":
			r.Comm, r.commBuf = decodeName(val, quoted, r.commBuf)
			ok = true
		case "exe":
			r.Exe, r.exeBuf = decodeName(val, quoted, r.exeBuf)
			ok = true
		case "sig":
			var v int64
			v, ok = parseSignedAll(val)
			r.Signal = int(v)
		case "compat":
			var v uint64
			v, ok = parseDecAll(val)
			r.Compat = int(v)
		case "ip":
			h, isHex := bytes.CutPrefix(val, []byte("0x"))
			r.IP, ok = parseHexAll(h)
			ok = ok && isHex
		case "auid":
			r.AUID, ok = parseID(val)
		case "uid":
			r.UID, ok = parseID(val)
		case "gid":
			r.GID, ok = parseID(val)
		case "ses":
			r.Session, ok = parseID(val)
		default:
			ok = true // fields the tool does not use: subj, ...
		}
		if !ok && bad == nil {
			bad = fmt.Errorf("bad %s= value %q", key, clip(val))
		}
	}
	if seen&hasCode == 0 {
		return errCutShort
	}
	if bad != nil {
		return bad
	}
	switch {
	case seen&hasArch == 0:
		return errors.New("no arch= field")
	case seen&hasSyscall == 0:
		return errors.New("no syscall= field")
	case seen&hasPID == 0:
		return errors.New("no pid= field")
	}
	return nil
}

// validCode reports whether code is one the kernel logs: a known action,
// and no data part except for the actions that can carry one. The kernel
// prints the code without leading zeros, so every prefix of a real code
// that a truncated line leaves (0x7ffc000, 0x5000, 0x8000000) fails this.
func validCode(code uint32) bool {
	a := Action(code & actionMask)
	return a.known() && (code&^actionMask == 0 || a.carriesData())
}

// decodeName returns the value of comm= or exe=: a quoted value as is,
// "(null)" as empty, and an unquoted value in audit's hexadecimal encoding
// (used for names with spaces, quotes or non-ASCII bytes) decoded into buf.
func decodeName(val []byte, quoted bool, buf []byte) (name, newBuf []byte) {
	if quoted {
		return val, buf
	}
	if string(val) == "(null)" {
		return val[:0], buf
	}
	if len(val) == 0 || len(val)%2 != 0 {
		return val, buf
	}
	out := buf[:0]
	for i := 0; i < len(val); i += 2 {
		hi, ok1 := unhex(val[i])
		lo, ok2 := unhex(val[i+1])
		if !ok1 || !ok2 {
			return val, buf // not hex: a bare value, keep it as written
		}
		out = append(out, hi<<4|lo)
	}
	return out, out
}

// hexValue maps a byte to its value as a hexadecimal digit, or 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	v := hexValue[c]
	return v, v != 0xff
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDec parses the leading decimal digits of b (at most 19, which fit
// in a uint64) and returns the value and how many bytes it used. Audit
// records are mostly numbers: it reads eight digits at a time.
func parseDec(b []byte) (v uint64, n int) {
	for n <= 8 && n+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[n:])
		k := leadingDigits(x)
		if k < 4 {
			// Short numbers (uid=101, sig=0) cost less digit by digit.
			for end := n + k; n < end; n++ {
				v = v*10 + uint64(b[n]-'0')
			}
			return v, n
		}
		v = v*pow10[k] + swarDigits(x, k)
		n += k
		if k < 8 {
			return v, n
		}
	}
	for n < len(b) && n < 19 && isDigit(b[n]) {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

var pow10 = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// leadingDigits returns how many of x's bytes, first byte lowest, are
// ASCII digits before the first that is not. A byte is a digit when its
// high nibble is 3 and adding 6 keeps it so; a carry out of a non-digit
// byte only disturbs the bytes after it.
func leadingDigits(x uint64) int {
	const hi, three, six = 0xf0f0f0f0f0f0f0f0, 0x3030303030303030, 0x0606060606060606
	nd := (x&hi ^ three) | ((x+six)&hi ^ three)
	return bits.TrailingZeros64(nd) >> 3 // 64 >> 3 = 8 when all are digits
}

// swarDigits returns the value of the first k (1 to 8) digits of x, first
// byte lowest and most significant.
func swarDigits(x uint64, k int) uint64 {
	d := x - 0x3030303030303030
	if k < 8 {
		d &= 1<<(8*k) - 1
		d <<= 8 * (8 - k) // leading zeros in the most significant places
	}
	d = (d * 2561) >> 8 // pairs of digits: 10*hi + lo
	d = ((d & 0x00ff00ff00ff00ff) * 6553601) >> 16
	return ((d & 0x0000ffff0000ffff) * 42949672960001) >> 32
}

func parseDecAll(b []byte) (uint64, bool) {
	v, n := parseDec(b)
	return v, n > 0 && n == len(b)
}

func parseSignedAll(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := parseDecAll(b)
	if !ok || v > 1<<62 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

func parseHexAll(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseID parses an auid=, uid= or gid= value: a number, or "unset" as
// some tools print it.
func parseID(b []byte) (uint32, bool) {
	if string(b) == "unset" {
		return Unset, true
	}
	v, ok := parseDecAll(b)
	return uint32(v), ok && v <= 0xffffffff
}

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
