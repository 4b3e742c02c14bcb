package policy

// Need is work PostgreSQL 15 does, the syscalls it takes, and what happens
// when a layer denies them. Needs is the one table of them: lint checks
// every layer against it, record completes its lists from it, and the
// demo, the bench and the tests build their allow-lists with it.
type Need struct {
	// Check names the need in lint's findings and record's provenance.
	Check string
	// Global are the syscalls the global layer must allow (the postmaster
	// and every process it forks, a backend before authentication).
	Global []string
	// Session are those of Global a client backend makes after it
	// authenticated, which every session layer must allow too.
	Session []string
	// When says which configurations need it.
	When Condition
	// Record says how pgseccomp record treats it.
	Record RecordRule
	// Why says what the work is and what denying it does.
	Why string
	// Until is the last PostgreSQL major that needs it; 0: every major.
	Until int
	// Risk: denied, the work is slower or lost, or fails only when a rare
	// event hits; nothing stops, refuses a login or stays down. lint
	// warns about it instead of reporting an error.
	Risk bool
}

// Condition is what in a server's configuration makes a Need apply.
type Condition int

const (
	Always    Condition = iota // every server
	ListenTCP                  // listen_addresses is not empty
	SSL                        // ssl = on
	Peer                       // pg_hba.conf has a peer (or local ident) line
	Password                   // pg_hba.conf has an scram-sha-256 or md5 line
)

// RecordRule is how pgseccomp record treats a Need.
type RecordRule int

const (
	// Recorded: the workloads meet it; nothing is added.
	Recorded RecordRule = iota
	// ByChance: any backend may need it at any moment, so a session pass
	// (above all a role's, with fewer connections) may never see it: once
	// the global layer recorded one of the syscalls, every session layer
	// gets it.
	ByChance
	// Unrecordable: the kernel makes it on a process's behalf only when a
	// rare event hits: every layer gets it, recorded or not.
	Unrecordable
)

