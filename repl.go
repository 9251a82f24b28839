package main

import (
	"bufio"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// repl runs the console on stdin. When stdin is not a terminal, each complete chunk is run as it
// is read, with no prompt; the exit status is 1 if any chunk raised an error.
func (s *session) repl(stdin io.Reader) int {
	return s.batch(stdin)
}

// batch runs stdin chunk by chunk: lines are gathered until they make a complete chunk.
func (s *session) batch(stdin io.Reader) int {
	status := 0
	r := bufio.NewReader(stdin)
	var pending strings.Builder
	for {
		line, err := r.ReadString('\n')
		pending.WriteString(line)
		if src := pending.String(); strings.TrimSpace(src) != "" && (err != nil || !incomplete(src)) {
			pending.Reset()
			if rerr := s.eval(src); rerr != nil {
				s.report(rerr)
				status = 1
			}
		}
		if err != nil {
			return status
		}
	}
}

// incomplete reports whether src is a chunk cut short: it does not compile, and the parser
// complains of an unexpected end of input.
func incomplete(src string) bool {
	if _, err := compile(src); err != nil {
		return strings.Contains(err.Error(), "EOF")
	}
	return false
}

func compile(src string) (*lua.LFunction, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	return L.LoadString(src)
}

// eval runs one chunk of console input, "return <src>" first so that an expression prints its
// values, as Lua 5.4's console does.
func (s *session) eval(src string) error {
	L := s.L
	src = strings.TrimPrefix(src, "=")
	fn, err := L.LoadString("return " + src)
	if err != nil {
		fn, err = L.LoadString(src)
		if err != nil {
			return err
		}
	}
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		return err
	}
	n := L.GetTop() - top
	if n > 0 {
		parts := make([]string, n)
		for i := 0; i < n; i++ {
			parts[i] = L.ToStringMeta(L.Get(top + 1 + i)).String()
		}
		L.Pop(n)
		io.WriteString(s.stdout, strings.Join(parts, "\t")+"\n")
	}
	return nil
}
