package export

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// DefaultUnit is Debian's and Ubuntu's service template for PostgreSQL
// clusters (postgresql-common): one instance per cluster, postgresql@15-main.
const DefaultUnit = "postgresql@.service"

// DropInPath returns where a drop-in for unit belongs: systemd reads every
// *.conf in /etc/systemd/system/UNIT.d/ after the unit file. A drop-in for
// a template (postgresql@.service) applies to all of its instances.
func DropInPath(unit string) string {
	return "/etc/systemd/system/" + unit + ".d/pgseccomp.conf"
}

// SystemdAfterFilter are the syscalls systemd itself makes in the process
// it starts after it has loaded SystemCallFilter=, so an allow-list must name
// them (systemd's exec-invoke.c loads the filter as the last step before
// execve; systemd 252 in Debian 12 then calls only execve(), and write() on a
// pipe for Type=exec units).
var SystemdAfterFilter = []string{"execve", "write"}

// PgCtlclusterSyscalls are the syscalls Debian's postgresql@.service helpers
// make: pg_ctlcluster (Perl) as ExecStart=, ExecReload= and ExecStop=, and
// what it runs (id, pg_ctl, /bin/sh, psql). They run under the service's
// filter but never under pgseccomp's, which the postmaster loads only once it
// runs. Measured with strace -f on Debian 12 (postgresql-common 248,
// PostgreSQL 15) for "pg_ctlcluster --skip-systemctl-redirect 15 main
// start", "reload" and "-m fast stop", as the unit runs them.
var PgCtlclusterSyscalls = []string{
	"access", "arch_prctl", "brk", "chdir", "clone", "clone3", "close",
	"connect", "dup2", "epoll_create1", "epoll_ctl", "epoll_wait", "execve",
	"exit_group", "fcntl", "fdatasync", "fstatfs", "futex", "getcwd",
	"getdents64", "getegid", "geteuid", "getgid", "getgroups", "getpid",
	"getppid", "getrandom", "getsockname", "getsockopt", "getuid", "ioctl",
	"kill", "lseek", "mmap", "mprotect", "munmap", "newfstatat", "openat",
	"pipe2", "poll", "prctl", "pread64", "prlimit64", "pselect6", "pwrite64",
	"read", "readlink", "readlinkat", "recvfrom", "rename", "rseq",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sendto",
	"set_robust_list", "set_tid_address", "setgroups", "setitimer",
	"setregid", "setresgid", "setresuid", "setreuid", "setsid", "signalfd4",
	"socket", "statfs", "umask", "unlink", "vfork", "wait4", "write",
}

// neverCalled is a syscall no program calls directly (the kernel uses it to
// restart an interrupted one). "Log everything" is SystemCallLog=~ with one
// name, because systemd ignores an inverted list with no names.
const neverCalled = "restart_syscall"

// SystemdOptions are the choices of a drop-in beyond the profile.
type SystemdOptions struct {
	// Unit is the service the drop-in is for (DefaultUnit when empty).
	Unit string
	// Errno is what syscalls denied with "error" return (EACCES when zero,
	// as pgseccomp's own filters).
	Errno Errno
	// Trial writes a drop-in that only logs: every syscall the enforcing
	// drop-in would deny or log is logged, none is denied.
	Trial bool
	// Helpers are the syscalls of the programs the unit runs before the
	// postmaster starts (PgCtlclusterSyscalls for Debian's unit), added to an
	// allow-list; HelpersName names them in the header ("" when none).
	Helpers     []string
	HelpersName string
	// Arch is the server's architecture, on which systemd resolves the
	// names (the native one when zero).
	Arch syscalls.Arch
	// Command is the command line that wrote the drop-in, for its header.
	Command string
}

// unitPattern is what systemd accepts as a service name (unit_name_is_valid:
// letters, digits, ":-_.\@", an optional instance, at most 255 bytes).
var unitPattern = regexp.MustCompile(`^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.service$`)

