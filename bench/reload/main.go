// Command reload measures what a reload costs the postmaster of a cluster
// with many listed roles, and what a storm of reloads does to connection
// latency. `make bench` runs it; see usage for the flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

const usage = `Usage: go run ./bench/reload [flags]

Start a throwaway cluster running pgseccomp with --roles listed roles that
share --lists distinct per-role error lists (role_i gets list i mod --lists),
then reload --rounds times, each time changing one of the lists (so one
session layer must be recompiled and every other one can be reused), and
read from the server log, at DEBUG1:
  pgseccomp    the time pgseccomp's rebuild took ("rebuilt the session
               filters ... in X ms")
  postmaster   the time from "received SIGHUP" to the end of the rebuild:
               the whole reload, PostgreSQL's own parsing of the files
               included, during which the postmaster accepts no connection
Then connection latency: --conns connections one after another with no
reload, then the same while another goroutine reloads back to back, each
reload changing a list; a connection that a reload catches authenticating
is refused and told to reconnect, which it does (counted, and its retry is
part of its latency).

Output: min/median/max of each figure, the goal (median postmaster time
<= 50 ms) with PASS or MISS, and JSON with every run in --out.

Flags:
  --roles N     listed roles (default 1000)
  --lists N     distinct per-role lists (default 10)
  --rounds N    measured reloads (default 20)
  --conns N     connections per latency series (default 200)
  --out FILE    JSON results (default bench/results/reload.json)

Exit status:
  0  every run completed; the goal met or not (timing never fails the benchmark)
  1  the cluster failed, or a reload was not applied
  2  bad flags
`

// distinctLists are syscalls no PostgreSQL process makes; role lists are
// made of them so that no session is disturbed.
var distinctLists = []string{"acct", "swapon", "swapoff", "reboot", "sethostname",
	"setdomainname", "iopl", "ioperm", "init_module", "delete_module",
	"pivot_root", "chroot", "quotactl", "nfsservctl", "lookup_dcookie", "kexec_load"}

type options struct {
	roles, lists, rounds, conns int
	out                         string
}

type stats struct {
	Min, Median, Max float64
}

type results struct {
	Roles, Lists          int
	PgseccompMS           []float64
	PostmasterMS          []float64
	Pgseccomp, Postmaster stats
	QuietConnectMS        []float64
	StormConnectMS        []float64
	QuietConnect          stats
	StormConnect          stats
	StormReloads          int
	StormRefused          int // attempts told to reconnect, then retried
	GoalMS                float64
	GoalMet               bool
}

func main() {
	o := options{}
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	fs.IntVar(&o.roles, "roles", 1000, "")
	fs.IntVar(&o.lists, "lists", 10, "")
	fs.IntVar(&o.rounds, "rounds", 20, "")
	fs.IntVar(&o.conns, "conns", 200, "")
	fs.StringVar(&o.out, "out", "bench/results/reload.json", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "reload: unexpected argument %q; see --help\n", fs.Arg(0))
		os.Exit(2)
	case o.roles < 1 || o.rounds < 1 || o.conns < 1:
		fmt.Fprintln(os.Stderr, "reload: --roles, --rounds and --conns must be at least 1")
		os.Exit(2)
	case o.lists < 2 || o.lists > len(distinctLists)-1:
		fmt.Fprintf(os.Stderr, "reload: --lists %d: give 2 to %d\n", o.lists, len(distinctLists)-1)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "reload: %v\n", err)
		os.Exit(1)
	}
}

// settings is the configuration with list g of the roles' lists changed
// when changed >= 0.
func settings(o options, changed int) map[string]string {
	s := map[string]string{
		policy.PreloadLibrariesName: cluster.QuoteValue("pgseccomp"),
		policy.EnabledName:          "on",
		"log_min_messages":          "debug1",
		"log_line_prefix":           cluster.QuoteValue("%m [%p] "),
	}
	names := make([]string, o.roles)
	for i := range names {
		names[i] = "role_" + strconv.Itoa(i)
		list := distinctLists[i%o.lists]
		if i%o.lists == changed {
			list += "," + distinctLists[len(distinctLists)-1]
		}
		s[policy.RoleListName(policy.Error, names[i])] = cluster.QuoteValue(list)
	}
	s[policy.SessionRolesName] = cluster.QuoteValue(strings.Join(names, ","))
	return s
}

var (
	sighupLine  = regexp.MustCompile(`(?m)^(\S+ \S+) \S+ \[\d+\] LOG:  received SIGHUP`)
	rebuiltLine = regexp.MustCompile(`(?m)^(\S+ \S+) \S+ \[\d+\] DEBUG:  pgseccomp: rebuilt the session filters for (\d+) listed roles(?: in ([\d.]+) ms)?`)
)

