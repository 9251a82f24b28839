package diagram

import (
	"fmt"
	"sort"
	"strings"
)

// The layout shared by the views: columns (one per host: this machine, each lab host and
// router), each with lanes (its kernel, then its sockets and the addresses nobody held, a lane
// taken again once its socket closed), and rows down the page, one per event, with sections as
// bands, long pauses as breaks, and a repeated exchange folded into one row that says how many
// more times it happened.

type rowKind int

const (
	rowCall rowKind = iota
	rowDatagram
	rowICMP
	rowSection
	rowGap
	rowFold  // "× 97 more like this"
	rowStart // a lifeline that starts in a lane another used before: its label
	rowMore  // the picture's end, when a run is too long to draw whole
	rowNext  // the call step mode is paused before (Model.Next)
)

// lane is one vertical line of the picture.
type lane struct {
	column int
	lines  []int // the lifelines it carries, one after another (or at once, when shared)
	shared bool  // it carries the lifelines beyond its column's maxLanesPerColumn, together
}

// maxLanesPerColumn bounds a host's lanes, so that a picture fits a screen.
const maxLanesPerColumn = 6

// column is a host's group of lanes.
type column struct {
	label string
	lanes []int
}

// row is one step down the page.
type row struct {
	kind  rowKind
	ev    *Event
	line  int // the lifeline of a call, or of a lifeline's start
	text  string
	count int
}

// layout is what every view draws.
type layout struct {
	m       *Model
	columns []column
	lanes   []lane
	laneOf  []int // lifeline → its lane
	index   map[string]int
	rows    []row
	notes   []string
}

// maxRowsHeight bounds the height of a picture's rows, in pixels: past it, a last row says how
// many more events there were (the JSON model has them all). With the header, a picture stays
// under 20,000 px.
const maxRowsHeight = 19000

// foldMin is how many times a run of rows must repeat, one after another, to be folded.
const foldMin = 4

func (m *Model) layout() *layout {
	lay := &layout{m: m, index: map[string]int{}, laneOf: make([]int, len(m.Lifelines))}
	for i, l := range m.Lifelines {
		lay.index[l.ID] = i
	}
	// columns: this machine first, then the lab's hosts as they appeared
	colOf := map[string]int{}
	order := make([]int, len(m.Lifelines))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := &m.Lifelines[order[a]], &m.Lifelines[order[b]]
		return (la.Host == "") && (lb.Host != "")
	})
	for _, i := range order {
		l := &m.Lifelines[i]
		if _, ok := colOf[l.Host]; !ok {
			colOf[l.Host] = len(lay.columns)
			label := "this machine"
			if l.Host != "" {
				label = "host " + l.Host
			}
			lay.columns = append(lay.columns, column{label: label})
		}
	}
	// lanes: a host's kernel first, then the others in order of their start, a lane reused
	// once the lifeline on it ended
	byStart := make([]int, len(m.Lifelines))
	for i := range byStart {
		byStart[i] = i
	}
	sort.SliceStable(byStart, func(a, b int) bool {
		la, lb := &m.Lifelines[byStart[a]], &m.Lifelines[byStart[b]]
		ka, kb := la.Kind == KindHost || la.Kind == KindRouter, lb.Kind == KindHost || lb.Kind == KindRouter
		if ka != kb {
			return ka
		}
		return la.From < lb.From
	})
	for _, i := range byStart {
		l := &m.Lifelines[i]
		c := colOf[l.Host]
		chosen := -1
		if len(lay.columns[c].lanes) >= maxLanesPerColumn {
			// a host with more sockets at once than a picture can show: the rest share its last lane
			chosen = lay.columns[c].lanes[len(lay.columns[c].lanes)-1]
			lay.lanes[chosen].shared = true
		}
		if chosen < 0 && l.Kind == KindSocket {
			for _, ln := range lay.columns[c].lanes {
				last := &m.Lifelines[lay.lanes[ln].lines[len(lay.lanes[ln].lines)-1]]
				if last.Kind == KindSocket && last.Closed && last.Until < l.From {
					chosen = ln
					break
				}
			}
		}
		if chosen < 0 {
			lay.lanes = append(lay.lanes, lane{column: c})
			chosen = len(lay.lanes) - 1
			lay.columns[c].lanes = append(lay.columns[c].lanes, chosen)
		}
		lay.lanes[chosen].lines = append(lay.lanes[chosen].lines, i)
		lay.laneOf[i] = chosen
	}
	// lanes numbered left to right, column by column
	var flat []int
	for c := range lay.columns {
		flat = append(flat, lay.columns[c].lanes...)
	}
	renumber := make([]int, len(lay.lanes))
	lanes := make([]lane, len(lay.lanes))
	for n, old := range flat {
		renumber[old] = n
		lanes[n] = lay.lanes[old]
	}
	lay.lanes = lanes
	for c := range lay.columns {
		for k, old := range lay.columns[c].lanes {
			lay.columns[c].lanes[k] = renumber[old]
		}
	}
	for i := range lay.laneOf {
		lay.laneOf[i] = renumber[lay.laneOf[i]]
	}
	lay.rowsOf()
	if m.Dropped > 0 {
		lay.notes = append(lay.notes, fmt.Sprintf("%d calls and packets after the first %d were not recorded", m.Dropped, len(m.Events)))
	}
	return lay
}

