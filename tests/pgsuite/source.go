package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file finds, downloads and checks the PostgreSQL source the suites
// come from: Debian's orig tarball of the server's release. The chain of
// trust is Debian's: gpgv checks the archive's InRelease signature with the
// Debian archive keyring, InRelease gives the SHA-256 of the Sources index,
// and the index gives the SHA-256 of the tarball.

// source is a PostgreSQL source tarball and where it is vouched for.
type source struct {
	Version  pgVersion `json:"-"`
	Release  string    `json:"version"` // Version as text, for the JSON
	Debian   string    `json:"debian_version,omitempty"`
	FileName string    `json:"file"`
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	URL      string    `json:"url,omitempty"`   // where it was downloaded from
	Index    string    `json:"index,omitempty"` // the Sources index that lists its SHA-256
	Path     string    `json:"path"`            // the verified file in the cache
}

// archive is one Debian archive suite whose Sources index is searched.
type archive struct {
	Base  string // e.g. http://deb.debian.org/debian-security
	Suite string // e.g. bookworm-security
}

func (a archive) String() string { return a.Base + " " + a.Suite }

// archives lists the suites that may carry codename's PostgreSQL: the
// release, its updates and its security updates.
func archives(mirror, codename string) []archive {
	mirror = strings.TrimRight(mirror, "/")
	return []archive{
		{Base: mirror + "/debian-security", Suite: codename + "-security"},
		{Base: mirror + "/debian", Suite: codename + "-updates"},
		{Base: mirror + "/debian", Suite: codename},
	}
}

// debianCodename reads VERSION_CODENAME from /etc/os-release.
func debianCodename() (string, error) {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "", fmt.Errorf("read /etc/os-release to find the Debian release: %w; pass --debian-codename (e.g. bookworm)", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VERSION_CODENAME="); ok {
			if v = strings.Trim(v, `"'`); v != "" {
				return v, nil
			}
		}
	}
	return "", errors.New("/etc/os-release has no VERSION_CODENAME; pass --debian-codename (e.g. bookworm)")
}

// fetcher downloads over HTTP into the cache.
type fetcher struct {
	client  *http.Client
	keyring string
	cache   string // <cache>/downloads
	logf    func(format string, args ...any)
}

// errNotFound is wrapped by get for an HTTP 404: the mirror does not have
// that file (a partial mirror, or a version it no longer keeps).
var errNotFound = errors.New("not on the mirror (HTTP 404)")

// get downloads url into w.
func (f *fetcher) get(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "pgseccomp-pgsuite")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("download %s: %w", url, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	return nil
}

