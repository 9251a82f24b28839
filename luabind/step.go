package luabind

import (
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/diagram"
	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

// Step mode (udplab --step, step(true)): before each socket call the run pauses and shows the call
// about to run, as the script wrote it ("recv(client, 100)", the socket by the name label gave
// it), so that a class can say what the kernel will answer before it does. The host (the console)
// shows it and reads the answer: run it, run on to the next section, or quit. The pause is hooked
// in guard, which every binding passes through: off, it costs the call one load of a bool.

// StepAnswer is what the person stepping through a run answered at a pause.
type StepAnswer int

const (
	// StepRun runs the call, and pauses before the next.
	StepRun StepAnswer = iota
	// StepSection runs on without pausing until the next section (section, lab.section) begins.
	StepSection
)

// ErrStepQuit, returned by a Stepper, ends the run as os.exit(0) would: the person quit.
var ErrStepQuit = errors.New("quit")

// Stepper shows next, the call a run in step mode is about to make, and returns the answer. An
// error stops the run: ErrStepQuit ends it as os.exit(0) would, another is raised in Lua as the
// call's error (the console's chunk cancelled by Ctrl-C).
type Stepper func(L *lua.LState, next string) (StepAnswer, error)

// When a binding pauses in step mode.
const (
	stepNever   uint8 = iota
	stepPause         // a socket call: pause before it
	stepSection       // section(): [c] runs on to it
)

// stepping is the step mode of a Runtime.
type stepping struct {
	on       bool // step mode: read by guard before every call
	skipping bool // [c]: running on to the next section
}

var stepBinding = binding{name: "step", fn: (*Runtime).stepCall, help: helpEntry{
	"step([on])", "step mode (udplab --step FILE): pause before each socket call and show it; [Enter] runs it, [c] runs on to the next section, [q] quits",
	"nothing; step() with no argument: whether it is on", ""}}

// stepCall is step(on): step mode on or off; step() returns whether it is on.
func (rt *Runtime) stepCall(a args) int {
	if a.L.GetTop() == 0 {
		a.L.Push(lua.LBool(rt.step.on))
		return 1
	}
	rt.Step(lua.LVAsBool(a.L.Get(1)))
	return 0
}

// Step turns step mode on or off (udplab --step). It pauses only when Options.Step is set.
func (rt *Runtime) Step(on bool) {
	rt.step.on = on && rt.opts.Step != nil
	rt.step.skipping = false
}

// Stepping reports whether step mode is on.
func (rt *Runtime) Stepping() bool { return rt.step.on }

// pause is guard's step mode: before a socket call (b), it shows the call and waits for the
// answer; a section ends a run-on ([c]).
func (rt *Runtime) pause(L *lua.LState, b *binding) {
	if b.step == stepSection {
		rt.step.skipping = false
		return
	}
	if rt.step.skipping {
		return
	}
	next := rt.describeCall(L, b)
	// the live picture shows the call, at its socket's lifeline
	pictured := rt
	if rt.recordsTo != nil {
		pictured = rt.recordsTo
	}
	paused := &pausedCall{owner: rt.owner, fd: -1, call: next}
	if ud, ok := L.Get(1).(*lua.LUserData); ok && !b.onHost {
		if s, ok := ud.Value.(*socket); ok {
			paused.host, paused.fd = s.conn.Host(), s.conn.FD()
		}
	}
	pictured.diagram.pausedAt(paused)
	answer, err := rt.opts.Step(L, next)
	pictured.diagram.pausedAt(nil)
	switch {
	case errors.Is(err, ErrStepQuit):
		rt.exitFrom(L, 0)
	case err != nil:
		L.RaiseError("%s", err.Error())
	}
	rt.step.skipping = answer == StepSection
}

// describeCall is the call b about to run with the arguments on L's stack, as the script wrote
// it: recv(client, 100), setsockopt(server, SOL_SOCKET, SO_BROADCAST, 1), a:socket(AF_INET,
// SOCK_DGRAM). A socket is shown by its name (label), else by the variable that holds it, else as
// fd 3; an address table as 127.0.0.1:43211; a string quoted as Lua reads it back.
func (rt *Runtime) describeCall(L *lua.LState, b *binding) string {
	first, name := 1, b.name
	if b.onHost {
		if h, ok := rt.hosts[tableArg(L, 1)]; ok {
			name = h.name + ":" + b.name
		}
		first = 2
	}
	var parts []string
	for i := first; i <= L.GetTop(); i++ {
		parts = append(parts, rt.describeArg(L, b.name, i-first+1, i))
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

// describeArg shows argument n of call (the i-th value on the stack).
func (rt *Runtime) describeArg(L *lua.LState, call string, n, i int) string {
	v := L.Get(i)
	if num, ok := v.(lua.LNumber); ok {
		if named := constantArg(L, call, n, i, int(num)); named != "" {
			return named
		}
		return lua54.Number(float64(num))
	}
	switch v := v.(type) {
	case lua.LString:
		return diagram.Quote(string(v), 32)
	case *lua.LUserData:
		if s, ok := v.Value.(*socket); ok {
			if name := s.conn.Name(); name != "" {
				return name
			}
			if name := variableName(L, v); name != "" {
				return name
			}
			return "fd " + lua54.Number(float64(s.conn.FD()))
		}
	case *lua.LTable:
		addr, port := v.RawGetString("addr"), v.RawGetString("port")
		if a, ok := addr.(lua.LString); ok && port != lua.LNil {
			host := string(a)
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			return host + ":" + lua.LVAsString(port)
		}
		if name := variableName(L, v); name != "" {
			return name
		}
		return "{...}"
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		return v.String()
	case *lua.LFunction:
		if name := variableName(L, v); name != "" {
			return name
		}
	}
	return v.Type().String() // "function", "userdata": not their addresses
}

// constantArg names v, argument n of call (the i-th value on L's stack), as the script most
// likely wrote it: the family and type of socket(), the level and option of setsockopt and
// getsockopt, a receive's or a send's flags; "" when it is a plain number.
func constantArg(L *lua.LState, call string, n, i, v int) string {
	switch {
	case call == "socket" && n == 1:
		return sock.FamilyName(v)
	case call == "socket" && n == 2:
		return sock.TypeName(v)
	case (call == "setsockopt" || call == "getsockopt") && n == 2:
		return sock.LevelName(v)
	case (call == "setsockopt" || call == "getsockopt") && n == 3:
		if level, ok := L.Get(i - 1).(lua.LNumber); ok {
			if o, ok := sock.LookupOption(int(level), v); ok {
				return o.Name
			}
		}
	case (call == "send" || call == "recv" || call == "recvfrom") && n == 3 && v != 0:
		var names []string
		for _, f := range sock.MsgFlags {
			if v&f.Value != 0 {
				names = append(names, f.Name)
				v &^= f.Value
			}
		}
		if v == 0 {
			return strings.Join(names, "|")
		}
	}
	return ""
}

// tableArg is the table at i, or nil.
func tableArg(L *lua.LState, i int) *lua.LTable {
	t, _ := L.Get(i).(*lua.LTable)
	return t
}

// variableName is the name of a variable that holds v where the call was made: a local of the
// calling function, one of its upvalues, or a global; "" when none does.
func variableName(L *lua.LState, v lua.LValue) string {
	if dbg, ok := L.GetStack(1); ok {
		for no := 1; ; no++ {
			name, value := L.GetLocal(dbg, no)
			if name == "" {
				break
			}
			if value == v && !strings.HasPrefix(name, "(") {
				return name
			}
		}
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			if f, ok := fn.(*lua.LFunction); ok {
				for no := 1; no <= len(f.Upvalues); no++ {
					if name, value := L.GetUpvalue(f, no); value == v && name != "" {
						return name
					}
				}
			}
		}
	}
	found := ""
	L.G.Global.ForEach(func(k, value lua.LValue) {
		if name, ok := k.(lua.LString); ok && value == v && found == "" {
			found = string(name)
		}
	})
	return found
}