// reloadTimes reads one reload's figures from its part of the log.
func reloadTimes(logged string) (pgseccompMS, postmasterMS float64, err error) {
	hup := sighupLine.FindStringSubmatch(logged)
	done := rebuiltLine.FindStringSubmatch(logged)
	if hup == nil || done == nil {
		return 0, 0, fmt.Errorf("the log of a reload has no %q or no %q line; was it applied?\n%s",
			"received SIGHUP", "rebuilt the session filters", logged)
	}
	const layout = "2006-01-02 15:04:05.000"
	start, err1 := time.Parse(layout, hup[1])
	end, err2 := time.Parse(layout, done[1])
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	if done[3] != "" {
		pgseccompMS, _ = strconv.ParseFloat(done[3], 64)
	}
	return pgseccompMS, float64(end.Sub(start).Microseconds()) / 1000, nil
}

func run(o options) error {
	ctx := context.Background()
	c, err := cluster.New(ctx, cluster.Options{Settings: settings(o, -1)})
	if err != nil {
		return err
	}
	defer c.Remove()
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer c.Stop(ctx)

	r := results{Roles: o.roles, Lists: o.lists, GoalMS: 50}
	for i := 0; i < o.rounds; i++ {
		_, offset, err := c.LogSince(0)
		if err != nil {
			return err
		}
		changed := -1
		if i%2 == 0 {
			changed = (i / 2) % o.lists
		}
		if err := c.SetSettings(settings(o, changed)); err != nil {
			return err
		}
		if err := c.Reload(ctx); err != nil {
			return err
		}
		logged, _, err := c.LogSince(offset)
		if err != nil {
			return err
		}
		p, pm, err := reloadTimes(logged)
		if err != nil {
			return fmt.Errorf("reload %d: %w", i+1, err)
		}
		r.PgseccompMS = append(r.PgseccompMS, p)
		r.PostmasterMS = append(r.PostmasterMS, pm)
	}

	if r.QuietConnectMS, _, err = connectLatencies(ctx, c, o.conns); err != nil {
		return err
	}
	stop := make(chan struct{})
	storm := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				storm <- n
				return
			default:
			}
			if c.SetSettings(settings(o, n%o.lists)) == nil && c.Reload(ctx) == nil {
				n++
			}
		}
	}()
	r.StormConnectMS, r.StormRefused, err = connectLatencies(ctx, c, o.conns)
	close(stop)
	r.StormReloads = <-storm
	if err != nil {
		return err
	}

	r.Pgseccomp, r.Postmaster = summarize(r.PgseccompMS), summarize(r.PostmasterMS)
	r.QuietConnect, r.StormConnect = summarize(r.QuietConnectMS), summarize(r.StormConnectMS)
	r.GoalMet = r.Postmaster.Median <= r.GoalMS
	verdict := "MISS"
	if r.GoalMet {
		verdict = "PASS"
	}
	fmt.Printf("reload with %d listed roles, %d distinct lists, one list changed per reload (%d reloads):\n", o.roles, o.lists, o.rounds)
	fmt.Printf("  pgseccomp's rebuild  min %.1f  median %.1f  max %.1f ms\n", r.Pgseccomp.Min, r.Pgseccomp.Median, r.Pgseccomp.Max)
	fmt.Printf("  postmaster's reload  min %.1f  median %.1f  max %.1f ms  (goal <= %.0f ms: %s)\n", r.Postmaster.Min, r.Postmaster.Median, r.Postmaster.Max, r.GoalMS, verdict)
	fmt.Printf("connection latency, %d connections each:\n", o.conns)
	fmt.Printf("  no reload            min %.1f  median %.1f  max %.1f ms\n", r.QuietConnect.Min, r.QuietConnect.Median, r.QuietConnect.Max)
	fmt.Printf("  reload storm         min %.1f  median %.1f  max %.1f ms  (%d reloads meanwhile; %d attempts told to reconnect, retried and counted in)\n",
		r.StormConnect.Min, r.StormConnect.Median, r.StormConnect.Max, r.StormReloads, r.StormRefused)

	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(o.out, append(data, '\n'), 0o644)
}

// connectLatencies opens and closes n connections one after another and
// returns how long each took to be ready for a query, retries included,
// and how many attempts were refused because a reload changed the session
// filters while they authenticated (the client is told to reconnect).
func connectLatencies(ctx context.Context, c *cluster.Cluster, n int) (ms []float64, refused int, err error) {
	for i := 0; i < n; i++ {
		start := time.Now()
		for {
			conn, err := pgx.Connect(ctx, c.ConnString("", ""))
			if err != nil && strings.Contains(err.Error(), "changed while") && refused < 10*n {
				refused++
				continue
			}
			if err != nil {
				return nil, refused, fmt.Errorf("connection %d: %w", i+1, err)
			}
			conn.Close(ctx)
			break
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	return ms, refused, nil
}

func summarize(v []float64) stats {
	s := slices.Clone(v)
	slices.Sort(s)
	return stats{Min: s[0], Median: s[len(s)/2], Max: s[len(s)-1]}
}
