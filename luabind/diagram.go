package luabind

import (
	"fmt"
	"os"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/diagram"
	"github.com/udplab/udplab/sock"
)

// The sequence diagram of a run: the calls the tracer records (--diagram, or the console's
// session), drawn by package diagram when asked.

// maxRecorded bounds the calls kept for the diagram: past it, the oldest are dropped.
const maxRecorded = 100000

// recording is the calls kept for the diagram.
type recording struct {
	mu     sync.Mutex
	events []sock.CallEvent
	on     bool
}

// StartDiagram makes the runtime keep every socket call for the diagram, from now on.
func (rt *Runtime) StartDiagram() {
	rt.diagram.mu.Lock()
	rt.diagram.on = true
	rt.diagram.mu.Unlock()
	rt.tracer.SetRecorder(func(ev sock.CallEvent) {
		rt.diagram.mu.Lock()
		if len(rt.diagram.events) >= maxRecorded {
			rt.diagram.events = append(rt.diagram.events[:0], rt.diagram.events[maxRecorded/10:]...)
		}
		rt.diagram.events = append(rt.diagram.events, ev)
		rt.diagram.mu.Unlock()
	})
}

// Diagram is the diagram of the calls kept so far (StartDiagram).
func (rt *Runtime) Diagram() *diagram.Diagram {
	rt.diagram.mu.Lock()
	defer rt.diagram.mu.Unlock()
	return diagram.Build(append([]sock.CallEvent(nil), rt.diagram.events...))
}

// WriteDiagram writes the diagram so far to path: SVG for ".svg", an HTML page for ".html",
// text otherwise ("-": standard output, fitted to width).
func (rt *Runtime) WriteDiagram(path string, width int) error {
	d := rt.Diagram()
	var out []byte
	switch {
	case strings.HasSuffix(path, ".svg"):
		out = d.SVG()
	case strings.HasSuffix(path, ".html"):
		out = d.HTML()
	default:
		out = []byte(d.Text(width))
	}
	if path == "-" {
		_, err := rt.stdout().Write(out)
		return err
	}
	return os.WriteFile(path, out, 0o666)
}

var diagramBinding = binding{name: "diagram", fn: (*Runtime).diagramCall, help: helpEntry{
	"diagram([file])", "the sequence diagram of the socket calls so far: as text, or written to file (.svg, .html, else text); udplab --diagram FILE draws a whole script",
	"nothing when it prints; true when it wrote the file; on failure nil, message, errno", "EACCES (13)  the file cannot be written\nENOENT (2)  its folder does not exist"}}

func (rt *Runtime) diagramCall(a args) int {
	rt.diagram.mu.Lock()
	on := rt.diagram.on
	rt.diagram.mu.Unlock()
	if !on {
		// not recorded until now: from here on
		rt.StartDiagram()
		fmt.Fprintln(rt.stderr(), "diagram: the calls are recorded from now on (udplab --diagram FILE records a whole script)")
	}
	path := "-"
	if a.L.GetTop() >= 1 {
		path = a.string(1)
	}
	width := 80
	if rt.opts.Width != nil {
		if w := rt.opts.Width(); w >= 20 {
			width = w
		}
	}
	if err := rt.WriteDiagram(path, width); err != nil {
		return pushFailure(a.L, err)
	}
	if path == "-" {
		return 0 // printed, as print prints: nothing to show at the console
	}
	a.L.Push(lua.LTrue)
	return 1
}
