package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// string.pack, string.packsize and string.unpack, as Lua 5.4's lstrlib.c has them, for a
// script that builds or reads a binary header (a DNS query, a timestamp in network order):
// the same format language (< > = ![n] b B h H i[n] I[n] l L j J T f d n s[n] z x X c[n] and
// spaces), the same sizes as on x86-64 Linux (int 4, long 8, size_t 8, native little-endian,
// maximum alignment 8) and the same errors. A Lua number here is a float, so an integer beyond
// 2^53 is packed and unpacked as the nearest float, as everywhere else in gopher-lua.

// maxIntSize is the largest size of an integer option (i16, I16).
const maxIntSize = 16

// intSize is the size of a Lua integer (lua_Integer: 8 bytes).
const intSize = 8

// maxPackSize is lstrlib.c's MAX_SIZE on 64-bit Linux (INT_MAX): no option, and no result, is
// longer.
const maxPackSize = math.MaxInt32

// packKind is what an option of a pack format stands for.
type packKind int

const (
	packInt      packKind = iota // signed integer
	packUint                     // unsigned integer
	packFloat                    // C float
	packNumber                   // Lua number (a double)
	packDouble                   // C double
	packChar                     // fixed-size string
	packString                   // string preceded by its length
	packZstr                     // zero-terminated string
	packPadding                  // one byte of padding
	packPadAlign                 // padding to an alignment
	packNop                      // endianness, alignment setting, space
)

// packFormat reads a pack format, option by option, keeping what the options set so far.
type packFormat struct {
	L        *glua.LState
	fmt      string
	little   bool
	maxAlign int
}

func newPackFormat(L *glua.LState, f string) *packFormat {
	return &packFormat{L: L, fmt: f, little: true, maxAlign: 1}
}

// num reads a numeral at the start of the format, or returns def if there is none.
func (p *packFormat) num(def int) int {
	if p.fmt == "" || p.fmt[0] < '0' || p.fmt[0] > '9' {
		return def
	}
	a := 0
	for p.fmt != "" && p.fmt[0] >= '0' && p.fmt[0] <= '9' && a <= (maxPackSize-9)/10 {
		a = a*10 + int(p.fmt[0]-'0')
		p.fmt = p.fmt[1:]
	}
	return a
}

// numLimit reads a size as num does and refuses one outside 1..maxIntSize.
func (p *packFormat) numLimit(def int) int {
	n := p.num(def)
	if n < 1 || n > maxIntSize {
		p.L.RaiseError("integral size (%d) out of limits [1,%d]", n, maxIntSize)
	}
	return n
}

// option reads the next option: its kind and size.
func (p *packFormat) option() (packKind, int) {
	c := p.fmt[0]
	p.fmt = p.fmt[1:]
	switch c {
	case 'b':
		return packInt, 1
	case 'B':
		return packUint, 1
	case 'h':
		return packInt, 2
	case 'H':
		return packUint, 2
	case 'l', 'j':
		return packInt, 8
	case 'L', 'J', 'T':
		return packUint, 8
	case 'f':
		return packFloat, 4
	case 'n':
		return packNumber, 8
	case 'd':
		return packDouble, 8
	case 'i':
		return packInt, p.numLimit(4)
	case 'I':
		return packUint, p.numLimit(4)
	case 's':
		return packString, p.numLimit(8)
	case 'c':
		n := p.num(-1)
		if n == -1 {
			p.L.RaiseError("missing size for format option 'c'")
		}
		return packChar, n
	case 'z':
		return packZstr, 0
	case 'x':
		return packPadding, 1
	case 'X':
		return packPadAlign, 0
	case ' ':
	case '<', '=':
		p.little = true
	case '>':
		p.little = false
	case '!':
		p.maxAlign = p.numLimit(8)
	default:
		p.L.RaiseError("invalid format option '%c'", c)
	}
	return packNop, 0
}

// next reads the next option as option does, with the padding it needs at position total to
// be aligned; fname is the function whose first argument the format is.
func (p *packFormat) next(fname string, total int) (kind packKind, size, pad int) {
	kind, size = p.option()
	align := size
	if kind == packPadAlign {
		if p.fmt == "" {
			ArgError(p.L, fname, 1, "invalid next option for option 'X'")
		}
		var k packKind
		if k, align = p.option(); k == packChar || align == 0 {
			ArgError(p.L, fname, 1, "invalid next option for option 'X'")
		}
	}
	if align <= 1 || kind == packChar {
		return kind, size, 0
	}
	if align > p.maxAlign {
		align = p.maxAlign
	}
	if align&(align-1) != 0 {
		ArgError(p.L, fname, 1, "format asks for alignment not power of 2")
	}
	return kind, size, (align - total&(align-1)) & (align - 1)
}

// putInt appends n in size bytes; bytes beyond a Lua integer's 8 repeat its sign.
func putInt(b []byte, n uint64, little bool, size int, neg bool) []byte {
	start := len(b)
	for i := 0; i < size; i++ {
		v := byte(n)
		if i >= intSize {
			v = 0
			if neg {
				v = 0xff
			}
		}
		b = append(b, v)
		n >>= 8
	}
	if !little {
		s := b[start:]
		for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
	}
	return b
}

