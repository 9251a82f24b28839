//go:build linux

package sock

import (
	"context"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// pollSlice bounds one poll(2) call, so that a done context or a Close ends a Poll within it.
const pollSlice = 50 * time.Millisecond

// Poll wraps poll(2) on conns for readability: it returns, for each conn, whether a receive would
// not block (a datagram or a pending error is there). It waits at most timeout (negative: without
// bound; zero: not at all), and returns ctx.Err() when ctx is done first. A closed conn fails
// with EBADF. The call is traced by the tracer of the first conn that has one.
func Poll(ctx context.Context, conns []*Conn, timeout time.Duration) ([]bool, error) {
	var p Poller
	defer p.Close()
	return p.Poll(ctx, conns, timeout)
}

// Poller is Poll with its buffers kept from one call to the next: a loop that polls the same
// sockets allocates nothing. The slice a call returns is valid until the next call. A Poller is
// for one goroutine at a time.
type Poller struct {
	fds   []unix.PollFd
	ready []bool

	// the epoll set of the list polled last (epoll.go)
	mu         sync.Mutex
	epfd       int
	registered []*Conn
	events     []unix.EpollEvent
}

// Poll is the package's Poll, reusing p's buffers. A Poller that polls many sockets keeps them in
// an epoll set between calls (see epoll.go); Close releases it.
func (p *Poller) Poll(ctx context.Context, conns []*Conn, timeout time.Duration) ([]bool, error) {
	var tracer *Tracer
	for _, c := range conns {
		if c.tracer != nil {
			tracer = c.tracer
			break
		}
	}
	if !tracer.On() {
		if ready, err, ok := p.epollPoll(ctx, conns, timeout); ok {
			return ready, err
		}
	}
	ready, err := p.poll(ctx, conns, timeout)
	if tracer.On() {
		tracer.tracePoll(conns, timeout, ready, err)
	}
	return ready, err
}

func (p *Poller) poll(ctx context.Context, conns []*Conn, timeout time.Duration) ([]bool, error) {
	if cap(p.fds) < len(conns) {
		p.fds, p.ready = make([]unix.PollFd, len(conns)), make([]bool, len(conns))
	}
	fds, ready := p.fds[:len(conns)], p.ready[:len(conns)]
	for i, c := range conns {
		fd, err := c.hold()
		if err != nil {
			for _, held := range conns[:i] {
				held.release()
			}
			return nil, os.NewSyscallError("poll", err)
		}
		fds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	defer func() {
		for _, c := range conns {
			c.release()
		}
	}()
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := pollSlice
		if timeout >= 0 {
			slice = max(0, min(slice, time.Until(deadline)))
		}
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = unix.Poll(fds, int((slice+time.Millisecond-1)/time.Millisecond))
			return err
		})
		if err != nil {
			return nil, os.NewSyscallError("poll", err)
		}
		if n > 0 {
			for i, fd := range fds {
				ready[i] = fd.Revents != 0
			}
			return ready, nil
		}
		for _, c := range conns {
			if c.Closed() {
				return nil, os.NewSyscallError("poll", unix.EBADF)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			clear(ready)
			return ready, nil
		}
	}
}
