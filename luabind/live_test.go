package luabind

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// live() serves the picture and returns its address, the same on a second call; the model it
// serves holds the calls made since; live(false) stops it; a port another program has fails as
// bind does; a port out of range is refused.
func TestLiveCall(t *testing.T) {
	var out bytes.Buffer
	L, rt := newState(t, &out)
	defer rt.Shutdown()
	if err := L.DoString(`url = live(); print(url, live() == url)
		s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0)`); err != nil {
		t.Fatal(err)
	}
	url, same, _ := strings.Cut(strings.TrimSpace(out.String()), "\t")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || same != "true" {
		t.Fatalf("live() printed %q", out.String())
	}
	resp, err := http.Get(url + "model.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"call": "bind"`) {
		t.Errorf("the served model lacks the bind:\n%s", body)
	}
	if err := L.DoString(`live(false)`); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("live(false): %s still answers", url)
	}
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	out.Reset()
	if err := L.DoString(fmt.Sprintf(`print(live(%d))`, taken.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "nil\tAddress already in use\t98\n" {
		t.Errorf("live on a port in use: %q", got)
	}
	if err := L.DoString(`print(live(70000))`); err == nil || !strings.Contains(err.Error(), "port out of range") {
		t.Errorf("live(70000): %v", err)
	}
}
