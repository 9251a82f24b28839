package luabind

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/diagram"
	"github.com/udplab/udplab/sock"
)

// The sequence diagram of a run: the calls the tracer records (--diagram, or the console's
// session), with the packets of the wire view, made into package diagram's model when a picture
// is asked for.

// maxRecorded bounds the events kept for the diagram: past it, the later ones are counted, not
// kept, and the picture says how many.
const maxRecorded = 100000

// recording is the events kept for the diagram.
type recording struct {
	mu      sync.Mutex
	events  []sock.CallEvent
	dropped int
	on      bool
	next    *pausedCall // the call step mode is paused before, for the live picture
	changed func()      // told of each event (the live picture); nil: none
}

// pausedCall is the call step mode is paused before: on the socket of owner, host and fd (fd -1:
// none yet), as the script wrote it.
type pausedCall struct {
	owner, host string
	fd          int
	call        string
}

// add keeps ev, or counts it past the cap.
func (r *recording) add(ev sock.CallEvent) {
	r.mu.Lock()
	if len(r.events) < maxRecorded {
		r.events = append(r.events, ev)
	} else {
		r.dropped++
	}
	changed := r.changed
	r.mu.Unlock()
	if changed != nil {
		changed()
	}
}

// pausedAt records the call step mode is paused before (nil: none now), for the live picture.
func (r *recording) pausedAt(p *pausedCall) {
	r.mu.Lock()
	r.next = p
	changed := r.changed
	r.mu.Unlock()
	if changed != nil {
		changed()
	}
}

// StartDiagram makes the runtime keep every socket call for the diagram, from now on; the sockets
// open now are recorded as they are (their addresses, their names), so that the picture knows
// where a datagram to one of them goes.
func (rt *Runtime) StartDiagram() {
	rt.diagram.mu.Lock()
	already := rt.diagram.on
	rt.diagram.on = true
	rt.diagram.mu.Unlock()
	if already {
		return
	}
	rt.tracer.SetRecorder(rt.diagram.add)
	rt.mu.Lock()
	open := append([]*socket(nil), rt.sockets...)
	rt.mu.Unlock()
	for _, s := range open {
		s.conn.RecordOpen()
	}
}

// Recording says whether the runtime keeps its calls for the diagram.
func (rt *Runtime) Recording() bool {
	rt.diagram.mu.Lock()
	defer rt.diagram.mu.Unlock()
	return rt.diagram.on
}

// RecordInto makes the calls of rt (a script the console runs) part of parent's diagram, marked
// as owner's, when parent records.
func (rt *Runtime) RecordInto(parent *Runtime, owner string) {
	if !parent.Recording() {
		return
	}
	rt.recordsTo, rt.owner = parent, owner
	rt.tracer.SetRecorder(func(ev sock.CallEvent) {
		ev.Owner = owner
		parent.diagram.add(ev)
	})
}

// AddRecorded adds an event another process recorded (a script bg started, StreamRecording) to
// the diagram, marked as owner's.
func (rt *Runtime) AddRecorded(ev sock.CallEvent, owner string) {
	if !rt.Recording() {
		return
	}
	ev.Owner = owner
	rt.diagram.add(ev)
}

// StreamRecording writes every call rt records to w, one JSON object a line, for the process
// that started this one (the console's bg) to add to its diagram with ReadRecording.
func (rt *Runtime) StreamRecording(w io.Writer) {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	rt.tracer.SetRecorder(func(ev sock.CallEvent) {
		mu.Lock()
		enc.Encode(ev)
		mu.Unlock()
	})
}

// ReadRecording adds to rt's diagram the events a StreamRecording writes to r, as owner's, until
// r ends.
func (rt *Runtime) ReadRecording(r io.Reader, owner string) {
	dec := json.NewDecoder(r)
	for {
		var ev sock.CallEvent
		if err := dec.Decode(&ev); err != nil {
			return
		}
		rt.AddRecorded(ev, owner)
	}
}

// Model is the model of the calls kept so far (StartDiagram), with the labs' hosts, and the call
// step mode is paused before.
func (rt *Runtime) Model() *diagram.Model {
	rt.diagram.mu.Lock()
	events := append([]sock.CallEvent(nil), rt.diagram.events...)
	dropped := rt.diagram.dropped
	next := rt.diagram.next
	rt.diagram.mu.Unlock()
	m := diagram.Build(events, diagram.Env{Hosts: rt.labHosts(), Dropped: dropped})
	if next != nil {
		m.Next = &diagram.Next{Call: next.call}
		if next.fd >= 0 {
			m.Next.Lifeline = m.OpenSocket(next.owner, next.host, next.fd)
		}
	}
	return m
}

