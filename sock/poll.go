//go:build linux

package sock

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pollSlice bounds one poll(2) call, so that a done context ends a Poll within it.
const pollSlice = 50 * time.Millisecond

// Poll wraps poll(2) on conns for readability: it returns, for each conn, whether a receive would
// not block (a datagram or a pending error is there). It waits at most timeout (negative: without
// bound; zero: not at all), and returns ctx.Err() when ctx is done first. A closed conn fails
// with EBADF.
func Poll(ctx context.Context, conns []*Conn, timeout time.Duration) ([]bool, error) {
	ready, err := poll(ctx, conns, timeout)
	tracePoll(conns, timeout, ready, err)
	return ready, err
}

func poll(ctx context.Context, conns []*Conn, timeout time.Duration) ([]bool, error) {
	fds := make([]unix.PollFd, len(conns))
	for i, c := range conns {
		if c.closed.Load() {
			return nil, os.NewSyscallError("poll", unix.EBADF)
		}
		fds[i] = unix.PollFd{Fd: int32(c.fd), Events: unix.POLLIN}
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := pollSlice
		if timeout >= 0 {
			slice = min(slice, time.Until(deadline))
			if slice < 0 {
				slice = 0
			}
		}
		n, err := unix.Poll(fds, int((slice+time.Millisecond-1)/time.Millisecond))
		if err != nil && err != unix.EINTR {
			return nil, os.NewSyscallError("poll", err)
		}
		if n > 0 {
			ready := make([]bool, len(conns))
			for i, fd := range fds {
				ready[i] = fd.Revents != 0
			}
			return ready, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			return make([]bool, len(conns)), nil
		}
	}
}
