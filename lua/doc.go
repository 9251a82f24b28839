// Package lua makes a gopher-lua state show a script what PUC Lua 5.4 shows it: what a script
// can see behaves as Lua 5.4, within gopher-lua's limits. Open replaces the parts of gopher-lua's
// standard library that answer otherwise (print, io, string.format, string.rep, table.concat,
// load and require's loader, coroutines, math.random, os.exit); Load compiles a chunk within
// PUC Lua's limits, with concatenation sized against a memory budget; NameCulprit words a
// runtime error as PUC Lua does; the argument checks (ArgError, CheckInt, ...) are lauxlib's.
//
// It knows nothing of the program that embeds it.
//
// Known differences, which gopher-lua's design forces:
//   - numbers have no integer subtype: 350 where Lua 5.4 shows 350.0, math.type and integer
//     division, overflow and wrap-around as floats;
//   - no integer division (//), no bitwise operators, no <close> or <const> variables.
package lua
