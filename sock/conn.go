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
	fd     int
	closed atomic.Bool

	// The fd joins the runtime poller (epoll) only when a call first has to wait: a registered
	// socket makes the kernel wake the poller on every datagram sent or received, which costs a
	// send loop about a fifth of its rate.
	mu   sync.Mutex
	file *os.File
	rc   syscall.RawConn

	family   int
	sotype   int
	protocol int

	readTimeout time.Duration
	rsa         unix.RawSockaddrAny // filled by recvfrom(2): one receive at a time
	rsaLen      uint32
}

// Socket wraps socket(2): it opens a socket of family (AF_INET, AF_INET6), type (SOCK_DGRAM) and
// protocol (0 for the default).
func Socket(family, sotype, protocol int) (*Conn, error) {
	fd, err := unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
	traceSocket(family, sotype, protocol, fd, err)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &Conn{fd: fd, family: family, sotype: sotype, protocol: protocol}
	register(c)
	return c, nil
}

// pollable registers the fd with the runtime poller, once, and returns its file and RawConn.
func (c *Conn) pollable() (*os.File, syscall.RawConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, nil, unix.EBADF
	}
	if c.file == nil {
		// os.NewFile sees the fd is non-blocking and registers it with the runtime poller.
		f := os.NewFile(uintptr(c.fd), "socket:"+strconv.Itoa(c.fd))
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, nil, unix.EBADF
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
func (c *Conn) Closed() bool { return c.closed.Load() }

// Close wraps close(2). Every call after the first fails with EBADF, as does every other method
// after Close: sock never touches a descriptor number the kernel may have handed to a new file.
func (c *Conn) Close() error {
	err := c.close()
	if activeTracer.Load() != nil {
		traceCall("close", strconv.Itoa(c.fd), 0, err)
	}
	return err
}

// Release closes c as Close does, without a trace line: for the sockets a program closes by
// itself as it ends (a C program's exit shows no close either).
func (c *Conn) Release() error {
	return c.close()
}

func (c *Conn) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Swap(true) {
		return os.NewSyscallError("close", unix.EBADF)
	}
	var err error
	if c.file != nil {
		err = c.file.Close() // wakes a call blocked in the poller
	} else {
		err = unix.Close(c.fd)
	}
	unregister(c)
	if err != nil {
		return os.NewSyscallError("close", unix.EBADF)
	}
	return nil
}

// SetReadTimeout bounds every later blocking receive on c by d, as SO_RCVTIMEO does: a receive
// that waits longer fails with EAGAIN. Zero means wait forever.
func (c *Conn) SetReadTimeout(d time.Duration) error {
	if c.closed.Load() {
		return os.NewSyscallError("setsockopt", unix.EBADF)
	}
	if d < 0 {
		return os.NewSyscallError("setsockopt", unix.EINVAL)
	}
	c.readTimeout = d
	if activeTracer.Load() != nil {
		c.traceSockopt("setsockopt", unix.SOL_SOCKET, unix.SO_RCVTIMEO, traceTimeval(d), 16, nil)
	}
	return nil
}

// ReadTimeout returns the timeout SetReadTimeout set.
func (c *Conn) ReadTimeout() time.Duration { return c.readTimeout }

// Bind wraps bind(2).
func (c *Conn) Bind(a *Addr) error {
	if c.closed.Load() {
		err := os.NewSyscallError("bind", unix.EBADF)
		c.traceAddrCall("bind", a, err)
		return err
	}
	p, n := a.sockaddr()
	_, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(c.fd), uintptr(p), uintptr(n))
	var err error
	if e != 0 {
		err = os.NewSyscallError("bind", e)
	}
	c.traceAddrCall("bind", a, err)
	return err
}

// Connect wraps connect(2). On a UDP socket it sends nothing: it records a as the peer, so that
// Send needs no address and only a's datagrams are received. Connect(Unspec) dissolves that.
func (c *Conn) Connect(a *Addr) error {
	err := c.connect(a)
	c.traceAddrCall("connect", a, err)
	return err
}

func (c *Conn) connect(a *Addr) error {
	if c.closed.Load() {
		return os.NewSyscallError("connect", unix.EBADF)
	}
	p, n := a.sockaddr()
	for {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(c.fd), uintptr(p), uintptr(n))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return os.NewSyscallError("connect", e)
		}
		return nil
	}
}

// Getsockname wraps getsockname(2): the address the socket is bound to.
func (c *Conn) Getsockname() (*Addr, error) {
	a, err := c.name("getsockname", unix.SYS_GETSOCKNAME)
	c.traceName("getsockname", a, err)
	return a, err
}

// Getpeername wraps getpeername(2): the peer a connected socket records; ENOTCONN when none.
func (c *Conn) Getpeername() (*Addr, error) {
	a, err := c.name("getpeername", unix.SYS_GETPEERNAME)
	c.traceName("getpeername", a, err)
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
	if c.closed.Load() {
		return nil, os.NewSyscallError(op, unix.EBADF)
	}
	rsa := new(unix.RawSockaddrAny)
	n := new(uint32)
	*n = unix.SizeofSockaddrAny
	_, _, e := unix.RawSyscall(trap, uintptr(c.fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(n)))
	if e != 0 {
		return nil, os.NewSyscallError(op, e)
	}
	a, ok := decodeAddr(rsa)
	if !ok {
		return nil, os.NewSyscallError(op, unix.EAFNOSUPPORT)
	}
	return a, nil
}

// pastDeadline is the deadline set to wake a blocked call whose context is done.
var pastDeadline = time.Unix(1, 0)

// wait parks on the runtime poller until try reports the socket ready (try's error is not EAGAIN),
// the read timeout passes (EAGAIN, for a receive), ctx is done (ctx.Err()) or c is closed (EBADF).
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
		return unix.EBADF // the file is closing
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
		err = try(int(fd))
		return !notReady(err)
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
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(werr, os.ErrDeadlineExceeded):
		return unix.EAGAIN
	default:
		return unix.EBADF
	}
}

// notReady reports whether err means "not now, try again": the one place that decides it.
func notReady(err error) bool {
	return err == unix.EAGAIN || err == unix.EINTR
}
