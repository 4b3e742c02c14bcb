package pgconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
)

const (
	// AutoConfName is the file ALTER SYSTEM writes, in the data directory.
	AutoConfName = "postgresql.auto.conf"
	// maxDepth is PostgreSQL's limit on nested includes.
	maxDepth = 10
)

// Setting is one setting line, with where it is.
type Setting struct {
	Name  string // as written
	Value string
	File  string // absolute path
	Line  int
}

// Where is "file:line".
func (s Setting) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// File is a configuration as a postmaster reads it: the main file, the
// files it includes, and postgresql.auto.conf.
type File struct {
	Path    string    // the main file, absolute
	DataDir string    // where postgresql.auto.conf was looked for; "" when not
	Files   []string  // every file read, in reading order
	Lines   []Setting // every setting line in reading order; a later line wins
	Notes   []string  // files skipped because they do not exist (include_if_exists, postgresql.auto.conf)
}

// Options say where the data directory is.
type Options struct {
	// DataDir is the cluster's data directory, whose postgresql.auto.conf is
	// read after the main file. Empty: the data_directory setting of the
	// file if it has one (as on Debian, where the file is in /etc; a relative
	// one is taken relative to the file that sets it), else the file's own
	// directory.
	DataDir string
	// NoAutoConf skips postgresql.auto.conf, e.g. for a file that is not a
	// cluster's main configuration.
	NoAutoConf bool
	// Overlay, by absolute path, replaces files as they would be after a
	// change that is not made yet: a file with content is read (also
	// from an include_dir) instead of what is on disk, and a nil one as
	// if it did not exist. pgseccomp install checks a configuration this
	// way before it writes anything.
	Overlay map[string][]byte
}

// Load reads a cluster's postgresql.conf and, after it, postgresql.auto.conf
// from the data directory (see Options.DataDir).
func Load(path string) (*File, error) { return LoadOptions(path, Options{}) }

// LoadOptions reads the configuration at path as a starting postmaster does.
// On problems it returns the File read so far and Errors naming file and
// line of each; PostgreSQL would not start with any of them.
func LoadOptions(path string, opts Options) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot make %q absolute: %v", path, err)}
	}
	r := &reader{f: &File{Path: abs}, overlay: opts.Overlay}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, Errors{{File: abs, Msg: "is a directory: give the configuration file (postgresql.conf), or the data directory with --pgdata"}}
	}
	r.parseFile(abs, true, "", 0, 0)
	if len(r.errs) > 0 {
		return r.f, r.errs
	}
	if !opts.NoAutoConf {
		dataDir := opts.DataDir
		if dataDir == "" {
			dataDir = filepath.Dir(abs)
			if s, ok := r.f.Lookup("data_directory"); ok && s.Value != "" {
				dataDir = s.Value
				if !filepath.IsAbs(dataDir) {
					dataDir = filepath.Join(filepath.Dir(s.File), dataDir)
				}
			}
		}
		dataDir, err = filepath.Abs(dataDir)
		if err != nil {
			return r.f, &Error{Msg: fmt.Sprintf("cannot make %q absolute: %v", opts.DataDir, err)}
		}
		r.f.DataDir = dataDir
		r.parseFile(filepath.Join(dataDir, AutoConfName), false, "", 0, 0)
	}
	if len(r.errs) > 0 {
		return r.f, r.errs
	}
	return r.f, nil
}

type reader struct {
	f       *File
	errs    Errors
	overlay map[string][]byte
}

// readFile reads a file, or its overlay.
func (r *reader) readFile(path string) ([]byte, error) {
	if data, ok := r.overlay[path]; ok {
		if data == nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return data, nil
	}
	return ReadFile(path)
}

