package cluster

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// LogTail returns the last n lines of LogFile, without a final newline. If
// the log cannot be read it returns a line saying why, so that the result can
// always go into an error message.
func (c *Cluster) LogTail(n int) string {
	if n <= 0 {
		return ""
	}
	f, err := os.Open(c.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read the server log: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read the server log: %v)", err)
	}
	s, err := tailLines(f, fi.Size(), n)
	if err != nil {
		return fmt.Sprintf("(cannot read the server log %s: %v)", c.LogFile, err)
	}
	return s
}

// tailLines returns the last n lines of the first size bytes of r, reading
// backwards in chunks until it has them.
func tailLines(r io.ReaderAt, size int64, n int) (string, error) {
	const chunk = 64 << 10
	var buf []byte
	for start := size; start > 0; {
		step := min(int64(chunk), start)
		start -= step
		b := make([]byte, step)
		if _, err := r.ReadAt(b, start); err != nil && err != io.EOF {
			return "", err
		}
		buf = append(b, buf...)
		// n lines need n newlines before them, plus perhaps a final one.
		if strings.Count(string(buf), "\n") > n {
			break
		}
	}
	return lastLines(string(buf), n), nil
}

// lastLines returns the last n lines of s, without a final newline.
func lastLines(s string, n int) string {
	s = strings.TrimSuffix(s, "\n")
	if n <= 0 || s == "" {
		return ""
	}
	end := len(s)
	for i := 0; i < n; i++ {
		j := strings.LastIndexByte(s[:end], '\n')
		if j < 0 {
			return s
		}
		end = j
	}
	return s[end+1:]
}

// LogSince returns the complete lines the server logged from byte offset on,
// and the offset just past them, to pass to the next call (a line still being
// written is left for that call). Start from 0 or from an offset an earlier
// call returned; e.g. take the offset before a Reload to see what the reload
// logged.
func (c *Cluster) LogSince(offset int64) (string, int64, error) {
	if offset < 0 {
		return "", offset, fmt.Errorf("cluster: LogSince: offset %d is negative; pass 0 or an offset LogSince returned", offset)
	}
	f, err := os.Open(c.LogFile)
	if err != nil {
		return "", offset, fmt.Errorf("cluster: read the server log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", offset, fmt.Errorf("cluster: read the server log: %w", err)
	}
	if offset > fi.Size() {
		return "", offset, fmt.Errorf("cluster: LogSince: offset %d is past the end of %s (%d bytes); was the log truncated? pass 0 to read it all", offset, c.LogFile, fi.Size())
	}
	b := make([]byte, fi.Size()-offset)
	n, err := f.ReadAt(b, offset)
	if err != nil && err != io.EOF {
		return "", offset, fmt.Errorf("cluster: read the server log %s: %w", c.LogFile, err)
	}
	b = b[:n]
	if i := strings.LastIndexByte(string(b), '\n'); i+1 < len(b) {
		b = b[:i+1] // also when i is -1: no complete line yet
	}
	return string(b), offset + int64(len(b)), nil
}

// logSize returns the current size of LogFile (0 if unreadable). Offsets
// from it are where a line begins, as the server writes whole lines.
func (c *Cluster) logSize() int64 {
	fi, err := os.Stat(c.LogFile)
	if err != nil {
		return 0
	}
	return fi.Size()
}
