package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Status is what pg_regress (or pg_isolation_regress) said about one test.
type Status string

const (
	StatusPassed        Status = "ok"
	StatusFailed        Status = "FAILED"
	StatusFailedIgnored Status = "failed (ignored)"
	// StatusIncomplete is a test line with no verdict: pg_regress stopped
	// (or was stopped) while the test ran.
	StatusIncomplete Status = "incomplete"
)

// TestResult is one test's line of pg_regress output.
type TestResult struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Exit is pg_regress's note on a test process that did not exit 0,
	// e.g. "test process exited with exit code 2" (psql lost the server).
	Exit   string `json:"exit,omitempty"`
	Millis int    `json:"ms"`
}

// Run is the output of one pg_regress or pg_isolation_regress invocation:
// the "+++ regress install-check in DIR +++" line that make echoes before
// it, its test lines and its summary.
type Run struct {
	Kind string `json:"kind"` // "regress" or "isolation"
	Dir  string `json:"dir"`  // as echoed by make, relative to the source tree
	// Tests in the order pg_regress reported them.
	Tests []TestResult `json:"tests"`
	// Summary is the line between the "=====" rules, e.g. "2 of 217 tests
	// failed."; empty when pg_regress stopped before printing it.
	Summary string `json:"summary,omitempty"`
	// SummaryTotal, SummaryFailed and SummaryIgnored are the counts the
	// summary line states; -1 when there is no summary.
	SummaryTotal   int `json:"-"`
	SummaryFailed  int `json:"-"`
	SummaryIgnored int `json:"-"`
	// DiffsFile is the regression.diffs path pg_regress printed, if any.
	DiffsFile string `json:"diffs_file,omitempty"`
	// Errors are pg_regress's own complaints (lines starting with its
	// program name), e.g. that it could not connect or create the database.
	Errors []string `json:"errors,omitempty"`
}

var (
	sectionRe = regexp.MustCompile(`^\+\+\+ (regress|isolation) install-check in (\S+) \+\+\+$`)
	// "test NAME ... " for a test run alone, "     NAME ... " inside a
	// parallel group; the verdict follows on the same line.
	testLineRe  = regexp.MustCompile(`^(?:test |     )(\S+)\s+\.\.\. ?(.*)$`)
	verdictRe   = regexp.MustCompile(`^(?:\S+ )*?(ok|FAILED|failed \(ignored\))\s*(?:\((test process [^)]*)\))?\s+(\d+) ms\s*$`)
	allPassedRe = regexp.MustCompile(`^ ?All (\d+) tests passed\.\s*$`)
	passIgnRe   = regexp.MustCompile(`^ ?(\d+) of (\d+) tests passed, (\d+) failed test\(s\) ignored\.\s*$`)
	failedRe    = regexp.MustCompile(`^ ?(\d+) of (\d+) tests failed\.\s*$`)
	failedIgnRe = regexp.MustCompile(`^ ?(\d+) of (\d+) tests failed, (\d+) of these failures ignored\.\s*$`)
	diffsFileRe = regexp.MustCompile(`^file "(.+)"\.\s+A copy of the test summary`)
	progErrorRe = regexp.MustCompile(`^(pg_regress|pg_isolation_regress): (.+)$`)
	groupLineRe = regexp.MustCompile(`^parallel group \(`)
	// From 16 on pg_regress writes TAP: "ok 12   + name   34 ms" ("-"
	// for a test run alone), "not ok 13 ...", and its other lines as "# "
	// comments ("# 1 of 231 tests failed.") or "Bail out!".
	tapTestRe    = regexp.MustCompile(`^(ok|not ok) +\d+ +[-+] +(\S+) +(\d+) ms\s*$`)
	tapDiffsRe   = regexp.MustCompile(`can be viewed in the file "(.+)"\.\s*$`)
	tapBailRe    = regexp.MustCompile(`^Bail out!\s*(.*)$`)
	diffHeaderRe = regexp.MustCompile(`^diff (?:-\S+ )*(\S+) (\S+)$`)
)

// ParseOutput splits the output of one `make installcheck` into the
// pg_regress runs it made. Lines that belong to no run (make's own chatter)
// are ignored; a run that was cut short has no summary and maybe an
// incomplete last test. It never fails: what it cannot read it leaves out,
// and CheckRun says whether a run is whole.
func ParseOutput(out string) []*Run {
	var runs []*Run
	var cur *Run
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if m := tapTestRe.FindStringSubmatch(line); m != nil && cur != nil {
			st := StatusPassed
			if m[1] == "not ok" {
				st = StatusFailed
			}
			ms, _ := strconv.Atoi(m[3])
			cur.Tests = append(cur.Tests, TestResult{Name: m[2], Status: st, Millis: ms})
			continue
		}
		if m := tapBailRe.FindStringSubmatch(line); m != nil && cur != nil {
			cur.Errors = append(cur.Errors, line)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if m := tapDiffsRe.FindStringSubmatch(rest); m != nil && cur != nil {
				cur.DiffsFile = m[1]
				continue
			}
			if sectionRe.MatchString(rest) || allPassedRe.MatchString(rest) || failedRe.MatchString(rest) {
				line = rest
			}
		}
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			cur = &Run{Kind: m[1], Dir: m[2], SummaryTotal: -1, SummaryFailed: -1, SummaryIgnored: -1}
			runs = append(runs, cur)
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case groupLineRe.MatchString(line):
			// "parallel group (N tests): a b c": names as they finish; the
			// verdicts come one per line after it.
		case testLineRe.MatchString(line):
			m := testLineRe.FindStringSubmatch(line)
			cur.Tests = append(cur.Tests, parseVerdict(m[1], m[2]))
		case progErrorRe.MatchString(line):
			cur.Errors = append(cur.Errors, line)
		case diffsFileRe.MatchString(line):
			cur.DiffsFile = diffsFileRe.FindStringSubmatch(line)[1]
		default:
			parseSummary(cur, line)
		}
	}
	return runs
}

