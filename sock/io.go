//go:build linux

package sock

import (
	"context"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Send wraps send(2) (the sendto system call with no address, as glibc makes it): it sends p as
// one datagram to the connected peer. Without a peer it fails with EDESTADDRREQ.
func (c *Conn) Send(ctx context.Context, p []byte, flags int) (int, error) {
	if c.tracer.On() {
		return c.tracedSendto(ctx, "send", p, flags, nil)
	}
	return c.sendto(ctx, "send", p, flags, nil, 0)
}

// Sendto wraps sendto(2): it sends p as one datagram to to. On a connected socket Linux sends it to
// to, not to the peer.
func (c *Conn) Sendto(ctx context.Context, p []byte, flags int, to *Addr) (int, error) {
	if c.tracer.On() {
		return c.tracedSendto(ctx, "sendto", p, flags, to)
	}
	sa, salen := to.sockaddr()
	return c.sendto(ctx, "sendto", p, flags, sa, salen)
}

// tracedSendto is Send (to nil) or Sendto, traced.
func (c *Conn) tracedSendto(ctx context.Context, op string, p []byte, flags int, to *Addr) (int, error) {
	done := c.tracer.bindingCall()
	start := c.tracer.startTime()
	var sa unsafe.Pointer
	var salen uint32
	if to != nil {
		sa, salen = to.sockaddr()
	}
	n, err := c.sendto(ctx, op, p, flags, sa, salen)
	done()
	c.traceSendto(start, op, p, flags, to, n, err)
	return n, err
}

func (c *Conn) sendto(ctx context.Context, op string, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	fd, err := c.hold()
	if err != nil {
		return 0, os.NewSyscallError(op, err)
	}
	defer c.release()
	var n int
	err = ignoringEINTR(func() (err error) {
		n, err = rawSendto(fd, p, flags, sa, salen)
		return err
	})
	if err == unix.EAGAIN && flags&unix.MSG_DONTWAIT == 0 {
		n, err = c.sendtoWait(ctx, p, flags, sa, salen)
	}
	if err != nil {
		return 0, fail(op, err)
	}
	return n, nil
}

// sendtoWait is sendto's slow path, apart so that its closure, which escapes to the poller,
// costs nothing on the fast path.
func (c *Conn) sendtoWait(ctx context.Context, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	var n int
	err := c.wait(ctx, true, func(fd int) (err error) {
		n, err = rawSendto(fd, p, flags, sa, salen)
		return err
	})
	return n, err
}

// rawSendto makes the sendto system call directly: on a non-blocking socket it cannot block, so it
// needs no hand-off to the scheduler.
func rawSendto(fd int, p []byte, flags int, sa unsafe.Pointer, salen uint32) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
		uintptr(flags), uintptr(sa), uintptr(salen))
	return int(r), errnoErr(e)
}

// Recv wraps recv(2) (the recvfrom system call with no address, as glibc makes it): it receives
// one datagram into p and returns its length, truncated to len(p). A zero-length datagram is a
// datagram, not an end of file. A pending asynchronous error (ECONNREFUSED after an ICMP port
// unreachable on a connected socket) is returned once, instead of data.
func (c *Conn) Recv(ctx context.Context, p []byte, flags int) (int, error) {
	n, err := c.recvfrom(ctx, "recv", p, flags, false)
	if c.tracer.On() {
		c.traceRecvfrom("recv", p, flags, false, nil, n, err)
	}
	return n, err
}

// Recvfrom wraps recvfrom(2): Recv, and the address the datagram came from.
func (c *Conn) Recvfrom(ctx context.Context, p []byte, flags int) (int, *Addr, error) {
	n, err := c.recvfrom(ctx, "recvfrom", p, flags, true)
	var from *Addr
	if err == nil {
		from = c.sender()
	}
	if c.tracer.On() {
		c.traceRecvfrom("recvfrom", p, flags, true, from, n, err)
	}
	return n, from, err
}

// sender is the address recvfrom(2) left in c.rsa: the one decoded last when the same peer sent
// again (a server's client, a connected socket's peer), so that a receive allocates nothing for
// it. Addrs are never changed once made, so sharing one is safe.
func (c *Conn) sender() *Addr {
	if last := c.lastFrom; last != nil && last.family == int(c.rsa.Addr.Family) &&
		string(unsafe.Slice((*byte)(unsafe.Pointer(&c.rsa)), last.rawLen)) == string(last.raw[:last.rawLen]) {
		return last
	}
	from, ok := decodeAddr(&c.rsa)
	if !ok {
		return Unspec
	}
	c.lastFrom = from
	return from
}

func (c *Conn) recvfrom(ctx context.Context, op string, p []byte, flags int, wantFrom bool) (int, error) {
	fd, err := c.hold()
	if err != nil {
		return 0, os.NewSyscallError(op, err)
	}
	defer c.release()
	var n int
	err = ignoringEINTR(func() (err error) {
		n, err = c.rawRecvfrom(fd, p, flags, wantFrom)
		return err
	})
	if err == unix.EAGAIN && flags&unix.MSG_DONTWAIT == 0 {
		n, err = c.recvfromWait(ctx, p, flags, wantFrom)
	}
	if err != nil {
		return 0, fail(op, err)
	}
	return n, nil
}

// recvfromWait is recvfrom's slow path, apart so that its closure, which escapes to the poller,
// costs nothing on the fast path.
func (c *Conn) recvfromWait(ctx context.Context, p []byte, flags int, wantFrom bool) (int, error) {
	var n int
	err := c.wait(ctx, false, func(fd int) (err error) {
		n, err = c.rawRecvfrom(fd, p, flags, wantFrom)
		return err
	})
	return n, err
}

// rawRecvfrom makes the recvfrom system call directly, filling c.rsa when wantFrom.
func (c *Conn) rawRecvfrom(fd int, p []byte, flags int, wantFrom bool) (int, error) {
	var sa *unix.RawSockaddrAny
	var salen *uint32
	if wantFrom {
		c.rsa.Addr.Family = unix.AF_UNSPEC
		c.rsaLen = unix.SizeofSockaddrAny
		sa, salen = &c.rsa, &c.rsaLen
	}
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))),
		uintptr(len(p)), uintptr(flags), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)))
	return int(r), errnoErr(e)
}
