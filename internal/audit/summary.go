package audit

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Summary tallies records per syscall of each ABI. Its memory grows with
// the distinct syscalls, PIDs, commands and executables it sees, not with
// the number of records. The zero value is ready to use.
type Summary struct {
	bySyscall map[syscallKey]*Syscall
	entries   []*Syscall // by index
	// The entries of one ABI's syscalls by number, for the hot path.
	fastArch uint32
	fast     []*Syscall
	// Which syscalls each PID made: a bit per entry index. A process
	// makes runs of records, so the current run's set is at hand.
	pids    map[int]*bitset
	runPID  int
	runPIDs *bitset

	// Undated counts the records added that carry no date.
	Undated int64
	// Selected counts the records [Summary.Tally] read that its filter
	// selected.
	Selected int64
	// FilteredOut counts the records [Summary.Tally] read that its filter
	// did not select; UndatedFilteredOut the part of them left out only
	// because the filter has a Since time and the record has no date.
	FilteredOut, UndatedFilteredOut int64
}

// syscallKey is a syscall as the record gives it: its ABI's audit arch
// and its number (x32's bit included).
type syscallKey struct {
	auditArch uint32
	nr        int64
}

type bitset struct{ words []uint64 }

func (b *bitset) set(i int) {
	w := i >> 6
	if w >= len(b.words) {
		b.words = append(b.words, make([]uint64, w+1-len(b.words))...)
	}
	b.words[w] |= 1 << (i & 63)
}

func (b *bitset) has(i int) bool {
	w := i >> 6
	return w < len(b.words) && b.words[w]&(1<<(i&63)) != 0
}

// Syscall is what a Summary knows about one syscall of one ABI.
type Syscall struct {
	// Arch is the ABI; 0 when the record's arch= is not one this tool
	// resolves (see ArchName).
	Arch      syscalls.Arch
	AuditArch uint32
	Number    int64
	// Name is libseccomp's name for the syscall, the one a pgseccomp
	// setting takes, or "syscall_NUMBER" when libseccomp does not know
	// the number (Known is then false).
	Name  string
	Known bool
	Count int64
	// FirstSeen and LastSeen are the earliest and latest record dates;
	// zero when no record had a date.
	FirstSeen, LastSeen time.Time

	pids    []int             // set by Summary.Syscalls
	comms   map[string]string // interned: each key is its own value
	exes    map[string]string
	actions [8]int64 // indexed like Actions
	// The last comm and exe added, to skip the maps for runs of records
	// from one process (the common case).
	lastComm, lastExe string
	index             int // in the Summary's entries
}

// intern adds b to set unless it is there, and returns set's string for
// it, so that a value seen before costs no allocation.
func intern(set map[string]string, b []byte) string {
	if s, ok := set[string(b)]; ok {
		return s
	}
	s := string(b)
	set[s] = s
	return s
}

// ArchName returns the ABI's name: Arch's, or audit's name for an arch=
// this tool does not resolve ("mips"), or "unknown[HEX]".
func (s *Syscall) ArchName() string {
	if s.Arch.Valid() {
		return s.Arch.String()
	}
	return auparse.AuditArch(s.AuditArch).String()
}

// PIDs returns the distinct PIDs of the syscall's records, sorted, as of
// the [Summary.Syscalls] call that returned s.
func (s *Syscall) PIDs() []int { return slices.Clone(s.pids) }

// Comms returns the distinct comm= values, sorted.
func (s *Syscall) Comms() []string { return sortedKeys(s.comms) }

// Exes returns the distinct exe= values, sorted.
func (s *Syscall) Exes() []string { return sortedKeys(s.exes) }

