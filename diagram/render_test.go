package diagram

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The picture as a browser draws it: headless Chromium renders refused.lua's SVG and its HTML
// page to PNG; the picture is not blank, and the ICMP arrow is red where the layout put it (in
// the page, below the legend and the header: found by looking for it, with nothing red 80 px
// above).
func TestRenderedInABrowser(t *testing.T) {
	browser := chromium(t)
	d := Build(RefusedRun(), Env{})
	svg := d.SVG()
	shape, err := ReadSVG(bytes.NewReader(svg))
	if err != nil || len(shape.ICMP) != 1 {
		t.Fatalf("no ICMP arrow in the SVG: %v %v", shape, err)
	}
	g := d.layout().geometry()
	dir := t.TempDir()
	for _, page := range []struct {
		name string
		data []byte
		dy   float64 // where the SVG's rows start on the page; -1: look for them
	}{{"refused.svg", svg, 0}, {"refused.html", d.HTML(), -1}} {
		img := screenshot(t, browser, dir, page.name, page.data, int(g.width+40), int(g.headH+g.total+400))
		if dark := count(img, img.Bounds(), isDark); dark < 200 {
			t.Errorf("%s: the picture is blank (%d dark pixels)", page.name, dark)
		}
		l := shape.ICMP[0]
		dy := page.dy
		if dy < 0 { // the page: the rows start below the legend and the header; the arrow's x is 16 px in (the body's margin)
			l[0], l[2] = l[0]+16, l[2]+16
			for try := 0.0; try < 400; try++ {
				band := image.Rect(int(min(l[0], l[2]))+10, int(l[1]-g.headH+try)-3, int(max(l[0], l[2]))-10, int(l[1]-g.headH+try)+4)
				if count(img, band, isRed) >= 20 {
					dy = try - g.headH
					break
				}
			}
			if dy < 0 {
				t.Errorf("%s: no red ICMP arrow anywhere below its place in the SVG", page.name)
				continue
			}
		}
		around := image.Rect(int(min(l[0], l[2]))+10, int(l[1]+dy)-3, int(max(l[0], l[2]))-10, int(l[1]+dy)+4)
		if reds := count(img, around, isRed); reds < 20 {
			t.Errorf("%s: %d red pixels along the ICMP arrow at %v, want the arrow there", page.name, reds, around)
		}
		if reds := count(img, around.Add(image.Pt(0, -80)), isRed); reds > 0 {
			t.Errorf("%s: red 80 px above the ICMP arrow: the check would pass anywhere", page.name)
		}
	}
}

// chromium returns the path of the Chromium browser, or skips the test (fails it under CI).
func chromium(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt install chromium)")
	}
	return browser
}

// screenshot writes data to dir/name and returns headless Chromium's picture of it in a window
// of w by h pixels (the PNG is kept beside it, for looking at).
func screenshot(t *testing.T, browser, dir, name string, data []byte, w, h int) image.Image {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := path + ".png"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--user-data-dir="+filepath.Join(dir, "profile"),
		fmt.Sprintf("--window-size=%d,%d", w, h), "--screenshot="+shot, "file://"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func count(img image.Image, r image.Rectangle, match func(r, g, b uint32) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if match(cr>>8, cg>>8, cb>>8) {
				n++
			}
		}
	}
	return n
}

func isDark(r, g, b uint32) bool { return r < 100 && g < 100 && b < 100 }

func isRed(r, g, b uint32) bool { return r > 150 && r > g+60 && r > b+60 }
