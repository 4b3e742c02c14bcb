package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// Step is one thing a DBA does to a server. The recorder runs the steps of
// BuiltIn in order, skipping the destructive ones on a server that was not
// made for the recording, and names the step when a denial happens.
type Step struct {
	// Name says what the step does, in a few words ("base-backup-tar-gzip").
	Name string
	// Destructive steps crash or restart the server, change its
	// configuration files or corrupt (and repair) its data directory: they
	// only run on a throwaway server.
	Destructive bool
	// Run does the step. It may be run again on the same server (it drops
	// and recreates what it makes), removes the files it puts in
	// ScratchDir, and returns with the server running.
	Run func(ctx context.Context, t Target) error
	// Meets, for a server-life step (ServerLife) only part of which every
	// server meets, is the event (Marker) of that part; the rest is set-up
	// that not every server does (starting PL/Perl to call abort()).
	Meets string
}

// Path is the name of the step's path in a recording's map
// (profile.Provenance.Paths) and in its output.
func (s Step) Path() string { return "built-in/" + s.Name }

// ServerLifePath is the path of the step that every server meets: the
// event Meets, or else the whole step.
func (s Step) ServerLifePath() string {
	if s.Meets != "" {
		return s.Meets
	}
	return s.Path()
}

// Names of what the workload creates in a server. Everything is prefixed
// so that a run never touches a DBA's own objects, and a run that was
// interrupted is cleaned up by the next one.
const (
	// workDB holds each step's schema.
	workDB = "pgseccomp_workload"
	// prefix starts the name of every other database, role, tablespace,
	// slot, publication and subscription the workload creates.
	prefix = "pgseccomp_wl_"
)

// Scratch subdirectories named in Settings: the server writes into them
// on its own (archive_command, basebackup_to_shell), so they live for the
// whole recording; the teardown step empties them.
const (
	archiveSubdir     = "wal-archive"
	shellBackupSubdir = "shell-backup"
)

// Settings are the postgresql.conf settings the built-in workload needs,
// values quoted for postgresql.conf, for a throwaway cluster to be started
// with. scratchDir is Target.ScratchDir(). shared_preload_libraries lists
// the workload's libraries only: the recorder adds 'pgseccomp' to it.
//
// Steps check what they need (wal_level, archive_mode, ...) and skip what a
// server without these settings cannot do.
func Settings(scratchDir string) map[string]string {
	archive := filepath.Join(scratchDir, archiveSubdir)
	shellBackup := filepath.Join(scratchDir, shellBackupSubdir)
	settings := map[string]string{
		// Background workers and hooks the steps use: pg_prewarm's autoprewarm
		// worker runs as a bgworker, basebackup_to_shell adds the "shell"
		// base backup target, pg_stat_statements needs shared memory.
		"shared_preload_libraries":        "pg_stat_statements,pg_prewarm,basebackup_to_shell",
		"pg_prewarm.autoprewarm_interval": "10s",

		// Replication: base backups, a standby, slots, logical decoding,
		// logical replication to the same server.
		"wal_level":                         "logical",
		"max_wal_senders":                   "12",
		"max_replication_slots":             "12",
		"max_worker_processes":              "24",
		"max_logical_replication_workers":   "6",
		"max_sync_workers_per_subscription": "2",
		"max_parallel_workers":              "8",
		"max_parallel_workers_per_gather":   "2",
		"max_parallel_maintenance_workers":  "2",
		// How soon the logical replication launcher starts workers again
		// (after an apply error, or for the next subscription).
		"wal_retrieve_retry_interval": "200ms",

		// Archiving through a shell (the archiver's children); the
		// archive-library step switches to basic_archive for a while.
		"archive_mode": "on",
		"archive_command": fmt.Sprintf("mkdir -p %[1]s && test ! -f %[1]s/%%f && cp %%p %[1]s/%%f",
			shellQuote(archive)),
		"basebackup_to_shell.command": fmt.Sprintf("mkdir -p %[1]s && cat > %[1]s/%%f", shellQuote(shellBackup)),

		"max_prepared_transactions": "10",
		// The commit timestamp SLRU.
		"track_commit_timestamp": "on",

		// Let WAL volume trigger checkpoints, and recycle and remove
		// segments, within a short run; let autovacuum workers and the
		// checkpointer's timed checkpoints happen during it.
		"max_wal_size":                 "96MB",
		"min_wal_size":                 "32MB",
		"checkpoint_timeout":           "30s",
		"autovacuum_naptime":           "1s",
		"bgwriter_delay":               "10ms",
		"wal_writer_delay":             "10ms",
		"autovacuum_vacuum_threshold":  "20",
		"autovacuum_analyze_threshold": "20",

		// Logging that takes other paths (getrusage, stat of temp files).
		"log_checkpoints":             "on",
		"log_autovacuum_min_duration": "0",
		"log_temp_files":              "0",
		"log_lock_waits":              "on",
		"deadlock_timeout":            "100ms",
		"track_io_timing":             "on",
		"track_wal_io_timing":         "on",
		"track_functions":             "all",
	}
	// Every value may be quoted in postgresql.conf, whatever its type.
	for name, value := range settings {
		settings[name] = cluster.QuoteValue(value)
	}
	return settings
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
