package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// alterSystem sets (value != "") or resets (value == "") settings with
// ALTER SYSTEM. A custom setting of a library the session has not loaded
// must exist in the session first, so it is SET locally before.
func alterSystem(ctx context.Context, s *session, settings [][2]string) error {
	for _, kv := range settings {
		name, value := kv[0], kv[1]
		if value == "" {
			if err := s.exec(ctx, `ALTER SYSTEM RESET `+name); err != nil {
				return err
			}
			continue
		}
		if strings.Contains(name, ".") {
			if err := s.exec(ctx, `SELECT set_config('`+name+`', '', false) WHERE current_setting('`+name+`', true) IS NULL`); err != nil {
				return err
			}
		}
		if err := s.exec(ctx, `ALTER SYSTEM SET `+name+` = `+quoteLiteral(value)); err != nil {
			return err
		}
	}
	return nil
}

// resetSettings turns a list of settings into the list that resets them.
func resetSettings(settings [][2]string) [][2]string {
	out := make([][2]string, len(settings))
	for i, kv := range settings {
		out[i] = [2]string{kv[0], ""}
	}
	return out
}

// walSyncStep: every wal_sync_method Linux has, and WAL segments neither
// zero-filled nor recycled, in the WAL writer, checkpointer and backends.
func walSyncStep() Step {
	return step("wal-sync-methods-no-recycle", true, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		all := [][2]string{{"wal_sync_method", ""}, {"wal_init_zero", ""}, {"wal_recycle", ""}}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			if alterSystem(ctx, s, all) == nil {
				r.reloadAndWait(ctx, s)
			}
		}()
		if err := s.exec(ctx, `CREATE TABLE w (id int, pad text) WITH (autovacuum_enabled = off)`); err != nil {
			return err
		}
		for _, method := range []string{"fsync", "open_sync", "open_datasync", "fdatasync"} {
			settings := [][2]string{{"wal_sync_method", method}}
			if method == "open_datasync" {
				settings = append(settings, [2]string{"wal_init_zero", "off"}, [2]string{"wal_recycle", "off"})
			}
			if err := alterSystem(ctx, s, settings); err != nil {
				return err
			}
			if err := r.reloadAndWait(ctx, s); err != nil {
				return err
			}
			for i := 0; i < 3; i++ {
				if err := s.exec(ctx,
					`INSERT INTO w SELECT g, repeat('s', 100) FROM generate_series(1, 2000) g`,
					`INSERT INTO w VALUES (0, 'one commit')`,
					`SELECT pg_switch_wal()`,
					`INSERT INTO w VALUES (0, 'first in the segment')`,
				); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, `CHECKPOINT`); err != nil {
				return err
			}
		}
		return s.exec(ctx, `DROP TABLE w`)
	})
}

// archiveLibraryStep: archiving that fails (the archiver retries and
// sleeps), then basic_archive (the archiver copies and fsyncs files
// itself, restarting to load the library), then the shell command again.
// The archiver must have been running for 10 seconds for the switch to
// basic_archive to be quick.
func archiveLibraryStep() Step {
	return step("archive-failure-basic-archive", true, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		mode, err := s.setting(ctx, "archive_mode")
		if err != nil {
			return err
		}
		if mode == "off" {
			r.skipf("archiving: archive_mode is off")
			return nil
		}
		target := filepath.Join(dir, "basic_archive")
		if err := r.mkdir(ctx, target); err != nil {
			return err
		}
		used := [][2]string{{"archive_command", ""}, {"archive_library", ""}, {"basic_archive.archive_directory", ""}}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			if alterSystem(ctx, s, used) == nil {
				r.reloadAndWait(ctx, s)
			}
		}()
		if err := s.exec(ctx, `CREATE TABLE w (id int)`); err != nil {
			return err
		}
		// Each poll is a new connection: the postmaster restarts an archiver
		// that exited (to load another library) only when its main loop
		// wakes up, which a connection does at once.
		counts := func() (archived, failed int64, err error) {
			c, err := r.connect(ctx, "postgres")
			if err != nil {
				return 0, 0, err
			}
			defer r.release(c)
			err = c.scan(ctx, `SELECT archived_count, failed_count FROM pg_stat_archiver`, nil, &archived, &failed)
			return
		}
		switchSegment := func() error {
			return s.exec(ctx, `INSERT INTO w VALUES (1)`, `SELECT pg_switch_wal()`)
		}
		// A failing archive command.
		_, failed0, err := counts()
		if err != nil {
			return err
		}
		if err := alterSystem(ctx, s, [][2]string{{"archive_command", "echo 'workload: archiving fails on purpose' >&2; exit 1"}}); err != nil {
			return err
		}
		if err := r.reloadAndWait(ctx, s); err != nil {
			return err
		}
		if err := switchSegment(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, "the archive command to fail", waitTimeout, func() (bool, error) {
			_, failed, err := counts()
			return failed > failed0, err
		}); err != nil {
			return err
		}
		// basic_archive; LOAD defines its setting in this session.
		archived0, _, err := counts()
		if err != nil {
			return err
		}
		// From 16 on, archive_command and archive_library both set stop
		// the archiver ("both archive_command and archive_library set"),
		// and the server's configuration sets archive_command: empty it.
		if err := s.exec(ctx, `LOAD 'basic_archive'`, `ALTER SYSTEM SET archive_command = ''`); err != nil {
			return err
		}
		if err := alterSystem(ctx, s, [][2]string{{"archive_library", "basic_archive"}, {"basic_archive.archive_directory", target}}); err != nil {
			return err
		}
		if err := r.reloadAndWait(ctx, s); err != nil {
			return err
		}
		if err := switchSegment(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, "basic_archive to archive segments", waitTimeout, func() (bool, error) {
			archived, _, err := counts()
			return archived >= archived0+2, err
		}); err != nil {
			return err
		}
		files, err := r.output(ctx, nil, "ls", target)
		if err != nil {
			return err
		}
		if strings.TrimSpace(files) == "" {
			return r.errorf("pg_stat_archiver counts archived segments, but basic_archive's directory %s is empty", target)
		}
		// Back to the shell command of the server's configuration. The
		// postmaster starts the archiver at most every 10 seconds, so the
		// command takes over a little later, without the step waiting.
		if err := alterSystem(ctx, s, used); err != nil {
			return err
		}
		return r.reloadAndWait(ctx, s)
	})
}

