package pcapng

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// frame is an Ethernet frame of a UDP datagram from 10.0.0.1:40000 to 10.0.0.2:43211 holding
// payload.
func frame(payload string) []byte {
	b := []byte{0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, byte(28 + len(payload)), 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	var sum uint32
	for i := 0; i < len(ip); i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	ip[10], ip[11] = byte(^sum>>8), byte(^sum)
	udp := []byte{0x9c, 0x40, 0xa8, 0xcb, 0, byte(8 + len(payload)), 0, 0}
	return append(append(append(b, ip...), udp...), payload...)
}

// A file written here reads back, with gopacket's pcapgo reader (a reader udplab did not make),
// as the frames, interfaces, times and lengths written.
func TestReadBack(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "udplab test")
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := w.AddInterface("lo", LinkEthernet, 65535)
	if err := w.WriteNames([]Name{{netip.MustParseAddr("10.0.0.1"), "a"}, {netip.MustParseAddr("fd00::2"), "b"}}); err != nil {
		t.Fatal(err)
	}
	lan, _ := w.AddInterface("left", LinkEthernet, 65535)
	at := time.Date(2026, 12, 2, 1, 2, 3, 456789123, time.UTC)
	frames := [][]byte{frame("g1"), frame("odd"), frame("")}
	for i, f := range frames {
		if err := w.WritePacket([]int{lo, lan}[i%2], at.Add(time.Duration(i)*time.Millisecond), f, len(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WritePacket(7, at, frames[0], 0); err == nil {
		t.Error("a packet of an interface never described was written")
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(buf.Bytes()), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range frames {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(data, want) || ci.InterfaceIndex != i%2 || !ci.Timestamp.Equal(at.Add(time.Duration(i)*time.Millisecond)) || ci.Length != len(want) {
			t.Errorf("frame %d: %x on %d at %v (%d bytes), want %x on %d at %v", i, data, ci.InterfaceIndex, ci.Timestamp, ci.Length, want, i%2, at)
		}
	}
	if n := r.NInterfaces(); n != 2 {
		t.Fatalf("%d interfaces", n)
	}
	for i, name := range []string{"lo", "left"} {
		if intf, err := r.Interface(i); err != nil || intf.Name != name {
			t.Errorf("interface %d: %+v %v", i, intf, err)
		}
	}
	// The name resolution block, walked by hand (pcapgo skips it): its two records.
	var names []string
	for b := buf.Bytes(); len(b) >= 12; {
		typ, n := le.Uint32(b), le.Uint32(b[4:])
		if typ == blockNameResolution {
			for rec := b[8 : n-4]; len(rec) >= 4; {
				code, l := le.Uint16(rec), int(le.Uint16(rec[2:]))
				if code == nrbEnd {
					break
				}
				v := rec[4 : 4+l]
				size := map[uint16]int{nrbIPv4: 4, nrbIPv6: 16}[code]
				addr, _ := netip.AddrFromSlice(v[:size])
				names = append(names, addr.String()+"="+strings.TrimRight(string(v[size:]), "\x00"))
				rec = rec[4+(l+3)/4*4:]
			}
		}
		b = b[n:]
	}
	if strings.Join(names, " ") != "10.0.0.1=a fd00::2=b" {
		t.Errorf("names: %v", names)
	}
	// tcpdump (Debian's, which .ci/run installs) reads it too.
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("no tcpdump")
	}
	path := filepath.Join(t.TempDir(), "x.pcapng")
	os.WriteFile(path, buf.Bytes(), 0o644)
	out, err := tcpdumpCmd(path).CombinedOutput()
	if err != nil || strings.Count(string(out), "10.0.0.1.40000 > 10.0.0.2.43211: UDP, length") != 3 || !strings.Contains(string(out), "01:02:03.456789 IP") {
		t.Errorf("tcpdump -r: %v\n%s", err, out)
	}
}

// tcpdumpCmd reads path with tcpdump, printing times in UTC.
func tcpdumpCmd(path string) *exec.Cmd {
	cmd := exec.Command("tcpdump", "-nr", path)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	return cmd
}
