package lua

import (
	"bytes"
	"math"
	"testing"
)

// Numbers become text as Lua 5.4 writes them (each line checked against lua5.4), wherever they
// do: print, tostring, .., io.write, %s, table.concat, a string function given a number.
func TestNumbersAsLua54Writes(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`print(0.1 + 0.2, 1/3, math.pi, 1/0, -1/0, -0.0)`, "0.3\t0.33333333333333\t3.1415926535898\tinf\t-inf\t-0.0\n"},
		{`print(tostring(2/3), 1/3 .. "|" .. 1e100, 12345678901234.6, 1e15 + 0.5)`, "0.66666666666667\t0.33333333333333|1e+100\t12345678901235.0\t1e+15\n"},
		{`io.write(0.1 + 0.2, " ", -1/3, "\n")`, "0.3 -0.33333333333333\n"},
		{`print(string.format("%s|%5.3s", 1/3, 1/0), table.concat({0.1 * 3, 2}, ","))`, "0.33333333333333|  inf\t0.3,2\n"},
		{`print(string.len(1/3), string.upper(-1/0), math.huge, -math.huge)`, "16\t-INF\tinf\t-inf\n"},
		{`print(0/0 ~= 0/0, 100, -7, 2^31 + 0.5, 5e-324)`, "true\t100\t-7\t2147483648.5\t4.9406564584125e-324\n"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		if err := runChunk(L, tc.code); err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if out.String() != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.code, out.String(), tc.want)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{
		0.1: "0.1", 1e100: "1e+100", -2.5: "-2.5", 1e14 + 0.25: "1e+14", math.Copysign(0, -1): "-0.0",
		math.NaN(): "nan", math.Copysign(math.NaN(), -1): "-nan", 9007199254740992: "9007199254740992",
		1 << 63: "9.2233720368548e+18", -(1 << 63): "-9223372036854775808",
	} {
		if got := Number(f); got != want {
			t.Errorf("Number(%v) = %q, want %q", f, got, want)
		}
	}
}
