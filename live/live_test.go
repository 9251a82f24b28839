package live

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/udplab/udplab/diagram"
	"github.com/udplab/udplab/sock"
)

// run is a model that grows: calls on one socket, added as a test goes.
type run struct {
	mu     sync.Mutex
	events []sock.CallEvent
	next   *diagram.Next
}

func (r *run) model() *diagram.Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := diagram.Build(append([]sock.CallEvent(nil), r.events...), diagram.Env{})
	m.Next = r.next
	return m
}

func (r *run) call(name string) {
	r.mu.Lock()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	local := netip.MustParseAddrPort("127.0.0.1:50000")
	r.events = append(r.events, sock.CallEvent{Time: t0.Add(time.Duration(len(r.events)) * time.Millisecond), FD: 3, Call: name, Result: 3, Local: local})
	r.mu.Unlock()
}

// start serves r's model on a port of loopback the kernel picks.
func start(t *testing.T, r *run) *Server {
	t.Helper()
	s, err := Start(0, r.model)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// get asks the server for path with the Host header host.
func get(t *testing.T, s *Server, path, host string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL()+strings.TrimPrefix(path, "/"), nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The server answers its own name on loopback only: another Host (a rebinding site's, another
// address of this machine) and a request from another address are refused.
func TestOnlyLoopback(t *testing.T) {
	var r run
	s := start(t, &r)
	defer s.Close()
	port := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "http://127.0.0.1:"), "/")
	for host, want := range map[string]int{
		"127.0.0.1:" + port: 200, "localhost:" + port: 200,
		"evil.example:" + port: 403, "127.0.0.1": 403, "192.0.2.7:" + port: 403, "127.0.0.1:1": 403,
	} {
		resp := get(t, s, "/", host)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	// a request that came from elsewhere, handed to the server's handler directly
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr, req.Host = "192.0.2.1:40000", "127.0.0.1:"+port
	s.srv.Handler.ServeHTTP(w, req)
	if w.Code != 403 {
		t.Errorf("a request from 192.0.2.1: %d, want 403", w.Code)
	}
}

// readEvent reads the stream's next message, within 10 s.
func readEvent(t *testing.T, lines *bufio.Reader) message {
	t.Helper()
	got := make(chan message, 1)
	go func() {
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var m message
				json.Unmarshal([]byte(data), &m)
				got <- m
				return
			}
		}
	}()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
		return message{}
	}
}

// The stream sends the picture at once, then again after each change, many changes at once making
// one or two messages; the step mode's paused call is in it; Close ends it.
func TestStream(t *testing.T) {
	var r run
	r.call("socket")
	s := start(t, &r)
	resp := get(t, s, "/events?w=1280&h=720", strings.TrimPrefix(strings.TrimSuffix(s.URL(), "/"), "http://"))
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewReader(resp.Body)
	first := readEvent(t, lines)
	if first.Events != 1 || strings.Count(first.Body, `class="call"`) != 1 || !strings.Contains(first.Body, `width="1280"`) {
		t.Errorf("the first message: %d events, body %.200s", first.Events, first.Body)
	}
	for i := range 50 {
		r.call(fmt.Sprintf("setsockopt SO_%d", i))
		s.Changed()
	}
	m, messages := readEvent(t, lines), 1
	for m.Events < 51 {
		m, messages = readEvent(t, lines), messages+1
	}
	if messages > 3 {
		t.Errorf("50 changes in a row made %d messages", messages)
	}
	r.mu.Lock()
	r.next = &diagram.Next{Call: "recv(client, 100)", Lifeline: "s1"}
	r.mu.Unlock()
	s.Changed()
	if m := readEvent(t, lines); m.Next != "recv(client, 100)" || !strings.Contains(m.Body, `class="next"`) || !strings.Contains(m.Body, "next: recv(client, 100)") {
		t.Errorf("the paused call: %q, body %.300s", m.Next, m.Body)
	}
	s.Close()
	done := make(chan struct{})
	go func() {
		lines.ReadString(0) // until the stream ends
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("the stream goes on after Close")
	}
}
