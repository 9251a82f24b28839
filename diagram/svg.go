package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"unicode/utf8"
)

// The SVG form: the text form's layout in pixels, self-contained (no script, no external font or
// file), written with the standard library. Every label sits in a box of its own (class "label",
// its box in data-box) so that a test can check that no two overlap; lifelines, datagrams and
// ICMP errors are classed "lifeline", "datagram" and "icmp"; each element's <title> is the whole
// call, shown on hover.

const (
	charWidth   = 7.2 // px per character of the 12px monospace font
	callRow     = 24  // px of a call's row
	arrowRow    = 38  // px of an arrow's row (its label above it)
	headerH     = 44
	marginX     = 16
	minColumnPx = 170
	red         = "#c62828"
)

// geometry is the layout in pixels.
type geometry struct {
	col           float64   // column width
	rowsY         []float64 // the top of each row
	width, height float64
}

func (d *Diagram) geometry() geometry {
	maxLabel := 0
	for _, l := range d.Lifelines {
		maxLabel = max(maxLabel, utf8.RuneCountInString(l.Label))
	}
	for _, r := range d.Rows {
		if r.Kind == Call {
			maxLabel = max(maxLabel, utf8.RuneCountInString(r.Text)/2+2)
		}
	}
	g := geometry{col: max(minColumnPx, float64(maxLabel)*charWidth+24)}
	y := float64(headerH)
	for _, r := range d.Rows {
		g.rowsY = append(g.rowsY, y)
		if r.Kind == Datagram || r.Kind == ICMP {
			y += arrowRow
		} else {
			y += callRow
		}
	}
	g.width = 2*marginX + g.col*float64(len(d.Lifelines))
	for _, r := range d.Rows {
		if r.Kind == Call { // a call's label may be twice a column wide: the picture holds it
			g.width = max(g.width, float64(utf8.RuneCountInString(r.Text))*charWidth+2*marginX+16)
		}
	}
	g.height = y + 20
	return g
}

func (g geometry) x(line int) float64 { return marginX + g.col*float64(line) + g.col/2 }

// box is a label's rectangle.
type box struct{ x, y, w, h float64 }

// SVG returns the diagram as a standalone SVG document.
func (d *Diagram) SVG() []byte {
	var b bytes.Buffer
	d.writeSVG(&b)
	return b.Bytes()
}

