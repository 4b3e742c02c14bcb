package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/source"
	"github.com/pgseccomp/pgseccomp/internal/watch"
)

const watchUsage = `Usage: pgseccomp watch [--cluster VER/NAME | --pgdata DIR] [--config FILE] [--server-log FILE]
                       [--json] [--interval D] [--metrics-address HOST:PORT]
                       [--since TIME [--audit-log FILE]]

Print every seccomp violation of one cluster's processes as it happens:
time, pid, process kind, role, database, application_name, client address,
the statement when the server log has it, the syscall (by the record's own
ABI), the action, and the layer that decided it (global, session, role,
client), computed from the cluster's configuration as 'pgseccomp explain'
computes it. Records are read from the kernel's audit multicast group (with
or without auditd; needs root), losslessly; a rise of the kernel's lost
counter or an overflow of the socket is printed. Identical records within an
interval are one line with their count. The watch follows the server across
restarts and crash recovery, and waits for it when it is down; SIGTERM or
SIGINT ends it. What cannot be attributed is named on the line with the
reason (see the README for the server settings that make attribution
complete).

` + clusterFlagsHelp + `  --config FILE       the postgresql.conf the server runs with
  --server-log FILE   the server log (default: the file the data directory's
                      current_logfiles names, jsonlog first, then csvlog,
                      then stderr; with the logging collector off, Debian's
                      /var/log/postgresql/postgresql-VER-NAME.log); a stderr
                      log is read with the configuration's log_line_prefix
  --json              one JSON object per line (fields in the README)
  --interval D        how long identical records are counted into one line
                      (default 1s)
  --metrics-address HOST:PORT
                      serve Prometheus metrics on http://HOST:PORT/metrics
  --since TIME        replay past records instead, from TIME (as syscalls
                      --since takes it: 90m, 7d, 2026-12-06 05:00,
                      2026-12-06T05:00:00Z, @1795820182) to the end of the audit log, attributed with
                      the server log as far as it goes back (every file of
                      its format in its directory); then exit
  --audit-log FILE    the records to replay: auditd's log (default
                      /var/log/audit/audit.log), dmesg or journalctl -o json
                      output, any source 'pgseccomp syscalls' trusts; "-" is
                      stdin. Without auditd, the default is the journal
                      (journalctl -o json _TRANSPORT=audit _TRANSPORT=kernel)

Examples:
  pgseccomp watch --cluster 15/main
  pgseccomp watch --pgdata "$PGDATA" --json --metrics-address 127.0.0.1:9187
  pgseccomp watch --pgdata "$PGDATA" --since 2h
  journalctl -k -o json | pgseccomp watch --pgdata "$PGDATA" --since 1d --audit-log -

Exit status: 0 when stopped by a signal, 2 for a usage or input error, 1
when the capture fails.
`

