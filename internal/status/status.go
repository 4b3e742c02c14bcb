// Package status is pgseccomp status: which clusters to show, the table
// and JSON of their processes' confinement, and what is wrong (processes
// unconfined in a cluster that loads pgseccomp, a rejected reload).
package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/report"
)

// Choice says which clusters to show: Existing (found from --cluster),
// the one of PGData (its data or configuration directory), the one
// process PID belongs to, or, all zero, every cluster.
type Choice struct {
	Existing *cluster.Existing
	PGData   string
	PID      int
}

// Process is one process as status --json prints it.
type Process struct {
	PID                       int    `json:"pid"`
	PPID                      int    `json:"ppid"`
	Kind                      string `json:"kind"`
	Role                      string `json:"role"`
	Database                  string `json:"database"`
	Title                     string `json:"title"`
	SeccompMode               int    `json:"seccomp_mode"`
	SeccompFilters            int    `json:"seccomp_filters"`
	NoNewPrivs                bool   `json:"no_new_privs"`
	SpeculationStoreBypass    string `json:"speculation_store_bypass"`
	SpeculationIndirectBranch string `json:"speculation_indirect_branch"`
	PostmasterPID             int    `json:"postmaster_pid"`
	DataDirectory             string `json:"data_directory,omitempty"`
	ClusterName               string `json:"cluster_name,omitempty"`
	PgseccompLoaded           bool   `json:"pgseccomp_loaded"`
	Confined                  bool   `json:"confined"`
}

// ReportRejectedReloads names on w each cluster whose postmaster
// rejected its last reload (it keeps the session filters of before, older
// than its configuration), and reports whether there was any.
func ReportRejectedReloads(w io.Writer, clusters []procs.ServerProcesses) bool {
	found := false
	for _, c := range clusters {
		if !c.PgseccompLoaded || c.DataDir == "" {
			continue
		}
		s, err := procs.ReadReloadState(c.DataDir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // pgseccomp off, or an extension before 1.1
		case err != nil:
			fmt.Fprintf(w, "pgseccomp status: warning: cannot tell whether %s runs filters older than its configuration: %v\n", ClusterLabel(c), err)
			continue
		case s.PID != c.PostmasterPID:
			fmt.Fprintf(w, "pgseccomp status: warning: %s was written by process %d, not by the postmaster %d of %s; ignoring it\n",
				filepath.Join(c.DataDir, procs.ReloadStateFile), s.PID, c.PostmasterPID, ClusterLabel(c))
			continue
		case !s.Rejected():
			continue
		}
		why := s.RejectedDetail // a per-role setting has no name of its own here; the detail names it
		if s.RejectedSetting != "" {
			why = "setting " + s.RejectedSetting + ": " + why
		}
		fmt.Fprintf(w, "pgseccomp status: %s runs session filters older than its configuration since %s: the reload was rejected, %s New sessions get the session filters in force since %s; correct the setting and reload.\n",
			ClusterLabel(c), s.RejectedAt.Local().Format(time.DateTime+" MST"), why,
			s.PlanSince.Local().Format(time.DateTime+" MST"))
		found = true
	}
	return found
}

// Select returns the clusters c chooses. Its error says what is wrong with
// the choice and what to check.
func Select(r procs.Reader, c Choice) ([]procs.ServerProcesses, []error, error) {
	switch {
	case c.Existing != nil:
		e := c.Existing
		p, warnings, err := clusterForPGDATA(r, e.DataDir, e.CommandLine("status"))
		if err != nil {
			return nil, nil, err
		}
		return []procs.ServerProcesses{p}, warnings, nil
	case c.PGData != "":
		dataDir := c.PGData
		check := "pg_ctl -D " + dataDir + " status"
		// A configuration directory (Debian's /etc/postgresql/15/main)
		// names its data directory; anything else is taken as one.
		if e, err := cluster.FindExisting("", c.PGData); err == nil {
			dataDir, check = e.DataDir, e.CommandLine("status")
		}
		p, warnings, err := clusterForPGDATA(r, dataDir, check)
		if err != nil {
			return nil, nil, err
		}
		return []procs.ServerProcesses{p}, warnings, nil
	case c.PID != 0:
		p, warnings, err := r.ForPID(c.PID)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("no process %d in %s: it is not running (or runs in another PID namespace)", c.PID, r.Root)
		} else if err != nil {
			return nil, nil, err
		}
		return []procs.ServerProcesses{p}, warnings, nil
	default:
		return r.Discover()
	}
}

