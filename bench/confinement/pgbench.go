package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// The two throughput figures pgbench 15 prints, one per mode. Without -C the
// connections are opened once before the clock starts, and the tps excludes
// that. With -C every transaction opens its own connection inside the timed
// window, and the only tps printed includes those reconnections: that is
// the figure that charges a session its filter install.
const (
	tpsWithoutConnections   = "without initial connection time"
	tpsIncludingConnections = "including reconnection times"
)

// pgbenchResult is what one pgbench run printed on stdout.
type pgbenchResult struct {
	TPS float64 `json:"tps"`
	// TPSFigure says which tps it is: tpsWithoutConnections or
	// tpsIncludingConnections.
	TPSFigure string `json:"tps_figure"`
	// Transactions is "number of transactions actually processed".
	Transactions int64 `json:"transactions"`
	// Failed is "number of failed transactions" (serialization and deadlock
	// failures; other errors abort the run instead).
	Failed    int64   `json:"failed_transactions"`
	LatencyMS float64 `json:"latency_average_ms"`
	// ConnectionMS is "initial connection time" without -C, "average
	// connection time" (per transaction) with -C; ConnectionFigure says which.
	ConnectionMS     float64 `json:"connection_ms"`
	ConnectionFigure string  `json:"connection_figure"`
}

var (
	tpsLine          = regexp.MustCompile(`^tps = ([0-9]+(?:\.[0-9]+)?) \(([^)]*)\)$`)
	transactionsLine = regexp.MustCompile(`^number of transactions actually processed: ([0-9]+)(?:/[0-9]+)?$`)
	failedLine       = regexp.MustCompile(`^number of failed transactions: ([0-9]+) \(`)
	latencyLine      = regexp.MustCompile(`^latency average = ([0-9]+(?:\.[0-9]+)?) ms`)
	connectionLine   = regexp.MustCompile(`^(initial connection time|average connection time) = ([0-9]+(?:\.[0-9]+)?) ms$`)
)

// parsePgbench reads the summary pgbench 15 prints on stdout. It needs the
// tps and transactions lines; the others are optional (pgbench leaves them
// out when nothing ran). Per-script lines (" - ...") are ignored.
func parsePgbench(out string) (pgbenchResult, error) {
	var r pgbenchResult
	var haveTPS, haveTransactions bool
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		var err error
		if m := tpsLine.FindStringSubmatch(line); m != nil {
			if haveTPS {
				return r, fmt.Errorf("pgbench output has two tps lines (the second is %q): run one script at a time", line)
			}
			r.TPS, err = parseFigure(m[1], line)
			r.TPSFigure = m[2]
			haveTPS = true
		} else if m := transactionsLine.FindStringSubmatch(line); m != nil {
			r.Transactions, err = strconv.ParseInt(m[1], 10, 64)
			haveTransactions = true
		} else if m := failedLine.FindStringSubmatch(line); m != nil {
			r.Failed, err = strconv.ParseInt(m[1], 10, 64)
		} else if m := latencyLine.FindStringSubmatch(line); m != nil {
			r.LatencyMS, err = parseFigure(m[1], line)
		} else if m := connectionLine.FindStringSubmatch(line); m != nil {
			r.ConnectionFigure = m[1]
			r.ConnectionMS, err = parseFigure(m[2], line)
		}
		if err != nil {
			return r, fmt.Errorf("pgbench output line %q: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read pgbench output: %w", err)
	}
	var missing []string
	if !haveTransactions {
		missing = append(missing, `"number of transactions actually processed: N"`)
	}
	if !haveTPS {
		missing = append(missing, `"tps = N (...)"`)
	}
	if len(missing) > 0 {
		return r, fmt.Errorf("pgbench output lacks %s; is this pgbench 15 or later? its output ends with:\n%s",
			strings.Join(missing, " and "), lastLines(out, 8))
	}
	return r, nil
}

// parseFigure parses a non-negative decimal that pgbench printed.
func parseFigure(s, line string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q in %q is not a finite number", s, line)
	}
	return f, nil
}

// checkRun turns what a successful pgbench exit can still hide into
// errors: a tps figure other than the measure's, nothing processed, or
// failed transactions (the two runs would not have done the same work).
func checkRun(r pgbenchResult, wantFigure string) error {
	switch {
	case r.TPSFigure != wantFigure:
		return fmt.Errorf("pgbench printed tps %q, but this measure needs tps (%s); did pgbench change its output?", r.TPSFigure, wantFigure)
	case r.Transactions <= 0:
		return errors.New("pgbench processed no transactions")
	case r.Failed > 0:
		return fmt.Errorf("pgbench reports %d failed transactions; a run must fail none, or the two sides did not do the same work", r.Failed)
	}
	return nil
}

// runPgbench runs pgbench with args against c, as the cluster's OS user and
// in its base directory, and returns its parsed summary and stdout.
func runPgbench(ctx context.Context, c *cluster.Cluster, args []string) (pgbenchResult, string, error) {
	cmd := c.Command(ctx, "pgbench", args...)
	cmd.Env = append(cmd.Env, "LC_ALL=C") // decimal points, English messages
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	what := fmt.Sprintf("pgbench %s (cluster %s, port %d)", strings.Join(args, " "), c.DataDir, c.Port)
	if err := cmd.Run(); err != nil {
		return pgbenchResult{}, stdout.String(), fmt.Errorf("%s failed: %w\npgbench stderr:\n%s\nlast lines of %s:\n%s",
			what, err, lastLines(stderr.String(), 12), c.LogFile, c.LogTail(12))
	}
	r, err := parsePgbench(stdout.String())
	if err != nil {
		return r, stdout.String(), fmt.Errorf("%s: %w", what, err)
	}
	return r, stdout.String(), nil
}

// pgbenchVersion returns the first line of `pgbench --version`.
func pgbenchVersion(ctx context.Context, c *cluster.Cluster) (string, error) {
	out, err := c.Command(ctx, "pgbench", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pgbench --version: %w; is the PostgreSQL client (postgresql-client-15) installed?", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