// rowsOf lays out the events as rows: a break before a long pause, a label row where a lifeline
// starts on a lane another used, repeated runs folded, and the end cut past maxRows.
func (lay *layout) rowsOf() {
	m := lay.m
	started := make([]bool, len(m.Lifelines))
	for ln := range lay.lanes {
		started[lay.lanes[ln].lines[0]] = true // its label is in the header
	}
	var rows []row
	last := -1.0
	for i := range m.Events {
		e := &m.Events[i]
		if last >= 0 && e.T-last >= gapSeconds {
			rows = append(rows, row{kind: rowGap, text: fmt.Sprintf("%.1f s later", e.T-last)})
		}
		last = e.T
		for _, id := range append(append([]string{e.Lifeline, e.From}, e.To...), viaIDs(e)...) {
			if i, ok := lay.index[id]; ok && id != "" && !started[i] {
				started[i] = true
				rows = append(rows, row{kind: rowStart, line: i})
			}
		}
		switch e.Kind {
		case EventCall:
			rows = append(rows, row{kind: rowCall, ev: e, line: lay.index[e.Lifeline]})
		case EventDatagram:
			rows = append(rows, row{kind: rowDatagram, ev: e})
		case EventICMP:
			rows = append(rows, row{kind: rowICMP, ev: e})
		case EventSection:
			rows = append(rows, row{kind: rowSection, ev: e, text: e.Title})
		}
	}
	rows = fold(rows, lay)
	height := 0.0
	for i, r := range rows {
		height += rowHeight(r.kind)
		if height > maxRowsHeight {
			more := 0
			for _, r := range rows[i:] {
				if r.ev != nil {
					more++
				}
				more += r.count
			}
			rows = append(rows[:i], row{kind: rowMore, text: fmt.Sprintf("… %d more events not drawn: udplab --diagram out.json has them all", more)})
			break
		}
	}
	if n := m.Next; n != nil {
		line := -1
		if i, ok := lay.index[n.Lifeline]; ok && n.Lifeline != "" {
			line = i
		}
		rows = append(rows, row{kind: rowNext, line: line, text: "next: " + n.Call})
	}
	lay.rows = rows
}

// gapSeconds is how long nothing must happen for a break to be drawn.
const gapSeconds = 1.0

func viaIDs(e *Event) []string {
	var ids []string
	for _, h := range e.Via {
		ids = append(ids, h.Lifeline)
	}
	return ids
}

