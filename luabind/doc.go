// Package luabind turns package sock into Lua: globals named after the BSD socket calls (socket,
// bind, connect, send, sendto, recv, recvfrom, ...), the same functions as methods of a socket
// value (s:send("g1")), a "sock" module holding them all, and the constants of the lesson
// (AF_INET, SO_BROADCAST, ECONNREFUSED, ...).
//
// Conventions, as in luaposix and gopher-lua's own libraries: misuse raises PUC Lua's standard
// "bad argument #N to 'name' (...)" error; a failed system call returns nil, the C error text and
// the errno (nil, "Connection refused", 111); success of bind, connect, close and setsockopt
// returns 0. Blocking calls take their context from the Lua state, so cancelling it (Ctrl-C in the
// REPL) wakes them.
//
// luabind makes no system calls of its own: everything goes through sock. What makes the rest
// of the standard library PUC Lua 5.4's is package lua's.
package luabind
