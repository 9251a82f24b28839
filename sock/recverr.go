//go:build linux

package sock

import (
	"fmt"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ExtendedError is one entry of a socket's error queue: the details the kernel keeps of an
// asynchronous error when IP_RECVERR (IPV6_RECVERR) is on (struct sock_extended_err, ip(7)).
type ExtendedError struct {
	Errno    unix.Errno // the error, ECONNREFUSED for an ICMP port unreachable
	Origin   uint8      // unix.SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, SO_EE_ORIGIN_LOCAL, ...
	Type     uint8      // the ICMP type
	Code     uint8      // the ICMP code
	Info     uint32     // e.g. the MTU for "fragmentation needed"
	Data     uint32
	Offender netip.Addr // who sent the ICMP error (SO_EE_OFFENDER); invalid when unknown
	Payload  []byte     // the datagram that caused it, as far as the kernel kept it
}

// OriginName names an error's origin: "icmp", "icmp6", "local", "none", ...
func (e *ExtendedError) OriginName() string {
	switch e.Origin {
	case unix.SO_EE_ORIGIN_NONE:
		return "none"
	case unix.SO_EE_ORIGIN_LOCAL:
		return "local"
	case unix.SO_EE_ORIGIN_ICMP:
		return "icmp"
	case unix.SO_EE_ORIGIN_ICMP6:
		return "icmp6"
	case unix.SO_EE_ORIGIN_TXSTATUS:
		return "txstatus"
	case unix.SO_EE_ORIGIN_ZEROCOPY:
		return "zerocopy"
	case unix.SO_EE_ORIGIN_TXTIME:
		return "txtime"
	}
	return fmt.Sprint(e.Origin)
}

// Describe says what the error is, in words: "ICMP destination unreachable (type 3), port
// unreachable (code 3) from 127.0.0.1".
func (e *ExtendedError) Describe() string {
	var what string
	switch e.Origin {
	case unix.SO_EE_ORIGIN_ICMP:
		what = fmt.Sprintf("ICMP %s (type %d), %s (code %d)", icmpTypeName(false, e.Type), e.Type, icmpName(false, e.Type, e.Code), e.Code)
	case unix.SO_EE_ORIGIN_ICMP6:
		what = fmt.Sprintf("ICMPv6 %s (type %d), %s (code %d)", icmpTypeName(true, e.Type), e.Type, icmpName(true, e.Type, e.Code), e.Code)
	default:
		what = fmt.Sprintf("%s error %s", e.OriginName(), Strerror(e.Errno))
	}
	if e.Offender.IsValid() {
		what += " from " + e.Offender.String()
	}
	return what
}

// Recverr reads one entry of the socket's error queue: recvmsg(2) with MSG_ERRQUEUE, which never
// blocks. It fails with EAGAIN when the queue is empty. The error is queued only while
// IP_RECVERR (IPV6_RECVERR) is set on the socket.
func (c *Conn) Recverr() (*ExtendedError, error) {
	e, err := c.recverr()
	if c.tracer.On() {
		detail := "0x0"
		if err == nil {
			detail = fmt.Sprintf("{cmsg_data={ee_errno=%s, ee_origin=%d, ee_type=%d, ee_code=%d, ee_info=%d, ee_data=%d}}",
				ErrnoName(e.Errno), e.Origin, e.Type, e.Code, e.Info, e.Data)
		}
		c.traced("recvmsg", fmt.Sprintf("%s, {msg_control=%s}, MSG_ERRQUEUE", c.fdText(), detail), len(e.payloadOrNil()), err)
		if err == nil && (e.Origin == unix.SO_EE_ORIGIN_ICMP || e.Origin == unix.SO_EE_ORIGIN_ICMP6) {
			c.tracer.record(CallEvent{FD: c.fd, Host: c.host, Call: "recverr", Errno: e.Errno, Offender: e.Offender,
				Type: int(e.Type), Code: int(e.Code), ICMP: ICMPName(e.Origin == unix.SO_EE_ORIGIN_ICMP6, e.Type, e.Code)})
		}
	}
	return e, err
}

func (e *ExtendedError) payloadOrNil() []byte {
	if e == nil {
		return nil
	}
	return e.Payload
}

func (c *Conn) recverr() (*ExtendedError, error) {
	p := make([]byte, 512)
	oob := make([]byte, 512)
	var n, oobn int
	err := c.control("recvmsg", func(fd int) (err error) {
		n, oobn, _, _, err = unix.Recvmsg(fd, p, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		return err
	})
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	for _, m := range msgs {
		v4 := m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR
		v6 := m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR
		if !v4 && !v6 || len(m.Data) < sizeofSockExtendedErr {
			continue
		}
		ee := (*unix.SockExtendedErr)(unsafe.Pointer(&m.Data[0]))
		e := &ExtendedError{Errno: unix.Errno(ee.Errno), Origin: ee.Origin, Type: ee.Type, Code: ee.Code,
			Info: ee.Info, Data: ee.Data, Payload: p[:n]}
		// SO_EE_OFFENDER: the sockaddr that follows the struct.
		if rest := m.Data[sizeofSockExtendedErr:]; len(rest) >= 2 {
			var rsa unix.RawSockaddrAny
			copy((*[unix.SizeofSockaddrAny]byte)(unsafe.Pointer(&rsa))[:], rest)
			if a, ok := decodeAddr(&rsa); ok && a.family != unix.AF_UNSPEC {
				e.Offender = a.IP()
			}
		}
		return e, nil
	}
	return nil, os.NewSyscallError("recvmsg", unix.EAGAIN)
}

// sizeofSockExtendedErr is the size of struct sock_extended_err.
const sizeofSockExtendedErr = int(unsafe.Sizeof(unix.SockExtendedErr{}))
