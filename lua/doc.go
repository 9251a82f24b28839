// Package lua makes a gopher-lua state show a script what PUC Lua 5.4 shows it: what a script
// can see behaves as Lua 5.4, within gopher-lua's limits. Open replaces the parts of gopher-lua's
// standard library that answer otherwise (print, tostring, io, string.format, the pattern
// functions, pcall, the coroutine library, load and require's loader, math.random, os.exit, and
// the functions Lua 5.2 to 5.4 added); Load compiles a chunk as Lua 5.4's lexer reads it, within
// PUC Lua's limits, with concatenation sized against a memory budget; errors are worded as PUC
// Lua words them, culprit named (PCall, NameCulprit); Number writes a number as Lua does; the
// argument checks (ArgError, CheckInt, ...) are lauxlib's.
//
// It knows nothing of the program that embeds it.
//
// Known differences, which gopher-lua's design forces (the table test, lua54_test.go, lists
// each with its case):
//   - numbers have no integer subtype: an integral value prints as an integer (350 where Lua 5.4
//     shows 350.0), math.type calls it "integer", integers past 2^53 are not exact;
//   - no integer division (//), no bitwise operators, no <const> or <close> variables;
//   - coroutine.yield cannot cross a pcall (gopher-lua cannot resume a Go function);
//   - __eq is called only when both operands have the same one (Lua 5.1's rule, in the VM);
//   - next does not refuse a key that is not in the table;
//   - precompiled chunks do not load, PUC Lua's nor gopher-lua's (string.dump refuses every
//     function, as Lua 5.4 refuses a C one);
//   - the data stack holds 5120 values, not a million: a call with more results (table.unpack,
//     string.byte, string.unpack, utf8.codepoint) fails with Lua's error for it.
package lua
