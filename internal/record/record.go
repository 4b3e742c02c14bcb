// Package record is pgseccomp record: it runs a PostgreSQL server under
// seccomp filters that log, runs workloads against it, reads every audit
// record the kernel writes for the server's processes, and narrows the
// logged set pass by pass until a pass adds nothing; then it proves the
// lists by running the workloads again with them enforced (error
// defaults), and writes a profile and a conf.d snippet.
//
// Layers are recorded apart. A global pass logs at the global layer and
// lets the session layer allow everything, so every record is the global
// layer's (the postmaster and every process, client backends included,
// because the global filter confines them too). A session pass lets the
// global layer allow everything and logs at the session layer, so every
// record is a client backend's (or its parallel worker's) after it
// authenticated. With per-role lists, the server log (log_connections,
// jsonlog) names the role of each backend by pid and time.
//
// Records come from the kernel's audit netlink multicast group (see
// audit.Capture), which loses nothing the audit subsystem emits, whether
// or not auditd runs; the server runs in an audit session of its own, so
// its records are told from everyone else's by their ses= field, even
// for a process gone before its record is read. The kernel's lost
// counter is checked around the recording, and any loss fails it.
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
	"github.com/pgseccomp/pgseccomp/internal/workload"
	"github.com/pgseccomp/pgseccomp/profiles"
)

// Options say what to record and how.
type Options struct {
	// BinDir is the PostgreSQL bin directory ("" finds it as
	// internal/cluster does, through pg_config).
	BinDir string
	// Workloads are shell commands run, in order, in every pass, with the
	// server's connection settings (PGHOST, PGPORT, PGUSER, PGDATABASE) in
	// their environment. They must not restart the server themselves.
	Workloads []string
	// BuiltIn runs the built-in workload (package workload) before the
	// commands.
	BuiltIn bool
	// Steps, if not nil, replaces the built-in workload's steps (tests).
	Steps []workload.Step
	// Existing, if set, records an existing cluster instead of a fresh
	// throwaway one: by default a copy of it (cluster.Copy: pg_basebackup
	// of the running server, or a file copy of a stopped one), started
	// with the cluster's own configuration, while the cluster keeps
	// serving and nothing is created in it.
	Existing *cluster.Existing
	// InPlace records the cluster itself instead (cluster.Attach): its
	// server is stopped for the whole recording (an outage) and started
	// again afterwards the way it is managed (pg_ctlcluster, systemctl,
	// or pg_ctl with its log in ServerLog, default in the work
	// directory). Its files are not changed.
	InPlace   bool
	ServerLog string
	// PerRole records a session list for each role that connects.
	PerRole bool
	// KeepIOUring puts the io_uring syscalls (policy.IOUring) that
	// sessions were recorded making into the session layers' allow lists.
	// By default they are left out and named in the output and in the
	// profile's provenance (withheld): operations submitted through a ring
	// are not seen by seccomp, so a session allowed a ring escapes every
	// per-syscall list.
	KeepIOUring bool
	// MaxPasses bounds the passes of each layer (default 6).
	MaxPasses int
	// Progress receives progress; Terminal says it is a terminal, so that
	// one line is rewritten in place.
	Progress io.Writer
	Terminal bool
	// Logf receives detail (cluster start and stop, ...); may be nil.
	Logf func(format string, args ...any)

	// shipped, if set (tests), replaces the shipped profile a recording
	// of an existing cluster is completed from; it gets the recording's
	// paths and lists as they are when the recording passes end.
	shipped func(recorded map[string]profile.PathSyscalls, l *lists) *profile.Profile
}

// Result is a finished recording.
type Result struct {
	Profile *profile.Profile
	Elapsed time.Duration
	// Proven are the workloads (built-in steps and commands) the enforce
	// pass ran with the recorded lists and error defaults, all of which
	// passed; Unexercised the pg_hba.conf lines whose method no workload
	// could log in with; NotRun the built-in steps left out because they
	// crash or reconfigure the server, which only a server made for the
	// recording may (in place).
	Proven, Unexercised, NotRun []string
	// LostBefore and LostAfter are the kernel's audit lost counter
	// (AUDIT_GET) read before the capture started and after it ended; Run
	// fails when they differ, or when the capture socket overflowed.
	LostBefore, LostAfter uint32
	// Others counts records of other processes, read and ignored.
	Others uint64
}

// FailedError is a recording whose proof pass saw denials.
type FailedError struct {
	Denials []string
}

func (e *FailedError) Error() string {
	for _, d := range e.Denials {
		if strings.Contains(d, "io_uring_") {
			return fmt.Sprintf("the enforce pass (recorded lists, error defaults) saw %d denied syscall(s):\n  %s\n"+
				"io_uring syscalls are left out of session layers, because operations submitted through a ring are not seen by seccomp: "+
				"change the workload not to use io_uring in sessions, or record with --keep-io-uring if sessions must have it",
				len(e.Denials), strings.Join(e.Denials, "\n  "))
		}
	}
	return fmt.Sprintf("the enforce pass (recorded lists, error defaults) saw %d denied syscall(s):\n  %s\n"+
		"the workloads do something the recording passes did not see them do (a timing-dependent path?): run record again, or add a workload that reaches it",
		len(e.Denials), strings.Join(e.Denials, "\n  "))
}

