package audit

import "bytes"

// parseCanonical parses a record body laid out exactly as the kernel
// writes it (kernel/auditsc.c, audit_log_task and audit_seccomp):
//
//	auid=N uid=N gid=N ses=N [subj=LABEL ]pid=N comm=NAME exe=PATH sig=N arch=HEX syscall=N [compat=N ]ip=0xHEX code=0xHEX
//
// optionally followed by auditd's 0x1d and ENRICHED fields. It is the hot
// path: fixed keys in a fixed order, each value read once. On success it
// has set every field but Format, Time and Serial. It reports false,
// leaving fields half set, for anything else (a cut line, an odd label, a
// bad value), which parseFields then reads field by field and describes.
func (r *Record) parseCanonical(b []byte) bool {
	b = bytes.TrimLeft(b, " ")
	// Keys are checked with hasKey at each call so that they stay
	// constants the compiler compares in a few loads.
	var ok bool
	var v uint64
	if !hasKey(b, "auid=") {
		return false
	}
	if hasKey(b[5:], "4294967295 ") { // unset, as for every daemon
		r.AUID, b = Unset, b[16:]
	} else if v, b, ok = decValue(b[5:]); !ok || v > 0xffffffff {
		return false
	} else {
		r.AUID = uint32(v)
	}
	if !hasKey(b, "uid=") {
		return false
	}
	if v, b, ok = decValue(b[4:]); !ok || v > 0xffffffff {
		return false
	}
	r.UID = uint32(v)
	if !hasKey(b, "gid=") {
		return false
	}
	if v, b, ok = decValue(b[4:]); !ok || v > 0xffffffff {
		return false
	}
	r.GID = uint32(v)
	if !hasKey(b, "ses=") {
		return false
	}
	if hasKey(b[4:], "4294967295 ") {
		r.Session, b = Unset, b[15:]
	} else if v, b, ok = decValue(b[4:]); !ok || v > 0xffffffff {
		return false
	} else {
		r.Session = uint32(v)
	}
	if hasKey(b, "subj=") {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return false
		}
		b = b[sp+1:]
	}
	if !hasKey(b, "pid=") {
		return false
	}
	if v, b, ok = decValue(b[4:]); !ok || v > 1<<31 {
		return false
	}
	r.PID = int(v)
	var val []byte
	var quoted bool
	if !hasKey(b, "comm=") {
		return false
	}
	if val, quoted, b, ok = nameValue(b[5:], 16); !ok {
		return false
	}
	r.Comm, r.commBuf = decodeName(val, quoted, r.commBuf)
	if !hasKey(b, "exe=") {
		return false
	}
	if val, quoted, b, ok = nameValue(b[4:], 0); !ok {
		return false
	}
	r.Exe, r.exeBuf = decodeName(val, quoted, r.exeBuf)
	if !hasKey(b, "sig=") {
		return false
	}
	b = b[4:]
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if v, b, ok = decValue(b); !ok || v > 1<<31 {
		return false
	}
	r.Signal = int(v)
	if neg {
		r.Signal = -r.Signal
	}
	if !hasKey(b, "arch=") {
		return false
	}
	if v, b, ok = hexValueSp(b[5:]); !ok || v > 0xffffffff {
		return false
	}
	r.AuditArch = uint32(v)
	if !hasKey(b, "syscall=") {
		return false
	}
	if v, b, ok = decValue(b[8:]); !ok || v > 1<<62 {
		return false
	}
	r.Syscall = int64(v)
	r.Compat = -1
	if hasKey(b, "compat=") {
		if v, b, ok = decValue(b[7:]); !ok || v > 1<<31 {
			return false
		}
		r.Compat = int(v)
	}
	if !hasKey(b, "ip=0x") {
		return false
	}
	if r.IP, b, ok = hexValueSp(b[5:]); !ok {
		return false
	}
	// code= ends the record: the line, or auditd's ENRICHED part, follows.
	if !hasKey(b, "code=0x") {
		return false
	}
	b = b[7:]
	end := 0
	for end < len(b) && end < 9 && hexValue[b[end]] != 0xff {
		end++
	}
	code, isHex := parseHexAll(b[:end])
	if !isHex || code > 0xffffffff || !validCode(uint32(code)) {
		return false
	}
	r.Code = uint32(code)
	switch rest := b[end:]; {
	case len(rest) == 0:
		r.Enriched = nil
	case rest[0] == 0x1d:
		r.Enriched = rest[1:]
	default:
		return false
	}
	return true
}

// hasKey reports whether b starts with key; small enough to inline, so
// that the comparison with a constant key compiles to a few loads.
func hasKey(b []byte, key string) bool {
	return len(b) >= len(key) && string(b[:len(key)]) == key
}

// decValue reads "DIGITS " (at most 19 digits). Most of a record's
// numbers are short: a loop the compiler inlines reads them faster than
// parseDec's eight at a time.
func decValue(b []byte) (uint64, []byte, bool) {
	var v uint64
	n := 0
	for ; n < len(b) && n < 19 && b[n]-'0' < 10; n++ {
		v = v*10 + uint64(b[n]-'0')
	}
	if n == 0 || n >= len(b) || b[n] != ' ' {
		return 0, b, false
	}
	return v, b[n+1:], true
}

// hexValueSp reads "HEX " (at most 16 digits).
func hexValueSp(b []byte) (uint64, []byte, bool) {
	var v uint64
	n := 0
	for ; n < len(b) && n < 16 && hexValue[b[n]] != 0xff; n++ {
		v = v<<4 | uint64(hexValue[b[n]])
	}
	if n == 0 || n >= len(b) || b[n] != ' ' {
		return 0, b, false
	}
	return v, b[n+1:], true
}

// nameValue reads the value of comm= or exe= and the space after it: a
// quoted value (which audit writes only when it has no space or quote) or
// a bare one (hex, or "(null)").
// A loop finds the closing quote of a short value (comm= is at most 15
// bytes) faster than a call; for exe= paths, shortMax is 0.
func nameValue(b []byte, shortMax int) (val []byte, quoted bool, rest []byte, ok bool) {
	if len(b) > 0 && b[0] == '"' {
		q := -1
		for i := 1; i < len(b) && i <= shortMax+1; i++ {
			if b[i] == '"' {
				q = i - 1
				break
			}
		}
		if q < 0 {
			q = bytes.IndexByte(b[1:], '"')
		}
		if q < 0 || q+2 >= len(b) || b[q+2] != ' ' {
			return nil, false, b, false
		}
		return b[1 : q+1], true, b[q+3:], true
	}
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return nil, false, b, false
	}
	return b[:sp], false, b[sp+1:], true
}