// modelNow is Model once the wire view's captures have handed on every frame they hold for its
// turn (they keep each a few milliseconds, to merge the links by time): for a picture written
// at the end, which shows every packet captured.
func (rt *Runtime) modelNow() *diagram.Model {
	rt.tracer.Collect()
	return rt.Model()
}

// labHosts are the hosts of the labs made so far, as the diagram knows them.
func (rt *Runtime) labHosts() []diagram.Host {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var hosts []diagram.Host
	for _, n := range rt.allLabs {
		for _, h := range n.Spec.Hosts {
			dh := diagram.Host{Name: h.Name, Router: h.Router()}
			for k, lan := range h.LANs {
				dh.Addrs = append(dh.Addrs, h.Addr4[k], h.Addr6[k])
				dh.LANs = append(dh.LANs, n.Spec.LANs[lan].Name)
			}
			hosts = append(hosts, dh)
		}
	}
	return hosts
}

// WriteDiagram writes the diagram so far to path: SVG for ".svg", an HTML page for ".html", the
// model for ".json", text otherwise ("-": standard output, fitted to width). The SVG and the page
// are fitted to frame unless it is zero. A file is written whole under another name, then
// renamed: a run killed while it writes leaves the file as it was.
func (rt *Runtime) WriteDiagram(path string, width int, frame diagram.Frame) error {
	m := rt.modelNow()
	var out []byte
	switch {
	case strings.HasSuffix(path, ".svg") && frame != (diagram.Frame{}):
		out = m.SVGIn(frame)
	case strings.HasSuffix(path, ".svg"):
		out = m.SVG()
	case strings.HasSuffix(path, ".html") && frame != (diagram.Frame{}):
		out = m.HTMLIn(frame)
	case strings.HasSuffix(path, ".html"):
		out = m.HTML()
	case strings.HasSuffix(path, ".json"):
		out = m.JSON()
	default:
		out = []byte(m.Text(width))
	}
	if path == "-" {
		_, err := rt.stdout().Write(out)
		return err
	}
	return writeWhole(path, out)
}

// WriteSlides writes the slides of the run so far to dir (made if need be): one SVG per section,
// fitted to frame, and index.html, which shows them one at a time; script names the events before
// the first section. It returns how many slides it wrote.
func (rt *Runtime) WriteSlides(dir string, frame diagram.Frame, script string) (int, error) {
	m := rt.modelNow()
	slides := m.Slides(frame, script)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for _, s := range slides {
		if err := writeWhole(filepath.Join(dir, s.Name), s.SVG); err != nil {
			return 0, err
		}
	}
	return len(slides), writeWhole(filepath.Join(dir, "index.html"), diagram.SlidesPage(slides, script))
}