// recorder is one recording in progress.
type recorder struct {
	opts     Options
	arch     syscalls.Arch
	srv      *server
	col      *collector
	capture  *audit.Capture
	capErr   chan error
	forks    *procs.Forks // the process events, which tell the archiver's processes (lineage)
	forksErr chan error
	steps    []workload.Step
	lists    *lists
	counts   map[string]map[string]uint64 // layer ("global", "session", "role R") -> syscall -> records
	passes   []profile.Pass
	progress *progress
	begin    time.Time
	added    []profile.Addition
	withheld []profile.Addition // recorded, kept out of a layer (io_uring)
	names    []string           // workload names for the provenance
	// unexercised are the pg_hba.conf lines of an existing cluster whose
	// method the recording cannot log in with.
	unexercised []hbaLine
	paths       paths    // what each event was seen doing (see paths.go)
	proven      []string // what the enforce pass ran
	notRun      []string // destructive steps left out (in place)
	workDir     string   // in place: the work directory (removed at the end)
}

// Run records a profile.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.MaxPasses <= 0 {
		opts.MaxPasses = 6
	}
	if !opts.BuiltIn && len(opts.Workloads) == 0 {
		return nil, errors.New("no workload: run the built-in one, give --workload commands, or both")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	native, err := policy.NativeArch()
	if err != nil {
		return nil, err
	}
	r := &recorder{
		opts: opts, arch: native, lists: newLists(),
		counts:   map[string]map[string]uint64{},
		progress: newProgress(opts.Progress, opts.Terminal),
		begin:    time.Now(),
	}
	defer r.progress.done()
	switch {
	case opts.BuiltIn:
		r.steps = workload.BuiltIn()
		if opts.Steps != nil {
			r.steps = opts.Steps
		}
		r.names = append(r.names, "built-in")
	case opts.Existing != nil:
		r.steps = workload.ServerLife()
		r.names = append(r.names, "server life")
	}
	r.names = append(r.names, opts.Workloads...)

	before, err := audit.ReadKernelStatus()
	if err != nil {
		return nil, err
	}
	if err := r.startCapture(); err != nil {
		return nil, err
	}
	defer r.stopCapture()
	if err := r.makeServer(ctx); err != nil {
		return nil, err
	}
	defer r.removeServer()

	prov, err := r.provenance(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.recordLayers(ctx); err != nil {
		return nil, err
	}
	r.addFromShipped(prov)
	r.completeLists()
	if err := r.enforcePass(ctx); err != nil {
		return nil, err
	}
	if err := r.stopCapture(); err != nil {
		return nil, err
	}
	after, err := audit.ReadKernelStatus()
	if err != nil {
		return nil, err
	}
	lost := after.Lost - before.Lost
	if lost != 0 {
		return nil, fmt.Errorf("the kernel's audit lost counter rose by %d during the recording (from %d to %d): records were dropped, so the lists may miss syscalls; "+
			"raise the audit backlog (auditctl -b 8192) or lower the load, and record again", lost, before.Lost, after.Lost)
	}
	prov.Passes = r.passes
	prov.Added = r.added
	prov.Withheld = r.withheld
	prov.Paths = r.paths.provenance()
	prov.Seconds = time.Since(r.begin).Seconds()
	p := r.buildProfile(prov)
	return &Result{Profile: p, Elapsed: time.Since(r.begin), Others: r.col.others,
		LostBefore: before.Lost, LostAfter: after.Lost, Proven: r.proven, Unexercised: r.unexercisedNames(), NotRun: r.notRun}, nil
}

// Verify runs the workloads against a server that enforces profile p
// with error defaults at every layer (the enforce pass alone), and fails,
// naming each denied syscall and workload, if anything is denied or a
// workload fails. opts say which workloads and which server, as for Run.
func Verify(ctx context.Context, p *profile.Profile, opts Options) error {
	if !opts.BuiltIn && len(opts.Workloads) == 0 {
		return errors.New("no workload: run the built-in one, give --workload commands, or both")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	arch, err := p.Arch()
	if err != nil {
		return err
	}
	if native, _ := policy.NativeArch(); arch != native {
		return fmt.Errorf("the profile is for %s, this machine runs %s", arch, native)
	}
	r := &recorder{opts: opts, arch: arch, lists: newLists(), counts: map[string]map[string]uint64{},
		progress: newProgress(opts.Progress, opts.Terminal), begin: time.Now()}
	defer r.progress.done()
	if opts.BuiltIn {
		r.steps = workload.BuiltIn()
		if opts.Steps != nil {
			r.steps = opts.Steps
		}
	}
	r.lists.global = setOf(p.Global.Allow)
	r.lists.session = setOf(p.Session.Allow)
	for _, role := range p.RoleNames() {
		r.lists.roles[role] = setOf(p.Roles[role].Allow)
	}
	r.opts.PerRole = len(p.Roles) > 0
	if err := r.startCapture(); err != nil {
		return err
	}
	defer r.stopCapture()
	if err := r.makeServer(ctx); err != nil {
		return err
	}
	defer r.removeServer()
	if err := r.enforcePass(ctx); err != nil {
		return err
	}
	return r.stopCapture()
}

// startCapture joins the audit multicast group before the server starts,
// so that no record of it is missed.
func (r *recorder) startCapture() error {
	c, err := audit.OpenCapture()
	if err != nil {
		return err
	}
	r.capture = c
	r.capErr = make(chan error, 1)
	// The collector needs the session id, known once the cluster exists:
	// records before that are not the server's.
	r.col = newCollector(0xfffffffe, r.arch, r.opts.PerRole)
	r.progress.watch(r.col.snapshot)
	// The archiver's work goes to a path of its own, whatever event ran
	// meanwhile; without process events it stays with the events.
	if forks, err := procs.OpenForks(); err != nil {
		r.progress.logf("warning: %v; the archiver's syscalls are tied to the events during which it ran", err)
	} else {
		r.forks, r.forksErr = forks, make(chan error, 1)
		lin := newLineage(func() { forks.Drain() })
		r.col.lin = lin
		r.col.reset(phaseGlobal)
		go func() { r.forksErr <- forks.Run(lin.forked) }()
	}
	go func() {
		r.capErr <- c.Run(func(rec *audit.Record) { r.col.add(rec) }, r.col.badRecord)
	}()
	return nil
}

// stopCapture ends the capture and reports whether it lost records.
func (r *recorder) stopCapture() error {
	if r.capture == nil {
		return nil
	}
	r.capture.Stop()
	err := <-r.capErr
	r.capture.Close()
	r.capture = nil
	if r.forks != nil {
		r.forks.Stop()
		if ferr := <-r.forksErr; ferr != nil {
			r.progress.logf("warning: %v", ferr)
		}
		if n := r.forks.Overflows(); n > 0 {
			r.progress.logf("warning: the kernel's process events overflowed %d time(s): a program of the archiver whose fork was lost is tied to the event during which it ran, not to the path %s", n, ArchivingPath)
		}
		r.forks.Close()
		r.forks = nil
	}
	if errors.Is(err, audit.ErrOverflow) {
		return fmt.Errorf("%w; the recording is incomplete: record again on a less busy machine", err)
	}
	return err
}

// makeServer creates the throwaway cluster, or attaches to the existing
// one, in its own audit session, with a scratch directory for the
// workloads and a log directory beside it.
func (r *recorder) makeServer(ctx context.Context) error {
	var c *cluster.Cluster
	var err error
	e := r.opts.Existing
	switch {
	case e == nil:
		c, err = cluster.New(ctx, cluster.Options{BinDir: r.opts.BinDir, AuditSession: true, Logf: r.opts.Logf})
		if err != nil {
			return err
		}
	case !r.opts.InPlace:
		r.progress.logf("copying %s (its server keeps serving)", e)
		c, err = cluster.Copy(ctx, cluster.CopyOptions{Of: e, BinDir: r.opts.BinDir, AuditSession: true, Logf: r.progress.logf})
		if err != nil {
			return err
		}
	default:
		work, err := os.MkdirTemp("", "pgseccomp-record-")
		if err != nil {
			return fmt.Errorf("create a work directory for the recording: %w", err)
		}
		c, err = cluster.Attach(ctx, cluster.AttachOptions{Of: e, BinDir: r.opts.BinDir, WorkDir: work, AuditSession: true, Logf: r.opts.Logf,
			LoginRole: workload.HBARole})
		if err != nil {
			os.RemoveAll(work)
			return err
		}
		r.workDir = work
		if _, running := c.Attached(); running {
			r.progress.logf("stopping the server of %s for the recording (in place: no client can connect until it ends)", e)
			if err := r.control(ctx, c, "stop"); err != nil {
				c.Remove()
				os.RemoveAll(work)
				return err
			}
		}
		// r.srv is set below; until then a failure gives the server back
		// here.
		if err := c.PrepareInPlace(ctx); err != nil {
			r.srv = &server{c: c}
			r.removeServer()
			r.srv = nil
			return err
		}
	}
	r.srv = &server{c: c, scratch: filepath.Join(c.BaseDir, "scratch"), logDir: filepath.Join(c.BaseDir, "log"), logf: r.progress.logf, mark: r.mark}
	for _, dir := range []string{r.srv.scratch, r.srv.logDir} {
		if err := os.MkdirAll(dir, 0o700); err == nil {
			err = c.Chown(dir)
		}
		if err != nil {
			return fmt.Errorf("create %s for the recording: %w", dir, err)
		}
	}
	id, _ := c.AuditSession()
	r.col.mu.Lock()
	r.col.session = id
	r.col.mu.Unlock()
	return nil
}

// removeServer removes the throwaway cluster, or stops the recording's
// server of an existing cluster and, if it ran before, starts it again as
// configured.
func (r *recorder) removeServer() {
	if r.srv == nil {
		return
	}
	c := r.srv.c
	if err := c.Remove(); err != nil {
		r.progress.logf("%v", err)
	}
	attached, wasRunning := c.Attached()
	if !attached {
		return
	}
	if wasRunning {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := r.control(ctx, c, "start"); err != nil {
			r.progress.logf("%v\nSTART IT YOURSELF: the recording stopped it", err)
		} else {
			r.progress.logf("started the server of %s again (%s)", r.opts.Existing, r.opts.Existing.Manager())
		}
	}
	if wasRunning && r.opts.Existing.Manager() == "pg_ctl" && r.opts.ServerLog == "" {
		r.progress.logf("the server started again logs to %s, in the work directory %s, which is kept", filepath.Join(r.workDir, "server-restarted.log"), r.workDir)
		return
	}
	if err := os.RemoveAll(r.workDir); err != nil {
		r.progress.logf("remove the work directory: %v", err)
	}
}

// control stops or starts the recorded cluster's own server in place, the
// way it is managed; a server pg_ctl manages logs to ServerLog.
func (r *recorder) control(ctx context.Context, c *cluster.Cluster, action string) error {
	e := r.opts.Existing
	if e.Manager() == "pg_ctl" {
		if action == "stop" {
			return c.Stop(ctx)
		}
		logFile := r.opts.ServerLog
		if logFile == "" {
			logFile = filepath.Join(r.workDir, "server-restarted.log")
		}
		return c.StartAsConfigured(ctx, logFile)
	}
	cmd := e.ControlCommand(ctx, action, "")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// configure writes a pass's settings and restarts the server with them.
func (r *recorder) configure(ctx context.Context, p phase) error {
	var wl map[string]string
	attached, _ := r.srv.c.Attached()
	if r.opts.BuiltIn && !attached {
		wl = workload.Settings(r.srv.scratch)
	}
	if e := r.opts.Existing; e != nil {
		if wl == nil {
			wl = map[string]string{}
		}
		// Keep the cluster's own libraries, the workload's too.
		libs := e.Value("shared_preload_libraries", "")
		if w, ok := wl["shared_preload_libraries"]; ok {
			libs += "," + pgconf.Unquote(w)
		}
		wl["shared_preload_libraries"] = cluster.QuoteValue(libs)
		if _, isCopy := r.srv.c.IsCopy(); isCopy && !r.opts.BuiltIn && e.Value("archive_mode", "off") != "off" {
			// A copy must never write into the cluster's archive.
			wl["archive_command"], wl["archive_library"] = "'true'", "''"
		}
	}
	settings := serverSettings(r.srv.logDir, wl)
	for k, v := range phaseSettings(p, r.lists, r.opts.PerRole) {
		settings[k] = v
	}
	if err := r.srv.c.SetSettings(settings); err != nil {
		return err
	}
	if err := r.srv.Stop(ctx, "fast"); err != nil {
		return err
	}
	return r.srv.Start(ctx)
}

// recordLayers records both layers to a fixpoint: a pass of each layer,
// then a pass in which both log; when that one sees nothing, neither
// layer has anything to add. Otherwise each layer gets passes of its own
// until one adds nothing.
func (r *recorder) recordLayers(ctx context.Context) error {
	if _, err := r.pass(ctx, phaseGlobal); err != nil {
		return err
	}
	if _, err := r.pass(ctx, phaseSession); err != nil {
		return err
	}
	seen, err := r.pass(ctx, phaseConfirm)
	if err != nil || seen == 0 {
		return err
	}
	r.progress.logf("the confirming pass saw %d records: recording each layer again until a pass adds nothing", seen)
	if err := r.recordLayer(ctx, phaseGlobal); err != nil {
		return err
	}
	return r.recordLayer(ctx, phaseSession)
}

// recordLayer runs passes of one layer until one adds nothing.
func (r *recorder) recordLayer(ctx context.Context, p phase) error {
	for n := 1; ; n++ {
		if n > r.opts.MaxPasses {
			return fmt.Errorf("the %s layer still gained syscalls after %d passes (last: %s): the workloads behave differently on every run; "+
				"raise --max-passes or make them more repeatable", p, r.opts.MaxPasses, strings.Join(r.passes[len(r.passes)-1].New, ", "))
		}
		added, err := r.pass(ctx, p)
		if err != nil || added == 0 {
			return err
		}
	}
}

// pass runs the workloads once under phase p's settings and adds what it
// recorded to the lists; it returns how many syscalls it added (for a
// confirming pass: how many records it saw).
func (r *recorder) pass(ctx context.Context, p phase) (int, error) {
	began := time.Now()
	r.col.reset(p)
	r.progress.pass(len(r.passes)+1, p)
	r.col.setStep("server start")
	if err := r.configure(ctx, p); err != nil {
		return 0, fmt.Errorf("pass %d (%s): %w", len(r.passes)+1, p, err)
	}
	if len(r.passes) == 0 && r.opts.Existing != nil {
		if err := r.readHBA(ctx); err != nil {
			return 0, err
		}
	}
	if err := r.runWorkloads(ctx); err != nil {
		return 0, fmt.Errorf("pass %d (%s): %w", len(r.passes)+1, p, err)
	}
	// Stop the server so that its shutdown (a checkpoint, every process's
	// exit) is recorded, then let the last records arrive.
	if err := r.srv.Stop(ctx, "fast"); err != nil {
		return 0, err
	}
	r.settle()
	var added []string
	if p != phaseConfirm {
		var err error
		if added, err = r.absorb(p); err != nil {
			return 0, err
		}
	}
	snap := r.col.snapshot()
	r.passes = append(r.passes, profile.Pass{
		Number: len(r.passes) + 1, Phase: p.String(), Records: snap.records,
		New: added, Seconds: time.Since(began).Seconds(),
	})
	r.progress.passDone(r.passes[len(r.passes)-1], r.sizes())
	if p == phaseConfirm {
		return int(snap.records), nil
	}
	return len(added), nil
}

// settle waits until the capture has read what the kernel has queued: no
// new record for 300 ms.
func (r *recorder) settle() {
	last := r.col.snapshot().records
	quiet := 0
	for quiet < 3 {
		time.Sleep(100 * time.Millisecond)
		now := r.col.snapshot().records
		if now == last {
			quiet++
		} else {
			quiet, last = 0, now
		}
	}
}

// runWorkloads runs the built-in steps and the commands.
func (r *recorder) runWorkloads(ctx context.Context) error {
	for _, step := range r.steps {
		if step.Destructive && !r.srv.Throwaway() {
			if name := step.Path(); !slices.Contains(r.notRun, name) {
				r.notRun = append(r.notRun, name)
			}
			continue
		}
		name := step.Path()
		r.col.setStep(name)
		r.progress.step(name)
		if err := step.Run(ctx, r.srv); err != nil {
			return r.cleanUp(ctx, fmt.Errorf("workload %s: %w", name, err))
		}
		r.ran(name)
		r.afterEvent()
	}
	for _, cmdline := range r.opts.Workloads {
		r.col.setStep(cmdline)
		r.progress.step(cmdline)
		if err := r.runCommand(ctx, cmdline); err != nil {
			return r.cleanUp(ctx, err)
		}
		r.ran(cmdline)
		r.afterEvent()
	}
	r.col.setStep("shutdown")
	return nil
}

// mark begins an event inside the running step (workload.Marker) or, for
// "", ends it, each after the same pause as between steps (afterEvent):
// what the step did just before the event or does just after it (a reload
// that runs ssl_passphrase_command around the certificate login, say) is
// not tied to the event.
func (r *recorder) mark(event string) {
	r.afterEvent()
	r.col.mark(event)
}

// afterEvent, in a pass that ties syscalls to events, leaves a pause
// between the event that just ended and the next, as long as both slacks:
// what the server finishes within the slack after the event still counts
// for it, and what the next event does first (a reload's
// ssl_passphrase_command, say) no longer does.
func (r *recorder) afterEvent() {
	if p := r.col.phaseNow(); p == phaseGlobal || p == phaseSession {
		r.col.pause()
		time.Sleep(pathSlackAfter + pathSlackBefore)
	}
}

// cleanUp, after a workload failed on a cluster recorded in place, drops
// whatever the built-in steps made in it (their databases, roles,
// tablespaces and slots, all named pgseccomp_...), which the teardown step
// would have dropped at the end of the pass; on a throwaway server or a
// copy there is nothing to keep clean. It returns err, with the cleanup's
// own failure if any.
func (r *recorder) cleanUp(ctx context.Context, err error) error {
	if r.srv.Throwaway() || len(r.steps) == 0 {
		return err
	}
	r.col.setStep("cleanup")
	if cerr := workload.Teardown().Run(context.WithoutCancel(ctx), r.srv); cerr != nil {
		return fmt.Errorf("%w\nand dropping the workload's objects (pgseccomp_...) from %s failed too: %v; drop them by hand", err, r.opts.Existing, cerr)
	}
	r.progress.logf("dropped the workload's objects from %s after the failure", r.opts.Existing)
	return err
}

// ran notes a workload the enforce pass ran to its end.
func (r *recorder) ran(name string) {
	if r.col.phaseNow() == phaseEnforce {
		r.proven = append(r.proven, name)
	}
}

// runCommand runs one --workload command with the server's connection
// settings, as the user who runs the recording.
func (r *recorder) runCommand(ctx context.Context, cmdline string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", cmdline)
	// The phase lets a workload tell the passes apart (a test's workload
	// that misbehaves only under enforcement, for one).
	cmd.Env = append(r.srv.Env(), "PGSECCOMP_RECORD_PHASE="+r.col.phaseNow().String(),
		fmt.Sprintf("PGSECCOMP_RECORD_PASS=%d", len(r.passes)+1))
	if host := r.srv.c.TCPHost(); host != "" {
		cmd.Env = append(cmd.Env, "PGSECCOMP_TCP_HOST="+host)
	}
	cmd.Dir = r.srv.scratch
	out := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("workload %q failed: %w\nits last output:\n%s", cmdline, err, out.String())
	}
	return nil
}

// absorb adds what a pass saw to the lists and returns the new names.
func (r *recorder) absorb(p phase) ([]string, error) {
	c := r.col
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.foreign) > 0 {
		var names []string
		for n := range c.foreign {
			names = append(names, n)
		}
		slices.Sort(names)
		r.progress.logf("warning: the server made syscalls of another ABI, which no list can allow: %s", strings.Join(names, ", "))
	}
	var added []string
	layerCounts := func(layer string) map[string]uint64 {
		if r.counts[layer] == nil {
			r.counts[layer] = map[string]uint64{}
		}
		return r.counts[layer]
	}
	// absorbLayer adds the pass's syscalls to one layer's list and counts.
	absorbLayer := func(layer string, set map[string]bool) {
		counts := layerCounts(layer)
		for _, nr := range sortedNumbers(c.counts) {
			name, _ := r.arch.Name(nr)
			counts[name] += c.counts[nr]
			if !set[name] {
				set[name] = true
				added = append(added, name)
			}
		}
	}
	switch p {
	case phaseGlobal:
		absorbLayer("global", r.lists.global)
		r.absorbPaths(p)
	case phaseSession:
		absorbLayer("session", r.lists.session)
		r.absorbPaths(p)
		if r.opts.PerRole {
			roleAdded, err := r.absorbRoles()
			if err != nil {
				return nil, err
			}
			for _, n := range roleAdded {
				if !slices.Contains(added, n) {
					added = append(added, n)
				}
			}
			slices.Sort(added)
		}
	}
	return added, nil
}

// absorbRoles gives each session record of the pass its role; called with
// the collector locked. A record whose process cannot be named (a parallel
// worker gone before its title was read) counts for every role.
func (r *recorder) absorbRoles() ([]string, error) {
	idx, err := connections(r.srv.logDir)
	if err != nil {
		return nil, err
	}
	var added []string
	unplaced := map[int]uint64{}
	for key, p := range r.col.procs {
		pid, at := key.pid, time.Unix(key.sec, 0)
		if p.leader != 0 {
			pid = p.leader
		}
		role, ok := idx.roleAt(pid, at)
		if !ok {
			for nr, n := range p.counts {
				unplaced[nr] += n
			}
			continue
		}
		added = append(added, r.addRole(role, p.counts)...)
	}
	if len(unplaced) > 0 {
		for _, role := range idx.allRoles() {
			added = append(added, r.addRole(role, unplaced)...)
		}
		r.progress.logf("%d syscall(s) of processes that could not be tied to a role were given to every role", len(unplaced))
	}
	for _, role := range idx.allRoles() {
		if r.lists.roles[role] == nil {
			r.lists.roles[role] = map[string]bool{}
		}
	}
	slices.Sort(added)
	return slices.Compact(added), nil
}

func (r *recorder) addRole(role string, counts map[int]uint64) []string {
	set := r.lists.roles[role]
	if set == nil {
		set = map[string]bool{}
		r.lists.roles[role] = set
	}
	layer := "role " + role
	if r.counts[layer] == nil {
		r.counts[layer] = map[string]uint64{}
	}
	var added []string
	for nr, n := range counts {
		name, _ := r.arch.Name(nr)
		r.counts[layer][name] += n
		if !set[name] {
			set[name] = true
			added = append(added, name)
		}
	}
	return added
}

// readHBA names the pg_hba.conf lines of the recorded cluster whose
// method the recording cannot log in with.
func (r *recorder) readHBA(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, r.srv.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("read pg_hba.conf's rules from the recorded server: %w", err)
	}
	defer conn.Close(context.Background())
	rules, err := workload.ReadHBARules(ctx, conn)
	if err != nil {
		return fmt.Errorf("read pg_hba.conf's rules from the recorded server: %w", err)
	}
	for _, rule := range rules {
		if !workload.ExercisedMethods[rule.Method] {
			r.unexercised = append(r.unexercised, hbaLine{line: r.srv.c.OriginalHBALine(rule.Line), typ: rule.Type, method: rule.Method})
		}
	}
	if len(r.unexercised) > 0 {
		r.progress.logf("pg_hba.conf methods the recording cannot log in with (their syscalls come from the shipped profile): %s", strings.Join(r.unexercisedNames(), "; "))
	}
	return nil
}

