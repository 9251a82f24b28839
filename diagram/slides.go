package diagram

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// Slides: one picture per section of a run (section("...") in a script, lab.section), each that
// section alone with the lifelines it uses, fitted to a frame, and a page that shows them one at
// a time. A section too tall for the frame at the floor size (see fit) is split into pages, each
// fitted again; none is drawn smaller.

// Slide is one picture of a run's slides.
type Slide struct {
	Name  string // its file's name: "01-port-closed.svg", "01-port-closed-2.svg" for its second page
	Title string // the section's title
	SVG   []byte
}

// Slides returns the slides of the run, fitted to f: one per section, in order, numbered from 01;
// the events before the first section, if any, are slide 00, named after script ("refused"), as
// is the one slide of a run without sections.
func (m *Model) Slides(f Frame, script string) []Slide {
	var slides []Slide
	for k, part := range m.sections(script) {
		lay := part.layout()
		scale, fits := lay.fit(f)
		pages := []*layout{lay}
		if !fits {
			pages = lay.split(f, scale, part.title)
		}
		for p, page := range pages {
			name := fmt.Sprintf("%02d-%s", k+part.first, slug(part.title))
			if p > 0 {
				name += fmt.Sprintf("-%d", p+1)
			}
			s, _ := page.fit(f)
			g := page.geometryIn(float64(f.W)/s, true)
			g.ids = fmt.Sprintf("s%d-", len(slides)+1)
			slides = append(slides, Slide{Name: name + ".svg", Title: part.title, SVG: g.svg(s, float64(f.H)/s)})
		}
	}
	return slides
}

// section is a part of a run: a section's events, or those before the first section.
type section struct {
	*Model
	title string
	first int // the number of the run's first part: 0 when events come before the first section, else 1
}

// sections cuts m at its sections: each holds the lifelines its events use, as m has them.
func (m *Model) sections(script string) []section {
	var cuts []int
	for i, e := range m.Events {
		if e.Kind == EventSection {
			cuts = append(cuts, i)
		}
	}
	first := 1
	if len(cuts) == 0 || cuts[0] > 0 {
		cuts = append([]int{0}, cuts...)
		if len(cuts) > 1 {
			first = 0
		}
	}
	var parts []section
	for k, start := range cuts {
		end := len(m.Events)
		if k+1 < len(cuts) {
			end = cuts[k+1]
		}
		title := script
		if e := m.Events[start:end]; len(e) > 0 && e[0].Kind == EventSection {
			title = e[0].Title
		}
		parts = append(parts, section{Model: m.only(m.Events[start:end]), title: title, first: first})
	}
	parts[len(parts)-1].Dropped = m.Dropped // the run's end says what it left out
	return parts
}

// only returns the model of events alone: them, and the lifelines they use.
func (m *Model) only(events []Event) *Model {
	used := map[string]bool{}
	for _, e := range events {
		for _, id := range append(append([]string{e.Lifeline, e.From}, e.To...), viaIDs(&e)...) {
			used[id] = true
		}
	}
	part := &Model{Events: events, FromWire: m.FromWire, Start: m.Start}
	for _, l := range m.Lifelines {
		if used[l.ID] {
			part.Lifelines = append(part.Lifelines, l)
		}
	}
	return part
}

// split cuts lay's rows into pages that each fit f at scale, below the same header; each page
// after the first begins with the section's title, continued.
func (lay *layout) split(f Frame, scale float64, title string) []*layout {
	g := lay.geometryIn(float64(f.W)/scale, true)
	room := float64(f.H)/scale - g.headH - 16
	var pages []*layout
	var rows []row
	height := 0.0
	for _, r := range lay.rows {
		h := rowHeight(r.kind)
		if len(rows) > 0 && height+h > room {
			pages = append(pages, lay.withRows(rows))
			rows = []row{{kind: rowSection, text: title + " (continued)"}}
			height = rowHeight(rowSection)
		}
		rows = append(rows, r)
		height += h
	}
	return append(pages, lay.withRows(rows))
}

// withRows is lay with rows instead of its own: a page of it.
func (lay *layout) withRows(rows []row) *layout {
	page := *lay
	page.rows = rows
	return &page
}

// slug makes a title a file name's part: "port closed (nothing bound on b)" is
// "port-closed-nothing-bound-on-b".
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "part"
	}
	return b.String()
}

// SlidesPage returns an HTML page of slides, one at a time, each scaled to the window: the arrow
// keys (and Page Up, Page Down, Space, Home, End) page through them; the address's #3 opens the
// third. The page holds every picture: it needs no other file.
func SlidesPage(slides []Slide, title string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title>
<style>html,body{margin:0;height:100%%;background:white;overflow:hidden}
.slide{display:none;width:100vw;height:100vh}
.slide.on{display:block}
.slide svg{width:100vw;height:100vh}
#at{position:fixed;right:12px;bottom:8px;font:14px sans-serif;color:#888}</style>
</head><body>
`, esc("udplab: "+title))
	for i, s := range slides {
		fmt.Fprintf(&b, "<div class=\"slide\" id=\"slide%d\" data-name=\"%s\">\n", i+1, esc(s.Name))
		b.Write(s.SVG)
		b.WriteString("</div>\n")
	}
	b.WriteString(`<div id="at"></div>
<script>
var slides = document.querySelectorAll(".slide"), at = 0;
function show(k) {
  at = Math.max(0, Math.min(slides.length - 1, k));
  slides.forEach(function (s, j) { s.classList.toggle("on", j === at); });
  document.getElementById("at").textContent = slides.length ? (at + 1) + " / " + slides.length + "  " + slides[at].dataset.name : "no slides";
  history.replaceState(null, "", "#" + (at + 1));
}
document.addEventListener("keydown", function (e) {
  var next = {ArrowRight: at + 1, ArrowDown: at + 1, PageDown: at + 1, " ": at + 1,
    ArrowLeft: at - 1, ArrowUp: at - 1, PageUp: at - 1, Backspace: at - 1, Home: 0, End: slides.length - 1}[e.key];
  if (next === undefined) return;
  e.preventDefault();
  show(next);
});
show((parseInt(location.hash.slice(1), 10) || 1) - 1);
</script>
</body></html>
`)
	return b.Bytes()
}
