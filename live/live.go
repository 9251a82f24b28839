// Package live serves the picture of a run as it happens, for a browser on the same machine: a
// page, and a stream of server-sent events (text/event-stream) that carries the picture anew each
// time something happened, so that the page draws each call and datagram as it comes without
// being reloaded. The picture is package diagram's, laid out by the same code as the SVG view,
// fitted to the page's window; in step mode it ends with the call the run is paused before.
//
// The server listens on 127.0.0.1 only (its listener is sock's: the one package that opens
// sockets), and answers a request only when it came from loopback and names the server as its
// host (127.0.0.1:PORT or localhost:PORT): a page of another site that made the browser ask (DNS
// rebinding) is refused. It uses the standard library alone.
package live

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/udplab/udplab/diagram"
	"github.com/udplab/udplab/sock"
)

// page is the live page: it connects to the stream with its window's size, and draws what comes.
//
//go:embed page.html
var page []byte

// minInterval is how often, at most, the picture is sent again: a run of thousands of calls a
// second is drawn ten times a second, not thousands. A picture that takes long to make waits
// longer (twice what it took), so that drawing never takes the machine from the run.
const minInterval = 100 * time.Millisecond

// keepAlive is how often an idle stream gets a comment, so that a proxy or the browser does not
// take it for dead.
const keepAlive = 15 * time.Second

// Server serves one run's picture. Its methods may be called from any goroutine.
type Server struct {
	model func() *diagram.Model // the picture's model now
	url   string
	port  string
	srv   *http.Server

	mu      sync.Mutex
	clients map[*client]struct{}

	changed chan struct{} // something happened: buffered, one
	done    chan struct{}
}

// client is one page's stream, and the size of its window.
type client struct {
	frame diagram.Frame
	out   chan []byte // the latest message not sent yet: buffered, one
}

// Start serves the picture of model on 127.0.0.1:port (0: a port the kernel picks).
func Start(port int, model func() *diagram.Model) (*Server, error) {
	ln, err := sock.ListenLoopback(port)
	if err != nil {
		return nil, err
	}
	s := &Server{model: model, clients: map[*client]struct{}{}, changed: make(chan struct{}, 1), done: make(chan struct{})}
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	s.url = "http://127.0.0.1:" + s.port + "/"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /events", s.serveEvents)
	mux.HandleFunc("GET /model.json", s.serveModel)
	s.srv = &http.Server{Handler: s.guard(mux), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	go s.send()
	return s, nil
}

// URL is the page's address: http://127.0.0.1:PORT/.
func (s *Server) URL() string { return s.url }

// Changed tells the server that the picture changed: the pages get it anew soon. It never
// blocks.
func (s *Server) Changed() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Close stops serving: the pages' streams end.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	return s.srv.Close()
}

// guard refuses a request that did not come from loopback, or that names another host than the
// server (a rebinding site's name, another address of this machine).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !remote.Addr().Unmap().IsLoopback() {
			http.Error(w, "udplab's live picture answers this machine only", http.StatusForbidden)
			return
		}
		if r.Host != "127.0.0.1:"+s.port && r.Host != "localhost:"+s.port {
			http.Error(w, "udplab's live picture answers at 127.0.0.1:"+s.port+" only, not "+strconv.Quote(r.Host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(page)
}

// serveModel sends the model now, as --diagram out.json writes it.
func (s *Server) serveModel(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(s.model().JSON())
}

// message is what a page gets each time: the picture, its header apart (the page keeps it on
// screen), and what it shows.
type message struct {
	Head   string `json:"head"`
	Body   string `json:"body"`
	Events int    `json:"events"`
	// Next is the call step mode is paused before, as the script wrote it.
	Next string `json:"next,omitempty"`
}

// encode makes m's message for a window of f.
func encode(m *diagram.Model, f diagram.Frame) []byte {
	head, body := m.LiveParts(f)
	msg := message{Head: string(head), Body: string(body), Events: len(m.Events)}
	if m.Next != nil {
		msg.Next = m.Next.Call
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the picture's markup as it is: it goes into the page as markup
	enc.Encode(msg)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// serveEvents streams the picture to one page: now, then each time it changed. The page's
// window is w by h pixels (the query), which the picture is fitted to.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no streaming here", http.StatusInternalServerError)
		return
	}
	c := &client{frame: frameOf(r), out: make(chan []byte, 1)}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	c.out <- encode(s.model(), c.frame)
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case msg := <-c.out:
			_, err = fmt.Fprintf(w, "data: %s\n\n", msg)
		case <-tick.C:
			_, err = fmt.Fprint(w, ": still here\n\n")
		}
		if err != nil {
			return
		}
		flusher.Flush()
	}
}

// frameOf reads the page's window from the query (w, h); 1920x1080 when it says none.
func frameOf(r *http.Request) diagram.Frame {
	f := diagram.Frame{W: 1920, H: 1080}
	if w, err := strconv.Atoi(r.URL.Query().Get("w")); err == nil && w >= 320 && w <= 16384 {
		f.W = w
	}
	if h, err := strconv.Atoi(r.URL.Query().Get("h")); err == nil && h >= 200 && h <= 16384 {
		f.H = h
	}
	return f
}

// send makes the picture anew after each change, at most every minInterval (longer when making
// it took long), and gives it to every page, in place of one it has not sent yet.
func (s *Server) send() {
	for {
		select {
		case <-s.done:
			return
		case <-s.changed:
		}
		s.mu.Lock()
		clients := make([]*client, 0, len(s.clients))
		for c := range s.clients {
			clients = append(clients, c)
		}
		s.mu.Unlock()
		start := time.Now()
		if len(clients) > 0 {
			m := s.model()
			encoded := map[diagram.Frame][]byte{}
			for _, c := range clients {
				if encoded[c.frame] == nil {
					encoded[c.frame] = encode(m, c.frame)
				}
				select { // the page's last message not sent yet is replaced
				case <-c.out:
				default:
				}
				c.out <- encoded[c.frame]
			}
		}
		wait := max(minInterval, 2*time.Since(start))
		select {
		case <-s.done:
			return
		case <-time.After(wait):
		}
	}
}