// Actions returns how many records reported each action; actions without
// records are left out.
func (s *Syscall) Actions() map[Action]int64 {
	out := map[Action]int64{}
	for i, n := range s.actions {
		if n > 0 {
			out[Actions[i]] = n
		}
	}
	return out
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fastSyscalls is how many syscall numbers of the first ABI a Summary
// sees it finds by index rather than by map: every number of the common
// ABIs.
const fastSyscalls = 1024

// Add tallies r.
func (s *Summary) Add(r *Record) {
	e := s.entry(r)
	e.Count++
	if r.Time.IsZero() {
		s.Undated++
	} else {
		if e.FirstSeen.IsZero() || r.Time.Before(e.FirstSeen) {
			e.FirstSeen = r.Time
		}
		if r.Time.After(e.LastSeen) {
			e.LastSeen = r.Time
		}
	}
	if r.PID != s.runPID || s.runPIDs == nil {
		s.runPID, s.runPIDs = r.PID, s.pidSet(r.PID)
	}
	s.runPIDs.set(e.index)
	if string(r.Comm) != e.lastComm || len(e.comms) == 0 {
		e.lastComm = intern(e.comms, r.Comm)
	}
	if string(r.Exe) != e.lastExe || len(e.exes) == 0 {
		e.lastExe = intern(e.exes, r.Exe)
	}
	e.actions[actionIndex(r.Action())]++
}

func (s *Summary) pidSet(pid int) *bitset {
	if s.pids == nil {
		s.pids = map[int]*bitset{}
	}
	b := s.pids[pid]
	if b == nil {
		b = &bitset{}
		s.pids[pid] = b
	}
	return b
}

// entry returns r's syscall's entry, making it if needed.
func (s *Summary) entry(r *Record) *Syscall {
	if s.bySyscall == nil {
		s.init(r.AuditArch)
	}
	fast := r.AuditArch == s.fastArch && r.Syscall >= 0 && r.Syscall < fastSyscalls
	if fast {
		if e := s.fast[r.Syscall]; e != nil {
			return e
		}
	}
	key := syscallKey{r.AuditArch, r.Syscall}
	e := s.bySyscall[key]
	if e == nil {
		e = newSyscall(r)
		s.insert(key, e)
	}
	return e
}

func (s *Summary) init(fastArch uint32) {
	s.bySyscall = map[syscallKey]*Syscall{}
	s.fastArch = fastArch
	s.fast = make([]*Syscall, fastSyscalls)
}

func (s *Summary) insert(key syscallKey, e *Syscall) {
	e.index = len(s.entries)
	s.entries = append(s.entries, e)
	s.bySyscall[key] = e
	if key.auditArch == s.fastArch && key.nr >= 0 && key.nr < fastSyscalls {
		s.fast[key.nr] = e
	}
}

// addFiltered adds r if f selects it, and counts it as filtered out if not.
func (s *Summary) addFiltered(r *Record, f *Filter) {
	if f.Match(r) {
		s.Add(r)
		s.Selected++
		return
	}
	s.FilteredOut++
	if !f.Since.IsZero() && r.Time.IsZero() {
		s.UndatedFilteredOut++
	}
}

// Merge adds what o has tallied to s. o must not be used afterwards.
func (s *Summary) Merge(o *Summary) {
	s.Undated += o.Undated
	s.Selected += o.Selected
	s.FilteredOut += o.FilteredOut
	s.UndatedFilteredOut += o.UndatedFilteredOut
	if s.bySyscall == nil {
		s.init(o.fastArch)
	}
	index := make([]int, len(o.entries)) // o's entry index -> s's
	for _, oe := range o.entries {
		key := syscallKey{oe.AuditArch, oe.Number}
		e := s.bySyscall[key]
		if e == nil {
			i := oe.index
			s.insert(key, oe)
			index[i] = oe.index
			continue
		}
		index[oe.index] = e.index
		e.Count += oe.Count
		if !oe.FirstSeen.IsZero() && (e.FirstSeen.IsZero() || oe.FirstSeen.Before(e.FirstSeen)) {
			e.FirstSeen = oe.FirstSeen
		}
		if oe.LastSeen.After(e.LastSeen) {
			e.LastSeen = oe.LastSeen
		}
		for c := range oe.comms {
			e.comms[c] = c
		}
		for x := range oe.exes {
			e.exes[x] = x
		}
		for i, n := range oe.actions {
			e.actions[i] += n
		}
	}
	for pid, ob := range o.pids {
		b := s.pidSet(pid)
		for w, word := range ob.words {
			for ; word != 0; word &= word - 1 {
				b.set(index[w<<6|bits.TrailingZeros64(word)])
			}
		}
	}
	*o = Summary{}
}

func newSyscall(r *Record) *Syscall {
	e := &Syscall{
		AuditArch: r.AuditArch,
		Number:    r.Syscall,
		comms:     map[string]string{},
		exes:      map[string]string{},
	}
	e.Arch, e.Name, e.Known = r.Resolve()
	if !e.Known {
		e.Name = fmt.Sprintf("syscall_%d", r.Syscall)
	}
	return e
}

// actionIndex returns a's place in Actions.
func actionIndex(a Action) int {
	switch a {
	case ActionKillProcess:
		return 0
	case ActionKillThread:
		return 1
	case ActionTrap:
		return 2
	case ActionErrno:
		return 3
	case ActionUserNotif:
		return 4
	case ActionTrace:
		return 5
	case ActionLog:
		return 6
	}
	return 7 // ActionAllow: ParseLine accepts only known actions
}

// Syscalls returns every syscall tallied, ordered by ABI (in the order of
// [syscalls.Arches], then unresolved ones) and name.
func (s *Summary) Syscalls() []*Syscall {
	out := slices.Clone(s.entries)
	for _, e := range out {
		e.pids = e.pids[:0]
	}
	for pid, b := range s.pids {
		for w, word := range b.words {
			for ; word != 0; word &= word - 1 {
				e := s.entries[w<<6|bits.TrailingZeros64(word)]
				e.pids = append(e.pids, pid)
			}
		}
	}
	for _, e := range out {
		slices.Sort(e.pids)
	}
	slices.SortFunc(out, func(a, b *Syscall) int {
		return cmp.Or(
			cmp.Compare(archOrder(a), archOrder(b)),
			cmp.Compare(a.AuditArch, b.AuditArch),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Number, b.Number))
	})
	return out
}

func archOrder(s *Syscall) int {
	if s.Arch.Valid() {
		return int(s.Arch)
	}
	return 1 << 16
}

// Records returns how many records were added.
func (s *Summary) Records() int64 {
	var n int64
	for _, e := range s.entries {
		n += e.Count
	}
	return n
}
