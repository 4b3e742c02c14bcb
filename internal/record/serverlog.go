package record

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/serverlog"
)

// The recorder runs the server with log_connections and the jsonlog
// destination: the server's log then says, losslessly and in order, which
// role each client backend authenticated as (a backend blocks on the
// logging pipe rather than drop a line). That is how a session record,
// named by pid and time, gets its role.

// connection is one authenticated client backend, from the server log.
type connection struct {
	pid  int
	at   time.Time
	role string
}

// connections reads every "connection authorized" line (replication
// connections too) in the .json files of dir, sorted by pid and time.
func connections(dir string) (*connectionIndex, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	idx := &connectionIndex{byPID: map[int][]connection{}}
	for _, f := range files {
		if err := idx.read(f); err != nil {
			return nil, err
		}
	}
	for _, cs := range idx.byPID {
		sort.Slice(cs, func(i, j int) bool { return cs[i].at.Before(cs[j].at) })
	}
	return idx, nil
}

type connectionIndex struct {
	byPID map[int][]connection
	roles map[string]bool
}

func (idx *connectionIndex) read(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read the server log %s to learn which role each backend authenticated as: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), "connection authorized") {
			continue
		}
		e, err := serverlog.ParseJSON(line)
		if err != nil {
			continue // a partial line at the end of a file being written
		}
		role, _, _, ok := e.Authorized()
		if !ok || e.PID <= 0 || e.Time.IsZero() {
			continue
		}
		c := connection{pid: e.PID, at: e.Time, role: role}
		idx.byPID[c.pid] = append(idx.byPID[c.pid], c)
		if idx.roles == nil {
			idx.roles = map[string]bool{}
		}
		idx.roles[c.role] = true
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the server log %s: %w", path, err)
	}
	return nil
}

// roleAt returns the role of the client backend that had pid at time at:
// the last connection of that pid authorized before it (a backend's first
// records come a moment before its "connection authorized" line, hence
// the slack of a second, far less than the time the kernel takes to hand
// the pid out again).
func (idx *connectionIndex) roleAt(pid int, at time.Time) (string, bool) {
	cs := idx.byPID[pid]
	limit := at.Add(time.Second)
	i := sort.Search(len(cs), func(i int) bool { return cs[i].at.After(limit) })
	if i == 0 {
		return "", false
	}
	return cs[i-1].role, true
}

// allRoles returns every role that connected, sorted.
func (idx *connectionIndex) allRoles() []string {
	return slices.Sorted(maps.Keys(idx.roles))
}
