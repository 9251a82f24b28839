//go:build linux

package sock

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is one socket: a non-blocking, close-on-exec file descriptor driven by the Go runtime's
// poller. A Conn is meant for one goroutine at a time; Close may be called from any goroutine.
type Conn struct {
	fd int

	// state counts the calls that hold the fd (see hold), shifted left by one, with bit 0 set
	// once Close was called. The descriptor is closed when both say so: closed, and no call
	// holds it. So no system call ever reaches a descriptor number the kernel may have reused.
	state atomic.Int64

	// The fd joins the runtime poller (epoll) only when a call first has to wait: a registered
	// socket makes the kernel wake the poller on every datagram sent or received, which costs a
	// send loop about a fifth of its rate.
	mu   sync.Mutex
	file *os.File
	rc   syscall.RawConn

	tracer *Tracer                // nil: never traced
	host   string                 // the lab host it lives in; "" for this machine
	label  atomic.Pointer[string] // its name (Label), nil: none

	family   int
	sotype   int
	protocol int

	readTimeout time.Duration
	rsa         unix.RawSockaddrAny // filled by recvfrom(2): one receive at a time
	lastFrom    *Addr               // the sender Recvfrom decoded last: returned again while it sends
	rsaLen      uint32
}

// The runtime poller (epoll) is made on first use, which takes a descriptor: a script that used
// them all before its first wait would make the runtime die ("netpollinit failed"). Making it
// now, while descriptors are free, leaves every later failure an EMFILE a call can report.
func init() {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
}

// Config configures a Conn as Socket opens it. The zero Config (or nil) is an untraced socket.
type Config struct {
	// Tracer, when not nil, gets one line for each call on the Conn while it is on, and lets its
	// captures show the Conn's packets.
	Tracer *Tracer
}

const (
	closedBit = 1
	oneHold   = 2
)

// Socket wraps socket(2): it opens a socket of family (AF_INET, AF_INET6), type (SOCK_DGRAM) and
// protocol (0 for the default). cfg may be nil.
func Socket(family, sotype, protocol int, cfg *Config) (*Conn, error) {
	var t *Tracer
	if cfg != nil {
		t = cfg.Tracer
	}
	fd, err := unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
	if t.On() {
		t.traceSocket(family, sotype, protocol, fd, err)
	}
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	return newConn(fd, family, sotype, protocol, t), nil
}

// newConn makes a Conn of fd, a non-blocking, close-on-exec socket it then owns.
func newConn(fd, family, sotype, protocol int, t *Tracer) *Conn {
	return newConnIn(fd, family, sotype, protocol, "", t)
}

// newConnIn is newConn for a socket of a lab's host: its host is set before the tracer sees it.
func newConnIn(fd, family, sotype, protocol int, host string, t *Tracer) *Conn {
	c := &Conn{fd: fd, family: family, sotype: sotype, protocol: protocol, tracer: t, host: host}
	t.register(c)
	return c
}

// hold is the one way to the descriptor: it returns the fd, held open until the matching
// release, or EBADF once Close was called.
func (c *Conn) hold() (int, error) {
	for {
		s := c.state.Load()
		if s&closedBit != 0 {
			return -1, unix.EBADF
		}
		if c.state.CompareAndSwap(s, s+oneHold) {
			return c.fd, nil
		}
	}
}

// release ends a hold; the last one after Close closes the descriptor.
func (c *Conn) release() {
	if c.state.Add(-oneHold) == closedBit {
		c.destroy()
	}
}

// control runs fn on the held descriptor, retrying EINTR, and returns its error as op's
// *os.SyscallError.
func (c *Conn) control(op string, fn func(fd int) error) error {
	fd, err := c.hold()
	if err != nil {
		return os.NewSyscallError(op, err)
	}
	defer c.release()
	return fail(op, ignoringEINTR(func() error { return fn(fd) }))
}

// pollable registers the fd with the runtime poller, once, and returns its file and RawConn.
func (c *Conn) pollable() (*os.File, syscall.RawConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load()&closedBit != 0 {
		return nil, nil, unix.EBADF
	}
	if c.file == nil {
		// os.NewFile sees the fd is non-blocking and registers it with the runtime poller.
		f := os.NewFile(uintptr(c.fd), "socket:"+strconv.Itoa(c.fd))
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, nil, err
		}
		c.file, c.rc = f, rc
	}
	return c.file, c.rc, nil
}

// FD returns the file descriptor number, for display. It stays valid until Close.
func (c *Conn) FD() int { return c.fd }

// Family returns the address family the socket was opened with.
func (c *Conn) Family() int { return c.family }

// Type returns the socket type the socket was opened with.
func (c *Conn) Type() int { return c.sotype }

// Protocol returns the protocol the socket was opened with.
func (c *Conn) Protocol() int { return c.protocol }

// Closed reports whether Close has been called.
func (c *Conn) Closed() bool { return c.state.Load()&closedBit != 0 }

// Close wraps close(2). Every call after the first fails with EBADF, as does every other method
// after Close: sock never touches a descriptor number the kernel may have handed to a new file.
// A call blocked on c is woken and fails with EBADF; the descriptor itself is closed when the
// last call in progress returns.
func (c *Conn) Close() error {
	err := c.close()
	if c.tracer.On() {
		c.recordCall("close", 0, err, nil, nil)
		c.traced("close", c.fdText(), 0, err)
	}
	return err
}

// Release closes c as Close does, without a trace line: for the sockets a program closes by
// itself as it ends (a C program's exit shows no close either).
func (c *Conn) Release() error {
	return c.close()
}

