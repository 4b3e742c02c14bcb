package record

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
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

// jsonLogLine is the part of a jsonlog line the recorder reads.
type jsonLogLine struct {
	Timestamp string `json:"timestamp"`
	User      string `json:"user"`
	PID       int    `json:"pid"`
	Message   string `json:"message"`
}

// jsonLogTime is jsonlog's timestamp layout (log_timezone is UTC).
const jsonLogTime = "2006-01-02 15:04:05.000 MST"

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
		var l jsonLogLine
		if err := json.Unmarshal(line, &l); err != nil {
			continue // a partial line at the end of a file being written
		}
		c, ok := parseAuthorized(l)
		if !ok {
			continue
		}
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

// parseAuthorized reads a jsonlog line that reports an authenticated
// connection ("connection authorized: user=joe database=x ..." or
// "replication connection authorized: user=joe ...").
func parseAuthorized(l jsonLogLine) (connection, bool) {
	if !strings.HasPrefix(l.Message, "connection authorized:") &&
		!strings.HasPrefix(l.Message, "replication connection authorized:") {
		return connection{}, false
	}
	at, err := time.Parse(jsonLogTime, l.Timestamp)
	if err != nil || l.PID <= 0 {
		return connection{}, false
	}
	role := l.User
	if role == "" {
		// Older layouts: take user= from the message, up to the next
		// field PostgreSQL writes after it.
		_, rest, ok := strings.Cut(l.Message, " user=")
		if !ok {
			return connection{}, false
		}
		for _, next := range []string{" database=", " application_name=", " SSL ", " GSS "} {
			if i := strings.Index(rest, next); i >= 0 {
				rest = rest[:i]
			}
		}
		role = rest
	}
	return connection{pid: l.PID, at: at, role: role}, true
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
