package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/udplab/udplab/diagram"
)

// --slides DIR: reconnect.lua's slides, counted against the sections its model holds (one each,
// and one for the calls before the first), each 1920x1080 with its text measured from the SVG:
// at least 24 px where its section uses up to 6 lifelines, 16 px always. Headless Chromium
// draws each at 1920x1080, and the page of slides (index.html#k) shows slide k as its own file
// does.
func TestSlidesOfARun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	slides := filepath.Join(dir, "slides")
	model := filepath.Join(dir, "model.json")
	r := udplab(t, "", "--slides", slides, "--diagram", model, "scripts/reconnect.lua")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := diagram.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	// the sections, and the lifelines each uses
	var uses []map[string]bool
	for i, e := range m.Events {
		if e.Kind == "section" || i == 0 {
			uses = append(uses, map[string]bool{})
		}
		for _, id := range append([]string{e.Lifeline, e.From}, e.To...) {
			if id != "" {
				uses[len(uses)-1][id] = true
			}
		}
	}
	if r := udplab(t, "", "--slides", model, "-e", "print(1)"); r.code != 2 || !strings.Contains(r.stderr, "is not a folder") {
		t.Errorf("--slides to a file: %+v", r)
	}
	files, _ := filepath.Glob(filepath.Join(slides, "*.svg"))
	if len(files) != len(uses) || len(uses) < 3 {
		t.Fatalf("%d slides for %d parts of the run: %q", len(files), len(uses), files)
	}
	browser := chromiumPath(t)
	for k, path := range files {
		if !regexp.MustCompile(`^\d\d-[a-z0-9-]+\.svg$`).MatchString(filepath.Base(path)) {
			t.Errorf("slide %s: not a slide's name", path)
		}
		svg, _ := os.ReadFile(path)
		shape, err := diagram.ReadSVG(bytes.NewReader(svg))
		want := 16.0
		if len(uses[k]) <= 6 {
			want = 24
		}
		if err != nil || shape.Width != 1920 || shape.Height != 1080 || shape.FontPx < want {
			t.Errorf("%s (%d lifelines): %.0fx%.0f, text of %.1f px, want at least %.0f (%v)", filepath.Base(path), len(uses[k]), shape.Width, shape.Height, shape.FontPx, want, err)
		}
		if k%3 != 0 && k != len(files)-1 {
			continue // Chromium is slow on a shared machine: the first, every third and the last
		}
		own := shoot(t, browser, "file://"+path, filepath.Join(dir, fmt.Sprintf("own%d.png", k)))
		if dark := countPixels(own, isDarkPixel); dark < 500 {
			t.Errorf("%s: blank in Chromium (%d dark pixels)", filepath.Base(path), dark)
		}
		inPage := shoot(t, browser, fmt.Sprintf("file://%s#%d", filepath.Join(slides, "index.html"), k+1), filepath.Join(dir, fmt.Sprintf("page%d.png", k)))
		if d := differing(own, inPage); d > 100 {
			t.Errorf("index.html#%d: %d pixels differ from %s", k+1, d, filepath.Base(path))
		}
	}
}

// index.html pages through the slides with the arrow keys (and Home, End), in headless Chromium:
// one slide shown at a time.
func TestSlidesPageKeys(t *testing.T) {
	t.Parallel()
	slides := filepath.Join(t.TempDir(), "slides")
	if r := udplab(t, "", "--slides", slides, "scripts/reconnect.lua"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	files, _ := filepath.Glob(filepath.Join(slides, "*.svg"))
	b := startBrowser(t, 1920, 1080)
	b.call("Page.navigate", map[string]any{"url": "file://" + filepath.Join(slides, "index.html")}, nil)
	shown := `Array.from(document.querySelectorAll(".slide")).filter(function (s) { return getComputedStyle(s).display !== "none"; }).map(function (s) { return s.id; }).join()`
	b.waitEval(shown, `"slide1"`)
	for _, step := range []struct {
		key, code string
		vk        int
		want      string
	}{
		{"ArrowRight", "ArrowRight", 39, "slide2"}, {"ArrowRight", "ArrowRight", 39, "slide3"}, {"ArrowLeft", "ArrowLeft", 37, "slide2"},
		{"End", "End", 35, fmt.Sprintf("slide%d", len(files))}, {"ArrowRight", "ArrowRight", 39, fmt.Sprintf("slide%d", len(files))},
		{"Home", "Home", 36, "slide1"}, {"ArrowLeft", "ArrowLeft", 37, "slide1"},
	} {
		for _, kind := range []string{"keyDown", "keyUp"} {
			b.call("Input.dispatchKeyEvent", map[string]any{"type": kind, "key": step.key, "code": step.code, "windowsVirtualKeyCode": step.vk}, nil)
		}
		b.waitEval(shown, `"`+step.want+`"`)
	}
}

// chromiumPath returns Chromium's path, or skips the test (fails it under CI).
func chromiumPath(t *testing.T) string {
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

// shoot returns headless Chromium's 1920x1080 picture of url, written to png.
func shoot(t *testing.T, browser, url, shot string) image.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--user-data-dir="+filepath.Join(filepath.Dir(shot), "profile"),
		"--window-size=1920,1080", "--screenshot="+shot, url)
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

func countPixels(img image.Image, match func(r, g, b uint32) bool) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if match(r>>8, g>>8, bl>>8) {
				n++
			}
		}
	}
	return n
}

func isDarkPixel(r, g, b uint32) bool { return r < 100 && g < 100 && b < 100 }

// differing counts the pixels in which a and b differ by more than anti-aliasing does, but for
// the bottom right corner, where the page of slides says which slide it shows.
func differing(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	corner := image.Rect(a.Bounds().Max.X*2/3, a.Bounds().Max.Y-32, a.Bounds().Max.X, a.Bounds().Max.Y)
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if image.Pt(x, y).In(corner) {
				continue
			}
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if absDiff(r1, r2)+absDiff(g1, g2)+absDiff(b1, b2) > 3*0x2000 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
