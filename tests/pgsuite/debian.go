package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// This file reads Debian archive metadata: the deb822 format of Release and
// Sources files (paragraphs of "Field: value" lines, continuation lines
// starting with a space), the checksum lists in them, and Debian and
// PostgreSQL version strings.

// paragraph is one deb822 stanza. Keys are lower-cased field names; a
// multi-line value keeps its continuation lines, each without its leading
// space, after a "\n".
type paragraph map[string]string

// maxDeb822Line bounds one line of an index (the longest in Debian's
// Sources files are a few kilobytes).
const maxDeb822Line = 1 << 20

// readParagraphs calls fn for each paragraph of r until fn returns false.
// A line that is neither a field, a continuation nor blank is an error
// naming its line number; so is a continuation line with no field before it.
func readParagraphs(r io.Reader, fn func(paragraph) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxDeb822Line)
	p := paragraph{}
	last := ""
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			if len(p) > 0 && !fn(p) {
				return nil
			}
			p, last = paragraph{}, ""
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return fmt.Errorf("line %d: continuation line %q follows no field", lineNo, clip(line, 60))
			}
			cont := strings.TrimSpace(line)
			if cont == "." { // deb822's way to write an empty line in a value
				cont = ""
			}
			p[last] += "\n" + cont
		case line[0] == '#':
			// comment (allowed in deb822 control files, absent from indexes)
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return fmt.Errorf("line %d: %q is not a \"Field: value\" line", lineNo, clip(line, 60))
			}
			last = strings.ToLower(name)
			p[last] = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	if len(p) > 0 {
		fn(p)
	}
	return nil
}

// checksum is one line of a Checksums-Sha256 (Sources) or SHA256 (Release)
// field: " <sha256> <size> <name>".
type checksum struct {
	SHA256 string
	Size   int64
	Name   string
}

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// parseChecksums reads a multi-line checksum field. The first line (after
// the field name) is empty in Debian's files; blank lines are skipped.
func parseChecksums(field string) ([]checksum, error) {
	var out []checksum
	for i, line := range strings.Split(field, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("checksum line %d %q: want \"<sha256> <size> <name>\"", i+1, clip(line, 80))
		}
		if !sha256Re.MatchString(f[0]) {
			return nil, fmt.Errorf("checksum line %d: %q is not a SHA-256 in lower-case hex", i+1, clip(f[0], 80))
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("checksum line %d: size %q is not a byte count", i+1, clip(f[1], 40))
		}
		out = append(out, checksum{SHA256: f[0], Size: size, Name: f[2]})
	}
	return out, nil
}

// releaseFile finds path (e.g. "main/source/Sources.xz") in the SHA256
// field of a Release file's text, and whether the archive serves files by
// hash (Acquire-By-Hash: yes).
func releaseFile(release io.Reader, path string) (sum checksum, byHash bool, err error) {
	var fields paragraph
	if err := readParagraphs(release, func(p paragraph) bool { fields = p; return false }); err != nil {
		return checksum{}, false, fmt.Errorf("read Release: %w", err)
	}
	if fields == nil {
		return checksum{}, false, errors.New("the Release file is empty")
	}
	sums, err := parseChecksums(fields["sha256"])
	if err != nil {
		return checksum{}, false, fmt.Errorf("read the SHA256 field of Release: %w", err)
	}
	for _, s := range sums {
		if s.Name == path {
			return s, strings.EqualFold(fields["acquire-by-hash"], "yes"), nil
		}
	}
	return checksum{}, false, fmt.Errorf("the Release file lists no SHA-256 for %s", path)
}

// sourcePackage is what a Sources paragraph says about one source package.
type sourcePackage struct {
	Package   string
	Version   string // Debian version, e.g. "15.20-0+deb12u1"
	Directory string // pool directory, e.g. "pool/updates/main/p/postgresql-15"
	Files     []checksum
}