// ReportUnconfined names on w the unconfined processes of each cluster
// that has pgseccomp loaded, and returns the exit status: 1 if there are
// any, else 0.
func ReportUnconfined(w io.Writer, clusters []procs.ServerProcesses) int {
	exit := 0
	for _, c := range clusters {
		if !c.PgseccompLoaded {
			continue
		}
		bad := c.Unconfined()
		if len(bad) == 0 {
			continue
		}
		names := make([]string, len(bad))
		for i, p := range bad {
			names[i] = fmt.Sprintf("%d (%s)", p.PID, p.Kind)
		}
		fmt.Fprintf(w, "pgseccomp status: %s has pgseccomp loaded but %s unconfined (seccomp mode not 2 or no_new_privs not set): %s\n",
			ClusterLabel(c), report.Plural(len(bad), "process is", "processes are"), strings.Join(names, ", "))
		exit = 1
	}
	return exit
}

// clusterForPGDATA finds the running cluster whose data directory is pgdata.
// check is the command that tells whether the server runs, for messages.
func clusterForPGDATA(r procs.Reader, pgdata, check string) (procs.ServerProcesses, []error, error) {
	if abs, err := filepath.Abs(pgdata); err == nil {
		pgdata = abs
	}
	if fi, err := os.Stat(pgdata); err != nil {
		return procs.ServerProcesses{}, nil, fmt.Errorf("data directory %s: %v; give the directory the cluster was initialized in (initdb -D)", pgdata, pgconf.UnwrapPathError(err))
	} else if !fi.IsDir() {
		return procs.ServerProcesses{}, nil, fmt.Errorf("--pgdata %s is not a directory; give the cluster's data directory", pgdata)
	}
	pidPath := filepath.Join(pgdata, "postmaster.pid")
	pf, err := procs.ReadPostmasterPID(pgdata)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return procs.ServerProcesses{}, nil, fmt.Errorf("%s does not exist: the server does not seem to be running; check that it is (%s)", pidPath, check)
	case errors.Is(err, fs.ErrPermission):
		return procs.ServerProcesses{}, nil, fmt.Errorf("cannot read %s: permission denied; run as root or as the server's OS user", pidPath)
	case err != nil:
		return procs.ServerProcesses{}, nil, fmt.Errorf("%v; check that the server is running (%s)", err, check)
	}
	c, warnings, err := r.OfPostmaster(pf.PID)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return procs.ServerProcesses{}, nil, fmt.Errorf("process %d named in %s is not running: the file is stale (left by a crash?); check that the server is running (%s)", pf.PID, pidPath, check)
	case errors.Is(err, procs.ErrNotPostmaster):
		return procs.ServerProcesses{}, nil, fmt.Errorf("%s names %v; the file is stale (left by a crash?); check that the server is running (%s)", pidPath, err, check)
	case err != nil:
		return procs.ServerProcesses{}, nil, err
	}
	if pf.DataDir != "" && c.DataDir != "" && !samePath(pf.DataDir, c.DataDir) {
		return procs.ServerProcesses{}, nil, fmt.Errorf("process %d named in %s serves data directory %s, not %s: the file is stale; check that the server is running (%s)", pf.PID, pidPath, c.DataDir, pf.DataDir, check)
	}
	if c.DataDir == "" {
		c.DataDir = pgdata
	}
	return c, warnings, nil
}

