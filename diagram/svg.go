package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"strings"
	"unicode/utf8"
)

// The SVG form: self-contained (no script, no external font or file), written with the standard
// library, at most maxWidth pixels wide with text of fontPx. Every label sits in a box of its own
// (class "label", its box in data-box) so that a test can check that no two overlap; lifelines,
// datagrams, ICMP errors and crosses are classed "lifeline", "datagram", "icmp" and "cross";
// each element's <title> is the whole call or packet, shown on hover.

const (
	fontPx    = 13
	charWidth = 7.8 // px per character of the 13 px monospace font
	maxWidth  = 1920
	laneMin   = 64
	laneMax   = 250
	marginX   = 16
	colPad    = 14
	hostH     = 24 // the host's band at the top of its column
	laneHeadH = 24 // a lane's first lifeline's label
	red       = "#c62828"
	grey      = "#777"
)

// rowHeight is the height of a row of kind k.
func rowHeight(k rowKind) float64 {
	switch k {
	case rowDatagram, rowICMP:
		return 42
	case rowSection, rowNext:
		return 34
	}
	return 26
}

// geometry is the layout in pixels.
type geometry struct {
	lay          *layout
	laneW        float64
	laneX        []float64
	colX, colW   []float64
	rowsY        []float64 // each row's top, from the first row's
	headH        float64
	width, total float64
	top          float64 // where the rows begin on the page
	ids          string  // the prefix of its elements' ids: unique on a page of several pictures
}

func (lay *layout) geometry() *geometry { return lay.geometryIn(maxWidth, false) }

// geometryIn lays lay out at most frameW wide (at 13 px text); fill spreads the lanes across the
// whole width, as a slide does.
func (lay *layout) geometryIn(frameW float64, fill bool) *geometry {
	g := &geometry{lay: lay}
	longest := 0
	for _, l := range lay.m.Lifelines {
		longest = max(longest, utf8.RuneCountInString(l.Label))
	}
	g.laneW = min(max(float64(longest)*charWidth+16, laneMin*1.8), laneMax)
	room := frameW - float64(2*marginX+colPad*len(lay.columns))
	if n := float64(len(lay.lanes)); n > 0 && (g.laneW*n > room || fill) {
		g.laneW = max(room/n, laneMin)
	}
	x := float64(marginX)
	for _, c := range lay.columns {
		g.colX = append(g.colX, x)
		w := g.laneW*float64(len(c.lanes)) + colPad
		g.colW = append(g.colW, w)
		x += w
	}
	g.laneX = make([]float64, len(lay.lanes))
	for ci, c := range lay.columns {
		for k, ln := range c.lanes {
			g.laneX[ln] = g.colX[ci] + colPad/2 + g.laneW*(float64(k)+0.5)
		}
	}
	g.width = max(x+marginX, 360)
	g.headH = hostH + laneHeadH + 12
	if len(lay.notes) > 0 {
		g.headH += 20 * float64(len(lay.notes))
	}
	y := 0.0
	for _, r := range lay.rows {
		g.rowsY = append(g.rowsY, y)
		y += rowHeight(r.kind)
	}
	g.total = y + 16
	return g
}

// box is a label's rectangle.
type box struct{ x, y, w, h float64 }

// SVG returns the picture as a standalone SVG document: the header (hosts and lanes) above the
// rows.
func (m *Model) SVG() []byte { return m.layout().geometry().svg(1, 0) }

// svg writes the picture as an SVG document, drawn at scale (1: 13 px text; the coordinates stay
// those of 13 px text, and the viewBox scales them), at least minH tall in those coordinates.
func (g *geometry) svg(scale, minH float64) []byte {
	var b bytes.Buffer
	height := max(g.headH+g.total, minH)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`+"\n",
		g.width*scale, height*scale, g.width, height, fontPx)
	g.writeDefs(&b)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	g.writeHeader(&b)
	g.top = g.headH
	g.writeBody(&b)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// writeDefs writes the arrowheads, their ids prefixed (several pictures share a page of slides).
func (g *geometry) writeDefs(b *bytes.Buffer) {
	b.WriteString(`<defs><marker id="` + g.ids + `head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>` +
		`<marker id="` + g.ids + `redhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="` + red + `"/></marker></defs>` + "\n")
}

