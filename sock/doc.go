// Package sock is udplab's window on the kernel's BSD socket calls: the only package of udplab that
// makes system calls.
//
// It is for people who want to see what the kernel answers, so it hides nothing: each method wraps
// one system call, named after it (Conn.Sendto wraps sendto(2)), and a failed call returns an
// *os.SyscallError wrapping the unix.Errno the kernel gave, which callers test with
// errors.Is(err, unix.ECONNREFUSED). Strerror and ErrnoName give the C text and name of an errno.
//
// A Conn owns one non-blocking, close-on-exec socket. Each call first tries the system call
// directly; only when the kernel answers EAGAIN does it park on the Go runtime's poller, which lets
// a receive timeout (SetReadTimeout, SO_RCVTIMEO semantics) or a context cancel a blocked call. A
// receive that times out fails with EAGAIN, as a blocking C socket with SO_RCVTIMEO does. EINTR is
// retried inside sock and never returned.
//
// Addresses are Addr values (IPv4, IPv6 with zones, or AF_UNSPEC), encoded once into the kernel's
// sockaddr form when built, so sending to the same Addr many times costs no re-encoding.
//
// sock is Linux only.
package sock
