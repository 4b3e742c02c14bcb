package record

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
	"github.com/pgseccomp/pgseccomp/internal/workload"
)

// TestFromShipped is the merge rule: for every path the configuration
// uses, what the shipped profile's same path has and the recording lacks
// is added, per layer, with the path and why it is used in the reason; a
// session path's syscalls go to every role's layer too; paths not used add
// nothing, whatever they hold; what the recording has is never listed.
func TestFromShipped(t *testing.T) {
	shipped := map[string]profile.PathSyscalls{
		"built-in/wal":                {Global: []string{"pwritev", "fallocate", "openat", "read"}},
		"login hostssl scram-sha-256": {Global: []string{"getsockopt", "read"}, Session: []string{"sendto", "read"}},
		"login host ldap":             {Global: []string{"connect", "socket"}},
		"built-in/jit":                {Session: []string{"mprotect"}},
	}
	type want struct{ layer, syscalls, pathInWhy string }
	tests := []struct {
		name                  string
		global, session, role []string // recorded; role "" means no role layers
		used                  []usedPath
		want                  []want
	}{
		{"nothing used adds nothing", []string{"read"}, []string{"read"}, nil, nil, nil},
		{"a used path adds what the recording lacks",
			[]string{"read", "openat"}, []string{"read"}, nil,
			[]usedPath{{"built-in/wal", "the recording ran it"}},
			[]want{{"global", "fallocate,pwritev", "built-in/wal"}}},
		{"the recording has it all",
			[]string{"pwritev", "fallocate", "openat", "read"}, nil, nil,
			[]usedPath{{"built-in/wal", "the recording ran it"}}, nil},
		{"a session path goes to the session layer and every role's",
			[]string{"read", "getsockopt"}, []string{"read"}, []string{"read", "sendto"},
			[]usedPath{{"login hostssl scram-sha-256", "the recording ran it"}},
			[]want{{"session", "sendto", "login hostssl scram-sha-256"}}},
		{"a used path the shipped profile lacks adds nothing",
			[]string{"read"}, nil, nil,
			[]usedPath{{"my workload", "the recording ran it"}}, nil},
		{"an unexercised method's login, not the other paths",
			nil, nil, []string{"read"},
			[]usedPath{{"login host ldap", "pg_hba.conf line 4 uses host ldap"}},
			[]want{{"global", "connect,socket", "login host ldap"}}},
		{"two paths, one syscall: listed once, under the first",
			[]string{}, nil, nil,
			[]usedPath{{"login hostssl scram-sha-256", "ran"}, {"built-in/wal", "ran"}},
			[]want{{"global", "getsockopt,read", "login hostssl scram-sha-256"}, {"session", "read,sendto", "login hostssl scram-sha-256"}, {"global", "fallocate,openat,pwritev", "built-in/wal"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLists()
			l.global, l.session = setOf(tt.global), setOf(tt.session)
			if tt.role != nil {
				l.roles["joe"] = setOf(tt.role)
			}
			adds := fromShipped(l, tt.used, shipped, "shipped.json")
			var got []want
			for _, a := range adds {
				w := want{a.Layer, strings.Join(a.Syscalls, ","), ""}
				for _, u := range tt.used {
					if strings.Contains(a.Why, `path "`+u.name+`"`) && strings.Contains(a.Why, u.why) && strings.Contains(a.Why, "shipped.json") {
						w.pathInWhy = u.name
					}
				}
				if w.layer == "role joe" { // checked below: the session's additions again
					continue
				}
				got = append(got, w)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("additions %+v, want %+v (all: %+v)", got, tt.want, adds)
			}
			for _, a := range adds {
				if a.Layer == "session" && tt.role != nil {
					for _, n := range a.Syscalls {
						if !l.roles["joe"][n] {
							t.Errorf("role joe lacks %s, added to the session layer", n)
						}
					}
				}
				for _, n := range a.Syscalls {
					set := map[string][]string{"global": tt.global, "session": tt.session, "role joe": tt.role}[a.Layer]
					if setOf(set)[n] {
						t.Errorf("%s: %s was recorded, yet listed as added", a.Layer, n)
					}
				}
			}
			// Nothing from a path that was not used.
			for name, ps := range shipped {
				isUsed := false
				for _, u := range tt.used {
					isUsed = isUsed || u.name == name
				}
				if isUsed {
					continue
				}
				for _, n := range ps.Global {
					if l.global[n] && !setOf(tt.global)[n] && !usedHas(shipped, tt.used, n) {
						t.Errorf("%s of unused path %s was added", n, name)
					}
				}
			}
		})
	}
}

func usedHas(shipped map[string]profile.PathSyscalls, used []usedPath, n string) bool {
	for _, u := range used {
		ps := shipped[u.name]
		if setOf(ps.Global)[n] || setOf(ps.Session)[n] {
			return true
		}
	}
	return false
}

// TestPathsSeen: a syscall counts for the event whose window (widened by
// the slacks) holds its record's time, and for both events near their
// boundary; an event run twice collects both runs; a pause between
// events is no event, and what happens in it counts for the event before
// or after, within their slacks, not both.
func TestPathsSeen(t *testing.T) {
	c := newCollector(7, syscalls.X86_64, false)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	c.windows = []window{{"a", t0}, {"b", t0.Add(2 * time.Second)}, {"a", t0.Add(4 * time.Second)}, {"c", t0.Add(6 * time.Second)},
		{"", t0.Add(25 * time.Second)}, {"d", t0.Add(25*time.Second + pathSlackAfter + pathSlackBefore)}}
	for _, r := range []struct {
		nr int
		at time.Duration
	}{
		{1, 1 * time.Second},         // a only
		{2, 3 * time.Second},         // b only
		{3, 2100 * time.Millisecond}, // b, and a's trailing slack
		{4, 5 * time.Second},         // a's second run
		{5, 5950 * time.Millisecond}, // a, and c's leading slack
		{6, 20 * time.Second},        // c
		{7, 25*time.Second + pathSlackAfter - 50*time.Millisecond},                   // c's trailing slack, in the pause
		{8, 25*time.Second + pathSlackAfter + 50*time.Millisecond},                   // d's leading slack, in the pause
		{9, 25*time.Second + pathSlackAfter + pathSlackBefore + 10*time.Millisecond}, // d, the last window, open until the end
	} {
		c.add(&audit.Record{Session: 7, AuditArch: unix.AUDIT_ARCH_X86_64, Syscall: int64(r.nr), Time: t0.Add(r.at)})
	}
	got := c.pathsSeen(t0.Add(30 * time.Second))
	want := map[string]map[int]bool{
		"a": {1: true, 3: true, 4: true, 5: true},
		"b": {2: true, 3: true},
		"c": {5: true, 6: true, 7: true},
		"d": {8: true, 9: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pathsSeen = %v, want %v", got, want)
	}
}

// TestMarkPauses: the beginning and the end of an event inside a step
// wait out both slacks, so that what the step does right before or after
// the event (a reload, which may run ssl_passphrase_command) is tied to
// the step and not to the event.
func TestMarkPauses(t *testing.T) {
	r := &recorder{col: newCollector(7, syscalls.X86_64, false)}
	r.col.reset(phaseGlobal)
	record := func(nr int) {
		r.col.add(&audit.Record{Session: 7, AuditArch: unix.AUDIT_ARCH_X86_64, Syscall: int64(nr), Time: time.Now()})
	}
	r.col.setStep("built-in/step")
	record(3) // the step's set-up, right before the event
	r.mark("login hostssl cert")
	record(1)
	r.mark("")
	record(2) // the step's cleanup, right after the event
	r.col.mu.Lock()
	got := r.col.pathsSeen(time.Now())
	r.col.mu.Unlock()
	if ev := got["login hostssl cert"]; !ev[1] || ev[2] || ev[3] {
		t.Errorf("the event's path = %v, want syscall 1, not 2 or 3", ev)
	}
	if st := got["built-in/step"]; !st[2] || !st[3] || st[1] {
		t.Errorf("the step's path = %v, want syscalls 2 and 3, not 1", st)
	}
}

// TestUsedPaths: a recording of a cluster uses what it ran, the
// server-life steps, a feature path only when the cluster's configuration
// turns the feature on (whatever ran), the login paths of the methods it
// cannot exercise; a client path it did not run is only named.
func TestUsedPaths(t *testing.T) {
	shipped := map[string]profile.PathSyscalls{
		"base backup":                                 {Global: []string{"read"}},
		workload.ServerSideBaseBackupEvent:            {Session: []string{"clone3", "madvise"}},
		ArchivingPath:                                 {Global: []string{"execve", "vfork", "chdir"}},
		"login host ldap":                             {Global: []string{"connect"}},
		"login hostssl ldap":                          {Global: []string{"connect"}},
		"built-in/wal-segments-checkpoints-archiving": {Global: []string{"fallocate"}},
	}
	tests := []struct {
		name        string
		ran         []string
		conf        map[string]string
		unexercised []hbaLine
		want        []string // used paths besides the server-life steps, with a word of their reason
		unmatched   []string
		onlyIfRun   bool
	}{
		{"nothing configured", []string{"base backup"}, nil, nil,
			[]string{"base backup: ran"}, nil, true},
		{"archive_mode off, archive_command set", nil, map[string]string{"archive_mode": "off", "archive_command": "cp %p /a/%f"}, nil,
			nil, nil, true},
		{"archive_mode on, no command nor library", nil, map[string]string{"archive_mode": "on"}, nil,
			nil, nil, true},
		{"archive_mode on with archive_command", nil, map[string]string{"archive_mode": "on", "archive_command": "cp %p /a/%f"}, nil,
			[]string{ArchivingPath + ": archive_command"}, nil, true},
		{"archive_mode always with archive_library", nil, map[string]string{"archive_mode": "always", "archive_library": "basic_archive"}, nil,
			[]string{ArchivingPath + ": basic_archive"}, nil, true},
		{"archive_mode TRUE is on", nil, map[string]string{"archive_mode": "TRUE", "archive_command": "x"}, nil,
			[]string{ArchivingPath + ": archive_mode = true"}, nil, true},
		{"archiving that ran does not count without the configuration", []string{ArchivingPath, "base backup"}, nil, nil,
			[]string{"base backup: ran"}, nil, true},
		{"the abort step's set-up is the recording's, not the cluster's", []string{"built-in/backend-abort-plperlu"}, nil, nil,
			nil, nil, true},
		{"a server-side base backup that ran", []string{workload.ServerSideBaseBackupEvent}, nil, nil,
			[]string{workload.ServerSideBaseBackupEvent + ": ran"}, nil, false},
		{"an unexercised method: every line type's login path", nil, nil, []hbaLine{{4, "host", "ldap"}},
			[]string{"login host ldap: line 4", "login hostssl ldap: line 4"}, nil, true},
		{"an unexercised method the shipped profile has no path for", nil, nil, []hbaLine{{7, "host", "gss"}},
			nil, []string{"line 7: host gss"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lifeSteps := map[string]bool{}
			for _, s := range workload.ServerLife() {
				lifeSteps[s.ServerLifePath()] = true
			}
			conf := func(name, def string) string {
				if v, ok := tt.conf[name]; ok {
					return v
				}
				return def
			}
			used, unmatched, onlyIfRun := usedPaths(tt.ran, conf, tt.unexercised, shipped)
			var got []usedPath
			for _, u := range used {
				if lifeSteps[u.name] {
					if u.why != "every server meets it" {
						t.Errorf("server-life step %s used because %q", u.name, u.why)
					}
					delete(lifeSteps, u.name)
					continue
				}
				got = append(got, u)
			}
			if len(lifeSteps) > 0 {
				t.Errorf("server-life steps not used: %v", lifeSteps)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("used %+v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				name, word, _ := strings.Cut(w, ": ")
				if got[i].name != name || !strings.Contains(got[i].why, word) {
					t.Errorf("used[%d] = %+v, want %s because of %q", i, got[i], name, word)
				}
			}
			if !reflect.DeepEqual(unmatched, tt.unmatched) {
				t.Errorf("unmatched %v, want %v", unmatched, tt.unmatched)
			}
			named := len(onlyIfRun) == 1 && strings.Contains(onlyIfRun[0], workload.ServerSideBaseBackupEvent) && strings.Contains(onlyIfRun[0], "--compress=server-")
			if named != tt.onlyIfRun || (!tt.onlyIfRun && len(onlyIfRun) > 0) {
				t.Errorf("only if run: %v, want the server-side base backup named: %v", onlyIfRun, tt.onlyIfRun)
			}
		})
	}
}
