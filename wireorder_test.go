package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// Across a router a datagram and the ICMP error it brings back cross two LANs, each captured by
// its own packet socket: the wire view and the pcap file show them in the order they crossed
// (the kernel's timestamps, as the pcap file has them), not LAN by LAN. Each datagram to the
// closed port on the far LAN crosses left then right, its ICMP error right then left; handed on
// as each capture read them, the view showed UDP, ICMP, UDP, ICMP and the file's blocks went
// back in time. The frames of each send still come after its line, before the next send's; and
// the file alone (--pcap without --wire, where no call line takes the frames) is in order too.
func TestWireOrderAcrossRouter(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("run as root: the wire view's lab and lo captures")
	}
	t.Parallel()
	const chunk = `local net = network{lans={left="10.1.0.0/24", right="10.2.0.0/24"}, hosts={a="left", b="right", r={"left","right"}}, icmp_ratelimit=0}
local c = net.a:socket(AF_INET, SOCK_DGRAM); connect(c, net.b.addr, 43211); settimeout(c, 2)
for i = 1, 8 do send(c, "g" .. i); print(select(3, recv(c, 100))) end`
	dir := t.TempDir()
	path := filepath.Join(dir, "wire.pcapng")
	r := udplab(t, chunk, "--wire", "--pcap", path, "-")
	if r.code != 0 || r.stdout != strings.Repeat("111\n", 8) {
		t.Fatalf("not 8 refusals: %+v", r)
	}
	frames := framesInOrder(t, path)
	var wantWire []string
	for _, f := range frames {
		wantWire = append(wantWire, f.kind)
	}
	var gotWire []string
	after := map[string][]string{} // the frames after each send's line, but ARP
	sent := ""
	for line := range strings.SplitSeq(r.stderr, "\n") {
		if m := sendLine.FindStringSubmatch(line); m != nil {
			sent = m[1]
		}
		if kind := wireKind(line); kind != "" {
			gotWire = append(gotWire, kind)
			if kind != "ARP" {
				after[sent] = append(after[sent], kind)
			}
		}
	}
	if !slices.Equal(gotWire, wantWire) {
		var lines []string
		for _, f := range frames {
			lines = append(lines, fmt.Sprintf("%s %s on %s", f.at.Format(".000000"), f.kind, f.link))
		}
		t.Errorf("the wire view's frames are not in the order they crossed:\n got %q\nwant %q\nas the pcap file's timestamps have them:\n%s",
			gotWire, wantWire, strings.Join(lines, "\n"))
	}
	for i := 1; i <= 8; i++ {
		g := fmt.Sprint("g", i)
		if want := []string{"UDP " + g, "UDP " + g, "ICMP", "ICMP"}; !slices.Equal(after[g], want) {
			t.Errorf("after the line of send(c, %q), before the next call's: %q, want %q", g, after[g], want)
		}
	}

	path = filepath.Join(dir, "pcap.pcapng")
	if r := udplab(t, chunk, "--pcap", path, "-"); r.code != 0 {
		t.Fatalf("--pcap alone: %+v", r)
	}
	framesInOrder(t, path)
}

// sendLine is a send's line in the trace; it captures the data sent.
var sendLine = regexp.MustCompile(`^sendto\(\d+, "([^"]*)"`)

// framesInOrder reads the frames of the pcap file at path, checks that its blocks are in time
// order, and that it has each of the 8 datagrams, and their ICMP errors, on both LANs.
func framesInOrder(t *testing.T, path string) []capturedFrame {
	t.Helper()
	frames := readFrames(t, path)
	var sent, icmp int
	for i, f := range frames {
		if i > 0 && f.at.Before(frames[i-1].at) {
			t.Errorf("%s goes back in time: block %d (%s on %s) at %s, after block %d (%s on %s) at %s", filepath.Base(path),
				i, f.kind, f.link, f.at.Format(".000000"), i-1, frames[i-1].kind, frames[i-1].link, frames[i-1].at.Format(".000000"))
		}
		switch {
		case strings.HasPrefix(f.kind, "UDP g"):
			sent++
		case f.kind == "ICMP":
			icmp++
		}
	}
	if sent != 16 || icmp != 16 {
		t.Errorf("%s has %d datagrams and %d ICMP errors, want each of the 8 on both LANs", filepath.Base(path), sent, icmp)
	}
	slices.SortStableFunc(frames, func(x, y capturedFrame) int { return x.at.Compare(y.at) })
	return frames
}

// capturedFrame is a block of a pcap file: what it carries, on which link, when.
type capturedFrame struct {
	kind, link string
	at         time.Time
}

// readFrames reads the frames of a pcapng file, in the file's order, with pcapgo: kind is "ARP",
// "UDP " and the datagram's data, or "ICMP" (an ICMP or ICMPv6 error), as wireKind names the
// wire view's lines.
func readFrames(t *testing.T, path string) []capturedFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var frames []capturedFrame
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		link := fmt.Sprint("interface ", ci.InterfaceIndex)
		if iface, err := r.Interface(ci.InterfaceIndex); err == nil {
			link = iface.Name
		}
		kind := "other"
		if len(data) >= 14 {
			switch ip := data[14:]; binary.BigEndian.Uint16(data[12:14]) {
			case 0x0806:
				kind = "ARP"
			case 0x0800:
				if len(ip) >= 20 {
					kind = ipKind(ip[9], ip[int(ip[0]&0x0f)*4:])
				}
			case 0x86dd:
				if len(ip) >= 40 {
					kind = ipKind(ip[6], ip[40:])
				}
			}
		}
		frames = append(frames, capturedFrame{kind: kind, link: link, at: ci.Timestamp})
	}
	return frames
}

// ipKind names an IP packet by its protocol and payload: "UDP" and the data, "ICMP".
func ipKind(proto byte, payload []byte) string {
	switch proto {
	case 17:
		if len(payload) >= 8 {
			return "UDP " + string(payload[8:])
		}
	case 1, 58:
		return "ICMP"
	}
	return "other"
}

// wireKind names a frame's line of the wire view as readFrames names its block; "" for a call's
// line.
func wireKind(line string) string {
	switch {
	case strings.HasPrefix(line, "ARP "):
		return "ARP"
	case strings.Contains(line, " for UDP ") && (strings.Contains(line, " ICMP ") || strings.Contains(line, " ICMP6 ")):
		return "ICMP"
	}
	if _, data, ok := strings.Cut(line, " UDP len "); ok {
		if _, quoted, ok := strings.Cut(data, " "); ok {
			return "UDP " + strings.Trim(quoted, `"`)
		}
	}
	return ""
}
