package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// server is the cluster being recorded, as the workloads see it
// (workload.Target). It is a throwaway cluster made for the recording:
// every start goes through the cluster's audit session, so that all its
// processes carry one session id.
type server struct {
	c       *cluster.Cluster
	scratch string
	logDir  string // log_directory of the logging collector (jsonlog files)
	logf    func(format string, args ...any)
	mark    func(event string) // the collector's: an event inside a step begins ("" ends it)
}

func (s *server) Env() []string               { return s.c.Env() }
func (s *server) ConnString(db string) string { return s.c.ConnString("", db) }
func (s *server) DataDir() string             { return s.c.DataDir }
func (s *server) ScratchDir() string          { return s.scratch }
func (s *server) Throwaway() bool             { attached, _ := s.c.Attached(); return !attached }
func (s *server) Logf(format string, args ...any) {
	s.logf(format, args...)
}

// Mark ties what the server does from now on to event (workload.Marker).
func (s *server) Mark(event string) {
	if s.mark != nil {
		s.mark(event)
	}
}

func (s *server) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return s.c.Command(ctx, name, args...)
}

func (s *server) Stop(ctx context.Context, mode string) error {
	switch mode {
	case "fast", "":
		return s.c.Stop(ctx)
	case "immediate":
		out, err := s.c.Command(ctx, "pg_ctl", "-D", s.c.DataDir, "-w", "-m", "immediate", "stop").CombinedOutput()
		if err != nil {
			return fmt.Errorf("stop the server in %s with pg_ctl -m immediate: %w\n%s", s.c.DataDir, err, strings.TrimSpace(string(out)))
		}
		return nil
	default:
		return fmt.Errorf("stop mode %q is not one of fast, immediate", mode)
	}
}

func (s *server) Start(ctx context.Context) error {
	if err := s.c.Start(ctx); err != nil {
		return fmt.Errorf("%w\nnewest server log lines (%s):\n%s", err, s.logDir, s.logTail(30))
	}
	return nil
}

func (s *server) StartExpectingFailure(ctx context.Context) (string, error) {
	before := s.logSizes()
	if err := s.c.Start(ctx); err == nil {
		return "", errors.New("the server started, but the step expected it not to")
	}
	return s.logSince(before), nil
}

// logFiles returns the server's log files: pg_ctl's -l file (what the
// server writes before its logging collector runs) and the collector's
// plain-text files, oldest first.
func (s *server) logFiles() []string {
	files, _ := filepath.Glob(filepath.Join(s.logDir, "*.log"))
	slices.Sort(files)
	return append([]string{s.c.LogFile}, files...)
}

func (s *server) logSizes() map[string]int64 {
	sizes := map[string]int64{}
	for _, f := range s.logFiles() {
		if fi, err := os.Stat(f); err == nil {
			sizes[f] = fi.Size()
		}
	}
	return sizes
}

// logSince returns what every log file gained since sizes were taken.
func (s *server) logSince(sizes map[string]int64) string {
	var b strings.Builder
	for _, f := range s.logFiles() {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if off := sizes[f]; off <= int64(len(data)) {
			b.Write(data[off:])
		}
	}
	return b.String()
}

// logTail returns the last n lines written to the newest log file.
func (s *server) logTail(n int) string {
	files := s.logFiles()
	for i := len(files) - 1; i >= 0; i-- {
		data, err := os.ReadFile(files[i])
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		return strings.Join(lines, "\n")
	}
	return "(no log lines)"
}
