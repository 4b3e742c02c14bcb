package record

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// phase is what a pass records.
type phase int

const (
	// phaseGlobal: the global filter logs what its list does not allow,
	// the session filter allows everything; every record is the global
	// layer's.
	phaseGlobal phase = iota
	// phaseSession: the global filter allows everything, the session
	// filter logs; every record is a client backend's (or its parallel
	// worker's) after authentication.
	phaseSession
	// phaseEnforce: both layers deny with error what they do not list;
	// every record is a denial.
	phaseEnforce
	// phaseConfirm: both layers log what their lists do not allow; a
	// pass without a record proves both lists at once (a record cannot
	// be told to one layer, so any record sends the recording back to
	// passes of one layer).
	phaseConfirm
)

func (p phase) String() string {
	return [...]string{"global", "session", "enforce", "confirm"}[p]
}

// procKey names one process during one second: a pid is reused only after
// the kernel has handed out every other (32768 by default), which takes
// far longer than a second, so pid and second together name one process.
type procKey struct {
	pid int
	sec int64
}

// procSyscalls is what one process did in one second of a session pass.
type procSyscalls struct {
	counts map[int]uint64 // per syscall number
	leader int            // a parallel worker's leader, from its title; 0 if not one or unknown
	title  string
}

// denial is one syscall the enforce pass saw denied.
type denial struct {
	Syscall string
	PID     int
	Title   string
	Step    string // the workload step that ran
	Action  string
	Time    time.Time
}

func (d denial) String() string {
	who := d.Title
	if who == "" {
		who = "a process gone before it could be named"
	}
	return fmt.Sprintf("%s denied (%s) to pid %d (%s) during workload %q", d.Syscall, d.Action, d.PID, who, d.Step)
}

// collector takes the records of one server (by audit session) during one
// pass and keeps what is distinct: counts per syscall, and in a session
// pass recorded per role, per process and second.
type collector struct {
	session uint32 // the server's audit session (ses=)
	arch    syscalls.Arch
	perRole bool

	mu      sync.Mutex
	phase   phase
	step    string
	records uint64 // this pass's records of the server
	others  uint64 // records of other processes, ignored
	counts  map[int]uint64
	foreign map[string]uint64 // syscalls of another ABI ("i386 socketcall"), which no list can allow
	procs   map[procKey]*procSyscalls
	firstIn map[int]string // the step in which a syscall was first seen this pass
	// windows are this pass's events in the order they began (each ends
	// where the next begins), stamps the tenths of a second in which each
	// syscall was recorded: together they tie syscalls to events (paths).
	windows []window
	stamps  map[int]map[int64]bool
	// lin, if set, tells the archiver's processes (see lineage); in a
	// global pass their syscalls go to ArchivingPath, whatever event
	// ran, in archived.
	lin      *lineage
	archived map[int]bool
	denials  []denial
	bad      uint64 // records that did not parse
	badFirst string
}

func newCollector(session uint32, arch syscalls.Arch, perRole bool) *collector {
	c := &collector{session: session, arch: arch, perRole: perRole}
	c.reset(phaseGlobal)
	return c
}

// reset starts a pass.
func (c *collector) reset(p phase) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase = p
	c.records, c.others = 0, 0
	c.counts = map[int]uint64{}
	c.foreign = map[string]uint64{}
	c.procs = map[procKey]*procSyscalls{}
	c.firstIn = map[int]string{}
	c.denials = nil
	c.windows = nil
	c.stamps = map[int]map[int64]bool{}
	c.archived = map[int]bool{}
	if c.lin != nil {
		c.lin.reset()
	}
}

// phaseNow is the pass's phase.
func (c *collector) phaseNow() phase {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase
}

// setStep names the workload step now running, which is also the event
// (path) its syscalls are tied to.
func (c *collector) setStep(step string) {
	c.mu.Lock()
	c.step = step
	c.windows = append(c.windows, window{name: step, from: time.Now()})
	c.mu.Unlock()
}

// mark begins an event inside the running step (a login by one
// pg_hba.conf method), or, for "", goes back to the step itself.
func (c *collector) mark(event string) {
	c.mu.Lock()
	if event == "" {
		event = c.step
	}
	c.windows = append(c.windows, window{name: event, from: time.Now()})
	c.mu.Unlock()
}

// pause ends the running event without beginning another: a window
// without a name, which pathsSeen ties nothing to (what happens in it
// counts for the events around it, within their slacks).
func (c *collector) pause() {
	c.mu.Lock()
	c.windows = append(c.windows, window{from: time.Now()})
	c.mu.Unlock()
}

