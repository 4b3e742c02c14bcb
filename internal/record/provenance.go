package record

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// provenance says what the profile was recorded on: a profile is only as
// good as the PostgreSQL, glibc and kernel it was recorded with (glibc
// 2.33 alone renamed half a dozen syscalls, docs/SPEC.md §6).
func (r *recorder) provenance(ctx context.Context) (profile.Provenance, error) {
	p := profile.Provenance{
		Tool:         "pgseccomp record",
		RecordedAt:   time.Now().UTC().Truncate(time.Second),
		Architecture: r.arch.String(),
		Workloads:    r.names,
		Glibc:        glibcVersion(),
		Kernel:       kernelRelease(),
		Distribution: profile.OSRelease(),
	}
	out, err := r.srv.Command(ctx, "postgres", "--version").Output()
	if err != nil {
		return p, fmt.Errorf("ask the server for its version (postgres --version in %s): %w", r.srv.c.BinDir, err)
	}
	p.PostgreSQL = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "postgres (PostgreSQL) "))
	return p, nil
}

// glibcVersion asks getconf, which reports the C library it runs with.
func glibcVersion() string {
	out, err := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "glibc "))
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}
