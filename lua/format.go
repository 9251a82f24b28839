package lua

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// formatCall is string.format(fmt, ...) as PUC Lua 5.4 does it, in place of gopher-lua's, which
// hands the format to Go's fmt: that printed "&{...}" for a socket given to %d and
// "%!s(MISSING)" for a missing argument, and took any width (a huge one exhausted memory). Here
// each conversion checks its argument and its flags as lstrlib.c does ("bad argument #2 to
// 'format' (number expected, got socket)"), widths and precisions have at most two digits, and
// numbers print as C prints them.
func formatCall(L *glua.LState) int {
	a := args{L, "format"}
	f := a.string(1)
	var out strings.Builder
	arg := 1
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			out.WriteByte(c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			out.WriteByte('%')
			continue
		}
		spec, conv, next := parseSpec(L, f, i)
		i = next
		arg++
		if arg > L.GetTop() {
			a.argError(arg, "no value")
		}
		out.WriteString(formatOne(a, arg, spec, conv))
	}
	L.Push(glua.LString(out.String()))
	return 1
}

// formatSpec is one conversion's flags, width and precision.
type formatSpec struct {
	flags     string
	width     int
	precision int  // -1: none
	modified  bool // anything between '%' and the conversion
}

// conversionFlags are the flags each conversion takes (lstrlib.c's L_FMTFLAGS*), and whether
// it takes a precision.
var conversionFlags = map[byte]struct {
	flags     string
	precision bool
}{
	'c': {"-", false}, 'p': {"-", false}, 's': {"-", true},
	'd': {"-+ 0", true}, 'i': {"-+ 0", true}, 'u': {"-0", true},
	'o': {"-#0", true}, 'x': {"-#0", true}, 'X': {"-#0", true},
	'a': {"-+ #0", true}, 'A': {"-+ #0", true}, 'e': {"-+ #0", true}, 'E': {"-+ #0", true},
	'f': {"-+ #0", true}, 'F': {"-+ #0", true}, 'g': {"-+ #0", true}, 'G': {"-+ #0", true},
	'q': {"", false},
}

// parseSpec reads "[flags][width][.precision]conv" at f[i:] as lstrlib.c's getformat and
// checkformat do, raising their errors; next is the index of the conversion character.
func parseSpec(L *glua.LState, f string, i int) (spec formatSpec, conv byte, next int) {
	span := i
	for span < len(f) && strings.IndexByte("-+ #0123456789.", f[span]) >= 0 {
		span++
	}
	if span-i+1 >= 32-10 {
		L.RaiseError("invalid format string to 'format'")
	}
	form := "%" + f[i:min(span+1, len(f))]
	if span >= len(f) {
		L.RaiseError("invalid conversion '%s' to 'format'", form)
	}
	conv = f[span]
	allowed, ok := conversionFlags[conv]
	if !ok {
		L.RaiseError("invalid conversion '%s' to 'format'", form)
	}
	spec.precision = -1
	spec.modified = span > i
	if conv == 'q' {
		if spec.modified {
			L.RaiseError("%s", "specifier '%q' cannot have modifiers")
		}
		return spec, conv, span
	}
	j := i
	for j < span && strings.IndexByte(allowed.flags, f[j]) >= 0 {
		j++
	}
	spec.flags = f[i:j]
	digits := func() int {
		s := j
		for j < span && j-s < 2 && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(f[s:j])
		return n
	}
	if j < span && f[j] != '0' {
		spec.width = digits()
		if j < span && f[j] == '.' && allowed.precision {
			j++
			spec.precision = digits()
		}
	}
	if j != span {
		L.RaiseError("invalid conversion specification: '%s'", form)
	}
	return spec, conv, span
}

// formatOne formats argument n by conversion conv.
func formatOne(a args, n int, spec formatSpec, conv byte) string {
	switch conv {
	case 'c':
		return pad(string([]byte{byte(a.integer(n))}), spec)
	case 'd', 'i':
		v := a.integer(n)
		magnitude := uint64(v)
		if v < 0 {
			magnitude = -magnitude
		}
		return pad(withSign(strconv.FormatUint(magnitude, 10), v < 0, spec), spec)
	case 'u', 'o', 'x', 'X':
		u := uint64(a.integer(n))
		base := map[byte]int{'u': 10, 'o': 8, 'x': 16, 'X': 16}[conv]
		s := zeroExtend(strconv.FormatUint(u, base), spec.precision)
		if strings.Contains(spec.flags, "#") && u != 0 && conv != 'u' {
			s = map[byte]string{'o': "0", 'x': "0x", 'X': "0X"}[conv] + s
		}
		if conv == 'X' {
			s = strings.ToUpper(s)
		}
		return pad(s, spec)
	case 'a', 'A', 'e', 'E', 'f', 'F', 'g', 'G':
		return pad(formatFloat(a.number(n), spec, conv), spec)
	case 'q':
		return quoteValue(a, n)
	case 'p':
		return pad(pointer(a.L.Get(n)), spec)
	}
	s := ToString(a.L, a.L.Get(n))
	if !spec.modified {
		return s
	}
	if strings.IndexByte(s, 0) >= 0 {
		a.argError(n, "string contains zeros")
	}
	if spec.precision >= 0 && len(s) > spec.precision {
		s = s[:spec.precision]
	}
	return pad(s, spec)
}

// pointer is %p of v: the address of a table, function, thread, userdata or string, "(null)" for
// a value that has none (lua_topointer).
func pointer(v glua.LValue) string {
	switch v := v.(type) {
	case glua.LString:
		if v == "" {
			return "(null)"
		}
		return fmt.Sprintf("%p", unsafe.StringData(string(v)))
	case *glua.LTable, *glua.LFunction, *glua.LState, *glua.LUserData:
		return fmt.Sprintf("%p", v)
	}
	return "(null)"
}

