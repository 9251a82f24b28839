package console

import (
	"os"
	"sync"
	"unicode/utf8"
)

// A paste, seen key by key, is quadratic: the line editor redraws the whole line after every
// character, so an 8 KB line took minutes. pasteInput sits between the terminal and the line
// editor. A run of plain characters that arrives in one read, longer than a person types between
// two reads, is handed on as one pasteMarker, and the text it stands for waits in a queue; the
// editor's input filter takes it when the marker comes through, and its listener puts it in
// place of the marker, in one redraw. Everything else (Enter, Tab alone, Ctrl keys, escape
// sequences) reaches the editor as it came, so a pasted "\r" still ends a line.

// pasteMarker stands for a queued run of text: a private-use character, which no key sends.
const pasteMarker = '\uE000'

// minPasteRun is the shortest run handed on whole: a person's keys come one read at a time.
const minPasteRun = 16

// pasteInput is the terminal as the line editor reads it.
type pasteInput struct {
	f   *os.File
	buf []byte // what was read and not yet handed on
	out []byte // what is handed on and not yet taken
	esc escState

	mu     sync.Mutex
	queued [][]rune // the runs the markers handed on stand for, oldest first
}

// escState is where an escape sequence split across reads stands, so that its bytes are never
// taken for plain text.
type escState int

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [: parameters until a final byte
	escSS3            // after ESC O: one byte
)

func newPasteInput(f *os.File) *pasteInput { return &pasteInput{f: f} }

// Read hands on what the terminal sent, each long run of plain characters as one pasteMarker.
func (in *pasteInput) Read(p []byte) (int, error) {
	for len(in.out) == 0 {
		var chunk [4096]byte
		n, err := in.f.Read(chunk[:])
		in.buf = append(in.buf, chunk[:n]...)
		in.translate()
		if err != nil && len(in.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, in.out)
	in.out = in.out[n:]
	return n, nil
}

// Close closes nothing: the terminal is the process's.
func (in *pasteInput) Close() error { return nil }

// translate moves in.buf to in.out, queueing its long runs; an incomplete character at the end
// stays in in.buf for the next read.
func (in *pasteInput) translate() {
	var run []rune
	start := 0 // where run starts in in.buf
	flush := func(end int) {
		if len(run) >= minPasteRun || containsRune(run, pasteMarker) {
			in.mu.Lock()
			in.queued = append(in.queued, run)
			in.mu.Unlock()
			in.out = utf8.AppendRune(in.out, pasteMarker)
		} else {
			in.out = append(in.out, in.buf[start:end]...)
		}
		run = nil
	}
	i := 0
	for i < len(in.buf) {
		if !utf8.FullRune(in.buf[i:]) {
			break
		}
		r, size := utf8.DecodeRune(in.buf[i:])
		// a Tab that ends what came is a key pressed after the text, to complete it
		completing := r == '\t' && i+size == len(in.buf)
		if in.esc == escNone && plain(r, size) && !completing {
			if run == nil {
				start = i
			}
			run = append(run, r)
			i += size
			continue
		}
		if run != nil {
			flush(i)
		}
		in.esc = in.esc.next(r)
		in.out = append(in.out, in.buf[i:i+size]...)
		i += size
	}
	if run != nil {
		flush(i)
	}
	in.buf = append(in.buf[:0], in.buf[i:]...)
}

// plain reports whether r is text the editor would insert as it is.
func plain(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return r == '\t' || r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0)
}

// next is the state after r.
func (s escState) next(r rune) escState {
	switch s {
	case escNone:
		if r == 0x1b {
			return escStart
		}
	case escStart:
		switch r {
		case '[':
			return escCSI
		case 'O':
			return escSS3
		}
	case escCSI:
		if r >= 0x20 && r < 0x40 {
			return escCSI // parameters and intermediates
		}
	}
	return escNone
}

func containsRune(rs []rune, r rune) bool {
	for _, c := range rs {
		if c == r {
			return true
		}
	}
	return false
}

// take returns the run the next marker stands for.
func (in *pasteInput) take() ([]rune, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queued) == 0 {
		return nil, false
	}
	run := in.queued[0]
	in.queued = in.queued[1:]
	return run, true
}
