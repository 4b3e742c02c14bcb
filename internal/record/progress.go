package record

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// progress reports a recording as it goes. On a terminal one line per
// phase is rewritten in place every half second (pass, workload, elapsed
// time, records, distinct syscalls); elsewhere (a log, CI) each event is a
// plain line of its own.
type progress struct {
	w        io.Writer
	terminal bool

	mu       sync.Mutex
	passNo   int
	phase    phase
	stepName string
	began    time.Time
	sizes    string
	snap     func() snapshot
	stop     chan struct{}
	stopped  sync.WaitGroup
	lineOpen bool
}

func newProgress(w io.Writer, terminal bool) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, terminal: terminal}
}

// pass starts a pass.
func (p *progress) pass(n int, ph phase) {
	p.mu.Lock()
	p.passNo, p.phase, p.began, p.stepName = n, ph, time.Now(), "(starting the server)"
	p.mu.Unlock()
	if !p.terminal {
		p.printf("pass %d (%s layer): starting\n", n, ph)
		return
	}
	if p.stop == nil {
		p.stop = make(chan struct{})
		p.stopped.Add(1)
		go p.ticker()
	}
}

// watch makes the live line show the collector's counts.
func (p *progress) watch(snap func() snapshot) {
	p.mu.Lock()
	p.snap = snap
	p.mu.Unlock()
}

// step names the workload now running.
func (p *progress) step(name string) {
	p.mu.Lock()
	p.stepName = name
	n, ph := p.passNo, p.phase
	p.mu.Unlock()
	if !p.terminal {
		p.printf("pass %d (%s layer): workload %s\n", n, ph, name)
	}
}

// passDone reports a finished pass.
func (p *progress) passDone(done profile.Pass, sizes string) {
	p.mu.Lock()
	p.sizes = sizes
	p.mu.Unlock()
	news := "nothing new"
	if len(done.New) > 0 {
		news = fmt.Sprintf("%d new: %s", len(done.New), strings.Join(done.New, ", "))
	}
	switch done.Phase {
	case "enforce":
		news = "proof with error defaults"
	case "confirm":
		news = "both layers logging: nothing new"
		if done.Records > 0 {
			news = "both layers logging: records seen, so each layer is recorded again"
		}
	}
	p.clearLine()
	p.printf("pass %d (%s layer): %.1f s, %d records, %s; lists: %s\n",
		done.Number, done.Phase, done.Seconds, done.Records, news, sizes)
}

// logf prints a message line.
func (p *progress) logf(format string, args ...any) {
	p.clearLine()
	p.printf("%s\n", fmt.Sprintf(format, args...))
}

func (p *progress) ticker() {
	defer p.stopped.Done()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.render()
		}
	}
}

// render rewrites the live line.
func (p *progress) render() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.passNo == 0 {
		return
	}
	var records uint64
	var distinct int
	if p.snap != nil {
		s := p.snap()
		records, distinct = s.records, s.distinct
	}
	line := fmt.Sprintf("pass %d (%s) %s  %s  %d records, %d distinct this pass  [%s]",
		p.passNo, p.phase, time.Since(p.began).Round(time.Second), p.stepName, records, distinct, p.sizes)
	if len(line) > 150 {
		line = line[:147] + "..."
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.lineOpen = true
}

func (p *progress) clearLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lineOpen {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.lineOpen = false
	}
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// done stops the live line.
func (p *progress) done() {
	if p.stop != nil {
		close(p.stop)
		p.stopped.Wait()
		p.stop = nil
	}
	p.clearLine()
}
