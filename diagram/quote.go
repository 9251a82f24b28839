package diagram

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quote writes s as a Lua string literal, cut after max bytes with "...". Whatever a terminal or
// a page would act on rather than show is escaped as Lua reads it back (\27, \194\133): control
// characters, C1 controls, the bidirectional overrides that would reverse the rest of a line,
// and bytes that are not UTF-8.
func Quote(s string, max int) string {
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && size <= 1, !shown(r):
			// a digit right after an escape would be read as part of it (Lua takes up to
			// three): then it has all three
			digitNext := i+size < len(s) && s[i+size] >= '0' && s[i+size] <= '9'
			for k, c := range []byte(s[i : i+size]) {
				esc := strconv.Itoa(int(c))
				if digitNext && k == size-1 {
					esc = strings.Repeat("0", 3-len(esc)) + esc
				}
				b.WriteString(`\` + esc)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if cut {
		b.WriteString("...")
	}
	b.WriteByte('"')
	return b.String()
}

// shown says a rune is shown as itself: printable, and not one that changes how the text around
// it is laid out (the bidirectional controls, which unicode.IsPrint counts as printable).
func shown(r rune) bool {
	if !unicode.IsPrint(r) {
		return false
	}
	return !unicode.Is(unicode.Bidi_Control, r) && !unicode.Is(unicode.Cf, r)
}

// cut shortens s to n runes, ending in "…" when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string([]rune(s)[:n-1]) + "…"
}