// hbaLine is a pg_hba.conf line of the recorded cluster (its number in
// the cluster's own file), by type and method.
type hbaLine struct {
	line        int
	typ, method string
}

func (h hbaLine) String() string { return fmt.Sprintf("line %d: %s %s", h.line, h.typ, h.method) }

func (r *recorder) unexercisedNames() []string {
	var out []string
	for _, u := range r.unexercised {
		out = append(out, u.String())
	}
	return out
}

// addFromShipped completes the recording of an existing cluster from the
// shipped profile for the same PostgreSQL major, distribution and
// architecture: for every path the cluster's configuration uses
// (usedPaths), what the shipped profile saw on the same path and the
// recording lacks (fromShipped), each with its reason; the additions are
// printed. A pg_hba.conf method the recording cannot log in with and the
// shipped profile has no path for gets the shipped global list (where
// authentication runs). What the shipped profile has on other paths is
// only named.
func (r *recorder) addFromShipped(prov profile.Provenance) {
	if r.opts.Existing == nil {
		return
	}
	shipped, why := profiles.For(prov)
	file := ""
	if shipped != nil {
		file = shipped.Source
	}
	if r.opts.shipped != nil {
		shipped, file = r.opts.shipped(r.paths.provenance(), r.lists), "(the test's)"
	}
	if shipped == nil {
		if len(r.unexercised) > 0 {
			r.progress.logf("warning: %s: the syscalls of %s are not in the profile; log in by them during the recording with a --workload", why, strings.Join(r.unexercisedNames(), "; "))
		}
		return
	}
	shippedPaths := shipped.Provenance.Paths
	if len(shippedPaths) == 0 {
		r.progress.logf("warning: the shipped profile %s has no per-path map (provenance.paths: it was recorded before pgseccomp record kept one; record it again), so nothing can be taken from it path by path", file)
	}
	used, unmatched, onlyIfRun := usedPaths(slices.Collect(maps.Keys(r.paths)), r.opts.Existing.Value, r.unexercised, shippedPaths)
	if len(onlyIfRun) > 0 {
		r.progress.logf("note: paths of the shipped profile %s taken only when a client asks for them, which no workload of this recording did, so nothing was taken from them: %s; "+
			"if the cluster's clients do, record with a --workload that does", file, strings.Join(onlyIfRun, "; "))
	}
	adds := fromShipped(r.lists, used, shippedPaths, file)
	if len(unmatched) > 0 {
		adds = addMissing(adds, profile.GlobalLayerName, r.lists.global, shipped.Global.Allow,
			fmt.Sprintf("pg_hba.conf uses methods the recording cannot log in with and the shipped profile %s has no path for (%s): its whole global list (authentication runs under the global filter)",
				file, strings.Join(unmatched, "; ")))
	}
	for _, a := range adds {
		r.progress.logf("added to the %s layer from the shipped profile: %s (%s)", a.Layer, strings.Join(a.Syscalls, ", "), a.Why)
	}
	r.added = append(r.added, adds...)
	r.noteUnseen(shipped, file)
}

