package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The fixtures are the output of real `make installcheck` runs (PostgreSQL
// 15.18 tests against a 15.20 server, pgcrypto without OpenSSL's legacy
// provider).
func TestParseOutputFixtures(t *testing.T) {
	tests := []struct {
		file              string
		kinds             []string
		dirs              []string
		passed, failed    int
		failedNames       []string
		summary           string
		diffsFileInOutput bool
	}{
		{"regress-parallel-2-failed.log", []string{"regress"}, []string{"src/test/regress"}, 215, 2,
			[]string{"rules", "alter_table"}, "2 of 217 tests failed.", true},
		{"regress-serial-2-failed.log", []string{"regress"}, []string{"src/test/regress"}, 215, 2,
			[]string{"rules", "alter_table"}, "2 of 217 tests failed.", true},
		{"isolation-passed.log", []string{"isolation"}, []string{"src/test/isolation"}, 115, 0,
			nil, "All 115 tests passed.", false},
		{"contrib-postgres_fdw-passed.log", []string{"regress", "isolation"}, []string{"contrib/postgres_fdw", "contrib/postgres_fdw"}, 2, 0,
			nil, "All 1 tests passed.", false},
		// 18's TAP output (pg_regress from 16 on), numa denied by a profile.
		{"regress-18-tap-1-failed.log", []string{"regress"}, []string{"src/test/regress"}, 230, 1,
			[]string{"numa"}, "1 of 231 tests failed.", true},
		{"contrib-pgcrypto-3-failed.log", []string{"regress"}, []string{"contrib/pgcrypto"}, 20, 3,
			[]string{"pgp-decrypt", "pgp-encrypt", "pgp-pubkey-decrypt"}, "3 of 23 tests failed.", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			runs := ParseOutput(readFixture(t, tt.file))
			var kinds, dirs, failedNames []string
			passed, failed := 0, 0
			for _, r := range runs {
				kinds, dirs = append(kinds, r.Kind), append(dirs, r.Dir)
				if err := CheckRun(r); err != nil {
					t.Errorf("CheckRun: %v", err)
				}
				p, f, i, n := r.Counts()
				if i != 0 || n != 0 {
					t.Errorf("%s: %d ignored, %d incomplete; want none", r.Dir, i, n)
				}
				passed += p
				failed += f
				for _, test := range r.Tests {
					if test.Status == StatusFailed {
						failedNames = append(failedNames, test.Name)
					}
					if test.Millis < 0 {
						t.Errorf("%s: %d ms", test.Name, test.Millis)
					}
				}
			}
			if !slices.Equal(kinds, tt.kinds) || !slices.Equal(dirs, tt.dirs) {
				t.Errorf("runs %v in %v, want %v in %v", kinds, dirs, tt.kinds, tt.dirs)
			}
			if passed != tt.passed || failed != tt.failed {
				t.Errorf("%d passed, %d failed; want %d, %d", passed, failed, tt.passed, tt.failed)
			}
			slices.Sort(failedNames)
			want := slices.Clone(tt.failedNames)
			slices.Sort(want)
			if !slices.Equal(failedNames, want) {
				t.Errorf("failed %v, want %v", failedNames, want)
			}
			if got := runs[len(runs)-1].Summary; got != tt.summary {
				t.Errorf("summary %q, want %q", got, tt.summary)
			}
			if got := runs[0].DiffsFile != ""; got != tt.diffsFileInOutput {
				t.Errorf("diffs file %q; want one: %v", runs[0].DiffsFile, tt.diffsFileInOutput)
			}
		})
	}
}

func TestParseOutputLines(t *testing.T) {
	const head = "+++ regress install-check in src/test/regress +++\n"
	tests := []struct {
		name   string
		out    string
		want   []TestResult
		sumTot int
		check  string // substring of CheckRun's error; "" for none
	}{
		{
			name: "single test ok",
			out:  head + "test tablespace                   ... ok          317 ms\n ========\n All 1 tests passed. \n",
			want: []TestResult{{Name: "tablespace", Status: StatusPassed, Millis: 317}},
		},
		{
			name: "group member failed, psql lost the server",
			out: head + "parallel group (2 tests):  a b\n" +
				"     a                            ... FAILED (test process exited with exit code 2)      123 ms\n" +
				"     b                            ... ok           41 ms\n" +
				" 1 of 2 tests failed. \n",
			want: []TestResult{
				{Name: "a", Status: StatusFailed, Exit: "test process exited with exit code 2", Millis: 123},
				{Name: "b", Status: StatusPassed, Millis: 41},
			},
		},
		{
			name: "ignored failure",
			out:  head + "test x                            ... failed (ignored)       12 ms\n 0 of 1 tests passed, 1 failed test(s) ignored. \n",
			want: []TestResult{{Name: "x", Status: StatusFailedIgnored, Millis: 12}},
		},
		{
			name: "failed and ignored",
			out: head + "test x                            ... failed (ignored)       12 ms\n" +
				"test y                            ... FAILED       13 ms\n" +
				" 2 of 2 tests failed, 1 of these failures ignored. \n",
			want: []TestResult{{Name: "x", Status: StatusFailedIgnored, Millis: 12}, {Name: "y", Status: StatusFailed, Millis: 13}},
		},
		{
			name:  "cut short during a test",
			out:   head + "test boolean                      ... ok           40 ms\ntest char                         ... ",
			want:  []TestResult{{Name: "boolean", Status: StatusPassed, Millis: 40}, {Name: "char", Status: StatusIncomplete}},
			check: "stopped during a test",
		},
		{
			name:  "no summary",
			out:   head + "test boolean                      ... ok           40 ms\n",
			want:  []TestResult{{Name: "boolean", Status: StatusPassed, Millis: 40}},
			check: "printed no summary",
		},
		{
			name:  "summary disagrees",
			out:   head + "test boolean                      ... ok           40 ms\n All 2 tests passed. \n",
			want:  []TestResult{{Name: "boolean", Status: StatusPassed, Millis: 40}},
			check: "does not match",
		},
		{
			name:  "pg_regress could not connect",
			out:   head + "pg_regress: could not create database \"regression\"\n",
			check: "printed no summary",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := ParseOutput(tt.out)
			if len(runs) != 1 {
				t.Fatalf("%d runs, want 1", len(runs))
			}
			if !slices.Equal(runs[0].Tests, tt.want) {
				t.Errorf("tests %+v\nwant %+v", runs[0].Tests, tt.want)
			}
			err := CheckRun(runs[0])
			switch {
			case tt.check == "" && err != nil:
				t.Errorf("CheckRun: %v", err)
			case tt.check != "" && (err == nil || !strings.Contains(err.Error(), tt.check)):
				t.Errorf("CheckRun: %v, want an error with %q", err, tt.check)
			}
		})
	}
}

