package lua

import (
	"math"
	"math/rand/v2"

	glua "github.com/yuin/gopher-lua"
)

// fixRandom replaces math.random and math.randomseed: gopher-lua's use Go's global generator,
// whose Seed is a no-op since Go 1.24, so math.randomseed(42) would not make a run repeatable.
// These keep one generator per Lua state, seeded at random until the script seeds it.
func fixRandom(L *glua.LState) {
	mathTable, ok := L.GetGlobal("math").(*glua.LTable)
	if !ok {
		return
	}
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	mathTable.RawSetString("randomseed", L.NewFunction(func(L *glua.LState) int {
		seed := uint64(int64(args{L, "randomseed"}.number(1)))
		rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		return 0
	}))
	mathTable.RawSetString("random", L.NewFunction(func(L *glua.LState) int {
		switch L.GetTop() {
		case 0:
			L.Push(glua.LNumber(rng.Float64()))
		case 1:
			a := args{L, "random"}
			m := int64(a.int(1))
			if m < 1 {
				a.argError(1, "interval is empty")
			}
			L.Push(glua.LNumber(rng.Int64N(m) + 1))
		case 2:
			a := args{L, "random"}
			m, n := int64(a.int(1)), int64(a.int(2))
			if m > n {
				a.argError(1, "interval is empty") // lua5.4 (5.4.4) names the first
			}
			// n-m+1 may not fit an int64 (math.random(-2^62, 2^62)); as uint64 it always does,
			// save the whole range, where every uint64 is a draw.
			span := uint64(n) - uint64(m)
			var r uint64
			if span == math.MaxUint64 {
				r = rng.Uint64()
			} else {
				r = rng.Uint64N(span + 1)
			}
			L.Push(glua.LNumber(m + int64(r)))
		default:
			L.RaiseError("wrong number of arguments")
		}
		return 1
	}))
}