// packCall is string.pack(fmt, v1, v2, ...).
func (rt *Runtime) packCall(L *glua.LState) int {
	a := args{L, "pack"}
	p := newPackFormat(L, a.string(1))
	L.Push(glua.LNil) // lstrlib.c's mark after the arguments: the first one missing is "got nil"
	var b []byte
	arg := 1
	for p.fmt != "" {
		kind, size, pad := p.next("pack", len(b))
		if size+pad > maxPackSize-len(b) {
			a.argError(arg, "result too long")
		}
		rt.Reserve(L, int64(len(b)+size+pad))
		for ; pad > 0; pad-- {
			b = append(b, 0)
		}
		arg++
		switch kind {
		case packInt:
			n := int64(a.int(arg))
			if size < intSize {
				lim := int64(1) << (size*8 - 1)
				if n < -lim || n >= lim {
					a.argError(arg, "integer overflow")
				}
			}
			b = putInt(b, uint64(n), p.little, size, n < 0)
		case packUint:
			n := int64(a.int(arg))
			if size < intSize && uint64(n) >= uint64(1)<<(size*8) {
				a.argError(arg, "unsigned overflow")
			}
			b = putInt(b, uint64(n), p.little, size, false)
		case packFloat:
			b = putInt(b, uint64(math.Float32bits(float32(a.number(arg)))), p.little, 4, false)
		case packNumber, packDouble:
			b = putInt(b, math.Float64bits(a.number(arg)), p.little, 8, false)
		case packChar:
			s := a.string(arg)
			if len(s) > size {
				a.argError(arg, "string longer than given size")
			}
			b = append(b, s...)
			b = append(b, make([]byte, size-len(s))...)
		case packString:
			s := a.string(arg)
			if size < 8 && uint64(len(s)) >= uint64(1)<<(size*8) {
				a.argError(arg, "string length does not fit in given size")
			}
			rt.Reserve(L, int64(len(b)+size+len(s)))
			b = putInt(b, uint64(len(s)), p.little, size, false)
			b = append(b, s...)
		case packZstr:
			s := a.string(arg)
			if strings.IndexByte(s, 0) >= 0 {
				a.argError(arg, "string contains zeros")
			}
			rt.Reserve(L, int64(len(b)+len(s)+1))
			b = append(b, s...)
			b = append(b, 0)
		case packPadding:
			b = append(b, 0)
			arg--
		default:
			arg--
		}
	}
	L.Push(glua.LString(b))
	return 1
}

// packsizeCall is string.packsize(fmt): the size of what pack makes of fmt.
func packsizeCall(L *glua.LState) int {
	a := args{L, "packsize"}
	p := newPackFormat(L, a.string(1))
	total := 0
	for p.fmt != "" {
		kind, size, pad := p.next("packsize", total)
		if kind == packString || kind == packZstr {
			a.argError(1, "variable-length format")
		}
		total += size + pad
	}
	L.Push(glua.LNumber(total))
	return 1
}

// getInt reads an integer of size bytes at the start of s.
func getInt(L *glua.LState, s string, little bool, size int, signed bool) int64 {
	var res uint64
	limit := min(size, intSize)
	for i := limit - 1; i >= 0; i-- {
		k := i
		if !little {
			k = size - 1 - i
		}
		res = res<<8 | uint64(s[k])
	}
	if size < intSize {
		if signed {
			mask := uint64(1) << (size*8 - 1)
			res = (res ^ mask) - mask
		}
	} else if size > intSize {
		var fill byte
		if signed && int64(res) < 0 {
			fill = 0xff
		}
		for i := limit; i < size; i++ {
			k := i
			if !little {
				k = size - 1 - i
			}
			if s[k] != fill {
				L.RaiseError("%d-byte integer does not fit into Lua Integer", size)
			}
		}
	}
	return int64(res)
}

// unpackCall is string.unpack(fmt, s[, pos]): the values, then the position after them.
func unpackCall(L *glua.LState) int {
	a := args{L, "unpack"}
	p := newPackFormat(L, a.string(1))
	data := a.string(2)
	pos := startAt(a.optInt(3, 1), len(data))
	if pos > len(data) || pos < 0 {
		a.argError(3, "initial position out of string")
	}
	L.SetTop(0)
	pushMany(L, "stack overflow (too many results)", func() {
		for p.fmt != "" {
			kind, size, pad := p.next("unpack", pos)
			if pad+size > len(data)-pos {
				a.argError(2, "data string too short")
			}
			pos += pad
			switch kind {
			case packInt, packUint:
				L.Push(glua.LNumber(getInt(L, data[pos:], p.little, size, kind == packInt)))
			case packFloat:
				L.Push(glua.LNumber(math.Float32frombits(uint32(getInt(L, data[pos:], p.little, 4, false)))))
			case packNumber, packDouble:
				L.Push(glua.LNumber(math.Float64frombits(uint64(getInt(L, data[pos:], p.little, 8, false)))))
			case packChar:
				L.Push(glua.LString(data[pos : pos+size]))
			case packString:
				n := uint64(getInt(L, data[pos:], p.little, size, false))
				if n > uint64(len(data)-pos-size) {
					a.argError(2, "data string too short")
				}
				L.Push(glua.LString(data[pos+size : pos+size+int(n)]))
				pos += int(n)
			case packZstr:
				n := strings.IndexByte(data[pos:], 0)
				if n < 0 {
					a.argError(2, "unfinished string for format 'z'")
				}
				L.Push(glua.LString(data[pos : pos+n]))
				pos += n + 1
			}
			pos += size
		}
		L.Push(glua.LNumber(pos + 1))
	})
	return L.GetTop()
}
