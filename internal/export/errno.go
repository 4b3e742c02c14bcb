package export

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Errno is the error number a denied syscall returns.
type Errno struct {
	Name   string // as errno(3) spells it: EACCES
	Number int    // 13
}

// EACCES is what pgseccomp's error action returns (docs/SPEC.md §1).
var EACCES = Errno{Name: "EACCES", Number: int(unix.EACCES)}

// maxErrno is the largest error number a seccomp filter can return (and
// systemd accepts).
const maxErrno = 4095

// ParseErrno reads an errno name (EACCES, eperm) or number (13).
func ParseErrno(s string) (Errno, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > maxErrno {
			return Errno{}, fmt.Errorf("errno %d is out of range: use 1 to %d or a name such as EACCES", n, maxErrno)
		}
		name := unix.ErrnoName(syscall.Errno(n))
		if name == "" {
			return Errno{}, fmt.Errorf("errno %d has no name in errno(3); use a named one such as EACCES or EPERM", n)
		}
		return Errno{Name: name, Number: n}, nil
	}
	upper := strings.ToUpper(s)
	for n := 1; upper != "" && n <= maxErrno; n++ {
		if unix.ErrnoName(syscall.Errno(n)) == upper {
			return Errno{Name: upper, Number: n}, nil
		}
	}
	return Errno{}, fmt.Errorf("unknown errno %q: use a name from errno(3) such as EACCES or EPERM, or a number", s)
}

// String is the errno's name.
func (e Errno) String() string { return e.Name }

// IsZero reports whether e is the zero Errno (none chosen).
func (e Errno) IsZero() bool { return e.Number == 0 }