// parseVerdict reads what follows "NAME ... ".
func parseVerdict(name, rest string) TestResult {
	m := verdictRe.FindStringSubmatch(strings.TrimSpace(rest))
	if m == nil {
		return TestResult{Name: name, Status: StatusIncomplete}
	}
	ms, _ := strconv.Atoi(m[3])
	return TestResult{Name: name, Status: Status(m[1]), Exit: m[2], Millis: ms}
}

// parseSummary reads the summary line pg_regress prints between two rules.
func parseSummary(r *Run, line string) {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := allPassedRe.FindStringSubmatch(line); m != nil {
		r.Summary, r.SummaryTotal, r.SummaryFailed, r.SummaryIgnored = strings.TrimSpace(line), atoi(m[1]), 0, 0
	} else if m := passIgnRe.FindStringSubmatch(line); m != nil {
		r.Summary, r.SummaryTotal, r.SummaryFailed, r.SummaryIgnored = strings.TrimSpace(line), atoi(m[2]), 0, atoi(m[3])
	} else if m := failedRe.FindStringSubmatch(line); m != nil {
		r.Summary, r.SummaryTotal, r.SummaryFailed, r.SummaryIgnored = strings.TrimSpace(line), atoi(m[2]), atoi(m[1]), 0
	} else if m := failedIgnRe.FindStringSubmatch(line); m != nil {
		// "3 of 10 tests failed, 1 of these failures ignored": 3 counts both.
		ign := atoi(m[3])
		r.Summary, r.SummaryTotal, r.SummaryFailed, r.SummaryIgnored = strings.TrimSpace(line), atoi(m[2]), atoi(m[1])-ign, ign
	}
}

// Counts returns how many tests of r passed, failed, were ignored failures,
// and had no verdict.
func (r *Run) Counts() (passed, failed, ignored, incomplete int) {
	for _, t := range r.Tests {
		switch t.Status {
		case StatusPassed:
			passed++
		case StatusFailed:
			failed++
		case StatusFailedIgnored:
			ignored++
		default:
			incomplete++
		}
	}
	return
}

// CheckRun says what is wrong with a run's output, or nil when it is whole:
// a summary that agrees with the test lines, every test with a verdict.
func CheckRun(r *Run) error {
	passed, failed, ignored, incomplete := r.Counts()
	switch {
	case incomplete > 0:
		return fmt.Errorf("%s in %s stopped during a test (%d test(s) without a verdict)", r.program(), r.Dir, incomplete)
	case r.SummaryTotal < 0:
		return fmt.Errorf("%s in %s printed no summary: it stopped early", r.program(), r.Dir)
	case r.SummaryTotal != passed+failed+ignored || r.SummaryFailed != failed || r.SummaryIgnored != ignored:
		return fmt.Errorf("%s in %s: summary %q does not match its test lines (%d ok, %d failed, %d ignored)",
			r.program(), r.Dir, r.Summary, passed, failed, ignored)
	}
	return nil
}

func (r *Run) program() string {
	if r.Kind == "isolation" {
		return "pg_isolation_regress"
	}
	return "pg_regress"
}

// DiffChunk is one test's part of regression.diffs.
type DiffChunk struct {
	Test string // the result file's name without ".out" (and without a variant suffix)
	Text string // the whole chunk, header included
	// Fingerprint is a hash of the changed lines only, without the file
	// names and times of the header: the same failure in another run (or
	// another directory) has the same fingerprint.
	Fingerprint string
}

// ParseDiffs splits a regression.diffs file into its per-test chunks. Each
// chunk starts with the "diff -U3 EXPECTED RESULT" line pg_regress writes
// before running diff. A test may have several chunks (one per result file);
// they are returned in file order.
func ParseDiffs(text string) []DiffChunk {
	var chunks []DiffChunk
	var cur *strings.Builder
	var body *strings.Builder
	var test string
	flush := func() {
		if cur == nil {
			return
		}
		sum := sha256.Sum256([]byte(body.String()))
		chunks = append(chunks, DiffChunk{Test: test, Text: cur.String(), Fingerprint: hex.EncodeToString(sum[:8])})
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		bare := strings.TrimRight(line, "\r\n")
		if m := diffHeaderRe.FindStringSubmatch(bare); m != nil {
			flush()
			cur, body = &strings.Builder{}, &strings.Builder{}
			test = strings.TrimSuffix(filepath.Base(m[2]), ".out")
			cur.WriteString(line)
			continue
		}
		if cur == nil {
			continue
		}
		cur.WriteString(line)
		if strings.HasPrefix(bare, "--- ") || strings.HasPrefix(bare, "+++ ") {
			continue // file names and modification times
		}
		body.WriteString(line)
	}
	flush()
	return chunks
}
