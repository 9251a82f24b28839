package diagram

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/udplab/udplab/sock"
)

// One slide per section, each that section alone with the lifelines it uses, 1920x1080, its text
// at least 24 px (up to 6 lifelines); the events before the first section make slide 00, and a
// run without sections one slide named after its script.
func TestSlides(t *testing.T) {
	frame := Frame{1920, 1080}
	nat := Build(NATRun(), natLab())
	slides := nat.Slides(frame, "nat")
	var names []string
	for _, s := range slides {
		names = append(names, s.Name)
		shape, err := ReadSVG(bytes.NewReader(s.SVG))
		if err != nil || shape.Width != 1920 || shape.Height != 1080 || shape.FontPx < targetFitPx {
			t.Errorf("%s: %.0fx%.0f, text of %.1f px (%v)", s.Name, shape.Width, shape.Height, shape.FontPx, err)
		}
		if o := Overlapping(shape.Boxes); o != "" {
			t.Errorf("%s: labels overlap: %s", s.Name, o)
		}
	}
	if want := []string{"01-r-masquerades-what-leaves-it-on-the-right.svg", "02-the-pinned-server-pins-the-mapping.svg"}; !slices.Equal(names, want) {
		t.Errorf("slides %q, want %q", names, want)
	}
	// the first section uses a, b and r's lifelines, not c's: client2 comes in the second
	if svg := string(slides[0].SVG); strings.Contains(svg, "client2") || !strings.Contains(svg, "server 10.2.0.1:43211") {
		t.Errorf("the first slide's lifelines are not its section's")
	}
	if !strings.Contains(string(slides[1].SVG), "client2") {
		t.Errorf("the second slide lacks client2")
	}

	before := append([]sock.CallEvent{{Time: at(-5), FD: 3, Host: "a", Call: "socket", Result: 3}}, NATRun()...)
	if s := Build(before, natLab()).Slides(frame, "nat"); len(s) != 3 || s[0].Name != "00-nat.svg" || s[1].Name != names[0] {
		t.Errorf("with a call before the first section: %v", slideNames(s))
	}
	if s := Build(RefusedRun(), Env{}).Slides(frame, "refused"); len(s) != 1 || s[0].Name != "01-refused.svg" {
		t.Errorf("without sections: %v", slideNames(s))
	}
}

// A section too tall for the frame at 24 px is split into pages, never drawn smaller: each page
// is 1920x1080 with text of at least 24 px, and each after the first says the section goes on.
func TestSlidesSplit(t *testing.T) {
	events, env := socketsRun(6, 150)
	events = append([]sock.CallEvent{{Time: at(-1), Call: "section", Data: []byte("a long step")}}, events...)
	slides := Build(events, env).Slides(Frame{1920, 1080}, "long")
	if len(slides) < 3 {
		t.Fatalf("%d slides for 162 rows", len(slides))
	}
	for i, s := range slides {
		shape, _ := ReadSVG(bytes.NewReader(s.SVG))
		want := "01-a-long-step.svg"
		if i > 0 {
			want = "01-a-long-step-" + string(rune('1'+i)) + ".svg"
		}
		if s.Name != want || shape.Height != 1080 || shape.FontPx < targetFitPx || (i > 0) != strings.Contains(string(s.SVG), "a long step (continued)") {
			t.Errorf("page %d: %s, %.0f px tall, text of %.1f px", i+1, s.Name, shape.Height, shape.FontPx)
		}
	}
}

// The page of slides holds every picture, with no id twice (each slide's arrowheads are its own).
func TestSlidesPage(t *testing.T) {
	slides := Build(NATRun(), natLab()).Slides(Frame{1920, 1080}, "nat")
	page := string(SlidesPage(slides, "nat"))
	for _, s := range slides {
		if !strings.Contains(page, string(s.SVG)) {
			t.Errorf("the page lacks %s", s.Name)
		}
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if seen[m[1]] {
			t.Errorf("id %q twice", m[1])
		}
		seen[m[1]] = true
	}
	if strings.Contains(page, "src=") || strings.Contains(page, "href=\"http") {
		t.Error("the page refers to another file")
	}
}

func slideNames(slides []Slide) []string {
	var names []string
	for _, s := range slides {
		names = append(names, s.Name)
	}
	return names
}

// The README's slide is the second of NATRun's slides as this package draws them now, at
// 1920x1080.
func TestReadmeSlide(t *testing.T) {
	got := Build(NATRun(), natLab()).Slides(Frame{1920, 1080}, "nat")[1].SVG
	path := filepath.Join("..", "docs", "slide.svg")
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("docs/slide.svg is not the current slide (go test ./diagram -update rewrites it): %v", err)
	}
}