// loggingCollectorStep: the logging collector (a restart to turn it on and
// off), CSV and JSON logs, size-based and requested rotation, syslog from
// every process, and the functions that find and read the log files.
func loggingCollectorStep() Step {
	return step("logging-collector-syslog", true, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		logDir := filepath.Join(dir, "log")
		if err := r.mkdir(ctx, logDir); err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		settings := [][2]string{
			{"logging_collector", "on"},
			{"log_directory", logDir},
			{"log_destination", "stderr,csvlog,jsonlog,syslog"},
			{"log_rotation_size", "64kB"},
			{"log_file_mode", "0640"},
			{"syslog_ident", "pgseccomp-workload"},
		}
		if err := alterSystem(ctx, s, settings); err != nil {
			return err
		}
		restart := func() error {
			r.closeAll()
			if err := r.t.Stop(ctx, "fast"); err != nil {
				return r.errorf("stop the server (fast): %v", err)
			}
			if err := r.t.Start(ctx); err != nil {
				return r.errorf("start the server: %v", err)
			}
			s, err = r.join(ctx)
			return err
		}
		restored := false
		defer func() {
			if restored {
				return
			}
			ctx := context.WithoutCancel(ctx)
			if c, err := r.connect(ctx, "postgres"); err == nil && alterSystem(ctx, c, resetSettings(settings)) == nil {
				r.closeAll()
				r.t.Stop(ctx, "fast")
				r.t.Start(ctx)
			}
		}()
		if err := restart(); err != nil {
			return err
		}
		if err := s.exec(ctx,
			`SELECT pg_current_logfile(), pg_current_logfile('csvlog'), pg_current_logfile('jsonlog')`,
			`DO $$ BEGIN FOR i IN 1..1500 LOOP RAISE LOG 'workload: filling the log, line % %', i, repeat('x', 100); END LOOP; END $$`,
			`SELECT pg_rotate_logfile()`,
			`SELECT pg_sleep(0.1)`,
			`SELECT count(*) FROM pg_ls_logdir()`,
			`SELECT length(pg_read_file(pg_current_logfile()))`,
			`SELECT pg_log_backend_memory_contexts(pg_backend_pid())`,
		); err != nil {
			return err
		}
		n, err := s.int(ctx, `SELECT count(*) FROM pg_ls_logdir()`)
		if err != nil {
			return err
		}
		// Rotations within one second reopen the same file names.
		if n < 3 {
			return r.errorf("the log directory %s has %d files, want at least one per format (stderr, csvlog, jsonlog)", logDir, n)
		}
		if err := alterSystem(ctx, s, resetSettings(settings)); err != nil {
			return err
		}
		restored = true
		return restart()
	})
}

// hbaLines are pg_hba.conf lines put first while a step runs.
type hbaEdit struct {
	hba, ident []string
}

// editHBA puts lines first in pg_hba.conf and pg_ident.conf (wherever the
// server has them), reloads, and returns what restores both files.
func (r *runner) editHBA(ctx context.Context, s *session, edit hbaEdit) (restore func() error, err error) {
	type file struct{ path, content string }
	var files []file
	for _, kind := range []struct {
		setting string
		lines   []string
	}{{"hba_file", edit.hba}, {"ident_file", edit.ident}} {
		path, err := s.setting(ctx, kind.setting)
		if err != nil {
			return nil, err
		}
		content, err := s.text(ctx, `SELECT pg_read_file($1)`, path)
		if err != nil {
			return nil, err
		}
		files = append(files, file{path, content})
		added := "# added by pgseccomp's workload for a moment\n" + strings.Join(kind.lines, "\n") + "\n"
		if err := r.rewriteFile(ctx, path, []byte(added+content)); err != nil {
			return nil, err
		}
	}
	restore = func() error {
		ctx := context.WithoutCancel(ctx)
		var errs []error
		for _, f := range files {
			if err := r.rewriteFile(ctx, f.path, []byte(f.content)); err != nil {
				errs = append(errs, fmt.Errorf("%w; restore %s by hand", err, f.path))
			}
		}
		if err := joinErr(errs...); err != nil {
			return err
		}
		return r.reloadAndWait(ctx, s)
	}
	if err := r.reloadAndWait(ctx, s); err != nil {
		return nil, joinErr(err, restore())
	}
	return restore, nil
}

// rewriteFile replaces the contents of an existing file in place, as the
// server's OS user, keeping its owner and mode.
func (r *runner) rewriteFile(ctx context.Context, path string, data []byte) error {
	return r.run(ctx, data, "sh", "-c", `cat > "$1"`, "sh", path)
}