// add takes one record from the capture.
func (c *collector) add(rec *audit.Record) {
	if rec.Session != c.session {
		c.mu.Lock()
		c.others++
		c.mu.Unlock()
		return
	}
	arch, name, ok := rec.Resolve()
	native := ok && arch == c.arch
	var title string
	// The archiver's, by process (read before locking: it may drain the
	// fork events, whose handler locks the lineage, and read /proc).
	c.mu.Lock()
	lin, global := c.lin, c.phase == phaseGlobal
	c.mu.Unlock()
	archiver := native && global && lin != nil && lin.archiving(rec.PID, processTitle)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records++
	if !native {
		if name == "" {
			name = "syscall " + strconv.FormatInt(rec.Syscall, 10)
		}
		c.foreign[arch.String()+" "+name]++
		return
	}
	nr := int(rec.Syscall)
	if c.phase == phaseEnforce {
		c.mu.Unlock()
		title = processTitle(rec.PID)
		c.mu.Lock()
		c.denials = append(c.denials, denial{
			Syscall: name, PID: rec.PID, Title: title, Step: c.step,
			Action: rec.Action().String(), Time: rec.Time,
		})
		return
	}
	c.counts[nr]++
	if _, seen := c.firstIn[nr]; !seen {
		c.firstIn[nr] = c.step
	}
	if archiver && c.phase == phaseGlobal {
		c.archived[nr] = true
		return
	}
	tenth := rec.Time.UnixMilli() / 100
	if c.stamps[nr] == nil {
		c.stamps[nr] = map[int64]bool{}
	}
	c.stamps[nr][tenth] = true
	if c.phase != phaseSession || !c.perRole {
		return
	}
	key := procKey{rec.PID, rec.Time.Unix()}
	p := c.procs[key]
	if p == nil {
		// Name the process while it lives (a parallel worker's title
		// names its leader); once per process and second.
		c.mu.Unlock()
		title = processTitle(rec.PID)
		c.mu.Lock()
		p = &procSyscalls{counts: map[int]uint64{}, title: title, leader: parallelLeader(title)}
		c.procs[key] = p
	}
	p.counts[nr]++
}

// badRecord counts a record that did not parse.
func (c *collector) badRecord(body []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad++
	if c.badFirst == "" {
		c.badFirst = fmt.Sprintf("%v: %q", err, body)
	}
}

// snapshot is a pass's progress so far.
type snapshot struct {
	records  uint64
	distinct int
}

func (c *collector) snapshot() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return snapshot{records: c.records, distinct: len(c.counts)}
}

// processTitle is a process's title (ps display), or "" once it is gone.
func processTitle(pid int) string {
	args, err := procs.Reader{}.Cmdline(pid)
	if err != nil {
		return ""
	}
	return procs.TitleOf(args)
}

var parallelWorkerTitle = regexp.MustCompile(`parallel worker for PID (\d+)`)

// parallelLeader returns the leader's pid named in a parallel worker's
// title, or 0.
func parallelLeader(title string) int {
	m := parallelWorkerTitle.FindStringSubmatch(title)
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// sortedNumbers returns a count map's keys in order.
func sortedNumbers(m map[int]uint64) []int {
	nrs := make([]int, 0, len(m))
	for nr := range m {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	return nrs
}

// window is one event of a pass: its name and when it began.
type window struct {
	name string
	from time.Time
}

// Slack around an event's window within which a syscall still counts for
// it: the server does an event's work a little after the client began it
// (a leading slack covers clocks read a little apart), and goes on a
// little after the client saw it end (a backend exits after its client
// closed the connection), more so on a loaded machine. Attribution is
// conservative: a syscall near two events counts for both.
const (
	pathSlackBefore = 100 * time.Millisecond
	pathSlackAfter  = 500 * time.Millisecond
)

// pathsSeen ties the pass's syscalls to its events: for each event (a
// window's name; an event run twice has two windows), the syscall numbers
// recorded during one of its windows, widened by the slacks; the last
// window ends at end. The archiver's syscalls (a global pass's, told by
// process) are ArchivingPath's instead. Called with the collector locked.
func (c *collector) pathsSeen(end time.Time) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	if len(c.archived) > 0 {
		out[ArchivingPath] = maps.Clone(c.archived)
	}
	sorted := map[int][]int64{}
	for nr, tenths := range c.stamps {
		list := make([]int64, 0, len(tenths))
		for t := range tenths {
			list = append(list, t)
		}
		slices.Sort(list)
		sorted[nr] = list
	}
	for i, w := range c.windows {
		to := end
		if i+1 < len(c.windows) {
			to = c.windows[i+1].from
		}
		if w.name == "" {
			continue // a pause between events
		}
		from, until := w.from.Add(-pathSlackBefore).UnixMilli(), to.Add(pathSlackAfter).UnixMilli()
		if out[w.name] == nil {
			out[w.name] = map[int]bool{}
		}
		for nr, list := range sorted {
			// The first tenth that ends after the window begins.
			j, _ := slices.BinarySearchFunc(list, from, func(t, from int64) int {
				if (t+1)*100 > from {
					return 1
				}
				return -1
			})
			if j < len(list) && list[j]*100 < until {
				out[w.name][nr] = true
			}
		}
	}
	return out
}
