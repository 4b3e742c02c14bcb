package audit

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// chunkSize is how much of the input one parsing goroutine takes at a
// time. When reading (not mapping) the input, a line longer than a chunk
// is cut to maxLine bytes.
const chunkSize = 4 << 20

// maxTallyWorkers bounds the parsing goroutines: past a few, reading the
// input is the limit.
const maxTallyWorkers = 8

// Tally reads every line of r and adds the seccomp records that f selects
// to s (nil f selects all). name labels r in malformed-line examples. It
// returns what it read; malformed and unrelated lines are counted, never
// fatal. The error is a read error, or a mapped file that shrank while it
// was read; the Stats and s then hold what was read before it.
//
// Tally parses on up to GOMAXPROCS goroutines, each with its own part of
// the input and its own Summary, merged at the end. A regular file is
// mapped into memory rather than copied; other readers are read in chunks,
// a few per goroutine at a time.
func (s *Summary) Tally(r io.Reader, name string, f *Filter) (Stats, error) {
	if f == nil {
		f = &Filter{}
	}
	workers := min(runtime.GOMAXPROCS(0), maxTallyWorkers)
	chunks := make(chan *chunk, workers)
	free := make(chan *chunk, 2*workers+1)
	results := make([]*tallier, workers)
	var wg sync.WaitGroup
	for i := range results {
		t := &tallier{filter: f, name: name}
		results[i] = t
		wg.Go(func() {
			for c := range chunks {
				if t.err == nil {
					t.err = t.guardedChunk(c)
				}
				if c.buf != nil {
					free <- c
				}
			}
		})
	}
	var nchunks int
	var err error
	if data, unmap, ok := mapFile(r); ok {
		nchunks = splitMapped(data, chunks)
		close(chunks)
		wg.Wait()
		unmap()
	} else {
		nchunks, err = splitChunks(r, chunks, free)
		close(chunks)
		wg.Wait()
	}
	for _, t := range results {
		if t.err != nil && err == nil {
			err = t.err
		}
	}

	// Workers number lines within their chunks; the chunks' line counts,
	// in input order, give the first line number of each.
	lines := make([]int64, nchunks)
	for _, t := range results {
		for _, c := range t.chunkLines {
			lines[c.seq] = c.lines
		}
	}
	first := make([]int64, nchunks)
	var total int64
	for i, n := range lines {
		first[i] = total + 1
		total += n
	}
	var st Stats
	var examples []LineError
	for _, t := range results {
		st.Add(t.stats)
		for _, e := range t.examples {
			e.err.Line += first[e.seq] - 1
			examples = append(examples, e.err)
		}
		s.Merge(&t.sum)
	}
	slices.SortFunc(examples, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
	st.Examples = examples[:min(len(examples), MaxExamples)]
	st.Lines = total
	return st, err
}

// chunk is whole lines of the input.
type chunk struct {
	buf  []byte
	data []byte // in buf: the lines, the last one maybe without "\n"
	seq  int    // the chunk's place in the input
}

// splitChunks reads r into chunks that end at line ends and sends them
// to out, taking buffers from free when there are any. It returns how
// many chunks it sent.
func splitChunks(r io.Reader, out chan<- *chunk, free chan *chunk) (int, error) {
	var (
		seq      int
		carry    []byte // the start of a line the last chunk did not end
		skipping bool   // dropping the rest of an overlong line
		eof      bool
		readErr  error
	)
	for !eof {
		var c *chunk
		select {
		case c = <-free:
		default:
			c = &chunk{buf: make([]byte, chunkSize)}
		}
		n := copy(c.buf, carry)
		for n < len(c.buf) && !eof {
			m, err := r.Read(c.buf[n:])
			n += m
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				readErr, eof = err, true
			}
		}
		data := c.buf[:n]
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				carry = carry[:0]
				free <- c
				continue
			}
			data = data[i+1:]
			skipping = false
		}
		end := len(data)
		if !eof {
			end = bytes.LastIndexByte(data, '\n') + 1
			if end == 0 {
				// One line fills the chunk: keep its head, drop the rest.
				end = min(len(data), maxLine)
				skipping = true
			}
		}
		carry = append(carry[:0], data[end:]...)
		if skipping {
			carry = carry[:0]
		}
		c.data = data[:end]
		if len(c.data) == 0 {
			free <- c
			continue
		}
		c.seq = seq
		seq++
		out <- c
	}
	return seq, readErr
}

// mapFile maps r into memory when it is a regular, non-empty file, from
// its current offset on.
func mapFile(r io.Reader) (data []byte, unmap func(), ok bool) {
	f, isFile := r.(*os.File)
	if !isFile {
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > math.MaxInt/2 {
		return nil, nil, false
	}
	offset, err := f.Seek(0, io.SeekCurrent)
	if err != nil || offset >= fi.Size() {
		return nil, nil, false
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	_ = unix.Madvise(m, unix.MADV_SEQUENTIAL)
	return m[offset:], func() { unix.Munmap(m) }, true
}

// splitMapped sends data to out in chunks that end at line ends, and
// returns how many it sent.
func splitMapped(data []byte, out chan<- *chunk) int {
	seq := 0
	for len(data) > 0 {
		end := len(data)
		if end > chunkSize {
			if i := bytes.IndexByte(data[chunkSize:], '\n'); i >= 0 {
				end = chunkSize + i + 1
			}
		}
		out <- &chunk{data: data[:end], seq: seq}
		seq++
		data = data[end:]
	}
	return seq
}

// guardedChunk tallies a chunk of a mapped file, which faults if the file
// shrinks while it is read (a log truncated with "> audit.log"): the
// fault becomes an error rather than a crash.
func (t *tallier) guardedChunk(c *chunk) (err error) {
	if c.buf == nil {
		// Unmap the chunk's pages after: the page cache keeps them, and
		// the process's resident memory stays a few chunks, not the file.
		defer unix.Madvise(pageAligned(c.data), unix.MADV_DONTNEED)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if p := recover(); p != nil {
				if _, fault := p.(interface{ Addr() uintptr }); !fault {
					panic(p)
				}
				err = errors.New("the file shrank while it was read (truncated or rotated?); read it again")
			}
		}()
	}
	t.chunk(c)
	return nil
}

// pageAligned returns the whole pages inside b, which madvise takes.
func pageAligned(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	first := (start + page - 1) &^ (page - 1)
	last := (start + uintptr(len(b))) &^ (page - 1)
	if last <= first {
		return nil
	}
	return b[first-start : last-start]
}

// tallier parses chunks into its own Summary.
type tallier struct {
	err        error
	filter     *Filter
	name       string
	sum        Summary
	stats      Stats
	rec        Record
	chunkLines []chunkLines
	examples   []example // malformed lines, numbered within their chunks
}

type chunkLines struct {
	seq   int
	lines int64
}

type example struct {
	seq int
	err LineError
}

func (t *tallier) chunk(c *chunk) {
	data := c.data
	line := int64(1)
	for ; len(data) > 0; line++ {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		found, err := ParseLine(l, &t.rec)
		switch {
		case !found:
			t.stats.Unrelated++
		case err != nil:
			t.stats.Malformed++
			// Chunks come in input order, so a worker's first few are
			// the first few of its share.
			if len(t.examples) < MaxExamples {
				t.examples = append(t.examples, example{c.seq, LineError{t.name, line, err}})
			}
		default:
			t.stats.Records++
			t.stats.Formats[t.rec.Format]++
			t.sum.addFiltered(&t.rec, t.filter)
		}
	}
	t.chunkLines = append(t.chunkLines, chunkLines{c.seq, line - 1})
}
