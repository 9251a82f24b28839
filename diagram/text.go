package diagram

import (
	"strings"
	"unicode/utf8"
)

// The text form: one column per lifeline, a line per call and two per arrow (its label, then the
// arrow), in box-drawing characters, fitted to a width.

const (
	minColumn = 14 // the narrowest column, below which the diagram is wider than asked
	maxColumn = 40
)

// Text returns the diagram as text at most width columns wide (when each lifeline can have
// minColumn of them).
func (d *Diagram) Text(width int) string {
	n := len(d.Lifelines)
	if n == 0 {
		return "(no socket calls)\n"
	}
	col := 0
	for _, l := range d.Lifelines {
		col = max(col, utf8.RuneCountInString(l.Label)+2)
	}
	col = min(max(col, minColumn), maxColumn)
	if col*n > width {
		col = max(minColumn, width/n)
	}
	center := func(i int) int { return i*col + col/2 }
	total := col * n
	var out strings.Builder
	line := func(cells []rune) { out.WriteString(strings.TrimRight(string(cells), " ") + "\n") }
	blank := func(row int) []rune {
		cells := []rune(strings.Repeat(" ", total))
		for i, l := range d.Lifelines {
			if row >= l.First && row <= l.Last {
				cells[center(i)] = '│'
			}
		}
		return cells
	}
	put := func(cells []rune, at int, text string) []rune {
		r := []rune(text)
		if at < 0 {
			at = 0
		}
		for len(cells) < at+len(r) {
			cells = append(cells, ' ')
		}
		copy(cells[at:], r)
		return cells
	}

	header := []rune(strings.Repeat(" ", total))
	for i, l := range d.Lifelines {
		label := cut(l.Label, col-1)
		header = put(header, center(i)-utf8.RuneCountInString(label)/2, label)
	}
	line(header)
	for r, row := range d.Rows {
		cells := blank(r)
		switch row.Kind {
		case Call:
			mark := '●'
			if row.Error {
				mark = '✖'
			}
			cells[center(row.Line)] = mark
			text, c, room := row.Text, center(row.Line), max(total, width)
			n := utf8.RuneCountInString(text)
			switch {
			case c+2+n <= room:
				cells = put(cells, c+2, text)
			case c-1-n >= 0:
				cells = put(cells, c-1-n, text) // to the left, where it fits
			default:
				cells = put(cells, max(0, room-n), cut(text, room)) // over the lifeline: the text matters more
			}
		case Datagram, ICMP:
			from, to := center(row.From), center(row.To)
			lo, hi := min(from, to), max(from, to)
			// the label has its line to itself: it may run past the arrow's ends
			label := cut(row.Text, max(hi-lo-1, max(total, width)-1))
			start := min(max((lo+hi)/2-utf8.RuneCountInString(label)/2, 0), max(total, width)-utf8.RuneCountInString(label))
			line(put(blank(r), start, label))
			stroke := '─'
			if row.Kind == ICMP {
				stroke = '┄'
			}
			for _, h := range row.Heads {
				lo, hi = min(lo, center(h)), max(hi, center(h))
			}
			for x := lo + 1; x < hi; x++ {
				cells[x] = stroke
			}
			for _, h := range append([]int{row.To}, row.Heads...) {
				if c := center(h); c > from {
					cells[c-1] = '▶'
				} else {
					cells[c+1] = '◀'
				}
			}
			switch {
			case lo < from && from < hi:
				cells[from] = '┼'
			case to > from:
				cells[from] = '├'
			default:
				cells[from] = '┤'
			}
			if row.Lost {
				cells[to] = '✕'
			}
		case Gap:
			for i, l := range d.Lifelines {
				if r >= l.First && r <= l.Last {
					cells[center(i)] = '┆'
				}
			}
			cells = put(cells, 1, "⋯ "+row.Text+" ⋯")
		}
		line(cells)
	}
	return out.String()
}

// cut shortens s to n runes, ending in "…" when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string([]rune(s)[:n-1]) + "…"
}
