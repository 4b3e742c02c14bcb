package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReadParagraphs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []paragraph
		wantErr string
	}{
		{
			name: "two paragraphs, continuation lines",
			in:   "Package: a\nVersion: 1\nChecksums-Sha256:\n x 1 a\n .\n y 2 b\n\n\nPackage: b\r\n",
			want: []paragraph{{"package": "a", "version": "1", "checksums-sha256": "\nx 1 a\n\ny 2 b"}, {"package": "b"}},
		},
		{
			name: "comments and tabs",
			in:   "# comment\nA:\tv\n\tmore\n",
			want: []paragraph{{"a": "v\nmore"}},
		},
		{name: "empty", in: "\n\n", want: nil},
		{name: "continuation first", in: " x\n", wantErr: "line 1: continuation line"},
		{name: "no colon", in: "Package: a\nnot a field\n", wantErr: "line 2:"},
		{name: "space in name", in: "Pack age: a\n", wantErr: "line 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []paragraph
			err := readParagraphs(strings.NewReader(tt.in), func(p paragraph) bool { got = append(got, p); return true })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d paragraphs %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if !mapsEqual(got[i], tt.want[i]) {
					t.Errorf("paragraph %d: %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestParseChecksums(t *testing.T) {
	good := "\n 30e65cbbb771a39b553ed2df7e65622e65647aed55dbc19bd0fe853ff0a08442 23930664 postgresql-15_15.20.orig.tar.bz2"
	got, err := parseChecksums(good)
	if err != nil || len(got) != 1 || got[0].Size != 23930664 || got[0].Name != "postgresql-15_15.20.orig.tar.bz2" {
		t.Fatalf("parseChecksums = %+v, %v", got, err)
	}
	for _, bad := range []string{
		"30e65c 1 x",                     // short hash
		strings.Repeat("A", 64) + " 1 x", // upper case
		strings.Repeat("a", 64) + " -1 x",
		strings.Repeat("a", 64) + " 1",
		strings.Repeat("a", 64) + " 1 x y",
	} {
		if _, err := parseChecksums(bad); err == nil {
			t.Errorf("parseChecksums(%q) accepted it", bad)
		}
	}
}

func TestFindSourcePackages(t *testing.T) {
	pkgs, err := findSourcePackages(strings.NewReader(readFixture(t, "Sources-postgresql")), "postgresql-15")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"15.18-0+deb12u1": "11df0df97fe3ea4ba9a791faaf39cee1d2fe571e78885b5b55d8517d27c323b4",
		"15.20-0+deb12u1": "30e65cbbb771a39b553ed2df7e65622e65647aed55dbc19bd0fe853ff0a08442",
	}
	if len(pkgs) != len(want) {
		t.Fatalf("found %d paragraphs, want %d", len(pkgs), len(want))
	}
	for _, p := range pkgs {
		orig, ok := p.origTarball()
		if !ok {
			t.Fatalf("%s: no orig tarball in %+v", p.Version, p.Files)
		}
		if orig.SHA256 != want[p.Version] || !strings.HasSuffix(orig.Name, ".orig.tar.bz2") {
			t.Errorf("%s: orig %+v", p.Version, orig)
		}
	}
	if pkgs[1].Directory != "pool/updates/main/p/postgresql-15" {
		t.Errorf("directory %q", pkgs[1].Directory)
	}
	none, err := findSourcePackages(strings.NewReader(readFixture(t, "Sources-postgresql")), "postgresql-16")
	if err != nil || len(none) != 0 {
		t.Errorf("postgresql-16: %v, %v", none, err)
	}
}

func TestVersions(t *testing.T) {
	for in, want := range map[string]string{
		"15.20-0+deb12u1": "15.20", "1:15.20-0+deb12u1": "15.20", "15.20": "15.20", "248+deb12u1": "248+deb12u1",
	} {
		if got := upstreamVersion(in); got != want {
			t.Errorf("upstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]pgVersion{
		"postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n": {15, 20, ""},
		"15.20 (Debian 15.20-0+deb12u1)":                         {15, 20, ""},
		"15.4":                                                   {15, 4, ""},
		"16.0":                                                   {16, 0, ""},
		"postgres (PostgreSQL) 19rc1 (Debian 19~rc1-1)": {19, 0, "rc1"},
		"19~rc1":  {19, 0, "rc1"},
		"16beta1": {16, 0, "beta1"},
	} {
		got, err := parsePGVersion(in)
		if err != nil || got != want {
			t.Errorf("parsePGVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "PostgreSQL 9.6.24", "16gamma1", "15.20.1", "9rc1", "postgres (PostgreSQL)"} {
		if v, err := parsePGVersion(bad); err == nil {
			t.Errorf("parsePGVersion(%q) = %v, want an error", bad, v)
		}
	}
}

func TestSortCandidates(t *testing.T) {
	mk := func(minor int) candidate {
		return candidate{source: source{Version: pgVersion{15, minor, ""}, FileName: "f" + string(rune('a'+minor))}}
	}
	cands := []candidate{mk(9), mk(18), mk(20), mk(21), mk(3)}
	sortCandidates(cands, pgVersion{15, 20, ""})
	var got []int
	for _, c := range cands {
		got = append(got, c.Version.Minor)
	}
	if want := []int{20, 21, 18, 9, 3}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v (the server's release, then newest first)", got, want)
	}
}

func TestLocalSource(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]string{
		"postgresql-15_15.20.orig.tar.bz2": "15.20",
		"postgresql-15.18.tar.bz2":         "15.18",
		"postgresql-15.4.tar.gz":           "15.4",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte("x"), 0o644)
		s, err := localSource(path, "")
		if err != nil || s.Release != want {
			t.Errorf("localSource(%s) = %s, %v; want %s", name, s.Release, err, want)
		}
		const sumOfX = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
		if _, err := localSource(path, sumOfX); err != nil {
			t.Errorf("localSource with the right SHA-256: %v", err)
		}
		if _, err := localSource(path, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), sumOfX) {
			t.Errorf("localSource with a wrong SHA-256: %v", err)
		}
	}
	path := filepath.Join(dir, "source.tar.bz2")
	os.WriteFile(path, []byte("x"), 0o644)
	if _, err := localSource(path, ""); err == nil {
		t.Error("a tarball whose name gives no release was accepted")
	}
}

// testFetcher serves files from a map over HTTP and counts requests.
func testFetcher(t *testing.T, files map[string][]byte) (*fetcher, string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	f, err := newFetcher(t.TempDir(), "/usr/share/keyrings/debian-archive-keyring.gpg", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return f, srv.URL, &n
}

func TestGetVerified(t *testing.T) {
	content := []byte("tarball")
	const sum = "db4b4d0d1cb480bf9aeea253771c00febe627f236765fa37d6a5614f079a3aa0"
	if got := sha256Hex(content); got != sum {
		t.Fatalf("test setup: sha256 %s", got)
	}
	f, base, requests := testFetcher(t, map[string][]byte{"/good": content, "/bad": []byte("tarbalL")})
	want := checksum{SHA256: sum, Size: int64(len(content)), Name: "x.tar.bz2"}
	path := filepath.Join(f.cache, "x.tar.bz2")

	_, err := f.getVerified(context.Background(), []string{base + "/missing"}, want, path)
	if !errors.Is(err, errNotFound) {
		t.Errorf("404: %v, want errNotFound", err)
	}
	_, err = f.getVerified(context.Background(), []string{base + "/bad"}, want, path)
	if err == nil || !strings.Contains(err.Error(), "signed index says") {
		t.Errorf("wrong content: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a file with the wrong hash was kept")
	}
	url, err := f.getVerified(context.Background(), []string{base + "/missing", base + "/bad", base + "/good"}, want, path)
	if err != nil || url != base+"/good" {
		t.Fatalf("getVerified = %q, %v", url, err)
	}
	before := requests.Load()
	url, err = f.getVerified(context.Background(), []string{base + "/good"}, want, path)
	if err != nil || url != "" || requests.Load() != before {
		t.Errorf("a cached file was downloaded again (url %q, err %v)", url, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(f.cache, ".*part*")); len(matches) > 0 {
		t.Errorf("partial downloads left behind: %v", matches)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestVerifiedRelease checks a real InRelease of Debian's security archive
// with the real gpgv and keyring, and a copy with one hash changed.
func TestVerifiedRelease(t *testing.T) {
	if _, err := exec.LookPath("gpgv"); err != nil {
		t.Skip("gpgv is not installed")
	}
	if _, err := os.Stat("/usr/share/keyrings/debian-archive-keyring.gpg"); err != nil {
		t.Skip("no Debian archive keyring")
	}
	signed := []byte(readFixture(t, "bookworm-security-InRelease"))
	const sourcesSHA = "21c269e3e16fd0525c40fa8356e2e4e8040e1be5448cb1e7f7f19f934ab3be38"
	tampered := []byte(strings.Replace(string(signed), sourcesSHA, "0"+sourcesSHA[1:], 1))
	f, base, _ := testFetcher(t, map[string][]byte{
		"/good/dists/bookworm-security/InRelease": signed,
		"/bad/dists/bookworm-security/InRelease":  tampered,
	})
	text, err := f.verifiedRelease(context.Background(), archive{Base: base + "/good", Suite: "bookworm-security"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "BEGIN PGP") {
		t.Error("the verified text still has the signature armor")
	}
	sum, byHash, err := releaseFile(strings.NewReader(text), "main/source/Sources.xz")
	if err != nil || sum.SHA256 != sourcesSHA || sum.Size != 301792 || !byHash {
		t.Errorf("releaseFile = %+v, by-hash %v, %v", sum, byHash, err)
	}
	if _, _, err := releaseFile(strings.NewReader(text), "main/source/Sources.bz2"); err == nil {
		t.Error("a file the Release does not list was found")
	}
	_, err = f.verifiedRelease(context.Background(), archive{Base: base + "/bad", Suite: "bookworm-security"})
	if err == nil || !strings.Contains(err.Error(), "rejected the signature") {
		t.Errorf("tampered InRelease: %v", err)
	}
}

func TestFindInIndex(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz is not installed")
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "Sources")
	if err := os.WriteFile(plain, []byte(readFixture(t, "Sources-postgresql")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("xz", plain).CombinedOutput(); err != nil {
		t.Fatalf("xz: %v %s", err, out)
	}
	pkgs, err := findInIndex(context.Background(), plain+".xz", "postgresql-15")
	if err != nil || len(pkgs) != 2 {
		t.Fatalf("findInIndex = %d packages, %v", len(pkgs), err)
	}
	if err := os.WriteFile(plain+"-bad.xz", []byte("not xz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findInIndex(context.Background(), plain+"-bad.xz", "postgresql-15"); err == nil {
		t.Error("a damaged index was read")
	}
}

func FuzzReadParagraphs(f *testing.F) {
	f.Add(readFixture(f, "Sources-postgresql"))
	f.Add("A: b\n c\n .\n\nD: e\n")
	f.Fuzz(func(t *testing.T, in string) {
		readParagraphs(strings.NewReader(in), func(p paragraph) bool {
			for k := range p {
				if k == "" || k != strings.ToLower(k) || strings.ContainsAny(k, " \t\n") {
					t.Fatalf("field name %q", k)
				}
			}
			return true
		})
	})
}

func FuzzParseChecksums(f *testing.F) {
	f.Add("\n 30e65cbbb771a39b553ed2df7e65622e65647aed55dbc19bd0fe853ff0a08442 23930664 postgresql-15_15.20.orig.tar.bz2")
	f.Add(" x 1 y")
	f.Fuzz(func(t *testing.T, in string) {
		sums, err := parseChecksums(in)
		if err != nil {
			return
		}
		for _, s := range sums {
			if !sha256Re.MatchString(s.SHA256) || s.Size < 0 || s.Name == "" {
				t.Fatalf("accepted %+v", s)
			}
		}
	})
}

func FuzzParsePGVersion(f *testing.F) {
	f.Add("postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)")
	f.Add("15.4")
	f.Add("19rc1 (Debian 19~rc1-1)")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := parsePGVersion(in)
		if err == nil && (v.Major < 10 || v.Minor < 0) {
			t.Fatalf("parsePGVersion(%q) = %v", in, v)
		}
	})
}

func TestVersionLess(t *testing.T) {
	order := []string{"18.6", "19alpha1", "19beta2", "19beta10", "19rc1", "19.0", "19.1"}
	for i := range order {
		for j := range order {
			a, err1 := parsePGVersion(order[i])
			b, err2 := parsePGVersion(order[j])
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if got := a.less(b); got != (i < j) {
				t.Errorf("%s less %s = %v", a, b, got)
			}
		}
	}
}