func (d *Diagram) writeSVG(b *bytes.Buffer) {
	g := d.geometry()
	// labels wider than their room are cut so that boxes never overlap
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="12">`+"\n",
		g.width, g.height, g.width, g.height)
	b.WriteString(`<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>` +
		`<marker id="redhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="` + red + `"/></marker></defs>` + "\n")
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	maxChars := int((g.col - 12) / charWidth)
	for i, l := range d.Lifelines {
		x := g.x(i)
		top, bottom := float64(headerH)-8, g.height-12
		if l.First < len(g.rowsY) {
			top = g.rowsY[l.First]
		}
		if l.Last < len(g.rowsY) {
			bottom = g.rowsY[l.Last] + callRow/2
		}
		dash := ""
		if l.Nobody {
			dash = ` stroke-dasharray="2,3"`
		}
		fmt.Fprintf(b, `<g class="lifeline"><title>%s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"%s/>`, esc(l.Label), x, top, x, bottom, dash)
		label := cut(l.Label, maxChars)
		labelBox(b, "", box{x - textWidth(label)/2 - 4, 8, textWidth(label) + 8, 20}, label, "#222", true)
		b.WriteString("</g>\n")
	}
	for r, row := range d.Rows {
		y := g.rowsY[r]
		title := row.Detail
		if title == "" {
			title = row.Text
		}
		colour := "#222"
		if row.Error {
			colour = red
		}
		switch row.Kind {
		case Call:
			x := g.x(row.Line)
			text := cut(row.Text, 2*maxChars)
			w := textWidth(text) + 8
			left := x + 6 // beside its lifeline, as in the text form; to the left when it does not fit
			if left+w > g.width-2 {
				left = max(x-6-w, 2)
			}
			fmt.Fprintf(b, `<g class="call"><title>%s</title><circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, esc(title), x, y+callRow/2, colour)
			labelBox(b, "", box{left, y + 2, w, callRow - 4}, text, colour, false)
			b.WriteString("</g>\n")
		case Datagram, ICMP:
			from, to := g.x(row.From), g.x(row.To)
			class, stroke, head, dash := "datagram", "#222", "head", ""
			if row.Kind == ICMP {
				class, stroke, head, dash = "icmp", red, "redhead", ` stroke-dasharray="6,4"`
			}
			ay := y + arrowRow - 10
			end := to
			if row.Lost {
				end = to - sign(to-from)*6
			}
			fmt.Fprintf(b, `<g class="%s"><title>%s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"%s marker-end="url(#%s)"/>`,
				class, esc(title), from, ay, end, ay, stroke, dash, head)
			for _, h := range row.Heads {
				hx := g.x(h)
				fmt.Fprintf(b, `<line class="head" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" marker-end="url(#%s)"/>`, from, ay, hx, ay, stroke, head)
			}
			if row.Lost {
				fmt.Fprintf(b, `<path class="cross" d="M%.1f,%.1f l8,8 m0,-8 l-8,8" stroke="%s" stroke-width="2"/>`, to-4, ay-4, red)
			}
			span := max(abs(to-from)-12, g.col-12)
			text := cut(row.Text, int(span/charWidth))
			w := textWidth(text) + 8
			labelBox(b, "", box{(from+to)/2 - w/2, y + 2, w, 18}, text, stroke, false)
			b.WriteString("</g>\n")
		case Gap:
			fmt.Fprintf(b, `<g class="gap"><line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb" stroke-dasharray="1,4"/>`, marginX, y+callRow/2, g.width-marginX, y+callRow/2)
			text := "⋯ " + row.Text + " ⋯"
			labelBox(b, "", box{marginX, y + 2, textWidth(text) + 8, callRow - 4}, text, "#666", false)
			b.WriteString("</g>\n")
		}
	}
	b.WriteString("</svg>\n")
}

// labelBox writes a label: its background box and its text, centred.
func labelBox(b *bytes.Buffer, _ string, bx box, text, colour string, bold bool) {
	weight := ""
	if bold {
		weight = ` font-weight="bold"`
	}
	fmt.Fprintf(b, `<g class="label" data-box="%.1f %.1f %.1f %.1f"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="white" fill-opacity="0.9"/><text x="%.1f" y="%.1f" text-anchor="middle" fill="%s"%s>%s</text></g>`,
		bx.x, bx.y, bx.w, bx.h, bx.x, bx.y, bx.w, bx.h, bx.x+bx.w/2, bx.y+bx.h/2+4, colour, weight, esc(text))
}

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

func esc(s string) string { return html.EscapeString(s) }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// HTML returns the diagram in a page of its own: the SVG, and a legend. Hovering an element
// shows its whole call (the SVG's titles); the page has no script.
func (d *Diagram) HTML() []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>udplab: sequence diagram</title>
<style>body{font-family:sans-serif;margin:16px} .legend{font-size:13px;margin-bottom:12px} .legend span{margin-right:18px}</style>
</head><body>
<div class="legend"><span>│ a socket (its address and descriptor)</span><span>● a call and its result</span><span style="color:` + red + `">✖ a call that failed</span><span>──▶ a datagram</span><span>▶✕ nobody listened</span><span style="color:` + red + `">┄┄▶ an ICMP error</span><br>
` + d.source() + ` Hover over an element for the whole call or packet.</div>
`)
	d.writeSVG(&b)
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// Shape is what ReadSVG reads back from an SVG this package wrote: its elements counted by
// class, its label boxes (x, y, width, height) and the lines of its ICMP arrows (x1, y1, x2, y2).
// Tests check a picture with it.
type Shape struct {
	Classes map[string]int
	Boxes   [][4]float64
	ICMP    [][4]float64 // the lines of the ICMP arrows: x1 y1 x2 y2
}

// ReadSVG reads back an SVG written by this package.
func ReadSVG(r io.Reader) (Shape, error) {
	shape := Shape{Classes: map[string]int{}}
	dec := xml.NewDecoder(r)
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return shape, nil
		}
		if err != nil {
			return shape, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			class := ""
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
					shape.Classes[class]++
				case "data-box":
					var b [4]float64
					fmt.Sscan(a.Value, &b[0], &b[1], &b[2], &b[3])
					shape.Boxes = append(shape.Boxes, b)
				}
			}
			if el.Name.Local == "line" && len(stack) > 0 && stack[len(stack)-1] == "icmp" {
				var l [4]float64
				for _, a := range el.Attr {
					for i, n := range []string{"x1", "y1", "x2", "y2"} {
						if a.Name.Local == n {
							fmt.Sscan(a.Value, &l[i])
						}
					}
				}
				shape.ICMP = append(shape.ICMP, l)
			}
			stack = append(stack, class)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// Overlapping describes two boxes of boxes that overlap, or returns "" when none do.
func Overlapping(boxes [][4]float64) string {
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a[0] < b[0]+b[2] && b[0] < a[0]+a[2] && a[1] < b[1]+b[3] && b[1] < a[1]+a[3] {
				return fmt.Sprintf("%v and %v", a, b)
			}
		}
	}
	return ""
}

// source says where the arrows come from, for the legend.
func (d *Diagram) source() string {
	if d.FromWire {
		return "Arrows are the packets the wire view captured (--wire)."
	}
	return "Arrows are drawn from the calls (a send to an address a traced socket owns is an arrow to that socket; an ICMP error is inferred from the errno a call returned): run with --wire, where it is allowed, to draw the packets themselves."
}
