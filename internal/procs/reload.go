// C twin: extension/reload.c (which writes the file).

package procs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ReloadStateFile is where, under its data directory, the postmaster of a
// cluster running pgseccomp writes the outcome of its last reload
// (extension/reload.c; pg_stat_tmp is left out of base backups).
const ReloadStateFile = "pg_stat_tmp/pgseccomp.status"

// maxReloadStateSize bounds what ReadReloadState reads: the extension
// writes well under 2 kB.
const maxReloadStateSize = 16 << 10

// ReloadState is the session plan a pgseccomp postmaster has in force and
// the last reload it rejected: after a rejected reload, new sessions keep
// the filters of before, older than the configuration.
type ReloadState struct {
	PID             int       // the postmaster that wrote it
	Generation      uint64    // of the session plan in force
	PlanSince       time.Time // when that plan came into force
	RejectedAt      time.Time // zero: the last reload was applied
	RejectedSetting string    // "" when no single setting is to blame
	RejectedDetail  string    // why, naming the word
}

// Rejected reports whether the last reload was rejected, so that the
// server runs session filters older than its configuration.
func (s ReloadState) Rejected() bool { return !s.RejectedAt.IsZero() }

// ReadReloadState reads dataDir's ReloadStateFile. The error wraps
// fs.ErrNotExist when the server does not write one (pgseccomp off, or an
// extension older than 1.1).
func ReadReloadState(dataDir string) (ReloadState, error) {
	path := filepath.Join(dataDir, ReloadStateFile)
	f, err := os.Open(path)
	if err != nil {
		return ReloadState{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReloadStateSize+1))
	if err != nil {
		return ReloadState{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxReloadStateSize {
		return ReloadState{}, fmt.Errorf("%s: larger than %d bytes; pgseccomp writes far less, so it is not pgseccomp's", path, maxReloadStateSize)
	}
	s, err := ParseReloadState(data)
	if err != nil {
		return ReloadState{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseReloadState parses the key=value lines of a ReloadStateFile. Lines
// starting with # are comments; unknown keys are ignored, so that a newer
// extension's file still reads; pid, generation and plan_since are required.
func ParseReloadState(data []byte) (ReloadState, error) {
	var s ReloadState
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxReloadStateSize)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return ReloadState{}, fmt.Errorf("line %d: %q is not key=value", n, clip(line))
		}
		var err error
		switch key {
		case "pid":
			s.PID, err = strconv.Atoi(value)
			if err == nil && s.PID <= 0 {
				err = errors.New("not a process ID")
			}
		case "generation":
			s.Generation, err = strconv.ParseUint(value, 10, 64)
		case "plan_since":
			s.PlanSince, err = unixTime(value)
		case "rejected_at":
			s.RejectedAt, err = unixTime(value)
		case "rejected_setting":
			s.RejectedSetting = value
		case "rejected_detail":
			s.RejectedDetail = value
		default:
			continue
		}
		if err != nil {
			return ReloadState{}, fmt.Errorf("line %d: %s=%q: %v", n, key, clip(value), err)
		}
		seen[key] = true
	}
	if err := sc.Err(); err != nil {
		return ReloadState{}, err
	}
	for _, key := range []string{"pid", "generation", "plan_since"} {
		if !seen[key] {
			return ReloadState{}, fmt.Errorf("no %s= line; the file is not pgseccomp's, or was cut short", key)
		}
	}
	return s, nil
}

// unixTime parses seconds since the Unix epoch, with a fraction; "0" or
// "0.000000" is the zero time.
func unixTime(value string) (time.Time, error) {
	secs, err := strconv.ParseFloat(value, 64)
	switch {
	case err != nil:
		return time.Time{}, errors.New("not a number of seconds")
	case secs < 0 || secs > 1<<40 || math.IsNaN(secs):
		return time.Time{}, errors.New("not a time")
	case secs == 0:
		return time.Time{}, nil
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
