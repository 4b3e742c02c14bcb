package main

import (
	"github.com/pgseccomp/pgseccomp/internal/export"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

const systemdUsage = `Usage: pgseccomp systemd [--config FILE | --pgdata DIR | --profile FILE] [--unit UNIT]
                         [--errno ERRNO] [--log] [--helpers pg_ctlcluster|none]
                         [--arch ARCH] [--output FILE|-]

Write a systemd drop-in that loads a seccomp filter into every process of the
PostgreSQL service: the programs the unit runs (pg_ctlcluster, pg_ctl, the
shell), the postmaster and all its children. The filter is the global layer
of pgseccomp's configuration (what every server process has; the session and
client layers can only restrict further, so an outer filter must allow all
that the global layer allows). pgseccomp's own filters still stack inside
PostgreSQL. Install the drop-in as

  /etc/systemd/system/postgresql@.service.d/pgseccomp.conf

(for another unit: /etc/systemd/system/UNIT.d/pgseccomp.conf), then run
'systemctl daemon-reload' and restart the clusters. The drop-in's header says
how each action is mapped and what systemd cannot express exactly.

The [Service] section has SystemCallFilter= (an allow-list when the global
default is error or kill, a deny-list "~..." when it is allow or log),
SystemCallErrorNumber= (error: EACCES), SystemCallLog= (log),
SystemCallArchitectures=native and NoNewPrivileges=yes. An allow-list also
names what systemd calls after loading the filter (execve, write) and, with
--helpers pg_ctlcluster, what Debian's pg_ctlcluster, pg_ctl, sh and psql
call (measured with strace for start, reload and stop): they run under the
filter before PostgreSQL, and so pgseccomp, starts. Where systemd cannot say
what pgseccomp does (one error number for the whole filter; no kill inside an
allow-list with an error default), the drop-in is looser and says so.

Which configuration:
  --config FILE     the postgresql.conf to read (includes and
                    postgresql.auto.conf are followed as the server does)
` + clusterFlagsHelp + `  --profile FILE    a pgseccomp profile ('pgseccomp record' writes them), its
                    global layer; --config FILE reads one too
  (neither)         $PGDATA, as --pgdata

Drop-in:
  --unit UNIT       the service (default postgresql@.service, Debian's and
                    Ubuntu's template for every cluster; a drop-in for an
                    instance, postgresql@15-main.service, is for one cluster)
  --errno ERRNO     what syscalls denied with error return (default EACCES,
                    as pgseccomp; a name from errno(3) or a number)
  --log             trial drop-in: no SystemCallFilter=, only SystemCallLog=
                    for every syscall the enforcing drop-in would deny or log
  --helpers SET     pg_ctlcluster (default): allow what Debian's unit runs
                    before the postmaster; none: a unit whose ExecStart=
                    runs postgres itself
  --arch ARCH       the server's architecture (default: a profile's own, else
                    this machine's)
  --output FILE     write to FILE (its directory is created), "-" for stdout
                    (the default)

Exit status:
  0  drop-in written
  1  pgseccomp would reject the configuration (the server would not start);
     stderr names each setting, file:line and the offending word
  2  bad flags, or a configuration that cannot be read

Examples:
  # write the drop-in for every cluster on a Debian or Ubuntu server
  pgseccomp systemd --config /etc/postgresql/15/main/postgresql.conf \
    --output /etc/systemd/system/postgresql@.service.d/pgseccomp.conf
  systemd-analyze verify postgresql@15-main.service
  systemctl daemon-reload && systemctl restart postgresql@15-main

  # first a trial: log, deny nothing; read the log with 'pgseccomp syscalls'
  pgseccomp systemd --pgdata "$PGDATA" --log

  # one cluster only, a unit that runs postgres directly
  pgseccomp systemd --pgdata /srv/pg --unit mypg.service --helpers none

  # a trial drop-in from the global layer of a recorded profile
  pgseccomp systemd --profile pg15.json --log
`

func runSystemd(args []string) int {
	var (
		config                        configFlags
		unit, errnoName, output, arch string
		helpers                       string
		trial                         bool
	)
	fs := newFlagSet("systemd")
	config.register(fs)
	fs.StringVar(&unit, "unit", export.DefaultUnit, "systemd service")
	fs.StringVar(&errnoName, "errno", export.EACCES.Name, "errno for error")
	fs.BoolVar(&trial, "log", false, "log instead of deny")
	fs.StringVar(&helpers, "helpers", "pg_ctlcluster", "pg_ctlcluster or none")
	fs.StringVar(&arch, "arch", "", "the server's architecture")
	fs.StringVar(&output, "output", "-", "output file, - for stdout")
	if code, ok := parseFlags(fs, args, systemdUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("systemd", "unexpected argument %q; systemd takes only flags (see 'pgseccomp systemd --help')", fs.Arg(0))
	}
	if err := export.CheckUnit(unit); err != nil {
		return usageError("systemd", "--unit: %v", err)
	}
	errno, err := export.ParseErrno(errnoName)
	if err != nil {
		return usageError("systemd", "--errno: %v", err)
	}
	opts := export.SystemdOptions{Unit: unit, Errno: errno, Trial: trial, Command: commandLine("systemd", args)}
	switch helpers {
	case "pg_ctlcluster":
		opts.Helpers, opts.HelpersName = export.PgCtlclusterSyscalls, "pg_ctlcluster"
	case "none":
	default:
		return usageError("systemd", "--helpers %q: use pg_ctlcluster (Debian's postgresql@.service) or none (a unit that runs postgres itself)", helpers)
	}
	in, err := config.load()
	if err != nil {
		return usageError("systemd", "%v", err)
	}
	a, err := source.Arch(arch, in)
	if err != nil {
		return usageError("systemd", "--arch: %v", err)
	}
	opts.Arch = a
	profile, code := globalProfile("systemd", in, config, a)
	if code != 0 {
		return code
	}
	out, err := export.Systemd(profile, opts)
	if err != nil {
		return usageError("systemd", "%v", err)
	}
	return writeOutput("systemd", output, out)
}