// writeHeader writes the hosts' bands and each lane's first label.
func (g *geometry) writeHeader(b *bytes.Buffer) {
	lay := g.lay
	y := 8.0
	for _, n := range lay.notes {
		labelBox(b, box{marginX, y, textWidth(n) + 8, 18}, n, red, false)
		y += 20
	}
	for ci, c := range lay.columns {
		fmt.Fprintf(b, `<g class="host"><rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="#eef2f7" stroke="#c5cfdb"/>`, g.colX[ci]+2, y, g.colW[ci]-4, hostH)
		text := cut(c.label, int((g.colW[ci]-12)/charWidth))
		labelBox(b, box{g.colX[ci] + g.colW[ci]/2 - textWidth(text)/2 - 4, y + 3, textWidth(text) + 8, hostH - 6}, text, "#1a2a3a", true)
		b.WriteString("</g>\n")
	}
	y += hostH + 4
	for ln := range lay.lanes {
		label := g.laneLabel(ln)
		text := fitLabel(label, int((g.laneW-8)/charWidth))
		fmt.Fprintf(b, `<g class="lanehead"><title>%s</title>`, esc(label))
		labelBox(b, box{g.laneX[ln] - textWidth(text)/2 - 4, y, textWidth(text) + 8, laneHeadH - 4}, text, "#222", true)
		b.WriteString("</g>\n")
	}
}

// laneLabel is what a lane's header says.
func (g *geometry) laneLabel(ln int) string { return laneText(g.lay, ln) }

// span is the rows a lifeline lives through: from its start (the row of its label, or its first
// event) to its end.
func (g *geometry) span(i int, times []float64) (int, int) {
	l := &g.lay.m.Lifelines[i]
	first, last := -1, -1
	for r, t := range times {
		if first < 0 && (t >= l.From-1e-9 || g.lay.rows[r].kind == rowStart && g.lay.rows[r].line == i) {
			first = r
		}
		if t <= l.Until+1e-9 {
			last = r
		}
	}
	if first < 0 {
		first = len(times)
	}
	return first, last
}

func (g *geometry) writeBody(b *bytes.Buffer) {
	lay := g.lay
	times := lay.rowTimes()
	for ln, l := range lay.lanes {
		x := g.laneX[ln]
		for _, i := range l.lines {
			lf := &lay.m.Lifelines[i]
			first, last := g.span(i, times)
			if lf.Closed && last < 0 {
				continue // closed before these rows (a page of slides)
			}
			top, bottom := g.top, g.top+g.total-8
			if first < len(g.rowsY) {
				top = g.top + g.rowsY[first]
			}
			if last >= 0 && last < len(g.rowsY) && lf.Closed {
				bottom = g.top + g.rowsY[last] + rowHeight(lay.rows[last].kind)/2
			}
			if bottom <= top {
				continue
			}
			style := ` stroke="#888"`
			switch lf.Kind {
			case KindNobody:
				style = ` stroke="#aaa" stroke-dasharray="2,3"`
			case KindHost, KindRouter:
				style = ` stroke="#5a7da8" stroke-width="2"`
			}
			fmt.Fprintf(b, `<g class="lifeline"><title>%s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"%s/></g>`+"\n", esc(lf.Label), x, top, x, bottom, style)
		}
	}
	for r, row := range lay.rows {
		g.writeRow(b, r, row)
	}
}