// CheckUnit checks that unit names a systemd service.
func CheckUnit(unit string) error {
	if len(unit) > 255 || !unitPattern.MatchString(unit) {
		return fmt.Errorf("%q is not a systemd service name: give one such as %s or postgresql@15-main.service", unit, DefaultUnit)
	}
	return nil
}

// Systemd writes a systemd drop-in ([Service] section) that loads profile p
// into every process of the service. Names are checked against libseccomp on
// the native architecture, as systemd resolves them.
func Systemd(p Filter, o SystemdOptions) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if o.Unit == "" {
		o.Unit = DefaultUnit
	}
	if err := CheckUnit(o.Unit); err != nil {
		return nil, err
	}
	if o.Errno.IsZero() {
		o.Errno = EACCES
	}
	if !o.Arch.Valid() {
		native, err := policy.NativeArch()
		if err != nil {
			return nil, err
		}
		o.Arch = native
	}
	if err := checkNames(o.Arch, p.sortedNames(), "profile "+p.describe()); err != nil {
		return nil, err
	}
	// The helpers' list was measured on x86_64; elsewhere keep the names
	// that exist (equivalents such as faccessat for access may be missing).
	var helpersMissing []string
	var helpers []string
	for _, name := range o.Helpers {
		if syscalls.Has(o.Arch, name) {
			helpers = append(helpers, name)
		} else {
			helpersMissing = append(helpersMissing, name)
		}
	}
	o.Helpers = helpers

	d := planSystemd(p, o)
	if len(helpersMissing) > 0 {
		d.inexact = append(d.inexact, fmt.Sprintf("the %s syscalls were measured on x86_64; %s does not have %s, and may need others instead: try the drop-in with --log first.", o.HelpersName, o.Arch, strings.Join(helpersMissing, " ")))
	}
	var b bytes.Buffer
	writeSystemdHeader(&b, p, o, d)
	b.WriteString("[Service]\n")
	for _, dir := range d.directives {
		b.WriteString(dir)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// checkNames reports the first name libseccomp does not know on arch.
func checkNames(arch syscalls.Arch, names []string, what string) error {
	for _, name := range names {
		if err := syscalls.CheckName(arch, name); err != nil {
			return fmt.Errorf("%s: %v; correct the name or remove it", what, err)
		}
	}
	return nil
}

// systemdPlan is a drop-in before it is written.
type systemdPlan struct {
	mapping    []string // how each pgseccomp action is expressed
	inexact    []string // what the drop-in does differently, and why
	directives []string // the [Service] lines
}

func planSystemd(p Filter, o SystemdOptions) systemdPlan {
	var d systemdPlan
	errno := o.Errno.Name
	p, changed := p.allowing(union(SystemdAfterFilter, o.Helpers))
	if len(changed) > 0 {
		why := "systemd calls execve and write after loading the filter"
		if o.HelpersName != "" {
			why = fmt.Sprintf("systemd calls execve and write after loading the filter, and %s (%d syscalls, see --helpers) runs under it before the postmaster, and so pgseccomp, starts", o.HelpersName, len(o.Helpers))
		}
		d.inexact = append(d.inexact, fmt.Sprintf("allowed here although the profile denies them, because %s: %s.", why, strings.Join(changed, " ")))
	}
	allow, logged := p.Names(policy.Allow), p.Names(policy.Log)
	errs, kills := p.Names(policy.Error), p.Names(policy.Kill)
	allowList := p.Default == policy.Error || p.Default == policy.Kill

	if o.Trial {
		d.mapping = append(d.mapping,
			"Trial mode: nothing is denied. SystemCallLog= logs every syscall the",
			"enforcing drop-in would deny or log (audit type SECCOMP, see",
			"'pgseccomp syscalls'); write the enforcing drop-in once the log is quiet.")
		switch {
		case p.Default == policy.Allow:
			if names := union(logged, errs, kills); len(names) > 0 {
				d.directives = append(d.directives, listDirectives("SystemCallLog", "", names)...)
			} else {
				d.mapping = append(d.mapping, "The profile denies and logs nothing, so there is nothing to log.")
			}
		default: // log everything but what runs silently
			d.directives = append(d.directives, logAllBut(&d, allow)...)
		}
		d.directives = append(d.directives, "SystemCallArchitectures=native", "NoNewPrivileges=yes")
		return d
	}

	if !allowList {
		d.mapping = append(d.mapping, "A deny-list: the default is "+p.Default.String()+", so SystemCallFilter=~ lists what is denied.")
		d.mapping = append(d.mapping, "allow -> not listed anywhere")
		if p.Default == policy.Log {
			d.mapping = append(d.mapping, "log   -> every syscall not in an allow list: SystemCallLog=~ lists the allowed ones")
		} else {
			d.mapping = append(d.mapping, "log   -> SystemCallLog=")
		}
		d.mapping = append(d.mapping, "error -> SystemCallFilter=~, failing with "+errno+" (SystemCallErrorNumber=)")
		if len(errs) > 0 {
			d.mapping = append(d.mapping, "kill  -> SystemCallFilter=~ NAME:kill (the process dies with SIGSYS)")
		} else {
			d.mapping = append(d.mapping, "kill  -> SystemCallFilter=~ without SystemCallErrorNumber= (the process dies with SIGSYS)")
		}
		switch {
		case len(errs) > 0:
			d.directives = append(d.directives, listDirectives("SystemCallFilter", "~", errs)...)
			d.directives = append(d.directives, listDirectives("SystemCallFilter", "~", suffixed(kills, ":kill"))...)
			d.directives = append(d.directives, "SystemCallErrorNumber="+errno)
		case len(kills) > 0:
			d.directives = append(d.directives, listDirectives("SystemCallFilter", "~", kills)...)
		default:
			d.mapping = append(d.mapping, "The profile denies nothing, so there is no SystemCallFilter=.")
		}
		if p.Default == policy.Log {
			d.directives = append(d.directives, logAllBut(&d, allow)...)
		} else if len(logged) > 0 {
			d.directives = append(d.directives, listDirectives("SystemCallLog", "", logged)...)
		}
	} else {
		d.mapping = append(d.mapping, "An allow-list: the default is "+p.Default.String()+", so SystemCallFilter= lists what is allowed.")
		d.mapping = append(d.mapping, "allow -> SystemCallFilter=")
		d.mapping = append(d.mapping, "log   -> SystemCallFilter= and SystemCallLog=")
		listed := union(allow, logged)
		if p.Default == policy.Error {
			d.mapping = append(d.mapping, "error -> not listed: fails with "+errno+" (SystemCallErrorNumber=)")
			d.mapping = append(d.mapping, "kill  -> not listed: fails with "+errno+" (see below)")
			if len(kills) > 0 {
				d.inexact = append(d.inexact, fmt.Sprintf(
					"kill becomes %s here for %s: outside an allow-list systemd has one action for every syscall. pgseccomp's global filter still kills the process.",
					errno, strings.Join(kills, " ")))
			}
		} else {
			d.mapping = append(d.mapping, "kill  -> not listed: the process dies with SIGSYS (no SystemCallErrorNumber=)")
			d.mapping = append(d.mapping, "error -> SystemCallFilter= (see below)")
			if len(errs) > 0 {
				d.inexact = append(d.inexact, fmt.Sprintf(
					"error becomes allow here for %s: outside an allow-list systemd has one action for every syscall, and killing would be stricter than pgseccomp. pgseccomp's global filter still makes them fail with %s.",
					strings.Join(errs, " "), errno))
			}
			listed = union(listed, errs)
		}
		d.inexact = append(d.inexact, "systemd adds its @default set (systemd-analyze syscall-filter @default) to every allow-list.")
		d.directives = append(d.directives, listDirectives("SystemCallFilter", "", listed)...)
		if p.Default == policy.Error {
			d.directives = append(d.directives, "SystemCallErrorNumber="+errno)
		}
		if len(logged) > 0 {
			d.directives = append(d.directives, listDirectives("SystemCallLog", "", logged)...)
		}
	}
	if p.Default == policy.Error || (!allowList && len(errs) > 0) {
		d.inexact = append(d.inexact, "systemd does not set SECCOMP_FILTER_FLAG_LOG, so syscalls this filter fails with "+errno+" are not audited; pgseccomp's own filters log theirs.")
		if o.Errno.Number != EACCES.Number {
			d.inexact = append(d.inexact, fmt.Sprintf("error returns %s (errno %d) here, EACCES inside pgseccomp's filters.", errno, o.Errno.Number))
		}
	}
	d.directives = append(d.directives, "SystemCallArchitectures=native", "NoNewPrivileges=yes")
	return d
}

// logAllBut returns SystemCallLog= lines that log every syscall except
// names. With no names it excludes neverCalled, since systemd ignores an
// inverted list with no names.
func logAllBut(d *systemdPlan, names []string) []string {
	if len(names) == 0 {
		d.inexact = append(d.inexact, "log: every syscall is logged except "+neverCalled+" (which programs never call): systemd needs one name after SystemCallLog=~.")
		names = []string{neverCalled}
	}
	return listDirectives("SystemCallLog", "~", names)
}

// listDirectives writes names as KEY= lines of at most about 76 columns:
// systemd merges repeated assignments, and short lines read and diff
// better. Every line of an inverted list starts with "~".
func listDirectives(key, prefix string, names []string) []string {
	var lines []string
	line := ""
	for _, name := range names {
		if line != "" && len(line)+1+len(name) > 76 {
			lines = append(lines, line)
			line = ""
		}
		if line == "" {
			line = key + "=" + prefix + name
		} else {
			line += " " + name
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func suffixed(names []string, suffix string) []string {
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = name + suffix
	}
	return out
}

func writeSystemdHeader(b *bytes.Buffer, p Filter, o SystemdOptions, d systemdPlan) {
	c := func(format string, args ...any) {
		line := strings.TrimRight("# "+fmt.Sprintf(format, args...), " ")
		b.WriteString(line + "\n")
	}
	instance := strings.Replace(o.Unit, "@.service", "@15-main.service", 1)
	mode := "enforcing"
	if o.Trial {
		mode = "trial (log only)"
	}
	c("pgseccomp: seccomp filter for %s, %s.", o.Unit, mode)
	if p.Source != "" {
		c("From the %s", p.Source)
	}
	c("(%s).", p.Summary())
	if o.Command != "" {
		c("Written by: %s", o.Command)
	}
	c("")
	c("Install as %s, then:", DropInPath(o.Unit))
	c("  systemd-analyze verify %s   # warns of unknown names", instance)
	c("  systemctl daemon-reload && systemctl restart %s", instance)
	c("")
	programs := "the programs the unit runs (ExecStart= and the like)"
	if o.HelpersName == "pg_ctlcluster" {
		programs = "the programs the unit runs (pg_ctlcluster, pg_ctl, the shell)"
	}
	writeWrapped(c, "", "", "The filter applies to every process of the service: "+programs+
		", the postmaster and all its children. pgseccomp's own filters still stack inside PostgreSQL and can only restrict further. "+
		"It must therefore allow all that pgseccomp's global layer allows; where systemd cannot say exactly what pgseccomp does, it is looser.")
	c("")
	c("pgseccomp -> systemd:")
	for _, line := range d.mapping {
		c("  %s", line)
	}
	if len(d.inexact) > 0 {
		c("")
		c("Not exactly as in pgseccomp:")
		for _, line := range d.inexact {
			writeWrapped(c, "  - ", "    ", line)
		}
	}
	c("")
	c("SystemCallLog= needs systemd 247 or later, NAME:kill 250 or later.")
}

// writeWrapped writes text as comment lines of at most about 76 columns,
// the first starting with first and the others with rest.
func writeWrapped(c func(string, ...any), first, rest, text string) {
	line, empty := first, true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > 76 {
			c("%s", line)
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	c("%s", line)
}