// outputTarget is where a picture or slide written to path goes. A regular file, or a name not
// taken, is the file path names once its symbolic links are followed (a link to nothing yet
// included), replaced whole by a rename (inPlace false): a reader never sees half a picture, and
// the link stays a link. Anything else (a terminal, /dev/stdout, a FIFO, a device such as
// /dev/null) is written in place: a rename would put a file where the device was. stream is
// the process's standard output or error when path is one of them (/dev/stdout, /proc/self/fd/1,
// or the file they are redirected to), so that the picture follows what the run wrote there
// rather than replacing it.
func outputTarget(path string) (target string, inPlace bool, stream *os.File) {
	if st, err := os.Stat(path); err == nil {
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			if fst, err := f.Stat(); err == nil && os.SameFile(st, fst) {
				return path, true, f
			}
		}
		if !st.Mode().IsRegular() {
			return path, true, nil
		}
		if resolved, err := filepath.EvalSymlinks(path); err == nil {
			return resolved, false, nil
		}
		return path, false, nil
	}
	for range 40 { // a link to a file not made yet: the file it names
		dest, err := os.Readlink(path)
		if err != nil {
			break
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return path, false, nil
}

// CheckWritable says whether a picture can later be written to path, without changing what is
// there: the file, device or stream opens for writing, or, for a file replaced whole, its
// folder takes a new file. The error names path and what stands in the way.
func CheckWritable(path string) error {
	target, inPlace, _ := outputTarget(path)
	if inPlace {
		if st, err := os.Stat(target); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
			return nil // opened now, a FIFO would end its reader's input; the writing says
		}
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
	if f, err := os.OpenFile(target, os.O_WRONLY, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := takesFiles(filepath.Dir(target)); err != nil {
		return fmt.Errorf("%s: its folder %s cannot take a new file: %w", path, filepath.Dir(target), err)
	}
	return nil
}

// takesFiles says whether a new file can be made in dir, by making one and removing it.
func takesFiles(dir string) error {
	f, err := os.CreateTemp(dir, ".udplab-check-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// CheckSlidesDir says whether dir can take the slides: a folder that takes new files, or one
// that can be made.
func CheckSlidesDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(dir))
		if err := takesFiles(parent); err != nil {
			return fmt.Errorf("%s cannot be made in %s: %w", dir, parent, err)
		}
		return nil
	case err != nil:
		return err
	}
	if err := takesFiles(dir); err != nil {
		return fmt.Errorf("%s cannot take new files: %w", dir, err)
	}
	return nil
}

// writeWhole writes data to path as outputTarget says: a file through a file beside it, renamed
// over it once complete; a device, FIFO or terminal in place; the process's own standard output
// or error by appending to it.
func writeWhole(path string, data []byte) error {
	target, inPlace, stream := outputTarget(path)
	if stream != nil {
		_, err := stream.Write(data)
		return err
	}
	if inPlace {
		// a FIFO without a reader fails (ENXIO) rather than waiting for one for ever
		f, err := os.OpenFile(target, os.O_WRONLY|unix.O_NONBLOCK, 0)
		if errors.Is(err, unix.ENXIO) {
			return fmt.Errorf("%s: no process reads it", path)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

var diagramBinding = binding{name: "diagram", fn: (*Runtime).diagramCall, help: helpEntry{
	"diagram([file]) | diagram(on)", "the sequence diagram of the socket calls so far: as text, or written to file (.svg, .html, .json: the model, else text); diagram(false) clears the picture and stops recording, diagram(true) records again (for the next demo); udplab --diagram FILE draws a whole script",
	"nothing when it prints or is switched; true when it wrote the file; on failure nil, message, errno", "EACCES (13)  the file cannot be written\nENOENT (2)  its folder does not exist"}}

func (rt *Runtime) diagramCall(a args) int {
	if on, ok := a.L.Get(1).(lua.LBool); ok {
		if on {
			if !rt.Recording() {
				rt.StartDiagram()
			}
		} else {
			rt.ClearDiagram()
		}
		return 0
	}
	if !rt.Recording() {
		// not recorded until now: from here on
		rt.StartDiagram()
		fmt.Fprintln(rt.stderr(), "diagram: the calls are recorded from now on (udplab --diagram FILE records a whole script)")
	}
	path := "-"
	if a.L.GetTop() >= 1 {
		path = a.string(1)
		if strings.HasSuffix(path, ".lua") {
			a.argError(1, path+" is a Lua script: not writing a diagram over it")
		}
	}
	width := 80
	if rt.opts.Width != nil {
		if w := rt.opts.Width(); w >= 20 {
			width = w
		}
	}
	if err := rt.WriteDiagram(path, width, diagram.Frame{}); err != nil {
		return pushFailure(a.L, err)
	}
	if path == "-" {
		return 0 // printed, as print prints: nothing to show at the console
	}
	a.L.Push(lua.LTrue)
	return 1
}

// ClearDiagram forgets the calls recorded so far and stops recording (diagram(false)): the next
// demo's picture does not carry the last one's sockets.
func (rt *Runtime) ClearDiagram() {
	rt.diagram.mu.Lock()
	wasOn := rt.diagram.on
	rt.diagram.on = false
	rt.diagram.events, rt.diagram.dropped = nil, 0
	changed := rt.diagram.changed
	rt.diagram.mu.Unlock()
	if wasOn {
		rt.tracer.SetRecorder(nil)
	}
	if changed != nil {
		changed()
	}
}

var labelBinding = binding{name: "label", fn: (*Runtime).labelCall, help: helpEntry{
	`label(s, name)`, `name a socket in the picture, the trace (sendto(3<server>, ...)) and the wire view: label(s, "server")`, "s", ""}}

// labelCall is label(s, name): the socket's lifeline is called name in the diagram, and the trace
// and the wire view name it too.
func (rt *Runtime) labelCall(a args) int {
	s, name := a.socket(1), a.string(2)
	s.conn.Label(name)
	a.L.Push(a.L.Get(1))
	return 1
}

var sectionBinding = binding{name: "section", fn: (*Runtime).sectionCall, help: helpEntry{
	`section(title)`, `start a titled part of the run: a band across the picture`, "nothing", ""}}

// sectionCall is section(title).
func (rt *Runtime) sectionCall(a args) int {
	rt.tracer.Record(sock.CallEvent{Call: "section", Data: []byte(a.string(1))})
	return 0
}