// integer reads argument n as an integer, as format's %d does.
func (a args) integer(n int) int64 {
	return int64(a.int(n))
}

// zeroExtend pads digits with zeros to precision, as C's %.5d does.
func zeroExtend(digits string, precision int) string {
	if len(digits) < precision {
		return strings.Repeat("0", precision-len(digits)) + digits
	}
	return digits
}

// withSign prefixes digits with its sign, or with the '+' or ' ' the flags ask for.
func withSign(digits string, negative bool, spec formatSpec) string {
	digits = zeroExtend(digits, spec.precision)
	switch {
	case negative:
		return "-" + digits
	case strings.Contains(spec.flags, "+"):
		return "+" + digits
	case strings.Contains(spec.flags, " "):
		return " " + digits
	}
	return digits
}

// formatFloat formats f as C's %e, %f, %g or %a do: six digits by default, inf and nan in
// lower case (upper for the upper-case conversions).
func formatFloat(f float64, spec formatSpec, conv byte) string {
	upper := conv >= 'A' && conv <= 'Z'
	var s string
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		s = "inf"
		if math.IsNaN(f) {
			s = "nan"
		}
		s = withSign(s, math.Signbit(f), formatSpec{flags: spec.flags, precision: -1})
	case conv == 'a' || conv == 'A':
		s = strconv.FormatFloat(math.Abs(f), 'x', spec.precision, 64)
		if i := strings.IndexAny(s, "+-"); i > 0 && s[i+1] == '0' && i+2 < len(s) {
			s = s[:i+1] + s[i+2:] // C writes p+1, Go p+01
		}
		s = withSign(s, math.Signbit(f), formatSpec{flags: spec.flags, precision: -1})
	default:
		prec := spec.precision
		if prec < 0 {
			prec = 6
		}
		verb := conv | 0x20 // lower case
		if verb == 'g' {
			s = cStyleG(math.Abs(f), max(prec, 1), strings.Contains(spec.flags, "#"))
		} else {
			s = strconv.FormatFloat(math.Abs(f), verb, prec, 64)
		}
		if verb != 'f' {
			s = cExponent(s)
		}
		s = withSign(s, math.Signbit(f), formatSpec{flags: spec.flags, precision: -1})
	}
	if upper {
		s = strings.ToUpper(s)
	}
	if strings.Contains(spec.flags, "0") && !strings.Contains(spec.flags, "-") && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return zeroPad(s, spec.width)
	}
	return s
}

// cStyleG formats f as C's %g with precision prec: %e or %f, whichever C would pick, without
// trailing zeros unless alt ('#').
func cStyleG(f float64, prec int, alt bool) string {
	exp := 0
	if f != 0 {
		e := strconv.FormatFloat(f, 'e', prec-1, 64)
		exp, _ = strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	}
	var s string
	if exp < -4 || exp >= prec {
		s = strconv.FormatFloat(f, 'e', prec-1, 64)
	} else {
		s = strconv.FormatFloat(f, 'f', prec-1-exp, 64)
	}
	if !alt {
		mant, e, hasExp := strings.Cut(s, "e")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		s = mant
		if hasExp {
			s += "e" + e
		}
	}
	return s
}

// cExponent writes an exponent with at least two digits, as C does: 1e+06, not 1e+6.
func cExponent(s string) string {
	i := strings.IndexByte(s, 'e')
	if i < 0 || len(s) < i+3 {
		return s
	}
	digits := s[i+2:]
	if len(digits) < 2 {
		digits = "0" + digits
	}
	return s[:i+2] + digits
}

// zeroPad pads a signed number with zeros after its sign to width.
func zeroPad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	sign := ""
	if s != "" && strings.IndexByte("+- ", s[0]) >= 0 {
		sign, s = s[:1], s[1:]
	}
	return sign + strings.Repeat("0", width-len(sign)-len(s)) + s
}

// pad fills s to the spec's width with spaces: on the left, or on the right with '-'; with
// zeros for a number when the '0' flag is set.
func pad(s string, spec formatSpec) string {
	if len(s) >= spec.width {
		return s
	}
	if strings.Contains(spec.flags, "-") {
		return s + strings.Repeat(" ", spec.width-len(s))
	}
	if strings.Contains(spec.flags, "0") && spec.precision < 0 && s != "" && strings.IndexByte("+- 0123456789", s[0]) >= 0 {
		return zeroPad(s, spec.width)
	}
	return strings.Repeat(" ", spec.width-len(s)) + s
}

// quoteValue is %q: a string as a Lua literal that reads back to the same bytes; a number, nil
// or boolean as its literal.
func quoteValue(a args, n int) string {
	switch v := a.L.Get(n).(type) {
	case glua.LString:
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString("\\\n")
			case c == 0 || c < 0x20 || c == 0x7f:
				if i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9' {
					b.WriteString("\\" + zeroExtend(strconv.Itoa(int(c)), 3))
				} else {
					b.WriteString("\\" + strconv.Itoa(int(c)))
				}
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		return b.String()
	case glua.LNumber:
		f := float64(v)
		switch {
		case f == math.Trunc(f) && math.Abs(f) < 1<<63:
			return strconv.FormatInt(int64(f), 10)
		case math.IsInf(f, 1):
			return "1e9999"
		case math.IsInf(f, -1):
			return "-1e9999"
		case math.IsNaN(f):
			return "(0/0)"
		}
		return formatFloat(f, formatSpec{precision: -1}, 'a')
	case glua.LBool, *glua.LNilType:
		return v.String()
	}
	a.argError(n, "value has no literal form")
	return ""
}
