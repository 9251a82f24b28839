package diagram

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text form: the same columns and lanes in box-drawing characters, a line per call and two
// per arrow (its label, then the arrow), fitted to a width. Payloads are quoted as Lua reads
// them back, so that nothing a datagram carries reaches the terminal as a control.

const (
	minLane = 12 // the narrowest lane, below which the diagram is wider than asked
	maxLane = 36
)

// Text returns the picture as text at most width columns wide (when each lane can have minLane
// of them).
func (m *Model) Text(width int) string {
	if len(m.Lifelines) == 0 {
		return "(no socket calls)\n"
	}
	lay := m.layout()
	n := len(lay.lanes)
	laneW := 0
	for _, l := range m.Lifelines {
		laneW = max(laneW, utf8.RuneCountInString(l.Label)+2)
	}
	laneW = min(max(laneW, minLane), maxLane)
	if laneW*n > width {
		laneW = max(minLane, width/n)
	}
	center := func(ln int) int { return ln*laneW + laneW/2 }
	total := max(laneW*n, width)
	times := lay.rowTimes()
	var out strings.Builder
	line := func(cells []rune) { out.WriteString(strings.TrimRight(string(cells), " ") + "\n") }
	put := func(cells []rune, at int, text string) []rune {
		r := []rune(text)
		at = max(0, min(at, total-len(r)))
		for len(cells) < at+len(r) {
			cells = append(cells, ' ')
		}
		copy(cells[at:], r)
		return cells
	}
	blank := func(r int) []rune {
		cells := []rune(strings.Repeat(" ", total))
		for ln, l := range lay.lanes {
			for _, i := range l.lines {
				if lay.alive(i, times[r]) && (lay.rows[r].kind != rowStart || lay.rows[r].line != i) {
					cells[center(ln)] = '│'
					break
				}
			}
		}
		return cells
	}
	for _, note := range lay.notes {
		line([]rune("!! " + note))
	}
	// the hosts, then each lane's first lifeline
	hosts := []rune(strings.Repeat(" ", total))
	for _, c := range lay.columns {
		lo, hi := center(c.lanes[0])-laneW/2, center(c.lanes[len(c.lanes)-1])+laneW/2
		label := "[" + cut(c.label, hi-lo-3) + "]"
		hosts = put(hosts, (lo+hi)/2-utf8.RuneCountInString(label)/2, label)
	}
	line(hosts)
	header := []rune(strings.Repeat(" ", total))
	for ln := range lay.lanes {
		label := fitLabel(laneText(lay, ln), laneW-1)
		header = put(header, center(ln)-utf8.RuneCountInString(label)/2, label)
	}
	line(header)
	for r, row := range lay.rows {
		cells := blank(r)
		switch row.kind {
		case rowCall:
			c := center(lay.laneOf[row.line])
			mark := '●'
			if row.ev.Error {
				mark = '✖'
			}
			cells[c] = mark
			text := callText(row.ev)
			n := utf8.RuneCountInString(text)
			switch {
			case c+2+n <= total:
				cells = put(cells, c+2, text)
			case c-1-n >= 0:
				cells = put(cells, c-1-n, text)
			default:
				cells = put(cells, total-n, cut(text, total))
			}
		case rowStart:
			l := &m.Lifelines[row.line]
			c := center(lay.laneOf[row.line])
			label := "┌ " + fitLabel(l.Label, max(laneW*2-2, 10))
			cells = put(cells, c, label)
		case rowDatagram, rowICMP:
			e := row.ev
			var tos []int
			for _, id := range e.To {
				if ln := lay.laneOfID(id); ln >= 0 {
					tos = append(tos, center(ln))
				}
			}
			if len(tos) == 0 {
				continue
			}
			from := -1
			if ln := lay.laneOfID(e.From); ln >= 0 {
				from = center(ln)
			} else {
				from = max(0, tos[0]-6) // an ICMP error whose sender is unknown
			}
			lo, hi := from, from
			for _, t := range tos {
				lo, hi = min(lo, t), max(hi, t)
			}
			text := datagramText(e)
			stroke := '─'
			if e.Kind == EventICMP {
				text, stroke = icmpText(e), '┄'
			}
			if len(e.Via) > 0 && e.Via[0].Addr != "" {
				text += "  [" + e.Via[0].Addr + "]"
			}
			label := cut(text, max(hi-lo-1, total-1))
			start := (lo+hi)/2 - utf8.RuneCountInString(label)/2
			line(put(blank(r), start, label))
			for x := lo + 1; x < hi; x++ {
				cells[x] = stroke
			}
			for _, hop := range e.Via {
				if ln := lay.laneOfID(hop.Lifeline); ln >= 0 {
					cells[center(ln)] = '◆'
				}
			}
			for i, t := range tos {
				if t == from {
					continue
				}
				end := '▶'
				if t < from {
					end = '◀'
				}
				pos := t - 1
				if t < from {
					pos = t + 1
				}
				cells[pos] = end
				if i == 0 && e.Kind == EventDatagram {
					switch e.Fate {
					case FateRefused, FateDropped:
						cells[t] = '✕'
					case FateUnknown:
						cells[t] = '?'
					}
				}
			}
			if lo < from && from < hi {
				cells[from] = '┼'
			} else if tos[0] > from {
				cells[from] = '├'
			} else {
				cells[from] = '┤'
			}
			if e.Kind == EventICMP && e.From == "" {
				cells[from] = '?'
			}
		case rowSection:
			text := "── " + row.text + " "
			text += strings.Repeat("─", max(0, total-utf8.RuneCountInString(text)-1))
			cells = put([]rune(strings.Repeat(" ", total)), 0, cut(text, total))
		case rowGap, rowFold, rowMore, rowNext:
			for i := range cells {
				if cells[i] == '│' {
					cells[i] = '┆'
				}
			}
			cells = put(cells, 1, "⋯ "+row.text+" ⋯")
		}
		line(cells)
	}
	return out.String()
}

// laneText is a lane's header: its first lifeline, or, when shared, how many it carries.
func laneText(lay *layout, ln int) string {
	l := lay.lanes[ln]
	if l.shared {
		return strconv.Itoa(len(l.lines)) + " sockets"
	}
	return lay.m.Lifelines[l.lines[0]].Label
}
