package diagram

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// socketsRun is n sockets, each in a lab host of its own (h0, h1, ...: a lifeline each, in a
// column each), bound to 10.0.0.x:50000, and calls calls on them in an order that never repeats
// (so that nothing folds): a setsockopt or a failed receive each.
func socketsRun(n, calls int) ([]sock.CallEvent, Env) {
	var evs []sock.CallEvent
	var env Env
	ms := 0
	for i := range n {
		port := ap(fmt.Sprintf("10.0.0.%d:50000", i+1))
		host := fmt.Sprintf("h%d", i)
		env.Hosts = append(env.Hosts, Host{Name: host, LANs: []string{"lan"}, Addrs: []netip.Addr{port.Addr()}})
		evs = append(evs, sock.CallEvent{Time: at(ms), FD: 3, Host: host, Call: "socket", Result: 3},
			sock.CallEvent{Time: at(ms + 1), FD: 3, Host: host, Call: "bind", Peer: port, Local: port})
		ms += 2
	}
	for k := range calls {
		i := (k*k + k/3) % n
		local := ap(fmt.Sprintf("10.0.0.%d:50000", i+1))
		ev := sock.CallEvent{Time: at(ms), FD: 3, Host: fmt.Sprintf("h%d", i), Call: "setsockopt SO_BROADCAST", Local: local}
		if k%3 == 0 {
			ev.Call, ev.Errno = "recv", unix.EAGAIN
		}
		evs = append(evs, ev)
		ms++
	}
	return evs, env
}

func socketsModel(n, calls int) *Model { return Build(socketsRun(n, calls)) }

// --fit: the picture is as wide as the frame, its text as large as the frame allows: at least
// 24 px at 1920x1080 with up to 6 lifelines, 16 px where the lanes do not fit the width at more,
// never above 40; a run too tall for the frame is drawn at 24 px, taller than the frame; no two
// labels overlap.
func TestFit(t *testing.T) {
	frame := Frame{1920, 1080}
	for _, tc := range []struct {
		name           string
		m              *Model
		minPx, maxPx   float64
		fitsHeightToo  bool
		wantLifelinesN int
	}{
		{"refused", Build(RefusedRun(), Env{}), 24, 40, true, 3},
		{"pinned", Build(pinnedRun(), Env{}), 24, 40, true, 4},
		{"nat", Build(NATRun(), natLab()), 24, 24, false, 5},
		{"6 sockets", socketsModel(6, 6), 24, 40, true, 6},
		{"14 sockets", socketsModel(14, 2), 16, 16, true, 14},
		{"too tall", socketsModel(6, 150), 24, 24, false, 6},
	} {
		if n := len(tc.m.Lifelines); n != tc.wantLifelinesN {
			t.Errorf("%s: %d lifelines, want %d", tc.name, n, tc.wantLifelinesN)
		}
		shape, err := ReadSVG(bytes.NewReader(tc.m.SVGIn(frame)))
		if err != nil {
			t.Fatal(err)
		}
		if shape.FontPx < tc.minPx || shape.FontPx > tc.maxPx {
			t.Errorf("%s: text of %.1f px, want %.0f to %.0f", tc.name, shape.FontPx, tc.minPx, tc.maxPx)
		}
		if math.Abs(shape.Width-1920) > 1 || (shape.Height <= 1080) != tc.fitsHeightToo {
			t.Errorf("%s: %.0fx%.0f for a 1920x1080 frame (fits its height: want %v)", tc.name, shape.Width, shape.Height, tc.fitsHeightToo)
		}
		if o := Overlapping(shape.Boxes); o != "" {
			t.Errorf("%s: labels overlap: %s", tc.name, o)
		}
	}
	if _, err := ParseFrame("1920x"); err == nil {
		t.Error("ParseFrame(1920x): no error")
	}
	if f, err := ParseFrame("1280x720"); err != nil || f != (Frame{1280, 720}) {
		t.Errorf("ParseFrame(1280x720) = %v, %v", f, err)
	}
}

// The fitted picture as a browser draws it at 1920x1080: a section's band is as tall, and its
// title's letters as tall, as the text size the SVG says (at 13 px the letters would be half as
// tall, and the check fails).
func TestFitRendered(t *testing.T) {
	browser := chromium(t)
	svg := Build(NATRun(), natLab()).SVGIn(Frame{1920, 1080})
	shape, _ := ReadSVG(bytes.NewReader(svg))
	if shape.FontPx < targetFitPx {
		t.Fatalf("NAT's picture (5 lifelines) is fitted with text of %.1f px, want at least %d", shape.FontPx, targetFitPx)
	}
	img := screenshot(t, browser, t.TempDir(), "nat-1920x1080.svg", svg, 1920, 1080)
	band, letters := sectionBand(img)
	if want := (rowHeight(rowSection) - 6) * shape.Scale; math.Abs(float64(band.Dy())-want) > 2 {
		t.Errorf("the section's band is %d px tall, want %.0f (text of %.1f px)", band.Dy(), want, shape.FontPx)
	}
	// a title with ascenders and descenders ("pinned", "right") spans most of an em
	if letters < int(0.7*shape.FontPx) {
		t.Errorf("the section title's letters span %d px, want at least %.0f (text of %.1f px)", letters, 0.7*shape.FontPx, shape.FontPx)
	}
}

// sectionBand finds the first section band (its yellow) in img, going down the left edge of the
// picture, and measures how many rows of pixels its title's brown letters span.
func sectionBand(img image.Image) (image.Rectangle, int) {
	b := img.Bounds()
	x := b.Max.X - 20 // the band's right end: its title is at its left
	top, bottom := -1, -1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		r, g, bl, _ := img.At(x, y).RGBA()
		yellow := r>>8 == 0xff && g>>8 == 0xf4 && bl>>8 == 0xd6
		if yellow && top < 0 {
			top = y
		}
		if !yellow && top >= 0 {
			bottom = y
			break
		}
	}
	if top < 0 || bottom < 0 {
		return image.Rectangle{}, 0
	}
	first, last := -1, -1
	for y := top; y < bottom; y++ {
		for x := b.Min.X; x < b.Max.X/2; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 0xa0 && g>>8 < 0x90 && bl>>8 < 0x60 { // the title's #5b4300, anti-aliased
				if first < 0 {
					first = y
				}
				last = y
				break
			}
		}
	}
	return image.Rect(b.Min.X, top, b.Max.X, bottom), last - first + 1
}