// getVerified downloads the first of urls that works into path, checking
// size and SHA-256. A file already at path with the right SHA-256 is kept
// without downloading. It returns the URL used ("" for a cached file).
func (f *fetcher) getVerified(ctx context.Context, urls []string, want checksum, path string) (string, error) {
	if sum, err := fileSHA256(path); err == nil && sum == want.SHA256 {
		return "", nil
	}
	var errs []error
	for _, url := range urls {
		err := f.getToFile(ctx, url, want, path)
		if err == nil {
			return url, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return "", errors.Join(errs...)
}

func (f *fetcher) getToFile(ctx context.Context, url string, want checksum, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part*")
	if err != nil {
		return fmt.Errorf("create a download file next to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	err = f.get(ctx, url, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fi, err := os.Stat(tmp.Name())
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 || fi.Size() != want.Size {
		return fmt.Errorf("%s: got %d bytes with SHA-256 %s, but the signed index says %d bytes with SHA-256 %s; the mirror or a proxy served a wrong file (try again, or another --debian-mirror)",
			url, fi.Size(), got, want.Size, want.SHA256)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// verifiedRelease downloads a suite's InRelease, checks its signature with
// gpgv and the keyring, and returns the signed text.
func (f *fetcher) verifiedRelease(ctx context.Context, a archive) (string, error) {
	dir, err := os.MkdirTemp(f.cache, ".inrelease-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	signed := filepath.Join(dir, "InRelease")
	out, err := os.Create(signed)
	if err != nil {
		return "", err
	}
	url := a.Base + "/dists/" + a.Suite + "/InRelease"
	err = f.get(ctx, url, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	plain := filepath.Join(dir, "Release")
	// --output writes exactly the text the good signature covers, so that
	// nothing outside the signed part (or after it) can be read as signed.
	cmd := exec.CommandContext(ctx, "gpgv", "--keyring", f.keyring, "--output", plain, signed)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	msg, err := cmd.CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("gpgv is not installed, so the signature of %s cannot be checked: apt-get install gpgv", url)
	}
	if err != nil {
		return "", fmt.Errorf("gpgv with keyring %s rejected the signature of %s: %v\n%s\n"+
			"check the keyring (apt-get install debian-archive-keyring, or --keyring) and the mirror (--debian-mirror)",
			f.keyring, url, err, strings.TrimSpace(string(msg)))
	}
	text, err := os.ReadFile(plain)
	if err != nil {
		return "", err
	}
	return string(text), nil
}

// sourcesIndex returns the path of a suite's verified main/source/Sources.xz,
// downloading it unless the cache already holds the file with the hash the
// signed Release names.
func (f *fetcher) sourcesIndex(ctx context.Context, a archive) (string, error) {
	release, err := f.verifiedRelease(ctx, a)
	if err != nil {
		return "", err
	}
	const indexPath = "main/source/Sources.xz"
	sum, byHash, err := releaseFile(strings.NewReader(release), indexPath)
	if err != nil {
		return "", fmt.Errorf("%s: %w", a, err)
	}
	dir := filepath.Join(f.cache, "indexes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "Sources-"+sum.SHA256[:16]+".xz")
	dists := a.Base + "/dists/" + a.Suite + "/"
	var urls []string
	if byHash {
		// By hash first: a mirror half-way through an update has the new
		// index there while the plain name may still be the old one.
		urls = append(urls, dists+"main/source/by-hash/SHA256/"+sum.SHA256)
	}
	urls = append(urls, dists+indexPath)
	if _, err := f.getVerified(ctx, urls, sum, path); err != nil {
		return "", err
	}
	return path, nil
}

// findInIndex decompresses a Sources.xz with xz and returns the paragraphs
// of the source package.
func findInIndex(ctx context.Context, path, pkg string) ([]sourcePackage, error) {
	cmd := exec.CommandContext(ctx, "xz", "--decompress", "--stdout", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("xz is not installed, so the Sources index cannot be read: apt-get install xz-utils")
		}
		return nil, err
	}
	pkgs, perr := findSourcePackages(bufio.NewReaderSize(stdout, 1<<20), pkg)
	io.Copy(io.Discard, stdout) // let xz finish
	werr := cmd.Wait()
	if perr != nil {
		return nil, fmt.Errorf("read %s: %w", path, perr)
	}
	if werr != nil {
		return nil, fmt.Errorf("xz --decompress %s: %v: %s", path, werr, strings.TrimSpace(stderr.String()))
	}
	return pkgs, nil
}

// candidate is a tarball some index lists, with the URLs to get it from.
type candidate struct {
	source
	urls []string
}

// findCandidates searches the suites' Sources indexes for the orig tarballs
// of postgresql-<major>. The server's own release comes first, then the
// others newest first. Indexes that cannot be fetched are reported through
// logf and skipped; it fails only when no index could be read.
func (f *fetcher) findCandidates(ctx context.Context, suites []archive, server pgVersion) ([]candidate, error) {
	pkg := fmt.Sprintf("postgresql-%d", server.Major)
	byFile := map[string]*candidate{}
	var readErrs []error
	read := 0
	for _, a := range suites {
		index, err := f.sourcesIndex(ctx, a)
		if err == nil {
			var pkgs []sourcePackage
			pkgs, err = findInIndex(ctx, index, pkg)
			for _, p := range pkgs {
				orig, ok := p.origTarball()
				if !ok {
					continue
				}
				v, verr := parsePGVersion(upstreamVersion(p.Version))
				if verr != nil || v.Major != server.Major {
					continue
				}
				url := a.Base + "/" + p.Directory + "/" + orig.Name
				c, seen := byFile[orig.Name]
				if !seen {
					c = &candidate{source: source{Version: v, Release: v.String(), Debian: p.Version, FileName: orig.Name,
						SHA256: orig.SHA256, Size: orig.Size, Index: a.String()}}
					byFile[orig.Name] = c
				} else if c.SHA256 != orig.SHA256 {
					return nil, fmt.Errorf("%s is listed with SHA-256 %s by %s but %s by %s; the archive is inconsistent, refusing both",
						orig.Name, c.SHA256, c.Index, orig.SHA256, a)
				}
				if !slices.Contains(c.urls, url) {
					c.urls = append(c.urls, url)
				}
			}
		}
		if err != nil {
			f.logf("pgsuite: cannot search %s: %v", a, err)
			readErrs = append(readErrs, err)
			continue
		}
		read++
	}
	if read == 0 {
		return nil, fmt.Errorf("no Debian Sources index could be read (%s): %w", suitesString(suites), readErrs[0])
	}
	var out []candidate
	for _, c := range byFile {
		out = append(out, *c)
	}
	sortCandidates(out, server)
	return out, nil
}

// sortCandidates puts the server's own release first, then the others
// newest first.
func sortCandidates(cands []candidate, server pgVersion) {
	slices.SortFunc(cands, func(a, b candidate) int {
		switch {
		case a.Version == b.Version:
			return strings.Compare(a.FileName, b.FileName)
		case a.Version == server:
			return -1
		case b.Version == server:
			return 1
		case b.Version.less(a.Version):
			return -1
		}
		return 1
	})
}

// sourceRecordSuffix names the JSON file kept next to a verified tarball in
// the cache: what index vouched for it, for runs without the network.
const sourceRecordSuffix = ".pgsuite.json"

// obtainSource returns a verified tarball for the server's release, or the
// nearest release of the same major version that can be downloaded (when
// exact is false). Without the network, a tarball verified by an earlier
// run is used.
func obtainSource(ctx context.Context, f *fetcher, suites []archive, server pgVersion, exact bool) (source, error) {
	cands, err := f.findCandidates(ctx, suites, server)
	if err != nil {
		if cached, ok := cachedSource(f.cache, server, exact); ok {
			f.logf("pgsuite: %v\npgsuite: using %s instead, verified by an earlier run against %s", err, cached.Path, cached.Index)
			return cached, nil
		}
		return source{}, err
	}
	if len(cands) == 0 {
		return source{}, fmt.Errorf("no Sources index of %s lists postgresql-%d", suitesString(suites), server.Major)
	}
	var errs []error
	for _, c := range cands {
		if exact && c.Version != server {
			continue
		}
		path := filepath.Join(f.cache, c.FileName)
		url, err := f.getVerified(ctx, c.urls, c.source.checksum(), path)
		if err != nil {
			f.logf("pgsuite: cannot get %s (%s): %v", c.FileName, c.Debian, err)
			errs = append(errs, err)
			continue
		}
		s := c.source
		s.URL, s.Path = url, path
		if url == "" {
			s.URL = c.urls[0]
		}
		if err := writeSourceRecord(s); err != nil {
			return source{}, err
		}
		return s, nil
	}
	if exact {
		return source{}, fmt.Errorf("the source of PostgreSQL %s could not be downloaded (%v); drop --exact-version to use the nearest release, or pass --source with the tarball",
			server, errors.Join(errs...))
	}
	return source{}, fmt.Errorf("no PostgreSQL %d source tarball could be downloaded: %w", server.Major, errors.Join(errs...))
}

func (s source) checksum() checksum {
	return checksum{SHA256: s.SHA256, Size: s.Size, Name: s.FileName}
}

func suitesString(suites []archive) string {
	names := make([]string, len(suites))
	for i, a := range suites {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}

func writeSourceRecord(s source) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(s.Path+sourceRecordSuffix, append(data, '\n'), 0o644)
}

// cachedSource finds a tarball an earlier run verified: the server's release
// if there is one, else (unless exact) the newest of the same major version.
// The file must still have the recorded SHA-256.
func cachedSource(cache string, server pgVersion, exact bool) (source, bool) {
	records, _ := filepath.Glob(filepath.Join(cache, "*"+sourceRecordSuffix))
	var best source
	found := false
	for _, rec := range records {
		data, err := os.ReadFile(rec)
		if err != nil {
			continue
		}
		var s source
		if json.Unmarshal(data, &s) != nil {
			continue
		}
		v, err := parsePGVersion(s.Release)
		if err != nil || v.Major != server.Major || (exact && v != server) {
			continue
		}
		if sum, err := fileSHA256(s.Path); err != nil || sum != s.SHA256 {
			continue
		}
		s.Version = v
		if !found || (s.Version == server) || (best.Version != server && best.Version.less(v)) {
			best, found = s, true
		}
	}
	return best, found
}

var tarballVersionRe = regexp.MustCompile(`postgresql(?:-\d+_|-)(\d+(?:\.\d+|~?(?:alpha|beta|rc)\d{1,3}))(?:\.orig)?\.tar\.(?:bz2|gz|xz)$`)

// localSource describes a tarball given with --source: its release comes
// from its name (postgresql-15_15.20.orig.tar.bz2 or postgresql-15.20.tar.bz2).
// With wantSHA256 set, the file must have it.
func localSource(path, wantSHA256 string) (source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return source{}, err
	}
	m := tarballVersionRe.FindStringSubmatch(filepath.Base(abs))
	if m == nil {
		return source{}, fmt.Errorf("--source %s: the name does not say which release it is; name it like postgresql-15.20.tar.bz2 or postgresql-15_15.20.orig.tar.bz2", path)
	}
	v, err := parsePGVersion(m[1])
	if err != nil {
		return source{}, fmt.Errorf("--source %s: %w", path, err)
	}
	sum, err := fileSHA256(abs)
	if err != nil {
		return source{}, fmt.Errorf("--source: %w", err)
	}
	if wantSHA256 != "" && !strings.EqualFold(sum, wantSHA256) {
		return source{}, fmt.Errorf("--source %s has SHA-256 %s, not %s (--source-sha256): a different or damaged file", path, sum, wantSHA256)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return source{}, err
	}
	return source{Version: v, Release: v.String(), FileName: filepath.Base(abs), SHA256: sum, Size: fi.Size(), Path: abs}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// newFetcher returns a fetcher that keeps its files in dir.
func newFetcher(dir, keyring string, logf func(string, ...any)) (*fetcher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the download cache %s: %w; choose another --cache-dir", dir, err)
	}
	return &fetcher{
		client:  &http.Client{Timeout: 10 * time.Minute},
		keyring: keyring,
		cache:   dir,
		logf:    logf,
	}, nil
}
