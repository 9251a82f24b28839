package diagram

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Fitting a picture to a frame (a projector's 1920x1080): the layout is the same, drawn at a
// scale, so that its text is as large as the frame lets it be. The lanes spread across the whole
// width; the text grows until the lanes no longer fit side by side (each at least a name and a
// port wide) or the rows no longer fit the height, up to maxFitPx. It is never smaller than
// targetFitPx, unless the lanes do not fit the width at that size: then it is as large as they
// fit, minFitPx at the least. A picture too tall for the frame at that floor is drawn at the
// floor, taller than the frame (a page that scrolls); slides split it instead (Slides).

const (
	minFitPx    = 16 // text is never drawn smaller in a frame
	targetFitPx = 24 // a slide is split before its text goes below this, when its lanes fit at it
	maxFitPx    = 40 // text is never drawn larger: a short step would fill the frame with a few words
)

// Frame is the size, in pixels, a picture is drawn for.
type Frame struct{ W, H int }

// ParseFrame reads a frame: "1920x1080".
func ParseFrame(s string) (Frame, error) {
	w, h, ok := strings.Cut(s, "x")
	f := Frame{}
	var errW, errH error
	if ok {
		f.W, errW = strconv.Atoi(w)
		f.H, errH = strconv.Atoi(h)
	}
	if !ok || errW != nil || errH != nil || f.W < 320 || f.H < 200 || f.W > 16384 || f.H > 16384 {
		return Frame{}, fmt.Errorf("invalid size '%s' (try 1920x1080; at least 320x200)", s)
	}
	return f, nil
}

// SVGIn returns the picture as SVG fitted to f: as wide as f, its text as large as the frame
// allows (see fit); as tall as its rows are.
func (m *Model) SVGIn(f Frame) []byte {
	lay := m.layout()
	scale, _ := lay.fit(f)
	return lay.geometryIn(float64(f.W)/scale, true).svg(scale, 0)
}

// HTMLIn returns the HTML page with its picture fitted to f, as SVGIn fits it.
func (m *Model) HTMLIn(f Frame) []byte {
	lay := m.layout()
	scale, _ := lay.fit(f)
	return lay.geometryIn(float64(f.W)/scale, true).html(scale)
}

// fit returns the scale at which lay fills f: the largest, text up to maxFitPx, at which its lanes
// fit side by side within the width and its rows within the height, with fits true. The text is
// never smaller than the floor: targetFitPx, or, when the lanes do not fit the width at it, the
// largest size at which they do (minFitPx at the least). A picture whose rows do not fit the
// height at the floor is drawn at the floor, with fits false.
func (lay *layout) fit(f Frame) (scale float64, fits bool) {
	floor := lay.widthScale(f, targetFitPx)
	for px := float64(maxFitPx); px/fontPx > floor; px -= 0.5 {
		if s := px / fontPx; lay.fitsAt(f, s) {
			return s, true
		}
	}
	return floor, lay.fitsAt(f, floor)
}

// fitsAt says lay fits f at scale s: its lanes side by side within the width, its rows within the
// height.
func (lay *layout) fitsAt(f Frame, s float64) bool {
	if !lay.lanesFit(float64(f.W) / s) {
		return false
	}
	g := lay.geometryIn(float64(f.W)/s, true)
	return g.headH+g.total <= float64(f.H)/s
}

// widthScale is the largest scale, text up to px, at which lay's lanes fit f's width; that of
// minFitPx when none does.
func (lay *layout) widthScale(f Frame, px float64) float64 {
	for ; px > minFitPx; px -= 0.5 {
		if lay.lanesFit(float64(f.W) / (px / fontPx)) {
			return px / fontPx
		}
	}
	return float64(minFitPx) / fontPx
}

// lanesFit says lay's lanes fit side by side in width (at 13 px text), each wide enough for a
// name and a port ("server :43211").
func (lay *layout) lanesFit(width float64) bool {
	return float64(len(lay.lanes))*laneMin*1.8+float64(2*marginX+colPad*len(lay.columns)) <= width
}

// LiveParts returns the picture for a live page in a window of f: its header (hosts and lanes,
// which the page keeps on screen) and its rows, each an SVG element as wide as the window, the
// text as the lanes allow up to targetFitPx (at least minFitPx). The rows grow down the page as the
// run goes on: the text size does not change as they come.
func (m *Model) LiveParts(f Frame) (head, body []byte) {
	lay := m.layout()
	scale := lay.widthScale(f, targetFitPx)
	g := lay.geometryIn(float64(f.W)/scale, true)
	g.ids = "picture-" // not the page's own ids
	var h, b bytes.Buffer
	fmt.Fprintf(&h, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		g.width*scale, g.headH*scale, g.width, g.headH, fontPx)
	g.writeHeader(&h)
	h.WriteString("</svg>")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		g.width*scale, g.total*scale, g.width, g.total, fontPx)
	g.writeDefs(&b)
	g.writeBody(&b)
	b.WriteString("</svg>")
	return h.Bytes(), b.Bytes()
}
