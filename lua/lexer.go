package lua

import (
	"fmt"
	"strings"
)

// gopher-lua's lexer is Lua 5.1's: it knows no \x, \z or \u{} escapes in strings (it keeps
// "\x41" as "x41"), takes any escape it does not know for the character itself, reads
// "1..2" as 1. and .2, and words its errors its own way. rewriteLexemes reads the source as Lua
// 5.4's lexer does first: it replaces the escapes gopher-lua lacks by the decimal escapes it has
// (keeping every token on its line), and stops at what Lua 5.4's lexer refuses, with its
// message ("invalid escape sequence near '"a\q'", "malformed number near '1..2'",
// "unfinished string near '"abc'").

// lexError is a chunk Lua 5.4's lexer refuses.
type lexError struct {
	line int
	msg  string // with its "near ..."
}

// rewriteLexemes returns src with its strings' escapes in gopher-lua's terms, or the first
// error Lua 5.4's lexer would report.
func rewriteLexemes(src string) (string, *lexError) {
	var out strings.Builder
	out.Grow(len(src))
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			out.WriteByte(c)
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			j := i + 2
			if level, ok := longBracket(src, j); ok {
				end := strings.Index(src[j+level+2:], "]"+strings.Repeat("=", level)+"]")
				if end < 0 {
					return "", &lexError{line, fmt.Sprintf("unfinished long comment (starting at line %d) near <eof>", line)}
				}
				j += level + 2 + end + level + 2
			} else {
				for j < len(src) && src[j] != '\n' {
					j++
				}
			}
			line += strings.Count(src[i:j], "\n")
			out.WriteString(src[i:j])
			i = j
		case c == '[':
			level, ok := longBracket(src, i)
			if !ok {
				out.WriteByte(c)
				i++
				break
			}
			end := strings.Index(src[i+level+2:], "]"+strings.Repeat("=", level)+"]")
			if end < 0 {
				return "", &lexError{line, fmt.Sprintf("unfinished long string (starting at line %d) near <eof>", line)}
			}
			j := i + level + 2 + end + level + 2
			line += strings.Count(src[i:j], "\n")
			out.WriteString(src[i:j])
			i = j
		case c == '"' || c == '\'':
			j, lines, err := rewriteString(src, i, line, &out)
			if err != nil {
				return "", err
			}
			line += lines
			i = j
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			j := numeralEnd(src, i)
			if _, err := ParseNumber(src[i:j]); err != nil {
				return "", &lexError{line, "malformed number near '" + src[i:j] + "'"}
			}
			out.WriteString(src[i:j])
			i = j
		case isAlpha(c):
			j := i
			for j < len(src) && (isAlpha(src[j]) || isDigit(src[j])) {
				j++
			}
			out.WriteString(src[i:j])
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isHex(c byte) bool   { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// longBracket says whether src[i:] opens a long bracket ([[, [=[, ...), and its level.
func longBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	return j - i - 1, j < len(src) && src[j] == '['
}

// numeralEnd is where the numeral at src[i:] ends, read as Lua 5.4's read_numeral reads it:
// hexadecimal digits, dots, exponent marks with their sign, and a letter touching it.
func numeralEnd(src string, i int) int {
	expo := "Ee"
	j := i
	if strings.HasPrefix(src[i:], "0x") || strings.HasPrefix(src[i:], "0X") {
		expo = "Pp"
		j += 2
	}
	for j < len(src) {
		switch c := src[j]; {
		case strings.IndexByte(expo, c) >= 0:
			j++
			if j < len(src) && (src[j] == '+' || src[j] == '-') {
				j++
			}
		case isHex(c) || c == '.':
			j++
		default:
			if isAlpha(c) {
				j++
			}
			return j
		}
	}
	return j
}

// rewriteString copies the quoted string at src[i:] to out with the escapes gopher-lua lacks
// replaced by decimal ones, and newlines skipped by \z put after it; it returns where the string
// ends and how many lines it spans.
func rewriteString(src string, i, line int, out *strings.Builder) (int, int, *lexError) {
	quote := src[i]
	var body strings.Builder
	body.WriteByte(quote)
	skipped := 0 // newlines a \z skipped
	escaped := 0 // newlines escaped with \
	near := func(j int) string { return src[i:min(j, len(src))] }
	fail := func(msg string, j int) (int, int, *lexError) {
		return 0, 0, &lexError{line, msg + " near '" + near(j) + "'"}
	}
	j := i + 1
	for {
		if j >= len(src) {
			return 0, 0, &lexError{line, "unfinished string near <eof>"}
		}
		c := src[j]
		switch {
		case c == quote:
			body.WriteByte(c)
			out.WriteString(body.String())
			out.WriteString(strings.Repeat("\n", skipped))
			return j + 1, skipped + escaped, nil
		case c == '\n' || c == '\r':
			return fail("unfinished string", j)
		case c != '\\':
			body.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(src) {
			return 0, 0, &lexError{line, "unfinished string near <eof>"}
		}
		e := src[j+1]
		switch {
		case strings.IndexByte("abfnrtv\\\"'", e) >= 0:
			body.WriteString(src[j : j+2])
			j += 2
		case e == '\n' || e == '\r':
			body.WriteString(src[j : j+2]) // a newline in the string, as gopher-lua reads it too
			escaped++
			j += 2
		case e == 'x':
			if j+2 >= len(src) || !isHex(src[j+2]) {
				return fail("hexadecimal digit expected", j+3)
			}
			if j+3 >= len(src) || !isHex(src[j+3]) {
				return fail("hexadecimal digit expected", j+4)
			}
			var v int
			fmt.Sscanf(src[j+2:j+4], "%x", &v)
			fmt.Fprintf(&body, "\\%03d", v)
			j += 4
		case e == 'z':
			j += 2
			for j < len(src) && strings.IndexByte(" \t\n\r\f\v", src[j]) >= 0 {
				if src[j] == '\n' {
					skipped++
				}
				j++
			}
		case e == 'u':
			k := j + 2
			if k >= len(src) || src[k] != '{' {
				return fail("missing '{' in \\u{xxxx}", k+1)
			}
			k++
			code := 0
			start := k
			for k < len(src) && isHex(src[k]) {
				var d int
				fmt.Sscanf(src[k:k+1], "%x", &d)
				code = code<<4 | d
				if code > 0x7FFFFFFF {
					return fail("UTF-8 value too large", k+1)
				}
				k++
			}
			if k == start {
				return fail("hexadecimal digit expected", k+1)
			}
			if k >= len(src) || src[k] != '}' {
				return fail("missing '}' in \\u{xxxx}", k+1)
			}
			for _, b := range []byte(utf8Encode(code)) {
				fmt.Fprintf(&body, "\\%03d", b)
			}
			j = k + 1
		case isDigit(e):
			k := j + 1
			v := 0
			for k < len(src) && k < j+4 && isDigit(src[k]) {
				v = v*10 + int(src[k]-'0')
				k++
			}
			if v > 255 {
				return fail("decimal escape too large", k+1)
			}
			fmt.Fprintf(&body, "\\%03d", v)
			j = k
		default:
			return fail("invalid escape sequence", j+2)
		}
	}
}
