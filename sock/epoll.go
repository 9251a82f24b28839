//go:build linux

package sock

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A Poller asked again and again about the same many sockets (a server's loop over its clients)
// keeps them in an epoll set of its own: epoll_wait costs what is ready, where poll(2) costs every
// descriptor each time. The set is made when the list is first seen and made again when it
// changes; a short list, a list with a socket twice, and a traced poll (whose trace line must be
// the poll(2) it shows) use poll(2).

// epollMin is the length from which a list is polled through an epoll set.
const epollMin = 64

// epollPoll polls conns through p's epoll set; ok is false when the list is not for one, and
// the caller polls with poll(2).
func (p *Poller) epollPoll(ctx context.Context, conns []*Conn, timeout time.Duration) (ready []bool, err error, ok bool) {
	if len(conns) < epollMin {
		return nil, nil, false
	}
	p.mu.Lock() // Close may come from another goroutine (a program's exit)
	defer p.mu.Unlock()
	for _, c := range conns {
		if c.Closed() {
			return nil, os.NewSyscallError("poll", unix.EBADF), true
		}
	}
	if !p.sameList(conns) {
		if err := p.register(conns); err != nil {
			p.closeEpoll()
			return nil, nil, false // a socket twice, or no epoll: poll(2) says what there is to say
		}
	}
	if cap(p.ready) < len(conns) {
		p.ready = make([]bool, len(conns))
	}
	ready = p.ready[:len(conns)]
	clear(ready)
	if len(p.events) < len(conns) {
		p.events = make([]unix.EpollEvent, len(conns)) // room for all: one epoll_wait gives every ready one
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := pollSlice
		if timeout >= 0 {
			slice = max(0, min(slice, time.Until(deadline)))
		}
		wait := int((slice + time.Millisecond - 1) / time.Millisecond)
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = unix.EpollWait(p.epfd, p.events, wait)
			return err
		})
		if err != nil {
			return nil, os.NewSyscallError("poll", err), true
		}
		got := 0
		for _, ev := range p.events[:n] {
			if i := int(ev.Fd); i >= 0 && i < len(ready) && !ready[i] {
				ready[i] = true
				got++
			}
		}
		if got > 0 {
			return ready, nil, true
		}
		for _, c := range conns {
			if c.Closed() {
				return nil, os.NewSyscallError("poll", unix.EBADF), true
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err, true
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			return ready, nil, true
		}
	}
}

// sameList says conns is the list p's epoll set holds.
func (p *Poller) sameList(conns []*Conn) bool {
	if p.epfd <= 0 || len(conns) != len(p.registered) {
		return false
	}
	for i, c := range conns {
		if p.registered[i] != c {
			return false
		}
	}
	return true
}

// register makes p's epoll set hold conns, each under its index in the list.
func (p *Poller) register(conns []*Conn) error {
	p.closeEpoll()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	p.epfd = epfd
	for i, c := range conns {
		fd, err := c.hold()
		if err != nil {
			return err
		}
		err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)})
		c.release()
		if err != nil {
			return err // EEXIST: the same socket twice
		}
	}
	p.registered = append(p.registered[:0], conns...)
	return nil
}

// closeEpoll drops p's epoll set.
func (p *Poller) closeEpoll() {
	if p.epfd > 0 {
		unix.Close(p.epfd)
	}
	p.epfd = 0
	clear(p.registered)
	p.registered = p.registered[:0]
}

// Close releases what p keeps between calls (its epoll set). p may be used again. Unlike Poll,
// it may be called from any goroutine.
func (p *Poller) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeEpoll()
}
