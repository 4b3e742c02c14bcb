package audit

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"runtime"
	"slices"
	"sync"
)

// chunkSize is how much of the input one parsing goroutine takes at a
// time. A line longer than a chunk is cut to maxLine bytes, as the
// Scanner cuts it.
const chunkSize = 4 << 20

// maxTallyWorkers bounds the parsing goroutines: past a few, reading the
// input is the limit.
const maxTallyWorkers = 8

// Tally reads every line of r and adds the seccomp records that f selects
// to s (nil f selects all). name labels r in malformed-line examples. It
// returns what it read; malformed, unrelated and untrusted lines are
// counted, never fatal. The error is a read error; the Stats and s then
// hold what was read before it.
//
// Tally parses on up to GOMAXPROCS goroutines, each with its own part of
// the input and its own Summary, merged at the end. Every input, a regular
// file as much as a pipe, is read in chunks, a few per goroutine at a
// time, so memory stays the same whatever the input holds: a line longer
// than maxLine is parsed from its first maxLine bytes and the rest is
// skipped. (Mapping a file instead would make an overlong line as large
// in memory as it is on disk.)
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
				t.chunk(c)
				free <- c
			}
		})
	}
	nchunks, err := splitChunks(r, chunks, free)
	close(chunks)
	wg.Wait()

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
	var examples, untrusted []LineError
	for _, t := range results {
		st.Add(t.stats)
		examples = numbered(examples, t.examples, first)
		untrusted = numbered(untrusted, t.untrusted, first)
		s.Merge(&t.sum)
	}
	st.Examples = firstExamples(examples)
	st.UntrustedExamples = firstExamples(untrusted)
	st.Lines = total
	return st, err
}

// numbered appends examples to list with their line numbers in the whole
// input, given the first line number of each chunk.
func numbered(list []LineError, examples []example, first []int64) []LineError {
	for _, e := range examples {
		e.err.Line += first[e.seq] - 1
		list = append(list, e.err)
	}
	return list
}

// firstExamples returns the MaxExamples examples of list that come first
// in the input.
func firstExamples(list []LineError) []LineError {
	slices.SortFunc(list, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
	return list[:min(len(list), MaxExamples)]
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
	k := chunker{r: r}
	seq := 0
	for {
		var c *chunk
		select {
		case c = <-free:
		default:
			c = &chunk{buf: make([]byte, chunkSize)}
		}
		if !k.fill(c) {
			return seq, k.err
		}
		c.seq = seq
		seq++
		out <- c
	}
}

// chunker cuts a stream into chunks of whole lines, in memory that does
// not grow with the input: the one reader of every input, for Tally's
// workers and the Scanner alike. A line longer than a chunk keeps its
// first maxLine bytes and the rest is skipped; the parsers read any line
// from its first maxLine bytes.
type chunker struct {
	r io.Reader
	// stream returns a chunk as soon as it holds a whole line (the
	// Scanner, which may read a pipe that a program writes slowly) rather
	// than when it is full (Tally).
	stream   bool
	carry    []byte // the start of a line the last chunk did not end
	skipping bool   // dropping the rest of an overlong line
	eof      bool
	err      error // the read error that ended the input
}

// fill reads the next whole lines into c.buf and sets c.data to them; it
// returns false, leaving c unused, at the end of the input.
func (k *chunker) fill(c *chunk) bool {
	for !k.eof {
		n := copy(c.buf, k.carry)
		scanned, idle := 0, 0
		for n < len(c.buf) && !k.eof {
			if k.stream && bytes.IndexByte(c.buf[scanned:n], '\n') >= 0 {
				break
			}
			scanned = n
			m, err := k.r.Read(c.buf[n:])
			n += m
			switch {
			case errors.Is(err, io.EOF):
				k.eof = true
			case err != nil:
				k.err, k.eof = err, true
			case m == 0:
				if idle++; idle == 100 {
					k.err, k.eof = io.ErrNoProgress, true
				}
			default:
				idle = 0
			}
		}
		data := c.buf[:n]
		if k.skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				k.carry = k.carry[:0]
				continue
			}
			data = data[i+1:]
			k.skipping = false
		}
		end := len(data)
		if !k.eof {
			end = bytes.LastIndexByte(data, '\n') + 1
			if end == 0 {
				// One line fills the chunk: keep its head, drop the rest.
				end = min(len(data), maxLine)
				k.skipping = true
			}
		}
		k.carry = append(k.carry[:0], data[end:]...)
		if k.skipping {
			k.carry = k.carry[:0]
		}
		c.data = data[:end]
		if len(c.data) > 0 {
			return true
		}
	}
	return false
}

// tallier parses chunks into its own Summary.
type tallier struct {
	filter     *Filter
	name       string
	sum        Summary
	stats      Stats
	rec        Record
	chunkLines []chunkLines
	examples   []example // malformed lines, numbered within their chunks
	untrusted  []example // lines with a record from a source users can write
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
		if len(l) > maxLine {
			l = l[:maxLine] // as the Scanner reads it
		}
		found, err := ParseLine(l, &t.rec)
		switch {
		case !found:
			t.stats.Unrelated++
		case !t.rec.Trusted:
			t.stats.Untrusted++
			t.stats.UntrustedFormats[t.rec.Format]++
			if len(t.untrusted) < MaxExamples {
				t.untrusted = append(t.untrusted, example{c.seq, LineError{t.name, line, untrustedError(&t.rec, l)}})
			}
			if err == nil && t.filter.Untrusted {
				t.sum.addFiltered(&t.rec, t.filter)
			}
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
