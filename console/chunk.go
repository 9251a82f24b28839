package console

import (
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// chunkReader gathers input lines into chunks: a chunk is complete when it parses, or when its
// parse error is anywhere but at the end of input (the error is then reported when it runs).
//
// Asking the parser after every line would make a long chunk quadratic: a 5,000-line table
// literal would be parsed 5,000 times. So each line is first scanned once, carrying from line to
// line how deep the brackets and blocks are open and whether a long string or comment is open;
// the parser is asked only when the scan finds nothing left open.
type chunkReader struct {
	pending strings.Builder
	scan    scanState
	parses  int // how often the parser was asked: what keeps a long chunk linear
}

// add appends line (without its newline) and returns the chunk when it is complete.
func (r *chunkReader) add(line string) (chunk string, complete bool) {
	r.pending.WriteString(line)
	r.pending.WriteByte('\n')
	r.scan.line(line)
	src := r.pending.String()
	if strings.TrimSpace(src) == "" {
		r.reset()
		return "", false
	}
	if r.scan.open() {
		return "", false
	}
	r.parses++
	if incomplete(src) {
		return "", false
	}
	r.reset()
	return src, true
}

// rest returns what is pending, for the end of input, and forgets it.
func (r *chunkReader) rest() string {
	src := r.pending.String()
	r.reset()
	return src
}

// empty reports whether no line is pending.
func (r *chunkReader) empty() bool { return r.pending.Len() == 0 }

func (r *chunkReader) reset() {
	r.pending.Reset()
	r.scan = scanState{}
}

// incomplete reports whether src is a chunk cut short: it parses neither as an expression nor as
// statements, and the parser stopped at the end of input.
func incomplete(src string) bool {
	src = strings.TrimPrefix(src, "=")
	if _, err := parse.Parse(strings.NewReader("return "+src), "stdin"); err == nil {
		return false
	}
	_, err := parse.Parse(strings.NewReader(src), "stdin")
	return atEOF(err)
}

// atEOF reports whether err is a syntax error at the end of input.
func atEOF(err error) bool {
	var perr *parse.Error
	if api, ok := err.(*lua.ApiError); ok {
		err = api.Cause
	}
	return errors.As(err, &perr) && perr.Pos.Line == parse.EOF
}

// scanState is what a chunk's lines leave open: brackets and blocks (depth), a long string or
// comment (longLevel is the number of '=' of its opening bracket, -1 when none is open), a
// quoted string whose line ended in an escaped newline (a backslash, or \z: quote is its quote
// character, 0 when none).
type scanState struct {
	depth     int
	inLong    bool
	longLevel int
	quote     byte
	zap       bool // the open string's \z skips the next line's leading spaces
}

// open reports whether the lines so far leave something open that a later line must close, so
// that the chunk cannot be complete yet. A depth below zero is a syntax error: not open.
func (s *scanState) open() bool { return s.inLong || s.depth > 0 || s.quote != 0 }

// blockOpeners and blockClosers are the keywords that open and close a block; while and for
// open theirs with do, if with if (then, elseif and else are inside it).
var (
	blockOpeners = map[string]bool{"function": true, "do": true, "if": true, "repeat": true}
	blockClosers = map[string]bool{"end": true, "until": true}
)

// line scans one line, tracking what it opens and closes.
func (s *scanState) line(l string) {
	i := 0
	if s.quote != 0 {
		i = s.shortString(l, 0, s.quote)
	}
	if s.inLong {
		end := strings.Index(l, "]"+strings.Repeat("=", s.longLevel)+"]")
		if end < 0 {
			return
		}
		s.inLong = false
		i = end + s.longLevel + 2
	}
	for i < len(l) {
		c := l[i]
		switch {
		case c == '-' && strings.HasPrefix(l[i:], "--"):
			if level, ok := longBracket(l[i+2:]); ok {
				i = s.openLong(l, i+2, level)
				continue
			}
			return // a comment to the end of the line
		case c == '[':
			if level, ok := longBracket(l[i:]); ok {
				i = s.openLong(l, i, level)
				continue
			}
			s.depth++
			i++
		case c == '"' || c == '\'':
			i = s.shortString(l, i+1, c)
		case c == '(' || c == '{':
			s.depth++
			i++
		case c == ')' || c == '}' || c == ']':
			s.depth--
			i++
		case isNameStart(c):
			j := i
			for j < len(l) && isNameByte(l[j]) {
				j++
			}
			switch word := l[i:j]; {
			case blockOpeners[word]:
				s.depth++
			case blockClosers[word]:
				s.depth--
			}
			i = j
		default:
			i++
		}
	}
}

// openLong enters the long string or comment whose bracket of level starts at l[at], and returns
// where scanning goes on: after its close on the same line, or the end of the line.
func (s *scanState) openLong(l string, at, level int) int {
	body := at + level + 2
	end := strings.Index(l[body:], "]"+strings.Repeat("=", level)+"]")
	if end < 0 {
		s.inLong, s.longLevel = true, level
		return len(l)
	}
	return body + end + level + 2
}

// longBracket reports whether s starts with a long bracket, [[ or [==[, and its level.
func longBracket(s string) (int, bool) {
	if !strings.HasPrefix(s, "[") {
		return 0, false
	}
	level := 0
	for level+1 < len(s) && s[level+1] == '=' {
		level++
	}
	if level+1 < len(s) && s[level+1] == '[' {
		return level, true
	}
	return 0, false
}

// shortString scans a quoted string of l from i, inside it, to its closing quote, and returns
// where scanning goes on. A line that ends in an escaped newline (a backslash last, or a \z with
// only spaces after it) leaves the string open for the next line (s.quote); one that ends
// otherwise inside it is an unfinished string, which the parser reports.
func (s *scanState) shortString(l string, i int, quote byte) int {
	s.quote = 0
	if s.zap {
		s.zap = false
		for i < len(l) && strings.IndexByte(" \t\f\v\r", l[i]) >= 0 {
			i++
		}
	}
	for ; i < len(l); i++ {
		switch l[i] {
		case '\\':
			switch {
			case i+1 == len(l):
				s.quote = quote // a backslash and newline: a newline in the string
				return len(l)
			case l[i+1] == 'z' && strings.TrimLeft(l[i+2:], " \t\f\v\r") == "":
				s.quote, s.zap = quote, true
				return len(l)
			}
			i++
		case quote:
			return i + 1
		}
	}
	return len(l)
}

// skipShortString returns the index after the quoted string starting at l[i], or the end of the
// line when it is not closed there (the parser then has the last word).
func skipShortString(l string, i int) int {
	quote := l[i]
	for i++; i < len(l); i++ {
		switch l[i] {
		case '\\':
			i++
		case quote:
			return i + 1
		}
	}
	return len(l)
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }
