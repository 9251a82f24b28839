//go:build linux

package sock

import (
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The captures are merged by time. Each link (lo, each LAN of a lab) has its own packet socket,
// read by its own goroutine, so the frames of a datagram that crosses a router, and of the ICMP
// error that comes back, are read from two sockets in whichever order the goroutines run: handed
// on as read, the wire view showed them LAN by LAN and the pcap file went back in time. So every
// frame read is held, and handed on in the order of the kernel's timestamps (SO_TIMESTAMPNS) to
// the recorder (the picture), the frame sink (the pcap file) and the wire view, which all see
// the same order.
//
// A frame is held until mergeHold after it was read, and every release first reads all the
// captures: what crossed another link before it is then read too, unless the kernel had stamped
// it and not yet queued it on its socket for longer than the hold (or a flood left more than a
// read takes, maxReadAtOnce). A call line takes every frame held (they all crossed before it),
// so that the frames of a call still follow its line; a timer hands on the rest, so that nothing
// waits for a call that may never come.

const (
	// mergeHold is how long a frame is held after it was read, for the frames of other links
	// that crossed before it to be read too: a few milliseconds, unseen at a console.
	mergeHold = 5 * time.Millisecond
	// maxHeld bounds the frames held: past it the earliest is handed on at once (a run
	// sending 10,000 datagrams a second holds about 50).
	maxHeld = 10000
)

// merger is a Tracer's frames held for their turn, and the wire view's lines handed on.
type merger struct {
	mu      sync.Mutex // guards the fields below; taken after a Capture's mu
	held    frameHeap
	seq     uint64
	timer   *time.Timer
	next    time.Time // when the timer fires; zero when it is not set
	queue   []string  // the wire view's lines handed on, not printed yet, in order
	dropped int       // lines the queue lost (maxQueued)
}

// heldFrame is a frame read from a capture and not yet handed on.
type heldFrame struct {
	capture *Capture
	raw     []byte    // the frame, a copy
	at      time.Time // when it crossed: the kernel's timestamp
	due     time.Time // when it may be handed on (read + mergeHold, on the monotonic clock)
	seq     uint64    // the order it was read in: between frames of the same time, it decides
	arp     bool      // an ARP request or reply (a lab's LAN), else UDP or an ICMP error about UDP
}

// before orders frames by the kernel's time, then by the order they were read.
func (f *heldFrame) before(g *heldFrame) bool {
	if !f.at.Equal(g.at) {
		return f.at.Before(g.at)
	}
	return f.seq < g.seq
}

// frameHeap is the held frames, a binary min-heap by time (before).
type frameHeap []heldFrame

func (h *frameHeap) push(f heldFrame) {
	*h = append(*h, f)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].before(&s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *frameHeap) pop() heldFrame {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = heldFrame{}
	s = s[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l].before(&s[least]) {
			least = l
		}
		if r < len(s) && s[r].before(&s[least]) {
			least = r
		}
		if least == i {
			break
		}
		s[i], s[least] = s[least], s[i]
		i = least
	}
	*h = s
	return top
}

// hold keeps f, read from its capture now, until its turn; c.mu of its capture is held.
func (t *Tracer) hold(f heldFrame) {
	m := &t.merge
	m.mu.Lock()
	defer m.mu.Unlock()
	f.raw = append([]byte(nil), f.raw...)
	f.due = time.Now().Add(mergeHold)
	m.seq++
	f.seq = m.seq
	m.held.push(f)
	if len(m.held) > maxHeld {
		t.handOn(m.held.pop())
	}
	t.armAt(f.due)
}

// armAt makes the timer release the held frames at the latest at when; m.mu is held.
func (t *Tracer) armAt(when time.Time) {
	m := &t.merge
	if !m.next.IsZero() && !when.Before(m.next) {
		return
	}
	m.next = when
	if m.timer == nil {
		m.timer = time.AfterFunc(time.Until(when), t.releaseDue)
		return
	}
	m.timer.Reset(time.Until(when))
}

// releaseDue is the timer's: it reads every capture, hands on the frames whose hold is over, in
// order, and prints them at once while the program is idle.
func (t *Tracer) releaseDue() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.merge.mu.Lock()
	t.merge.next = time.Time{} // from here a frame read arms the timer again
	t.merge.mu.Unlock()
	for _, c := range t.captures {
		c.readAll()
	}
	t.release(false)
	if t.idle.Load() && t.printing.Load() && t.w != nil {
		t.print()
	}
}

// release hands on the held frames in order: all of them, or those up to the first whose hold is
// not over, for which it sets the timer.
func (t *Tracer) release(all bool) {
	m := &t.merge
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for len(m.held) > 0 {
		if !all && m.held[0].due.After(now) {
			t.armAt(m.held[0].due)
			return
		}
		t.handOn(m.held.pop())
	}
}

// handOn gives f to the recorder, the frame sink and the wire view; t.merge.mu is held.
func (t *Tracer) handOn(f heldFrame) {
	c := f.capture
	line := ""
	if f.arp {
		line = describeARP(f.raw, c.names)
	} else {
		t.recordFrame(f.raw, c.label, f.at)
	}
	if sink := t.sink.Load(); sink != nil {
		(*sink)(c, f.raw, f.at)
	}
	if !t.printing.Load() {
		return // kept for the pcap file, or the picture, alone
	}
	if !f.arp {
		line = describeFrame(f.raw, naming{hosts: c.names, sockets: t})
	}
	m := &t.merge
	if len(m.queue) >= maxQueued {
		m.dropped++
		return
	}
	m.queue = append(m.queue, line)
}

// collect reads every capture and hands on every frame held; t.mu is held.
func (t *Tracer) collect() {
	for _, c := range t.captures {
		c.readAll()
	}
	t.release(true)
}

// drain hands on what the captures hold, then prints the wire view's lines not printed yet, and
// how many frames were lost; t.mu is held.
func (t *Tracer) drain() {
	t.collect()
	t.print()
}

// print writes the wire view's lines handed on since the last print, and how many frames the
// queue and the kernel lost meanwhile; t.mu is held.
func (t *Tracer) print() {
	m := &t.merge
	m.mu.Lock()
	for _, line := range m.queue {
		io.WriteString(t.w, line+"\n")
	}
	clear(m.queue)
	m.queue = m.queue[:0]
	lost := m.dropped
	m.dropped = 0
	m.mu.Unlock()
	for _, c := range t.captures {
		lost += c.kernelDrops()
	}
	if lost > 0 {
		fmt.Fprintf(t.w, "-- %d packets dropped by the capture\n", lost)
	}
}

// kernelDrops is how many frames the kernel dropped from c's socket (a full buffer) since it was
// last asked: reading the statistics resets them.
func (c *Capture) kernelDrops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	drops := 0
	c.rc.Control(func(fd uintptr) {
		if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			drops = int(st.Drops)
		}
	})
	return drops
}
