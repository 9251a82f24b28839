package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// browser is headless Chromium driven through the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on its descriptor 3, answers on 4, each a JSON message ended
// by a NUL), with one page attached.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File
	out     *bufio.Reader
	mu      sync.Mutex
	id      int
	session string
}

// startBrowser starts headless Chromium with a w by h window and attaches to its page.
func startBrowser(t *testing.T, w, h int) *browser {
	t.Helper()
	path := chromiumPath(t)
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// Chromium's helper processes may still write to the profile after it ended: not in t.TempDir,
	// whose removal would fail the test
	profile, err := os.MkdirTemp("", "udplab-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--user-data-dir="+profile, fmt.Sprintf("--window-size=%d,%d", w, h), "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	b := &browser{t: t, cmd: cmd, in: cmdW, out: bufio.NewReader(outR)}
	t.Cleanup(func() {
		cmdW.Close() // Chromium ends when its pipe does
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		outR.Close()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	var targets struct {
		TargetInfos []struct{ TargetID, Type string } `json:"targetInfos"`
	}
	b.call("Target.getTargets", nil, &targets)
	for _, ti := range targets.TargetInfos {
		if ti.Type == "page" {
			var attached struct{ SessionID string }
			b.call("Target.attachToTarget", map[string]any{"targetId": ti.TargetID, "flatten": true}, &attached)
			b.session = attached.SessionID
			return b
		}
	}
	t.Fatalf("Chromium has no page: %+v", targets)
	return nil
}

// call sends a command and decodes its result into result, within 30 s.
func (b *browser) call(method string, params any, result any) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.id++
	msg := map[string]any{"id": b.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if b.session != "" {
		msg["sessionId"] = b.session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(data, 0)); err != nil {
		b.t.Fatal(err)
	}
	type answer struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct{ Message string }
	}
	got := make(chan answer, 1)
	go func() {
		for {
			raw, err := b.out.ReadBytes(0)
			if err != nil {
				close(got)
				return
			}
			var a answer
			if json.Unmarshal(raw[:len(raw)-1], &a) == nil && a.ID == b.id {
				got <- a
				return
			}
		}
	}()
	select {
	case a, ok := <-got:
		if !ok {
			b.t.Fatalf("Chromium closed its pipe during %s", method)
		}
		if a.Error != nil {
			b.t.Fatalf("%s: %s", method, a.Error.Message)
		}
		if result != nil {
			json.Unmarshal(a.Result, result)
		}
	case <-time.After(30 * time.Second):
		b.t.Fatalf("Chromium did not answer %s within 30 s", method)
	}
}

// eval evaluates expr in the page and returns its value as JSON text.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	return string(r.Result.Value)
}

// waitEval waits until expr evaluates to want in the page, at most screenWait.
func (b *browser) waitEval(expr, want string) {
	b.t.Helper()
	got := ""
	for deadline := time.Now().Add(screenWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = b.eval(expr); got == want {
			return
		}
	}
	b.t.Fatalf("%s is %s in the page, want %s", expr, got, want)
}

// udplab --live at the console: the page, open in headless Chromium, draws each call as it is made
// (three calls, three new elements, the page never reloaded); in step mode it shows the call the
// console is paused before, at its socket's lane, and takes it away once the call ran.
func TestLivePage(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir(), "--live")
	url := regexp.MustCompile(`live picture: (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(term.screen())
	if url == nil {
		t.Fatalf("no address on the screen:\n%s", term.screen())
	}
	b := startBrowser(t, 1280, 800)
	b.call("Page.navigate", map[string]any{"url": url[1]}, nil)
	calls := `document.querySelectorAll("#body g.call").length`
	b.waitEval(`document.getElementById("state").textContent`, `"0 events"`)
	b.eval(`window.notReloaded = true`)
	for i, line := range []string{`s = socket(AF_INET, SOCK_DGRAM)`, `label(s, "server"); bind(s, "127.0.0.1", 0)`, `setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)`} {
		term.enter(line, "\n")
		b.waitEval(calls, fmt.Sprint(i+1))
	}
	if got := b.eval(`window.notReloaded === true`); got != "true" {
		t.Errorf("the page was reloaded")
	}
	// the lanes are labelled as the SVG view labels them
	if got := b.eval(`document.querySelector("#head").textContent.includes("server 127.0.0.1:")`); got != "true" {
		t.Errorf("the header lacks the socket's name")
	}

	// a datagram's arrowhead is the picture's own marker, not an element of the page's that has
	// the same id
	term.enter(`c = socket(AF_INET, SOCK_DGRAM); connect(c, getsockname(s)); send(c, "g1")`, "\n")
	b.waitEval(`document.querySelectorAll("#body g.datagram").length`, "1")
	if got := b.eval(`(function () {
		var line = document.querySelector("#body g.datagram line[marker-end]");
		var ref = line && line.getAttribute("marker-end").match(/url\(#(.*)\)/)[1];
		return ref ? document.getElementById(ref).tagName : "no arrowhead";
	})()`); got != `"marker"` {
		t.Errorf("the delivered datagram's arrowhead refers to %s", got)
	}

	term.enter("step(true)", "\n")
	term.mark()
	term.typeKeys("recv(s, 10, MSG_DONTWAIT)\r")
	term.waitFor("next: recv(server, 10, MSG_DONTWAIT)", screenWait)
	b.waitEval(`(document.querySelector("#body .next") || {}).textContent`, `"next: recv(server, 10, MSG_DONTWAIT)"`)
	// at the server's lane: the mark's circle stands where the socket's lifeline is
	if got := b.eval(`(function () {
		var c = document.querySelector("#body .next circle"), l = document.querySelector("#body .lifeline line:not([stroke-width])");
		return c && l ? Math.abs(c.getBoundingClientRect().x + c.getBoundingClientRect().width / 2 - l.getBoundingClientRect().x) < 2 : "none";
	})()`); got != "true" {
		t.Errorf("the paused call is not at its socket's lane: %s", got)
	}
	term.typeKeys("\r")
	term.promptAfter(`"g1"`, screenWait)
	b.waitEval(`document.querySelectorAll("#body .next").length + "/" + document.querySelectorAll("#body g.call").length`, `"0/6"`)
	if got := b.eval(`window.notReloaded === true`); got != "true" {
		t.Errorf("the page was reloaded")
	}
}