// findSourcePackages returns every paragraph of a Sources index for the
// source package name.
func findSourcePackages(sources io.Reader, name string) ([]sourcePackage, error) {
	var out []sourcePackage
	var perr error
	err := readParagraphs(sources, func(p paragraph) bool {
		if p["package"] != name {
			return true
		}
		files, err := parseChecksums(p["checksums-sha256"])
		if err != nil {
			perr = fmt.Errorf("Sources paragraph of %s %s: %w", name, p["version"], err)
			return false
		}
		out = append(out, sourcePackage{Package: name, Version: p["version"], Directory: p["directory"], Files: files})
		return true
	})
	if err == nil {
		err = perr
	}
	return out, err
}

// origTarball returns the upstream tarball of a source package:
// <package>_<upstream>.orig.tar.{bz2,gz,xz}.
func (s sourcePackage) origTarball() (checksum, bool) {
	prefix := s.Package + "_" + upstreamVersion(s.Version) + ".orig.tar."
	for _, f := range s.Files {
		if rest, ok := strings.CutPrefix(f.Name, prefix); ok && (rest == "bz2" || rest == "gz" || rest == "xz") {
			return f, true
		}
	}
	return checksum{}, false
}

// upstreamVersion strips a Debian version's epoch and revision:
// "1:15.20-0+deb12u1" -> "15.20".
func upstreamVersion(debian string) string {
	v := debian
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		v = v[:i]
	}
	return v
}

// pgVersion is a PostgreSQL release number, e.g. 15.20, or a pre-release
// of a major (19rc1: Pre "rc1", Minor 0).
type pgVersion struct {
	Major, Minor int
	Pre          string // "", or a pre-release: "beta2", "rc1"
}

func (v pgVersion) String() string {
	if v.Pre != "" {
		return fmt.Sprintf("%d%s", v.Major, v.Pre)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// less orders versions by release; a major's pre-releases come before its
// first release (alpha, beta, rc, each by number).
func (v pgVersion) less(w pgVersion) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	if (v.Pre == "") != (w.Pre == "") {
		return v.Pre != ""
	}
	return preRank(v.Pre) < preRank(w.Pre)
}

// preRank orders pre-release names: alpha1 < beta1 < beta2 < rc1.
func preRank(pre string) int {
	m := preReleaseRe.FindStringSubmatch(pre)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[2])
	return map[string]int{"alpha": 1, "beta": 2, "rc": 3}[m[1]]*1000 + n
}

var (
	preReleaseRe = regexp.MustCompile(`^(alpha|beta|rc)(\d{1,3})$`)
	// 15.20, or 19rc1 as the server says it and 19~rc1 as Debian does.
	serverVersionRe = regexp.MustCompile(`(?:^|[\s(])(\d+)(?:\.(\d+)|~?((?:alpha|beta|rc)\d{1,3}))(?:$|[\s)])`)
)

// parsePGVersion finds the release number in what `postgres --version`,
// SHOW server_version or a tarball's upstream version says, e.g.
// "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", "15.20",
// "19rc1 (Debian 19~rc1-1)" or "19~rc1". Only releases since PostgreSQL 10
// (two-part numbers) are accepted.
func parsePGVersion(s string) (pgVersion, error) {
	m := serverVersionRe.FindStringSubmatch(s)
	if m == nil {
		return pgVersion{}, fmt.Errorf("no PostgreSQL release number (like 15.20 or 19rc1) in %q", clip(s, 100))
	}
	major, err := strconv.Atoi(m[1])
	if err != nil || major < 10 {
		return pgVersion{}, fmt.Errorf("%q is not a PostgreSQL 10 or later release number", strings.TrimSpace(m[0]))
	}
	if m[3] != "" {
		return pgVersion{Major: major, Pre: m[3]}, nil
	}
	minor, err := strconv.Atoi(m[2])
	if err != nil {
		return pgVersion{}, fmt.Errorf("%q is not a PostgreSQL release number", strings.TrimSpace(m[0]))
	}
	return pgVersion{Major: major, Minor: minor}, nil
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
