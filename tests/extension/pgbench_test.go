package extension

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// pgbenchSummary is what pgbench's closing report says.
type pgbenchSummary struct {
	Processed int // "number of transactions actually processed"
	Failed    int // "number of failed transactions" (PostgreSQL 15+)
	Clients   int // "number of clients"
}

var (
	pgbenchProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	pgbenchFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+) \(`)
	pgbenchClients   = regexp.MustCompile(`(?m)^number of clients: (\d+)$`)
)

// parsePgbenchSummary reads the report pgbench prints at the end of a run.
// Every field must be there: a run that ends early prints no report.
func parsePgbenchSummary(out string) (pgbenchSummary, error) {
	var s pgbenchSummary
	for _, f := range []struct {
		re   *regexp.Regexp
		dest *int
		name string
	}{
		{pgbenchProcessed, &s.Processed, "number of transactions actually processed"},
		{pgbenchFailed, &s.Failed, "number of failed transactions"},
		{pgbenchClients, &s.Clients, "number of clients"},
	} {
		m := f.re.FindStringSubmatch(out)
		if m == nil {
			return pgbenchSummary{}, fmt.Errorf("pgbench output has no line %q; did the run end early?", f.name+": ")
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return pgbenchSummary{}, fmt.Errorf("pgbench output: %s: %q is not a count: %w", f.name, m[1], err)
		}
		*f.dest = n
	}
	return s, nil
}

// pgbench 15's report of a 16-client run, as captured on Debian 12.
const pgbenchReport = `pgbench (15.20 (Debian 15.20-0+deb12u1))
starting vacuum...end.
transaction type: <builtin: TPC-B (sort of)>
scaling factor: 4
query mode: simple
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 30 s
number of transactions actually processed: 45825
number of failed transactions: 0 (0.000%)
latency average = 10.483 ms
initial connection time = 52.993 ms
tps = 1526.247155 (without initial connection time)
`

func TestParsePgbenchSummary(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    pgbenchSummary
		wantErr bool
	}{
		{"full report", pgbenchReport, pgbenchSummary{Processed: 45825, Failed: 0, Clients: 16}, false},
		{"failures", "number of clients: 4\nnumber of transactions actually processed: 10/40\nnumber of failed transactions: 3 (7.500%)\n",
			pgbenchSummary{Processed: 10, Failed: 3, Clients: 4}, false},
		{"aborted run without report", "pgbench: error: client 0 aborted in command 0 (SQL) of script 0; perhaps the backend died while processing\n", pgbenchSummary{}, true},
		{"no failed line (pgbench 14)", "number of clients: 1\nnumber of transactions actually processed: 5\n", pgbenchSummary{}, true},
		{"count too large", "number of clients: 1\nnumber of transactions actually processed: 99999999999999999999\nnumber of failed transactions: 0 (0.000%)\n", pgbenchSummary{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePgbenchSummary(tt.out)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parsePgbenchSummary = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParsePgbenchSummary(f *testing.F) {
	f.Add(pgbenchReport)
	f.Add("number of failed transactions: 0 (\nnumber of clients: 1\nnumber of transactions actually processed: 1")
	f.Fuzz(func(t *testing.T, out string) {
		s, err := parsePgbenchSummary(out)
		if err == nil && (s.Processed < 0 || s.Failed < 0 || s.Clients < 0) {
			t.Fatalf("negative count from %q: %+v", out, s)
		}
	})
}
