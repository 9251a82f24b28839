package console

import (
	"fmt"
	"strings"

	"github.com/chzyer/readline"
	"github.com/yuin/gopher-lua/parse"
)

// saveHistory keeps a chunk in the history as one entry, so that one Up recalls it whole: its
// lines joined into one line of the same Lua (oneLine), or line by line when they cannot be.
func saveHistory(rl *readline.Instance, src string) {
	src = strings.TrimRight(src, "\n")
	if strings.TrimSpace(src) == "" {
		return
	}
	lines := strings.Split(src, "\n")
	if len(lines) > 1 {
		if one, ok := oneLine(src); ok {
			rl.SaveHistory(one)
			return
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			rl.SaveHistory(l)
		}
	}
}

// oneLine writes a chunk of several lines as one line of the same Lua: each line break, with
// the spaces around it, becomes one space; a comment to the end of a line becomes a long comment
// (-- count → --[[ count ]]), a long comment's line breaks spaces, and a long string over several
// lines a quoted string with \n escapes, so that comments are kept and the values are the same.
// It reports false when it cannot (a quoted string continued over a line break, a long bracket
// never closed), or when the line does not parse.
func oneLine(src string) (string, bool) {
	var b []byte
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			b = append(trimSpaceRight(b), ' ')
			for i++; i < len(src) && (src[i] == ' ' || src[i] == '\t'); i++ {
			}
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			if level, ok := longBracket(src[i+2:]); ok {
				end := closeLong(src, i+2, level)
				if end < 0 {
					return "", false
				}
				b = append(b, strings.ReplaceAll(src[i:end], "\n", " ")...)
				i = end
				continue
			}
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			b = append(b, longComment(strings.TrimSpace(src[i+2:i+end]))...)
			i += end
		case c == '[':
			level, ok := longBracket(src[i:])
			if !ok {
				b = append(b, c)
				i++
				continue
			}
			end := closeLong(src, i, level)
			if end < 0 {
				return "", false
			}
			body := src[i+level+2 : end-level-2]
			if !strings.Contains(body, "\n") {
				b = append(b, src[i:end]...)
			} else {
				body = strings.TrimPrefix(strings.TrimPrefix(body, "\r"), "\n") // Lua skips a first line break
				b = append(b, quoteAll(body)...)
			}
			i = end
		case c == '"' || c == '\'':
			end := skipShortString(src, i)
			if end > len(src) || strings.Contains(src[i:end], "\n") || src[end-1] != c {
				return "", false
			}
			b = append(b, src[i:end]...)
			i = end
		default:
			b = append(b, c)
			i++
		}
	}
	one := strings.TrimSpace(string(b))
	if _, err := parse.Parse(strings.NewReader(one), "history"); err != nil {
		return "", false
	}
	return one, true
}

// closeLong returns the index after the close of the long bracket of level opened at src[at],
// or -1 when it is not closed.
func closeLong(src string, at, level int) int {
	body := at + level + 2
	end := strings.Index(src[body:], "]"+strings.Repeat("=", level)+"]")
	if end < 0 {
		return -1
	}
	return body + end + level + 2
}

// longComment is the comment text as a long comment, of a level its text cannot close.
func longComment(text string) string {
	eq := ""
	for strings.Contains(" "+text+" ]", "]"+eq+"]") {
		eq += "="
	}
	return "--[" + eq + "[ " + text + " ]" + eq + "]"
}

// quoteAll writes s as a quoted Lua string that reads back as s, whatever its length.
func quoteAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// trimSpaceRight drops the spaces and tabs at the end of b.
func trimSpaceRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