func (r *reader) fail(file string, line int, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func isBlank(s string) bool { return strings.Trim(s, " \t\r\n") == "" }

// absoluteLocation is AbsoluteConfigLocation: a relative path is relative to
// the directory of the file that names it.
func absoluteLocation(location, callingFile string) string {
	if filepath.IsAbs(location) || callingFile == "" {
		return filepath.Clean(location)
	}
	return filepath.Join(filepath.Dir(callingFile), location)
}

// parseFile is ParseConfigFile: read one file, following its includes.
// callingFile and callingLine say where it is included from ("" for the
// main file and postgresql.auto.conf).
func (r *reader) parseFile(path string, strict bool, callingFile string, callingLine, depth int) bool {
	if isBlank(path) {
		r.fail(callingFile, callingLine, "empty configuration file name: %q", path)
		return false
	}
	if depth > maxDepth {
		r.fail(callingFile, callingLine, "could not open configuration file %q: maximum nesting depth exceeded (includes nest at most %d deep; does an include loop back?)", path, maxDepth)
		return false
	}
	abs := absoluteLocation(path, callingFile)
	if callingFile != "" && abs == callingFile {
		r.fail(callingFile, callingLine, "configuration file recursion: the file includes itself")
		return false
	}
	data, err := r.readFile(abs)
	if errors.Is(err, errNotRegular) || errors.Is(err, errTooLarge) {
		// Not a file that a missing-file skip covers: a named pipe would
		// hang the reader, /dev/zero would never end.
		r.fail(callingFile, callingLine, "could not read configuration file %q: %v", abs, err)
		return false
	}
	if err != nil {
		if !strict {
			// PostgreSQL skips a file include_if_exists (or the auto.conf
			// lookup) cannot open, for whatever reason, with a LOG line.
			r.f.Notes = append(r.f.Notes, fmt.Sprintf("skipping missing configuration file %q (%v)", abs, UnwrapPathError(err)))
			return true
		}
		r.fail(callingFile, callingLine, "could not open configuration file %q: %v", abs, UnwrapPathError(err))
		return false
	}
	r.f.Files = append(r.f.Files, abs)
	entries, errs := Parse(data, abs)
	r.errs = append(r.errs, errs...)
	ok := len(errs) == 0
	for _, e := range entries {
		switch FoldName(e.Name) {
		case "include_dir":
			ok = r.parseDir(e.Value, abs, e.Line, depth+1) && ok
		case "include_if_exists":
			ok = r.parseFile(e.Value, false, abs, e.Line, depth+1) && ok
		case "include":
			ok = r.parseFile(e.Value, true, abs, e.Line, depth+1) && ok
		default:
			r.f.Lines = append(r.f.Lines, Setting{Name: e.Name, Value: e.Value, File: abs, Line: e.Line})
		}
	}
	return ok
}

// parseDir is ParseConfigDirectory: the files of a directory whose names end
// in ".conf" and do not start with ".", in byte order of their names.
func (r *reader) parseDir(dir, callingFile string, callingLine, depth int) bool {
	if isBlank(dir) {
		r.fail(callingFile, callingLine, "empty configuration directory name: %q", dir)
		return false
	}
	abs := absoluteLocation(dir, callingFile)
	dirEntries, err := os.ReadDir(abs)
	if err != nil {
		r.fail(callingFile, callingLine, "could not open configuration directory %q: %v", abs, UnwrapPathError(err))
		return false
	}
	var files []string
	for _, de := range dirEntries {
		name := de.Name()
		if len(name) < 6 || name[0] == '.' || !strings.HasSuffix(name, ".conf") {
			continue
		}
		path := filepath.Join(abs, name)
		fi, err := os.Stat(path) // follows symlinks, as PostgreSQL's stat() does
		if err != nil {
			r.fail(callingFile, callingLine, "could not stat file %q: %v", path, UnwrapPathError(err))
			return false
		}
		if !fi.IsDir() {
			if data, ok := r.overlay[path]; !ok || data != nil {
				files = append(files, path)
			}
		}
	}
	for path, data := range r.overlay {
		name := filepath.Base(path)
		if data != nil && filepath.Dir(path) == abs && !slices.Contains(files, path) &&
			len(name) >= 6 && name[0] != '.' && strings.HasSuffix(name, ".conf") {
			files = append(files, path)
		}
	}
	sort.Strings(files)
	for _, path := range files {
		if !r.parseFile(path, true, callingFile, callingLine, depth) {
			return false
		}
	}
	return true
}

// MaxFileSize is the most ReadFile reads of one file; a larger one is
// refused rather than read without bound.
const MaxFileSize = 16 << 20

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("larger than %d MiB, the most pgseccomp reads of one configuration file", MaxFileSize>>20)
)

// ReadFile reads a file the tool takes as configuration (postgresql.conf,
// a file it includes, a profile): a regular file (after symbolic links)
// of at most MaxFileSize bytes. It opens without blocking, so a named pipe
// with no writer is refused, not waited for, and /dev/zero is refused, not
// read without end. Its errors are *fs.PathError for what the kernel
// refused, and name what the file is otherwise.
func ReadFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// fileKind names what a path that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// UnwrapPathError drops the operation and path of a *fs.PathError, for
// messages that name the path already.
func UnwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FoldName lower-cases ASCII letters only, as PostgreSQL compares setting
// names (guc_name_compare) and pg_strcasecmp compares role names.
func FoldName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// Lookup returns the setting in force for name (the last line setting it),
// case-insensitively.
func (f *File) Lookup(name string) (Setting, bool) {
	key := FoldName(name)
	for i := len(f.Lines) - 1; i >= 0; i-- {
		if FoldName(f.Lines[i].Name) == key {
			return f.Lines[i], true
		}
	}
	return Setting{}, false
}

// Overridden returns the earlier lines setting name, which a later line
// overrides, in reading order.
func (f *File) Overridden(name string) []Setting {
	key := FoldName(name)
	var lines []Setting
	for _, s := range f.Lines {
		if FoldName(s.Name) == key {
			lines = append(lines, s)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return lines[:len(lines)-1]
}

// Effective returns the settings in force: for each name its last line, in
// the order of those lines.
func (f *File) Effective() []Setting {
	last := map[string]int{}
	for i, s := range f.Lines {
		last[FoldName(s.Name)] = i
	}
	var out []Setting
	for i, s := range f.Lines {
		if last[FoldName(s.Name)] == i {
			out = append(out, s)
		}
	}
	return out
}

// Values returns the settings in force as name -> value (names as the line
// in force writes them).
func (f *File) Values() map[string]string {
	m := map[string]string{}
	for _, s := range f.Effective() {
		m[s.Name] = s.Value
	}
	return m
}
