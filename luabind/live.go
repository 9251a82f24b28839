package luabind

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/live"
)

// The live picture (udplab --live, live()): the diagram served to a browser on this machine as
// the run goes on (package live), each event recorded telling it.

var liveBinding = binding{name: "live", fn: (*Runtime).liveCall, help: helpEntry{
	"live([port]) | live(on)", "serve the picture as it happens, for a browser on this machine: http://127.0.0.1:PORT/ (port 0 or none: one the kernel picks); live(false) stops it; udplab --live does it for a whole run",
	"the page's address; on failure nil, message, errno", "EADDRINUSE (98)  another program has that port\nEACCES (13)  a port below 1024 needs privilege"}}

// liveCall is live([port]): it starts the live picture, when it is not served yet, and returns
// its address; live(false) stops it.
func (rt *Runtime) liveCall(a args) int {
	if on, ok := a.L.Get(1).(lua.LBool); ok && !bool(on) {
		rt.stopLive()
		return 0
	}
	port := 0
	if _, ok := a.L.Get(1).(lua.LNumber); ok {
		port = a.int(1)
		if port < 0 || port > 65535 {
			a.argError(1, "port out of range 0..65535")
		}
	}
	url, err := rt.StartLive(port)
	if err != nil {
		return pushFailure(a.L, err)
	}
	a.L.Push(lua.LString(url))
	return 1
}

// StartLive serves the picture of the calls from now on (it records them, if it did not) on
// 127.0.0.1:port (0: a port the kernel picks), and returns the page's address; when it is served
// already, it returns that address.
func (rt *Runtime) StartLive(port int) (string, error) {
	rt.mu.Lock()
	running := rt.live
	rt.mu.Unlock()
	if running != nil {
		return running.URL(), nil
	}
	if !rt.Recording() {
		rt.StartDiagram()
	}
	srv, err := live.Start(port, rt.Model)
	if err != nil {
		return "", err
	}
	rt.mu.Lock()
	rt.live = srv
	rt.mu.Unlock()
	rt.diagram.mu.Lock()
	rt.diagram.changed = srv.Changed
	rt.diagram.mu.Unlock()
	return srv.URL(), nil
}

// stopLive stops serving the live picture; any goroutine may call it (Exit).
func (rt *Runtime) stopLive() {
	rt.mu.Lock()
	srv := rt.live
	rt.live = nil
	rt.mu.Unlock()
	if srv == nil {
		return
	}
	rt.diagram.mu.Lock()
	rt.diagram.changed = nil
	rt.diagram.mu.Unlock()
	srv.Close()
}
