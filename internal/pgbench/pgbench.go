// Package pgbench reads the report pgbench (PostgreSQL 15 and later) prints
// at the end of a run, for the tests and the benchmarks that run it.
package pgbench

import (
	"bufio"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The two throughput figures pgbench prints, one per mode. Without -C the
// connections are opened once before the clock starts, and the tps excludes
// that. With -C every transaction opens its own connection inside the timed
// window, and the only tps printed includes those reconnections.
const (
	TPSWithoutConnections   = "without initial connection time"
	TPSIncludingConnections = "including reconnection times"
)

// Result is what one pgbench run reported on stdout.
type Result struct {
	TPS float64 `json:"tps"`
	// TPSFigure says which tps it is: TPSWithoutConnections or
	// TPSIncludingConnections.
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
	// Clients is "number of clients".
	Clients int `json:"clients"`
}

var (
	tpsLine          = regexp.MustCompile(`^tps = ([0-9]+(?:\.[0-9]+)?) \(([^)]*)\)$`)
	transactionsLine = regexp.MustCompile(`^number of transactions actually processed: ([0-9]+)(?:/[0-9]+)?$`)
	failedLine       = regexp.MustCompile(`^number of failed transactions: ([0-9]+) \(`)
	latencyLine      = regexp.MustCompile(`^latency average = ([0-9]+(?:\.[0-9]+)?) ms`)
	connectionLine   = regexp.MustCompile(`^(initial connection time|average connection time) = ([0-9]+(?:\.[0-9]+)?) ms$`)
	clientsLine      = regexp.MustCompile(`^number of clients: ([0-9]+)$`)
)

// Parse reads the report pgbench prints on stdout. It needs the
// transactions, failed transactions and tps lines, which a run that ends
// early does not print; the others are optional. Per-script lines
// (" - ...") are ignored.
func Parse(out string) (Result, error) {
	var r Result
	var haveTPS, haveTransactions, haveFailed bool
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
			haveFailed = true
		} else if m := latencyLine.FindStringSubmatch(line); m != nil {
			r.LatencyMS, err = parseFigure(m[1], line)
		} else if m := connectionLine.FindStringSubmatch(line); m != nil {
			r.ConnectionFigure = m[1]
			r.ConnectionMS, err = parseFigure(m[2], line)
		} else if m := clientsLine.FindStringSubmatch(line); m != nil {
			r.Clients, err = strconv.Atoi(m[1])
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
	if !haveFailed {
		missing = append(missing, `"number of failed transactions: N (...)"`)
	}
	if !haveTPS {
		missing = append(missing, `"tps = N (...)"`)
	}
	if len(missing) > 0 {
		return r, fmt.Errorf("pgbench output lacks %s; did the run end early, or is this pgbench before 15? its output ends with:\n%s",
			strings.Join(missing, ", "), lastLines(out, 8))
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

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