// signature is what makes two rows alike for folding: what they are and on which lanes, not
// their data, nor which of the sockets that took a lane in turn.
func (lay *layout) signature(r row) string {
	if r.kind == rowStart {
		return fmt.Sprintf("start/%d", lay.laneOf[r.line])
	}
	if r.ev == nil {
		return fmt.Sprintf("%d/%s", r.kind, r.text)
	}
	e := r.ev
	var to []string
	for _, id := range e.To {
		to = append(to, fmt.Sprint(lay.laneOfID(id)))
	}
	return fmt.Sprintf("%d/%d/%s/%d/%s/%v/%s/%s", r.kind, lay.laneOfID(e.Lifeline), e.Call, lay.laneOfID(e.From), strings.Join(to, ","), e.Error, e.Fate, e.ICMP)
}

// fold replaces a run of rows that repeats, one block after another, at least foldMin times by
// its first two blocks and a row saying how many more there were.
func fold(rows []row, lay *layout) []row {
	sig := make([]string, len(rows))
	for i, r := range rows {
		sig[i] = lay.signature(r)
	}
	var out []row
	for i := 0; i < len(rows); {
		folded := false
		for p := 1; p <= 8 && i+p*foldMin <= len(rows); p++ {
			reps := 1
			for i+(reps+1)*p <= len(rows) && equalRun(sig, i, i+reps*p, p) {
				reps++
			}
			if reps >= foldMin && !hasKind(rows[i:i+p], rowSection, rowGap) {
				out = append(out, rows[i:i+2*p]...)
				count := 0
				for _, r := range rows[i+2*p : i+reps*p] {
					if r.ev != nil {
						count++
					}
				}
				out = append(out, row{kind: rowFold, count: count, text: fmt.Sprintf("× %d more like this (%d events)", reps-2, count)})
				i += reps * p
				folded = true
				break
			}
		}
		if !folded {
			out = append(out, rows[i])
			i++
		}
	}
	return out
}

func equalRun(sig []string, a, b, n int) bool {
	for k := 0; k < n; k++ {
		if sig[a+k] != sig[b+k] {
			return false
		}
	}
	return true
}

func hasKind(rows []row, kinds ...rowKind) bool {
	for _, r := range rows {
		for _, k := range kinds {
			if r.kind == k {
				return true
			}
		}
	}
	return false
}

// laneOfID is the lane of lifeline id; -1 when there is none.
func (lay *layout) laneOfID(id string) int {
	if i, ok := lay.index[id]; ok && id != "" {
		return lay.laneOf[i]
	}
	return -1
}

// alive says lifeline i is on its lane at time t.
func (lay *layout) alive(i int, t float64) bool {
	l := &lay.m.Lifelines[i]
	return t >= l.From-1e-9 && t <= l.Until+1e-9
}

// rowTime is the time a row stands for (the last event's before it, for a row of its own).
func (lay *layout) rowTimes() []float64 {
	times := make([]float64, len(lay.rows))
	t := 0.0
	for i, r := range lay.rows {
		switch {
		case r.ev != nil:
			t = r.ev.T
		case r.kind == rowStart:
			t = lay.m.Lifelines[r.line].From
		}
		times[i] = t
	}
	return times
}

// callText is a call's label: "connect 127.0.0.1:43211 → 0", "recv → "Hi, g1" (6 bytes)".
func callText(e *Event) string {
	s := e.Call
	if e.Args != "" {
		s += " " + e.Args
	}
	return s + " → " + e.Result
}

// datagramText is a datagram's label: the call that sent it and its data.
func datagramText(e *Event) string {
	s := ""
	if e.Call != "" {
		s = e.Call + " "
	}
	n := 0
	if e.Bytes != nil {
		n = *e.Bytes
	}
	data := e.Data
	if len(data) > 16 {
		data = data[:13] + "..\""
	}
	return s + data + " (" + bytesText(n) + ")"
}

// icmpText is an ICMP error's label.
func icmpText(e *Event) string {
	s := e.ICMP
	if s == "" {
		s = "ICMP error"
	}
	if e.From == "" {
		s += " (from ?)"
	}
	return s
}