// noteUnseen names what the shipped profile allows and this recording
// of an existing cluster still lacks: paths of PostgreSQL its
// configuration is not known to use, which its profile will deny.
func (r *recorder) noteUnseen(shipped *profile.Profile, file string) {
	for _, l := range []struct {
		name     string
		shipped  []string
		recorded map[string]bool
	}{{"global", shipped.Global.Allow, r.lists.global}, {"session", shipped.Session.Allow, r.lists.session}} {
		var unseen []string
		for _, n := range l.shipped {
			if !l.recorded[n] {
				unseen = append(unseen, n)
			}
		}
		if len(unseen) > 0 {
			r.progress.logf("note: the shipped profile %s allows %d syscall(s) in the %s layer on paths this cluster is not known to use, which this profile denies: %s; "+
				"if the cluster does use such a path, run a workload that reaches it",
				file, len(unseen), l.name, strings.Join(unseen, ", "))
		}
	}
}

// completeLists adds what the lists need beyond the records, each with
// its reason, which the profile's provenance keeps.
func (r *recorder) completeLists() {
	add := func(layer string, set map[string]bool, names []string, why string) {
		r.added = addMissing(r.added, layer, set, names, why)
	}
	// sessionLayers calls f for the session layer and then each role's.
	sessionLayers := func(f func(layer string, set map[string]bool)) {
		f("session", r.lists.session)
		for _, role := range r.lists.roleNames() {
			f("role "+role, r.lists.roles[role])
		}
	}
	// A client backend's syscalls pass the global filter too.
	sessionAll := maps.Clone(r.lists.session)
	for _, set := range r.lists.roles {
		for n := range set {
			sessionAll[n] = true
		}
	}
	add("global", r.lists.global, sortedNames(sessionAll),
		"seen only in session passes (the global layer allowed everything then); the global filter confines client backends too")
	// What PostgreSQL needs beyond what a recording is sure to see
	// (policy.Needs, the table lint checks against too): work any backend
	// may do at any moment, which a session pass (above all a role's, with
	// fewer connections) may never see, goes into every session layer once
	// the global layer recorded it; what the kernel does only when a rare
	// event hits goes into every layer, recorded or not.
	for _, need := range policy.Needs {
		switch need.Record {
		case policy.ByChance:
			var seen []string
			for _, n := range need.Session {
				if r.lists.global[n] {
					seen = append(seen, n)
				}
			}
			why := need.Why + "; recorded in the global layer, so every session layer gets it"
			sessionLayers(func(layer string, set map[string]bool) { add(layer, set, seen, why) })
		case policy.Unrecordable:
			add("global", r.lists.global, need.Global, need.Why)
			sessionLayers(func(layer string, set map[string]bool) { add(layer, set, need.Session, need.Why) })
		}
	}
	// The C library's twins of what was recorded: the same job under
	// another number, which another glibc, a static binary started by
	// archive_command, or a glibc upgrade uses instead (it falls back only
	// on ENOSYS, never on EACCES). Sessions run only PostgreSQL's own
	// code: their twins leave out the ones used only opportunistically.
	twinsOf := func(set map[string]bool, optional bool) []string {
		var out []string
		for _, g := range policy.Twins {
			var all []string
			used := false
			for _, gen := range g.Generations {
				for _, n := range gen {
					used = used || set[n]
					if _, ok := r.arch.Number(n); ok && (optional || !slices.Contains(g.Optional, n)) {
						all = append(all, n)
					}
				}
			}
			if used {
				out = append(out, all...)
			}
		}
		return out
	}
	const twinWhy = "the C library's twins of recorded syscalls (same job, another number): glibc uses one or the other by version and falls back only on ENOSYS, never on the EACCES a filter returns"
	add("global", r.lists.global, twinsOf(r.lists.global, true), twinWhy+"; archive_command and restore_command run other programs")
	sessionLayers(func(layer string, set map[string]bool) { add(layer, set, twinsOf(set, false), twinWhy) })
	// The session default list is what a role without its own list gets:
	// with per-role lists, every role's syscalls.
	if r.opts.PerRole {
		var all []string
		for _, set := range r.lists.roles {
			all = slices.AppendSeq(all, maps.Keys(set))
		}
		add("session", r.lists.session, all, "with per-role lists, the session-level list (for roles not listed) is the union of every role's")
	}
	r.withheld = withholdIOUring(r.lists, r.opts.KeepIOUring)
	for _, w := range r.withheld {
		r.progress.logf("warning: %s: %s recorded, left out (--keep-io-uring keeps them): %s", w.Layer, strings.Join(w.Syscalls, ", "), w.Why)
	}
}