// samePath reports whether a and b name the same directory.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// WriteJSON writes every process of the clusters as a JSON array of
// Process.
func WriteJSON(w io.Writer, clusters []procs.ServerProcesses) error {
	out := []Process{}
	for _, c := range clusters {
		for _, p := range c.Processes {
			out = append(out, Process{
				PID:                       p.PID,
				PPID:                      p.PPID,
				Kind:                      string(p.Kind),
				Role:                      p.Role,
				Database:                  p.Database,
				Title:                     p.Cmdline,
				SeccompMode:               p.Status.SeccompMode,
				SeccompFilters:            p.Status.SeccompFilters,
				NoNewPrivs:                p.Status.NoNewPrivs,
				SpeculationStoreBypass:    p.Status.SpeculationStoreBypass,
				SpeculationIndirectBranch: p.Status.SpeculationIndirectBranch,
				PostmasterPID:             c.PostmasterPID,
				DataDirectory:             c.DataDir,
				ClusterName:               c.Name,
				PgseccompLoaded:           c.PgseccompLoaded,
				Confined:                  p.Status.Confined(),
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteTable writes a table of each cluster's processes (with the full
// title when withTitle), each followed by its summary line.
func WriteTable(w io.Writer, clusters []procs.ServerProcesses, withTitle bool) {
	for i, c := range clusters {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		header := "PID\tPPID\tKIND\tROLE\tDATABASE\tSECCOMP\tFILTERS\tNNP\tSSB\tIB"
		if withTitle {
			header += "\tTITLE"
		}
		fmt.Fprintln(tw, header)
		for _, p := range c.Processes {
			s := p.Status
			filters := "-"
			if s.SeccompFilters >= 0 {
				filters = strconv.Itoa(s.SeccompFilters)
			}
			nnp := "0"
			if s.NoNewPrivs {
				nnp = "1"
			}
			row := []string{
				strconv.Itoa(p.PID), strconv.Itoa(p.PPID), string(p.Kind),
				cell(p.Role), cell(p.Database),
				procs.SeccompModeName(s.SeccompMode), filters, nnp, cell(s.SpeculationStoreBypass),
				cell(s.SpeculationIndirectBranch),
			}
			if withTitle {
				row = append(row, cell(p.Cmdline))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
		fmt.Fprintln(w, summary(c))
	}
}

// summary is the line printed after a cluster's table, e.g.
// "cluster /srv/pg (postmaster 1234): 7 processes, 7 confined, pgseccomp loaded".
func summary(c procs.ServerProcesses) string {
	confined := len(c.Processes) - len(c.Unconfined())
	counts := fmt.Sprintf("%s, %d confined", report.Plural(len(c.Processes), "process", "processes"), confined)
	if c.PostmasterPID == 0 {
		return fmt.Sprintf("%s: %s", ClusterLabel(c), counts)
	}
	loaded := "pgseccomp not loaded"
	switch {
	case c.LoadedErr != nil:
		loaded = "pgseccomp unknown (cannot read the postmaster's memory maps)"
	case c.PgseccompLoaded:
		loaded = "pgseccomp loaded"
	}
	return fmt.Sprintf("%s: %s, %s", ClusterLabel(c), counts, loaded)
}

// clusterLabel names a cluster in messages, e.g.
// "cluster /srv/pg (postmaster 1234, cluster_name main)".
func ClusterLabel(c procs.ServerProcesses) string {
	if c.PostmasterPID == 0 {
		for _, p := range c.Processes {
			if p.Postgres {
				return "PostgreSQL processes without a postmaster"
			}
		}
		return "not part of a PostgreSQL cluster"
	}
	dir := c.DataDir
	if dir == "" {
		dir = "(data directory unknown)"
	}
	name := ""
	if c.Name != "" {
		name = ", cluster_name " + sanitize(c.Name)
	}
	return fmt.Sprintf("cluster %s (postmaster %d%s)", sanitize(dir), c.PostmasterPID, name)
}

// cell renders a table cell: "-" for empty, control characters (which role
// and database names may hold) replaced so the table stays a table.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return sanitize(s)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}