func (g *geometry) writeRow(b *bytes.Buffer, r int, row row) {
	lay := g.lay
	y := g.top + g.rowsY[r]
	h := rowHeight(row.kind)
	title := ""
	if row.ev != nil {
		title = row.ev.Detail
	}
	switch row.kind {
	case rowCall:
		e := row.ev
		x := g.laneX[lay.laneOf[row.line]]
		colour := "#222"
		if e.Error {
			colour = red
		}
		fmt.Fprintf(b, `<g class="call"><title>%s</title>`, esc(orText(title, callText(e))))
		if e.Error {
			fmt.Fprintf(b, `<path d="M%.1f,%.1f l8,8 m0,-8 l-8,8" stroke="%s" stroke-width="2.2"/>`, x-4, y+h/2-4, red)
		} else {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x, y+h/2, colour)
		}
		g.besideLabel(b, x, y, h, callText(e), colour)
		b.WriteString("</g>\n")
	case rowStart:
		l := &lay.m.Lifelines[row.line]
		x := g.laneX[lay.laneOf[row.line]]
		text := fitLabel(l.Label, int((g.laneW*1.8)/charWidth))
		fmt.Fprintf(b, `<g class="lanehead"><title>%s</title>`, esc(l.Label))
		labelBox(b, g.clamp(box{x - textWidth(text)/2 - 4, y + 3, textWidth(text) + 8, h - 6}), text, "#222", true)
		b.WriteString("</g>\n")
	case rowDatagram, rowICMP:
		g.writeArrow(b, y, h, row.ev)
	case rowSection:
		fmt.Fprintf(b, `<g class="section"><rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="#fff4d6"/>`, marginX/2, y+3, g.width-marginX, h-6)
		text := cut(row.text, int((g.width-2*marginX)/charWidth))
		labelBox(b, box{marginX, y + 7, textWidth(text) + 8, h - 14}, text, "#5b4300", true)
		b.WriteString("</g>\n")
	case rowNext:
		// the call step mode is paused before: a band, and the call at its socket's lane
		fmt.Fprintf(b, `<g class="next"><rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="#ffe0b2" stroke="#ef6c00"/>`, marginX/2, y+3, g.width-marginX, h-6)
		x := float64(marginX)
		if row.line >= 0 {
			x = g.laneX[lay.laneOf[row.line]]
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="5" fill="white" stroke="#ef6c00" stroke-width="2.5"/>`, x, y+h/2)
			g.besideLabel(b, x, y+2, h-4, row.text, "#8a3b00")
		} else {
			text := cut(row.text, int((g.width-2*marginX)/charWidth))
			labelBox(b, box{x, y + 7, textWidth(text) + 8, h - 14}, text, "#8a3b00", true)
		}
		b.WriteString("</g>\n")
	case rowGap, rowFold, rowMore:
		class := map[rowKind]string{rowGap: "gap", rowFold: "fold", rowMore: "more"}[row.kind]
		fmt.Fprintf(b, `<g class="%s"><line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb" stroke-dasharray="1,4"/>`, class, marginX, y+h/2, g.width-marginX, y+h/2)
		text := "⋯ " + row.text + " ⋯"
		labelBox(b, box{marginX, y + 4, textWidth(text) + 8, h - 8}, text, "#555", false)
		b.WriteString("</g>\n")
	}
}

// besideLabel writes a call's label beside its lane: to the right, or to the left where the
// right has no room.
func (g *geometry) besideLabel(b *bytes.Buffer, x, y, h float64, text, colour string) {
	right := g.width - marginX - (x + 8)
	left := x - 8 - marginX
	toLeft := left > right && right < textWidth(text)+8
	room := right
	if toLeft {
		room = left
	}
	text = cut(text, int((room-8)/charWidth))
	w := textWidth(text) + 8
	bx := box{x + 8, y + 3, w, h - 6}
	if toLeft {
		bx.x = x - 8 - w
	}
	labelBox(b, bx, text, colour, false)
}