func runWatch(args []string) int {
	var cf configFlags
	fs := newFlagSet("watch")
	cf.register(fs)
	serverLog := fs.String("server-log", "", "server log file")
	jsonOut := fs.Bool("json", false, "JSON lines")
	interval := fs.Duration("interval", time.Second, "interval")
	metricsAddr := fs.String("metrics-address", "", "Prometheus metrics address")
	sinceFlag := fs.String("since", "", "replay from this time")
	auditLog := fs.String("audit-log", "", "audit log to replay")
	if code, ok := parseFlags(fs, args, watchUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("watch", "unexpected argument %q", fs.Arg(0))
	}
	var err error
	var since time.Time
	if *sinceFlag != "" {
		if since, err = audit.ParseSince(*sinceFlag, time.Now()); err != nil {
			return usageError("watch", "--since: %v", err)
		}
	} else if *auditLog != "" {
		return usageError("watch", "--audit-log is read with --since: give the time to replay from")
	}
	if cf.profile != "" {
		return usageError("watch", "--profile: a watch reads the configuration the server runs with; give --pgdata or --config")
	}
	in, err := cf.load()
	if err != nil {
		return usageError("watch", "%v", err)
	}
	if in.Conf == nil {
		return usageError("watch", "%s is a profile: a watch reads the configuration the server runs with; give --pgdata or --config with its postgresql.conf", in.Path)
	}
	dataDir := in.Conf.DataDir
	if dataDir == "" {
		return usageError("watch", "no data directory: give --cluster VER/NAME or --pgdata DIR (the directory with postmaster.pid)")
	}
	fallbackLog := ""
	if cf.cluster.name != "" || cf.cluster.pgdata != "" {
		if e, err := cf.cluster.find(); err == nil && e.Version != "" {
			fallbackLog = fmt.Sprintf("/var/log/postgresql/postgresql-%s-%s.log", e.Version, e.Name)
		}
	}
	prefix := "%m [%p] " // PostgreSQL's default
	if s, ok := in.Conf.Lookup("log_line_prefix"); ok {
		prefix = s.Value
	}
	load := func(arch policy.Arch) (*policy.Policy, error) {
		in, err := cf.load()
		if err != nil {
			return nil, err
		}
		lc := source.Check(in, arch)
		return lc.Policy, nil
	}
	cfg := watch.Config{
		DataDir:  dataDir,
		Log:      watch.LogSource{Path: *serverLog, Prefix: prefix, Fallback: fallbackLog},
		Policy:   load,
		Interval: *interval,
		JSON:     *jsonOut,
		Out:      stdout,
	}
	if *metricsAddr != "" {
		cfg.Metrics = watch.NewMetrics()
		ln, err := cfg.Metrics.Serve(*metricsAddr)
		if err != nil {
			return usageError("watch", "serve metrics on %s: %v", *metricsAddr, err)
		}
		defer ln.Close()
	}
	if !since.IsZero() {
		return replay(cfg, since, *auditLog)
	}
	capture, err := audit.OpenCapture()
	if err != nil {
		fmt.Fprintf(stderr, "pgseccomp watch: %v\n", err)
		return 1
	}
	defer capture.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := watch.New(cfg)
	if err := w.Run(ctx, capture); err != nil {
		fmt.Fprintf(stderr, "pgseccomp watch: %v\n", err)
		return 1
	}
	st := w.Stats()
	fmt.Fprintf(stderr, "pgseccomp watch: %d records in %d events; %d records not placed; kernel lost counter +%d; %d socket overflows\n",
		st.Records, st.Events, st.Unplaced, st.Lost, st.Overflows)
	return 0
}

// replay runs watch.Replay on the audit log the flags name.
func replay(cfg watch.Config, since time.Time, auditLog string) int {
	const auditd = "/var/log/audit/audit.log"
	var records io.Reader
	name := auditLog
	switch {
	case auditLog == "-":
		records, name = os.Stdin, "stdin"
	case auditLog != "":
		f, err := os.Open(auditLog)
		if err != nil {
			return usageError("watch", "%v", err)
		}
		defer f.Close()
		records = f
	default:
		if f, err := os.Open(auditd); err == nil {
			defer f.Close()
			records, name = f, auditd
			break
		}
		// JSON, so that each entry's _TRANSPORT (set by journald) shows
		// it is the kernel's: text lines could be anybody's.
		cmd := exec.Command("journalctl", "--no-pager", "-o", "json",
			"--since", since.Local().Format("2006-01-02 15:04:05"), "_TRANSPORT=audit", "_TRANSPORT=kernel")
		cmd.Stderr = stderr
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			return usageError("watch", "no %s, and the journal cannot be read (%v): give the records with --audit-log FILE", auditd, err)
		}
		defer cmd.Wait()
		records, name = out, "the journal"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := watch.New(cfg)
	if err := w.Replay(ctx, records, name, since); err != nil {
		fmt.Fprintf(stderr, "pgseccomp watch: %v\n", err)
		return 1
	}
	st := w.Stats()
	fmt.Fprintf(stderr, "pgseccomp watch: replayed %d records of the cluster in %d events; %d records not placed\n", st.Records, st.Events, st.Unplaced)
	return 0
}