// Needs is what PostgreSQL 15 on Debian 12 (glibc 2.36) needs, measured
// (README, docs/SPEC.md §6 and §7; each entry says where it comes from).
var Needs = []Need{
	{Check: "startup", When: Always,
		Global:  []string{"newfstatat", "getdents64", "pipe2", "signalfd4"},
		Session: []string{"newfstatat"},
		Why:     "PostgreSQL 15 on glibc 2.33 and later makes these from its first seconds (stat() is newfstatat, readdir() getdents64, pipe() pipe2, and latches use signalfd; a backend sets up its latch before its session filter is loaded); a list made before glibc 2.33 (stat, getdents, pipe) with an error default stops the server from starting, or every session of the layer from running"},
	{Check: "startup-select", When: Always, Until: 18,
		Global: []string{"pselect6"},
		Why:    "up to 18 the postmaster's select() is pselect6 on glibc 2.33 and later (a list made before, with select, stops the server from starting); 19's postgres calls no select() at all"},
	{Check: "usleep", When: Always, Until: 18, Record: ByChance, Risk: true,
		Global:  []string{"pselect6"},
		Session: []string{"pselect6"},
		Why:     "up to 18 pg_usleep() sleeps with select() (pselect6 on glibc 2.33 and later; 19 uses nanosleep): spinlock back-off and vacuum's cost delay, which a session meets by chance (the recordings of 17 and 18 saw it in the global layer only); denied, the sleep returns at once, so a backend spins instead of waiting and vacuum_cost_delay does nothing (a slowdown, not a failure)"},
	{Check: "postmaster", When: Always,
		Global: []string{"bind", "listen", "clone"},
		Why:    "the postmaster binds and listens on its sockets at start and forks every child with clone (measured by the load test with both defaults at log: nothing else was the postmaster's alone); denied, the server does not start (internal/lint TestNeedsOnLiveServer)"},
	{Check: "wal-segment", When: Always, Record: ByChance,
		Global:  []string{"pwritev"},
		Session: []string{"pwritev"},
		Why:     "a new WAL segment is zero-filled with pwritev by whichever process needs it first, a busy backend or the checkpointer; denied, that process PANICs, and crash recovery fails the same way: the cluster stays down (docs/SPEC.md §7)"},
	{Check: "abort", When: Always, Record: ByChance,
		Global:  []string{"rt_sigaction", "rt_sigprocmask", "gettid", "getpid", "tgkill"},
		Session: []string{"rt_sigaction", "rt_sigprocmask", "gettid", "getpid", "tgkill"},
		Why:     "abort() after a PANIC unblocks and raises SIGABRT with these (recorded from a PANIC in the startup process); any process can PANIC, and denied they turn the PANIC into a segmentation fault (docs/SPEC.md §7)"},
	{Check: "signal-return", When: Always, Record: ByChance,
		Global:  []string{"rt_sigreturn"},
		Session: []string{"rt_sigreturn"},
		Why:     "every process returns from its signal handlers with rt_sigreturn, and a backend gets signals at any moment (cancel, terminate, procsignals, shutdown); denied, the first signal kills it"},
	{Check: "relcache-init", When: Always, Record: ByChance,
		Global:  []string{"openat", "write", "close", "rename", "unlink"},
		Session: []string{"openat", "write", "close", "rename", "unlink"},
		Why:     "the first connection after a restart or an invalidation writes the relation cache's init file (unlink, openat, write, close, rename): which session that is, is chance"},
	{Check: "buffer-io", When: Always, Record: ByChance,
		Global:  []string{"openat", "lseek", "pread64", "pwrite64", "close"},
		Session: []string{"openat", "lseek", "pread64", "pwrite64", "close"},
		Why:     "a session reads a block it needs into shared buffers (opening the relation's file, finding its size, reading) and writes out the dirty buffer it replaces: which session needs a block first, after a restart or an eviction, is chance"},
	{Check: "prefetch", When: Always, Record: ByChance, Risk: true,
		Global:  []string{"fadvise64"},
		Session: []string{"fadvise64"},
		Why:     "a process that reads ahead (PrefetchBuffer, a bitmap heap scan, a read stream, pg_prewarm's prefetch mode, a WAL segment closed with wal_level = minimal) advises the kernel with posix_fadvise (fadvise64); which session reads ahead first is chance (one of two recordings of 18's sessions never did, and its profile's enforce pass then denied it to a backend); denied, the advice is lost (PostgreSQL ignores its result) and the denial is logged"},
	{Check: "sleep-resume", When: Always, Record: Unrecordable, Risk: true,
		Global:  []string{"restart_syscall"},
		Session: []string{"restart_syscall"},
		Why:     "the kernel resumes an allowed sleep (nanosleep, poll, ...) with restart_syscall after a stop signal (SIGSTOP/SIGCONT, a debugger) interrupted it; which process that hits is chance"},
	{Check: "listen-tcp", When: ListenTCP,
		Global: []string{"socket", "setsockopt", "bind", "listen"},
		Why:    "with listen_addresses set the postmaster creates its TCP sockets with socket, setsockopt (SO_REUSEADDR) bind and listen, and each TCP backend sets TCP_NODELAY and SO_KEEPALIVE before authentication; denied, the server does not start (could not create any TCP/IP sockets: internal/lint TestNeedsOnLiveServer) or refuses every TCP connection"},
	{Check: "peer", When: Peer,
		Global: []string{"getsockopt"},
		Why:    "peer authentication asks the kernel who the client is with getsockopt(SO_PEERCRED), before authentication completes; denied, every peer login fails with \"Peer authentication failed\", which reads like a pg_hba.conf problem (internal/lint TestNeedsOnLiveServer)"},
	{Check: "ssl", When: SSL,
		Global: []string{"getrandom"},
		Why:    "with ssl = on OpenSSL draws random bytes with getrandom for every handshake, before authentication; denied, every SSL connection fails in the handshake (internal/lint TestNeedsOnLiveServer)"},
	{Check: "password", When: Password,
		Global: []string{"getrandom"},
		Why:    "md5 and scram-sha-256 authentication draw their salt or nonce with pg_strong_random (OpenSSL, getrandom) before authentication completes; denied, every such login fails with \"password authentication failed\" (internal/lint TestNeedsOnLiveServer)"},
}

// NeedsFor returns the needs of PostgreSQL major (0: any major, every
// need), in table order.
func NeedsFor(major int) []Need {
	var out []Need
	for _, n := range Needs {
		if major == 0 || n.Until == 0 || major <= n.Until {
			out = append(out, n)
		}
	}
	return out
}

// NeedsOf returns the needs with the given check names, in table order.
func NeedsOf(checks ...string) []Need {
	var out []Need
	for _, n := range Needs {
		for _, c := range checks {
			if n.Check == c {
				out = append(out, n)
			}
		}
	}
	return out
}

// GlobalNeeds returns every syscall the table says the global layer of a
// server with the given conditions must allow, sorted, once each.
func GlobalNeeds(conds ...Condition) []string {
	return needed(func(n Need) []string { return n.Global }, conds)
}

// SessionNeeds returns every syscall the table says a session layer of a
// server with the given conditions must allow, sorted, once each.
func SessionNeeds(conds ...Condition) []string {
	return needed(func(n Need) []string { return n.Session }, conds)
}

func needed(names func(Need) []string, conds []Condition) []string {
	set := map[string]bool{}
	for _, n := range Needs {
		if n.When != Always && !containsCond(conds, n.When) {
			continue
		}
		for _, s := range names(n) {
			set[s] = true
		}
	}
	return sortedKeys(set)
}

func containsCond(conds []Condition, c Condition) bool {
	for _, x := range conds {
		if x == c {
			return true
		}
	}
	return false
}

// PostmasterOnly are the syscalls only the postmaster makes: what the
// global layer must allow beyond what client backends make.
func PostmasterOnly() []string {
	return NeedsOf("postmaster")[0].Global
}
