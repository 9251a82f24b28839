package console

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSandbox keeps a fuzzed session on this machine and in this process: datagrams may go to
// loopback only (a fuzzed line could name any address), and what would run programs, touch files,
// read the test's stdin or take its signals is removed.
const fuzzSandbox = `
	local function local_only(host)
		if type(host) == "table" then
			if host.family == AF_UNSPEC then return end
			host = host.addr
		end
		if type(host) ~= "string" or not (host:match("^127%.%d+%.%d+%.%d+$") or host == "::1" or host == "localhost") then
			error("sandbox: loopback only", 3)
		end
	end
	local real_connect, real_sendto = connect, sendto
	connect = function(s, host, ...) local_only(host) return real_connect(s, host, ...) end
	sendto = function(s, data, host, ...) local_only(host) return real_sendto(s, data, host, ...) end
	local methods = getmetatable(socket(AF_INET, SOCK_DGRAM)).__index
	methods.connect, methods.sendto = connect, sendto
	for _, name in ipairs({"require", "dofile", "loadfile", "signal", "wire", "trace", "run", "bg", "stop", "diagram"}) do _G[name] = nil end
	for _, name in ipairs({"execute", "remove", "rename", "tmpname", "getenv", "setenv"}) do os[name] = nil end
	for _, name in ipairs({"open", "popen", "read", "lines", "input", "output"}) do io[name] = nil end
`

// FuzzConsoleLine runs arbitrary console input through a session as the console does: each line
// through the chunk reader, each complete chunk evaluated and shown, Tab completion of every
// prefix. Whatever the input, nothing panics (a panic would crash the fuzzer), no error carries
// Go runtime text, and every chunk ends (each runs under a deadline).
func FuzzConsoleLine(f *testing.F) {
	for _, seed := range []string{
		"1+1", "s = socket(AF_INET, SOCK_DGRAM)", "s:", "s:getso", "x.y.z:", "string.fo", "nothing:",
		"for i = 1, 3 do\nprint(i)\nend", "t = {", "}", "[[", "--[==[", "'unfinished", "=2*3",
		"setmetatable({}, {__tostring = function() error('boom') end})", "while true do end",
		"coroutine.wrap(function() coroutine.yield(1) end)()", "string.format('%d', s)",
		"string.rep('x', 1e12)", "load('return ' .. string.rep('not ', 1e4) .. 'x')",
		"sendto(socket(AF_INET, SOCK_DGRAM), 'g1', '127.0.0.1', 9)", "os.exit(3)", "fatal(1, 111, 'x')",
		"help(AF_INET)", "recv(socket(AF_INET, SOCK_DGRAM), 10, MSG_DONTWAIT)", "\x00\xff:",
	} {
		f.Add(seed)
	}
	var stdout, stderr bytes.Buffer
	s := New(Options{Stdout: &stdout, Stderr: &stderr, Version: "fuzz", MemoryLimit: 64 << 20})
	s.exitHook = func(int) {} // os.exit, fatal: the session goes on (its sockets closed)
	defer s.Close()
	if err := s.RunChunk(fuzzSandbox); err != nil {
		f.Fatal(err)
	}
	c := &completer{L: s.L}
	f.Fuzz(func(t *testing.T, input string) {
		if !utf8.ValidString(input) {
			return // the line editor hands over runes
		}
		// A chunk that ignores its deadline would hang the fuzzer without naming the input: past
		// a generous bound, crash the worker instead, so that the input is kept as a failure.
		watchdog := time.AfterFunc(fuzzHang, func() { panic(fmt.Sprintf("input ran for over %v: %q", fuzzHang, input)) })
		defer watchdog.Stop()
		var chunks chunkReader
		for _, line := range strings.Split(input, "\n") {
			runes := []rune(line)
			for i := 0; i <= len(runes); i++ {
				c.Do(runes, i)
			}
			src, complete := chunks.add(line)
			if !complete {
				continue
			}
			ctx := s.chunk.start()
			deadline := time.AfterFunc(20*time.Millisecond, func() { s.chunk.cancel(errFuzzDeadline) })
			err := s.eval(ctx, src)
			deadline.Stop()
			s.chunk.stop()
			if err != nil {
				checkNoGoText(t, err.Error())
			}
		}
		checkNoGoText(t, stderr.String())
		stdout.Reset()
		stderr.Reset()
	})
}

var errFuzzDeadline = errors.New("fuzz: deadline")

// fuzzHang is how long an input may run, all its chunks' deadlines included, on a loaded machine.
const fuzzHang = 30 * time.Second

// checkNoGoText fails t when text holds what Go prints when it panics.
func checkNoGoText(t *testing.T, text string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic:", "internal error", "runtime error", "[signal "} {
		if strings.Contains(text, bad) {
			t.Fatalf("Go runtime text %q in %q", bad, text)
		}
	}
}