func TestParseOutputProgramErrors(t *testing.T) {
	out := "+++ regress install-check in contrib/hstore +++\n" +
		"pg_regress: could not connect to server: No such file or directory\n" +
		"make: *** [../../src/makefiles/pgxs.mk:433: installcheck] Error 2\n"
	runs := ParseOutput(out)
	if len(runs) != 1 || len(runs[0].Errors) != 1 || !strings.Contains(runs[0].Errors[0], "could not connect") {
		t.Fatalf("runs %+v, want one with the pg_regress error", runs)
	}
}

func TestParseDiffs(t *testing.T) {
	text := readFixture(t, "regress-2-failed.diffs")
	chunks := ParseDiffs(text)
	var names []string
	for _, c := range chunks {
		names = append(names, c.Test)
		if !strings.HasPrefix(c.Text, "diff -U3 ") {
			t.Errorf("chunk of %s starts %q", c.Test, clip(c.Text, 30))
		}
	}
	if !slices.Equal(names, []string{"rules", "alter_table"}) {
		t.Fatalf("chunks for %v, want rules, alter_table", names)
	}
	if chunks[0].Fingerprint == chunks[1].Fingerprint {
		t.Error("different diffs have the same fingerprint")
	}
	// The same failure in another tree, at another time: same fingerprint.
	moved := strings.ReplaceAll(text, "/tmp/pgsuite-trial/", "/var/cache/x/")
	moved = strings.ReplaceAll(moved, "2026-11-28 00:53:", "2027-01-01 12:00:")
	for i, c := range ParseDiffs(moved) {
		if c.Fingerprint != chunks[i].Fingerprint {
			t.Errorf("%s: fingerprint changed with paths and times", c.Test)
		}
	}
	// A different change: a different fingerprint.
	changed := strings.Replace(text, "+ERROR:  cannot alter table", "+ERROR:  could not open file", 1)
	if ParseDiffs(changed)[1].Fingerprint == chunks[1].Fingerprint {
		t.Error("a changed diff kept its fingerprint")
	}
	if got := ParseDiffs(""); len(got) != 0 {
		t.Errorf("empty diffs gave %d chunks", len(got))
	}
}

func FuzzParseOutput(f *testing.F) {
	for _, name := range []string{"regress-serial-2-failed.log", "isolation-passed.log", "contrib-postgres_fdw-passed.log"} {
		f.Add(readFixture(f, name))
	}
	f.Add("+++ regress install-check in x +++\ntest a ... FAILED (test process exited with exit code 2) 5 ms\n 1 of 1 tests failed. \n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, r := range ParseOutput(out) {
			p, fl, i, n := r.Counts()
			if p+fl+i+n != len(r.Tests) {
				t.Fatalf("counts %d+%d+%d+%d != %d tests", p, fl, i, n, len(r.Tests))
			}
			err := CheckRun(r)
			if err == nil && (n > 0 || r.SummaryTotal != len(r.Tests)) {
				t.Fatalf("CheckRun accepted a run with %d incomplete tests, summary total %d, %d tests", n, r.SummaryTotal, len(r.Tests))
			}
			for _, test := range r.Tests {
				if test.Name == "" || strings.ContainsAny(test.Name, " \n") {
					t.Fatalf("test name %q", test.Name)
				}
			}
		}
	})
}

func FuzzParseDiffs(f *testing.F) {
	f.Add(readFixture(f, "regress-2-failed.diffs"))
	f.Add("diff -U3 a/expected/x.out b/results/x.out\n--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n")
	f.Fuzz(func(t *testing.T, text string) {
		chunks := ParseDiffs(text)
		total := 0
		for _, c := range chunks {
			if !strings.HasPrefix(c.Text, "diff ") || len(c.Fingerprint) != 16 {
				t.Fatalf("chunk %q with fingerprint %q", clip(c.Text, 40), c.Fingerprint)
			}
			total += len(c.Text)
		}
		if total > len(text) {
			t.Fatalf("chunks hold %d bytes of a %d-byte text", total, len(text))
		}
	})
}
