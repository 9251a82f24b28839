//go:build linux

package sock

import (
	"context"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fail wraps an errno as the *os.SyscallError of op; a context's error passes through.
func fail(op string, err error) error {
	if e, ok := err.(unix.Errno); ok {
		return os.NewSyscallError(op, e)
	}
	return err
}

// Send wraps send(2) (the sendto system call with no address, as glibc makes it): it sends p as
// one datagram to the connected peer. Without a peer it fails with EDESTADDRREQ.
func (c *Conn) Send(ctx context.Context, p []byte, flags int) (int, error) {
	n, err := c.sendto(ctx, "send", p, flags, nil, 0)
	if activeTracer.Load() != nil {
		c.traceSendto(p, flags, nil, n, err)
	}
	return n, err
}

// Sendto wraps sendto(2): it sends p as one datagram to to. On a connected socket Linux sends it to
// to, not to the peer.
func (c *Conn) Sendto(ctx context.Context, p []byte, flags int, to *Addr) (int, error) {
	sa, salen := to.sockaddr()
	n, err := c.sendto(ctx, "sendto", p, flags, sa, salen)
	if activeTracer.Load() != nil {
		c.traceSendto(p, flags, to, n, err)
	}
	return n, err
}

func (c *Conn) sendto(ctx context.Context, op string, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	if c.closed.Load() {
		return 0, os.NewSyscallError(op, unix.EBADF)
	}
	n, err := rawSendto(c.fd, p, flags, sa, salen)
	if err == unix.EAGAIN && flags&unix.MSG_DONTWAIT == 0 {
		n, err = c.sendtoWait(ctx, p, flags, sa, salen)
	}
	if err != nil {
		return 0, fail(op, err)
	}
	return n, nil
}

// sendtoWait is sendto's slow path, apart so that its closure costs nothing on the fast path.
func (c *Conn) sendtoWait(ctx context.Context, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	var n int
	err := c.wait(ctx, true, func(fd int) (err error) {
		n, err = rawSendto(fd, p, flags, sa, salen)
		return err
	})
	return n, err
}

// rawSendto makes the sendto system call directly: on a non-blocking socket it cannot block, so it
// needs no hand-off to the scheduler. EINTR is retried.
func rawSendto(fd int, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			uintptr(flags), uintptr(sa), uintptr(salen))
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// Recv wraps recv(2) (the recvfrom system call with no address, as glibc makes it): it receives
// one datagram into p and returns its length, truncated to len(p). A zero-length datagram is a
// datagram, not an end of file. A pending asynchronous error (ECONNREFUSED after an ICMP port
// unreachable on a connected socket) is returned once, instead of data.
func (c *Conn) Recv(ctx context.Context, p []byte, flags int) (int, error) {
	n, err := c.recvfrom(ctx, "recv", p, flags, false)
	if activeTracer.Load() != nil {
		c.traceRecvfrom(p, flags, false, nil, n, err)
	}
	return n, err
}

// Recvfrom wraps recvfrom(2): Recv, and the address the datagram came from.
func (c *Conn) Recvfrom(ctx context.Context, p []byte, flags int) (int, *Addr, error) {
	n, err := c.recvfrom(ctx, "recvfrom", p, flags, true)
	var from *Addr
	if err == nil {
		var ok bool
		if from, ok = decodeAddr(&c.rsa); !ok {
			from = Unspec
		}
	}
	if activeTracer.Load() != nil {
		c.traceRecvfrom(p, flags, true, from, n, err)
	}
	return n, from, err
}

func (c *Conn) recvfrom(ctx context.Context, op string, p []byte, flags int, wantFrom bool) (int, error) {
	if c.closed.Load() {
		return 0, os.NewSyscallError(op, unix.EBADF)
	}
	n, err := c.rawRecvfrom(c.fd, p, flags, wantFrom)
	if err == unix.EAGAIN && flags&unix.MSG_DONTWAIT == 0 {
		n, err = c.recvfromWait(ctx, p, flags, wantFrom)
	}
	if err != nil {
		return 0, fail(op, err)
	}
	return n, nil
}

// recvfromWait is recvfrom's slow path, apart so that its closure costs nothing on the fast path.
func (c *Conn) recvfromWait(ctx context.Context, p []byte, flags int, wantFrom bool) (int, error) {
	var n int
	err := c.wait(ctx, false, func(fd int) (err error) {
		n, err = c.rawRecvfrom(fd, p, flags, wantFrom)
		return err
	})
	return n, err
}

// rawRecvfrom makes the recvfrom system call directly, filling c.rsa when wantFrom. EINTR is
// retried.
func (c *Conn) rawRecvfrom(fd int, p []byte, flags int, wantFrom bool) (int, error) {
	var sa *unix.RawSockaddrAny
	var salen *uint32
	if wantFrom {
		c.rsa.Addr.Family = unix.AF_UNSPEC
		c.rsaLen = unix.SizeofSockaddrAny
		sa, salen = &c.rsa, &c.rsaLen
	}
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))),
			uintptr(len(p)), uintptr(flags), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)))
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}