// writeArrow writes a datagram (solid) or an ICMP error (dashed, red), its label above it, its
// fate at its end, and the routers it crossed.
func (g *geometry) writeArrow(b *bytes.Buffer, y, h float64, e *Event) {
	lay := g.lay
	class, stroke, head, dash := "datagram", "#222", "head", ""
	text := datagramText(e)
	if e.Kind == EventICMP {
		class, stroke, head, dash = "icmp", red, "redhead", ` stroke-dasharray="6,4"`
		text = icmpText(e)
	}
	ay := y + h - 12
	var tos []float64
	for _, id := range e.To {
		if ln := lay.laneOfID(id); ln >= 0 {
			tos = append(tos, g.laneX[ln])
		}
	}
	if len(tos) == 0 {
		return
	}
	from := tos[0] + 60
	if ln := lay.laneOfID(e.From); ln >= 0 {
		from = g.laneX[ln]
	} else if tos[0]+60 > g.width-marginX {
		from = tos[0] - 60
	}
	fmt.Fprintf(b, `<g class="%s" data-fate="%s"><title>%s</title>`, class, e.Fate, esc(orText(e.Detail, text)))
	lo, hi := from, from
	for _, to := range tos {
		lo, hi = min(lo, to), max(hi, to)
	}
	for i, to := range tos {
		end := to
		marker := ` marker-end="url(#` + g.ids + head + `)"`
		if e.Kind == EventDatagram && e.Fate != FateDelivered {
			end = to - sign(to-from)*7
			marker = ""
		}
		if to == from {
			continue
		}
		dashAttr := dash
		if i > 0 {
			dashAttr = ""
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.6"%s%s/>`, from, ay, end, ay, stroke, dashAttr, marker)
	}
	if e.Kind == EventDatagram && e.Fate != FateDelivered {
		to := tos[0]
		switch e.Fate {
		case FateRefused:
			fmt.Fprintf(b, `<path class="cross" d="M%.1f,%.1f l9,9 m0,-9 l-9,9" stroke="%s" stroke-width="2.2"/>`, to-4.5, ay-4.5, red)
		case FateDropped:
			fmt.Fprintf(b, `<path class="cross" d="M%.1f,%.1f l9,9 m0,-9 l-9,9" stroke="%s" stroke-width="2"/>`, to-4.5, ay-4.5, grey)
		default:
			fmt.Fprintf(b, `<text class="unknown" x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-weight="bold">?</text>`, to, ay+4.5, grey)
		}
	}
	if e.From == "" && e.Kind == EventICMP {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">?</text>`, from, ay+4, red)
	}
	for _, hop := range e.Via {
		if ln := lay.laneOfID(hop.Lifeline); ln >= 0 {
			x := g.laneX[ln]
			fmt.Fprintf(b, `<rect class="hop" x="%.1f" y="%.1f" width="8" height="8" fill="#5a7da8" transform="rotate(45 %.1f %.1f)"/>`, x-4, ay-4, x, ay)
		}
	}
	// the label has its row to itself: it may run past the arrow's ends, within the picture
	span := max(hi-lo-10, g.width-2*marginX)
	label := text
	if len(e.Via) > 0 && e.Via[0].Addr != "" {
		label += "  [" + e.Via[0].Addr + " at " + lay.m.Lifelines[lay.index[e.Via[0].Lifeline]].Host + "]"
	}
	label = cut(label, int(span/charWidth))
	w := textWidth(label) + 8
	labelBox(b, g.clamp(box{(lo+hi)/2 - w/2, y + 3, w, 18}), label, stroke, false)
	b.WriteString("</g>\n")
}

// clamp keeps a box inside the picture.
func (g *geometry) clamp(bx box) box {
	bx.x = min(max(bx.x, 2), g.width-2-bx.w)
	return bx
}

// labelBox writes a label: its background box and its text, centred.
func labelBox(b *bytes.Buffer, bx box, text, colour string, bold bool) {
	weight := ""
	if bold {
		weight = ` font-weight="bold"`
	}
	fmt.Fprintf(b, `<g class="label" data-box="%.1f %.1f %.1f %.1f"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="white" fill-opacity="0.9"/><text x="%.1f" y="%.1f" text-anchor="middle" fill="%s"%s>%s</text></g>`,
		bx.x, bx.y, bx.w, bx.h, bx.x, bx.y, bx.w, bx.h, bx.x+bx.w/2, bx.y+bx.h/2+4.5, colour, weight, esc(text))
}

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

func esc(s string) string { return html.EscapeString(s) }

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// fitLabel shortens a label to n runes, keeping what tells two lanes of a host apart: the name
// the script gave, else the port. It drops, in turn, the start of the address's host part, the
// descriptor ("(fd 3)"), the address itself when a name is left, then cuts the end:
// "…0.1:48073 (fd 3)", ":48073", "server", rather than "127.0.0.1:480…".
func fitLabel(label string, n int) string {
	if utf8.RuneCountInString(label) <= n {
		return label
	}
	fields := strings.Fields(label)
	addr := -1
	for i, f := range fields {
		if c := strings.LastIndexByte(f, ':'); c > 0 && !strings.HasSuffix(f, ")") {
			addr = i
			break
		}
	}
	join := func() string { return strings.Join(fields, " ") }
	if addr >= 0 {
		f := fields[addr]
		c := strings.LastIndexByte(f, ':')
		over := utf8.RuneCountInString(label) - n
		if over < c {
			fields[addr] = "…" + f[over+1:]
			return join()
		}
		fields[addr] = f[c:]
		if s := join(); utf8.RuneCountInString(s) <= n {
			return s
		}
	}
	if i := strings.Index(join(), " (fd "); i >= 0 {
		s := join()[:i]
		if utf8.RuneCountInString(s) <= n {
			return s
		}
		fields = strings.Fields(s)
	}
	if addr >= 0 && len(fields) > 1 {
		var rest []string
		for i, f := range fields {
			if i != addr && !strings.HasPrefix(f, ":") {
				rest = append(rest, f)
			}
		}
		fields = rest
	}
	return cut(join(), n)
}

// HTML returns the picture in a page of its own: the header kept on screen while the rows
// scroll, a legend that draws its marks as the picture does, and, on hover, each element's
// whole call or packet. The page has no script.
func (m *Model) HTML() []byte { return m.layout().geometry().html(1) }

// html writes the page, its picture drawn at scale (1: 13 px text).
func (g *geometry) html(scale float64) []byte {
	m := g.lay.m
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>udplab: sequence diagram</title>
<style>body{font-family:sans-serif;margin:16px} .legend{font-size:14px;margin-bottom:10px;line-height:1.8}
.legend svg{vertical-align:middle;margin-right:4px} .legend span{margin-right:18px;white-space:nowrap}
.head{position:sticky;top:0;background:white;z-index:1;border-bottom:1px solid #ddd}</style>
</head><body>
<div class="legend">`)
	for _, item := range legend {
		fmt.Fprintf(&b, `<span><svg width="46" height="16" viewBox="0 0 46 16">%s</svg>%s</span>`, item.mark, esc(item.text))
	}
	b.WriteString("<br>" + esc(m.source()) + " Hover over an element for the whole call or packet.</div>\n")
	fmt.Fprintf(&b, `<div class="head"><svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		g.width*scale, g.headH*scale, g.width, g.headH, fontPx)
	g.writeDefs(&b)
	g.writeHeader(&b)
	b.WriteString("</svg></div>\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		g.width*scale, g.total*scale, g.width, g.total, fontPx)
	g.writeDefs(&b)
	g.writeBody(&b)
	b.WriteString("</svg>\n</body></html>\n")
	return b.Bytes()
}

// legend is the HTML page's key: each mark drawn as the picture draws it.
var legend = []struct{ mark, text string }{
	{`<line x1="23" y1="0" x2="23" y2="16" stroke="#888"/>`, "a socket"},
	{`<line x1="23" y1="0" x2="23" y2="16" stroke="#5a7da8" stroke-width="2"/>`, "a host's kernel"},
	{`<line x1="23" y1="0" x2="23" y2="16" stroke="#aaa" stroke-dasharray="2,3"/>`, "an address no traced socket held"},
	{`<circle cx="23" cy="8" r="3.5" fill="#222"/>`, "a call and its result"},
	{`<path d="M19,4 l8,8 m0,-8 l-8,8" stroke="` + red + `" stroke-width="2.2"/>`, "a call that failed"},
	{`<line x1="2" y1="8" x2="44" y2="8" stroke="#222" stroke-width="1.6" marker-end="url(#lh)"/><defs><marker id="lh" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>`, "a datagram delivered"},
	{`<line x1="2" y1="8" x2="36" y2="8" stroke="#222" stroke-width="1.6"/><path d="M36,3.5 l9,9 m0,-9 l-9,9" stroke="` + red + `" stroke-width="2.2"/>`, "refused (no socket would take it, or a firewall or router)"},
	{`<line x1="2" y1="8" x2="36" y2="8" stroke="#222" stroke-width="1.6"/><path d="M36,3.5 l9,9 m0,-9 l-9,9" stroke="` + grey + `" stroke-width="2"/>`, "dropped on the way"},
	{`<line x1="2" y1="8" x2="36" y2="8" stroke="#222" stroke-width="1.6"/><text x="41" y="12.5" text-anchor="middle" fill="` + grey + `" font-weight="bold" font-family="monospace">?</text>`, "fate unknown"},
	{`<line x1="2" y1="8" x2="44" y2="8" stroke="` + red + `" stroke-width="1.6" stroke-dasharray="6,4"/>`, "an ICMP error, from the host that sent it"},
	{`<rect x="19" y="4" width="8" height="8" fill="#5a7da8" transform="rotate(45 23 8)"/>`, "a router crossed"},
}

// source says where the arrows come from, for the legend.
func (m *Model) source() string {
	if m.FromWire {
		return "Arrows are the packets the wire view captured (--wire)."
	}
	return "Arrows are drawn from the calls and the error queue: a datagram goes where a receive found it, or to the socket that held its address; an ICMP error comes from the host the error queue names, or is drawn at the socket when nothing says who sent it. Run with --wire, where capture is allowed, to draw the packets themselves."
}

// Shape is what ReadSVG reads back from an SVG this package wrote: its elements counted by
// class, its label boxes (x, y, width, height) and the lines of its ICMP arrows (x1, y1, x2, y2)
// in its own coordinates (its viewBox's), its size on the page, and the size of its text there.
// Tests check a picture with it.
type Shape struct {
	Classes       map[string]int
	Boxes         [][4]float64
	ICMP          [][4]float64 // the lines of the ICMP arrows: x1 y1 x2 y2
	Width, Height float64      // in pixels on the page
	// FontPx is the text's size on the page, in pixels: the font size scaled as the viewBox
	// scales the picture to its width.
	FontPx float64
	// Scale is the picture's width on the page over its viewBox's width.
	Scale float64
}

// ReadSVG reads back an SVG written by this package.
func ReadSVG(r io.Reader) (Shape, error) {
	shape := Shape{Classes: map[string]int{}, Scale: 1}
	dec := xml.NewDecoder(r)
	var stack []string
	viewW := 0.0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if viewW > 0 {
				shape.Scale = shape.Width / viewW
			}
			shape.FontPx *= shape.Scale
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
				if el.Name.Local == "svg" {
					switch a.Name.Local {
					case "width":
						fmt.Sscan(a.Value, &shape.Width)
					case "height":
						fmt.Sscan(a.Value, &shape.Height)
					case "font-size":
						fmt.Sscan(a.Value, &shape.FontPx)
					case "viewBox":
						var x, y float64
						fmt.Sscan(a.Value, &x, &y, &viewW)
					}
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
			if a[0] < b[0]+b[2]-0.01 && b[0] < a[0]+a[2]-0.01 && a[1] < b[1]+b[3]-0.01 && b[1] < a[1]+a[3]-0.01 {
				return fmt.Sprintf("%v and %v", a, b)
			}
		}
	}
	return ""
}