func (c *Conn) close() error {
	for {
		s := c.state.Load()
		if s&closedBit != 0 {
			return os.NewSyscallError("close", unix.EBADF)
		}
		if c.state.CompareAndSwap(s, s|closedBit) {
			if s == 0 {
				return c.destroy()
			}
			c.wakeWaiters()
			return nil
		}
	}
}

// wakeWaiters makes a call parked on the poller return (wait then sees c closed).
func (c *Conn) wakeWaiters() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file != nil {
		c.file.SetDeadline(pastDeadline)
	}
}

// destroy closes the descriptor: once, when c is closed and no call holds it.
func (c *Conn) destroy() error {
	c.tracer.unregister(c)
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.file != nil {
		err = c.file.Close()
	} else {
		err = unix.Close(c.fd)
	}
	return fail("close", err)
}

// SetReadTimeout bounds every later blocking receive on c by d, as SO_RCVTIMEO does: a receive
// that waits longer fails with EAGAIN. Zero means wait forever.
func (c *Conn) SetReadTimeout(d time.Duration) error {
	err := c.setReadTimeout(d)
	if c.tracer.On() {
		c.traceSockopt("setsockopt", unix.SOL_SOCKET, unix.SO_RCVTIMEO, traceTimeval(d), 16, err)
	}
	return err
}

func (c *Conn) setReadTimeout(d time.Duration) error {
	if c.Closed() {
		return os.NewSyscallError("setsockopt", unix.EBADF)
	}
	if d < 0 {
		return os.NewSyscallError("setsockopt", unix.EINVAL)
	}
	c.readTimeout = d
	return nil
}

// ReadTimeout returns the timeout SetReadTimeout set.
func (c *Conn) ReadTimeout() time.Duration { return c.readTimeout }

// Bind wraps bind(2).
func (c *Conn) Bind(a *Addr) error {
	if c.tracer.On() {
		defer c.tracer.bindingCall()()
	}
	p, n := a.sockaddr()
	err := c.control("bind", func(fd int) error {
		return errnoErr(rawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(p), uintptr(n)))
	})
	if c.tracer.On() {
		c.traceAddrCall("bind", a, err)
	}
	return err
}

// Connect wraps connect(2). On a UDP socket it sends nothing: it records a as the peer, so that
// Send needs no address and only a's datagrams are received. Connect(Unspec) dissolves that.
func (c *Conn) Connect(a *Addr) error {
	if c.tracer.On() {
		defer c.tracer.bindingCall()()
	}
	p, n := a.sockaddr()
	err := c.control("connect", func(fd int) error {
		return errnoErr(rawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(p), uintptr(n)))
	})
	if c.tracer.On() {
		c.traceAddrCall("connect", a, err)
	}
	return err
}

// Getsockname wraps getsockname(2): the address the socket is bound to.
func (c *Conn) Getsockname() (*Addr, error) {
	a, err := c.LocalAddr()
	if c.tracer.On() {
		c.traceName("getsockname", a, err)
	}
	return a, err
}

// Getpeername wraps getpeername(2): the peer a connected socket records; ENOTCONN when none.
func (c *Conn) Getpeername() (*Addr, error) {
	a, err := c.RemoteAddr()
	if c.tracer.On() {
		c.traceName("getpeername", a, err)
	}
	return a, err
}

// LocalAddr is Getsockname without a trace line: for display.
func (c *Conn) LocalAddr() (*Addr, error) {
	return c.name("getsockname", unix.SYS_GETSOCKNAME)
}

// RemoteAddr is Getpeername without a trace line: for display.
func (c *Conn) RemoteAddr() (*Addr, error) {
	return c.name("getpeername", unix.SYS_GETPEERNAME)
}

func (c *Conn) name(op string, trap uintptr) (*Addr, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	err := c.control(op, func(fd int) error {
		return errnoErr(rawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n))))
	})
	if err != nil {
		return nil, err
	}
	a, ok := decodeAddr(&rsa)
	if !ok {
		return nil, os.NewSyscallError(op, unix.EAFNOSUPPORT)
	}
	return a, nil
}

// pastDeadline is the deadline set to wake a blocked call whose context is done.
var pastDeadline = time.Unix(1, 0)

// wait parks on the runtime poller until try reports the socket ready (try's error is not EAGAIN),
// the read timeout passes (EAGAIN, for a receive), ctx is done (ctx.Err()) or c is closed (EBADF).
// The caller holds the descriptor.
func (c *Conn) wait(ctx context.Context, write bool, try func(fd int) error) error {
	file, rc, err := c.pollable()
	if err != nil {
		return err
	}
	setDeadline := file.SetReadDeadline
	var deadline time.Time
	if write {
		setDeadline = file.SetWriteDeadline
	} else if c.readTimeout > 0 {
		deadline = time.Now().Add(c.readTimeout)
	}
	if err := setDeadline(deadline); err != nil {
		return err
	}
	// Close sets its past deadline after marking c closed: checked after ours was set, either
	// this sees closed or the poller sees Close's deadline.
	if c.Closed() {
		return unix.EBADF
	}
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			setDeadline(pastDeadline)
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired
			}
		}()
	}
	step := func(fd uintptr) bool {
		err = ignoringEINTR(func() error { return try(int(fd)) })
		return err != unix.EAGAIN
	}
	var werr error
	if write {
		werr = rc.Write(step)
	} else {
		werr = rc.Read(step)
	}
	switch {
	case werr == nil:
		return err
	case c.Closed():
		return unix.EBADF
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(werr, os.ErrDeadlineExceeded):
		return unix.EAGAIN
	}
	return werr
}
