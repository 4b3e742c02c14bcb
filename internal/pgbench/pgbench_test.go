package pgbench

import (
	"embed"
	"math"
	"strings"
	"testing"
)

// fixtures are real pgbench output (testdata/README.md).
//
//go:embed testdata/*.txt
var fixtures embed.FS

func fixture(name string) string {
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		panic(err) // a fixture this file names is missing
	}
	return string(b)
}

// pgbench 15's report of a 16-client run, as captured on Debian 12.
const report16 = `pgbench (15.20 (Debian 15.20-0+deb12u1))
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

func TestParse(t *testing.T) {
	tests := []struct {
		name, out string
		want      Result
	}{
		{"select-only", fixture("pgbench-select-only.txt"), Result{
			TPS: 51335.034337, TPSFigure: TPSWithoutConnections, Transactions: 102529,
			LatencyMS: 0.078, ConnectionMS: 6.702, ConnectionFigure: "initial connection time", Clients: 4}},
		{"tpcb-like", fixture("pgbench-tpcb-like.txt"), Result{
			TPS: 2699.430232, TPSFigure: TPSWithoutConnections, Transactions: 5393,
			LatencyMS: 1.482, ConnectionMS: 9.390, ConnectionFigure: "initial connection time", Clients: 4}},
		{"select-only-connect", fixture("pgbench-select-only-connect.txt"), Result{
			TPS: 458.956562, TPSFigure: TPSIncludingConnections, Transactions: 920,
			LatencyMS: 8.715, ConnectionMS: 4.280, ConnectionFigure: "average connection time", Clients: 4}},
		{"select-only-connect-t", fixture("pgbench-select-only-connect-t.txt"), Result{
			TPS: 374.443483, TPSFigure: TPSIncludingConnections, Transactions: 100,
			LatencyMS: 10.683, ConnectionMS: 5.226, ConnectionFigure: "average connection time", Clients: 4}},
		{"client-filter-connect", fixture("pgbench-client-filter-connect.txt"), Result{
			TPS: 375.988275, TPSFigure: TPSIncludingConnections, Transactions: 756,
			LatencyMS: 10.639, ConnectionMS: 4.650, ConnectionFigure: "average connection time", Clients: 4}},
		{"failed", fixture("pgbench-failed.txt"), Result{
			TPS: 1811.212396, TPSFigure: TPSWithoutConnections, Transactions: 3618, Failed: 8642,
			LatencyMS: 0.652, ConnectionMS: 7.298, ConnectionFigure: "initial connection time", Clients: 4}},
		{"16 clients", report16, Result{
			TPS: 1526.247155, TPSFigure: TPSWithoutConnections, Transactions: 45825,
			LatencyMS: 10.483, ConnectionMS: 52.993, ConnectionFigure: "initial connection time", Clients: 16}},
		{"processed of planned (-t)", "number of clients: 4\nnumber of transactions actually processed: 10/40\nnumber of failed transactions: 3 (7.500%)\ntps = 5.0 (x)\n",
			Result{TPS: 5, TPSFigure: "x", Transactions: 10, Failed: 3, Clients: 4}},
		// --per-script-stats: the indented per-script lines repeat the
		// figures and must not be read as the totals.
		{"per-script lines", `transaction type: multiple scripts
number of transactions actually processed: 200
number of failed transactions: 0 (0.000%)
latency average = 1.000 ms
initial connection time = 2.000 ms
tps = 100.000000 (without initial connection time)
SQL script 1: <builtin: select only>
 - weight: 1 (targets 50.0% of total)
 - 100 transactions (50.0% of total)
 - number of transactions actually processed: 100 (tps = 50.000000)
 - number of failed transactions: 7 (0.000%)
`, Result{TPS: 100, TPSFigure: TPSWithoutConnections, Transactions: 200, LatencyMS: 1, ConnectionMS: 2, ConnectionFigure: "initial connection time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.out)
			if err != nil || got != tt.want {
				t.Errorf("Parse:\n got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		// The aborted run printed no tps: nothing to measure.
		{"aborted", fixture("pgbench-aborted.txt"), `lacks "tps = N (...)"`},
		{"aborted without a report", "pgbench: error: client 0 aborted in command 0 (SQL) of script 0; perhaps the backend died while processing\n",
			`lacks "number of transactions actually processed: N", "number of failed transactions: N (...)", "tps = N (...)"`},
		{"no failed line (pgbench 14)", "number of clients: 1\nnumber of transactions actually processed: 5\ntps = 1 (x)\n", `lacks "number of failed transactions: N (...)"`},
		{"no transactions line", "number of failed transactions: 0 (0.000%)\ntps = 12.5 (without initial connection time)\n", `lacks "number of transactions`},
		{"two tps lines", "number of transactions actually processed: 3\n" +
			"tps = 1.0 (including connections establishing)\ntps = 1.1 (excluding connections establishing)\n", "two tps lines"},
		{"transactions overflow", "number of transactions actually processed: 99999999999999999999\ntps = 1 (x)\n", "value out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParse: never panics, and what it accepts has no negative or
// non-finite figure.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"pgbench-select-only.txt", "pgbench-select-only-connect.txt", "pgbench-failed.txt", "pgbench-aborted.txt"} {
		f.Add(fixture(name))
	}
	f.Add(report16)
	f.Add("number of failed transactions: 0 (\nnumber of clients: 1\nnumber of transactions actually processed: 1\ntps = 1 (x)")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := Parse(out)
		if err != nil {
			return
		}
		if r.TPS < 0 || math.IsNaN(r.TPS) || math.IsInf(r.TPS, 0) || r.Transactions < 0 || r.Failed < 0 || r.Clients < 0 {
			t.Fatalf("Parse(%q) = %+v: negative or non-finite figure", out, r)
		}
	})
}