// ioUringWhy is why io_uring syscalls recorded in sessions are left out.
const ioUringWhy = "io_uring: " + policy.IOUringWhy + "; allow them to sessions only on purpose (record --keep-io-uring)"

// withholdIOUring takes the io_uring syscalls out of the session layer and
// every role's, unless keep, and returns what it took out of which layer.
// The global layer keeps them: the postmaster and its auxiliary processes
// may use rings (PostgreSQL 18's io_method = io_uring), and lint says what
// that means.
func withholdIOUring(l *lists, keep bool) []profile.Addition {
	if keep {
		return nil
	}
	var out []profile.Addition
	take := func(layer string, set map[string]bool) {
		var names []string
		for _, n := range policy.IOUring {
			if set[n] {
				delete(set, n)
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			out = append(out, profile.Addition{Layer: layer, Syscalls: names, Why: ioUringWhy})
		}
	}
	take("session", l.session)
	for _, role := range l.roleNames() {
		take("role "+role, l.roles[role])
	}
	return out
}

// enforcePass runs the workloads with the lists enforced with error
// defaults; any denial fails the recording.
func (r *recorder) enforcePass(ctx context.Context) error {
	began := time.Now()
	r.col.reset(phaseEnforce)
	r.progress.pass(len(r.passes)+1, phaseEnforce)
	r.col.setStep("server start")
	var runErr error
	if err := r.configure(ctx, phaseEnforce); err != nil {
		runErr = fmt.Errorf("the server did not start with the recorded lists enforced: %w", err)
	} else if err := r.runWorkloads(ctx); err != nil {
		runErr = fmt.Errorf("a workload failed with the recorded lists enforced: %w", err)
	} else if err := r.srv.Stop(ctx, "fast"); err != nil {
		runErr = err
	}
	r.settle()
	r.col.mu.Lock()
	denials := slices.Clone(r.col.denials)
	records := r.col.records
	r.col.mu.Unlock()
	r.passes = append(r.passes, profile.Pass{Number: len(r.passes) + 1, Phase: "enforce", Records: records, Seconds: time.Since(began).Seconds()})
	r.progress.passDone(r.passes[len(r.passes)-1], r.sizes())
	if len(denials) > 0 {
		seen := map[string]bool{}
		var lines []string
		for _, d := range denials {
			if line := d.String(); !seen[d.Syscall+d.Step] {
				seen[d.Syscall+d.Step] = true
				lines = append(lines, line)
			}
		}
		err := &FailedError{Denials: lines}
		if runErr != nil {
			return fmt.Errorf("%w\n%v", err, runErr)
		}
		return err
	}
	return runErr
}

// sizes are the lists' sizes now, for progress.
func (r *recorder) sizes() string {
	s := fmt.Sprintf("global %d, session %d", len(r.lists.global), len(r.lists.session))
	if r.opts.PerRole && len(r.lists.roles) > 0 {
		s += fmt.Sprintf(", %d roles", len(r.lists.roles))
	}
	return s
}

// buildProfile makes the profile from the lists; every default is error.
func (r *recorder) buildProfile(prov profile.Provenance) *profile.Profile {
	layer := func(set map[string]bool, counts map[string]uint64) profile.Layer {
		return profile.Layer{Default: policy.Error, Allow: sortedNames(set), Counts: counts}
	}
	p := &profile.Profile{
		Format:     profile.Format,
		Provenance: prov,
		Global:     layer(r.lists.global, r.counts["global"]),
		Session:    layer(r.lists.session, r.counts["session"]),
	}
	if r.opts.PerRole && len(r.lists.roles) > 0 {
		p.Roles = map[string]profile.Layer{}
		for role, set := range r.lists.roles {
			p.Roles[role] = layer(set, r.counts["role "+role])
		}
	}
	return p
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
