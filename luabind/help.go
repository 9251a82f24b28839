package luabind

import (
	"io"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// helpEntry is the help text of one call: in the spirit of a man page's SYNOPSIS, RETURN VALUE
// and ERRORS, in udplab's own words.
type helpEntry struct {
	synopsis string // the call with its arguments
	summary  string // one line: what it does
	returns  string // on success, and on failure
	errors   string // the errno values the lesson meets, one per line
}

var helpEntries = map[string]helpEntry{
	"socket": {"socket(family, type[, protocol])", "open a socket: socket(AF_INET, SOCK_DGRAM)",
		"a socket; on failure nil, message, errno",
		"EAFNOSUPPORT (97)  the family is not supported\nEMFILE (24)  too many open files\nEPROTONOSUPPORT (93)  no such protocol for this type"},
	"bind": {"bind(s, host, port) | bind(s, addr)", "give the socket its local address; port 0 lets the kernel pick",
		"0; on failure nil, message, errno",
		"EADDRINUSE (98)  another socket has that address\nEADDRNOTAVAIL (99)  no interface has that address\nEACCES (13)  a port below 1024 needs privilege\nEINVAL (22)  the socket is already bound"},
	"connect": {"connect(s, host, port) | connect(s, addr) | connect(s, {family=AF_UNSPEC})",
		"on UDP: record the peer (nothing is sent); AF_UNSPEC dissolves the association",
		"0; on failure nil, message, errno",
		"EACCES (13)  a broadcast address without SO_BROADCAST\nENETUNREACH (101)  no route to that address\nEAFNOSUPPORT (97)  an address of the wrong family"},
	"send": {"send(s, data[, flags])", "send data as one datagram to the connected peer",
		"the number of bytes sent; on failure nil, message, errno",
		"EDESTADDRREQ (89)  the socket is not connected\nECONNREFUSED (111)  an earlier datagram was refused (ICMP port unreachable)\nEMSGSIZE (90)  the datagram is too large\nEAGAIN (11)  with MSG_DONTWAIT, the send buffer is full"},
	"sendto": {"sendto(s, data, host, port[, flags]) | sendto(s, data, addr[, flags])",
		"send data as one datagram to the address given (on Linux, even on a connected socket)",
		"the number of bytes sent; on failure nil, message, errno",
		"EACCES (13)  a broadcast address without SO_BROADCAST\nECONNREFUSED (111)  an earlier datagram was refused (connected socket)\nEMSGSIZE (90)  the datagram is too large\nENETUNREACH (101)  no route to that address"},
	"recv": {"recv(s, maxlen[, flags])", "receive one datagram (at most maxlen bytes of it); blocks unless MSG_DONTWAIT or a timeout",
		"the data (an empty datagram is \"\"); on failure nil, message, errno",
		"ECONNREFUSED (111)  the peer's port is closed: an ICMP port unreachable came back (connected socket, reported once)\nEAGAIN (11)  the timeout passed (settimeout) or MSG_DONTWAIT found nothing\nEBADF (9)  the socket is closed"},
	"recvfrom": {"recvfrom(s, maxlen[, flags])", "receive one datagram and the address it came from",
		"data, address; on failure nil, message, errno",
		"ECONNREFUSED (111)  an ICMP port unreachable came back (connected socket, reported once)\nEAGAIN (11)  the timeout passed (settimeout) or MSG_DONTWAIT found nothing\nEBADF (9)  the socket is closed"},
	"close": {"close(s)", "close the socket", "0; on failure nil, message, errno",
		"EBADF (9)  the socket is already closed"},
	"getsockname": {"getsockname(s)", "the socket's local address", "an address; on failure nil, message, errno",
		"EBADF (9)  the socket is closed"},
	"getpeername": {"getpeername(s)", "the peer a connected socket records", "an address; on failure nil, message, errno",
		"ENOTCONN (107)  the socket is not connected\nEBADF (9)  the socket is closed"},
	"setsockopt": {"setsockopt(s, level, option, value)", "set a socket option: setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)",
		"0; on failure nil, message, errno",
		"ENOPROTOOPT (92)  no such option at that level\nEINVAL (22)  a bad value\nEADDRINUSE (98)  IP_ADD_MEMBERSHIP: already a member"},
	"getsockopt": {"getsockopt(s, level, option)", "read a socket option; SO_ERROR reads and clears the pending error",
		"the value; on failure nil, message, errno",
		"ENOPROTOOPT (92)  no such option at that level\nEBADF (9)  the socket is closed"},
	"settimeout": {"settimeout(s, seconds)", "bound every later receive, as SO_RCVTIMEO does; 0 or nil: no timeout",
		"0; on failure nil, message, errno", "EBADF (9)  the socket is closed"},
	"poll": {"poll({s1, s2, ...}[, seconds])", "wait until some of the sockets are readable (a datagram or a pending error)",
		"the table of readable sockets, empty on timeout; on failure nil, message, errno",
		"EBADF (9)  a socket in the list is closed"},
	"fileno":   {"fileno(s)", "the socket's file descriptor number", "a number; nil, message, errno if closed", "EBADF (9)  the socket is closed"},
	"sockets":  {"sockets()", "the sockets open now", "a table of sockets", ""},
	"strerror": {"strerror(errno)", "the C text of an errno", "a string: strerror(111) is \"Connection refused\"", ""},
	"errname":  {"errname(errno)", "the name of an errno", "a string: errname(111) is \"ECONNREFUSED\"", ""},
	"fatal": {"fatal(status, errnum, fmt, ...)", "the course's error(): print fmt, then \": <strerror> (<errnum>)\" if errnum is not 0, exit with status if not 0",
		"nothing", ""},
	"signal": {"signal(sig, fn)", "run fn(sig) when signal sig arrives (SIGINT: Ctrl-C); a blocked call is woken, then waits again",
		"the previous handler, or nil", ""},
	"trace": {"trace(on)", "print every socket call on stderr as strace does (udplab --trace)", "whether it was on", ""},
	"wire":  {"wire(on)", "trace, and print the packets that cross lo for these sockets (needs CAP_NET_RAW)", "whether the wire view is on", ""},
	"recverr": {"recverr(s)", "read one entry of the error queue (set IP_RECVERR first): the ICMP behind an error",
		"{errno, origin, type, code, offender, info, data, payload, message}; nil, message, errno when empty",
		"EAGAIN (11)  the error queue is empty (or IP_RECVERR is off)"},
	"help": {"help([call])", "list the calls, or describe one: help(send), help(\"sendto\")", "nothing", ""},
}

// helpCall is help([call]): with no argument, one line per call; with a function or its name,
// the call's synopsis, return values and errors.
func (rt *Runtime) helpCall(L *lua.LState) int {
	w := rt.stdout()
	if L.GetTop() == 0 {
		names := make([]string, 0, len(helpEntries))
		for name := range helpEntries {
			names = append(names, name)
		}
		sort.Strings(names)
		io.WriteString(w, "udplab's calls (help(name) for one of them):\n")
		for _, name := range names {
			e := helpEntries[name]
			io.WriteString(w, "  "+padRight(name, 12)+e.summary+"\n")
		}
		io.WriteString(w, "An address is host, port or {family=AF_INET, addr=\"127.0.0.1\", port=43211}.\n")
		return 0
	}
	name := ""
	switch v := L.Get(1).(type) {
	case lua.LString:
		name = string(v)
	case *lua.LFunction:
		name = rt.funcNames[v]
	}
	e, ok := helpEntries[name]
	if !ok {
		argError(L, 1, "help", "no help for "+lua.LVAsString(L.ToStringMeta(L.Get(1))))
	}
	var b strings.Builder
	b.WriteString(e.synopsis + "\n  " + e.summary + "\nreturns\n  " + e.returns + "\n")
	if e.errors != "" {
		b.WriteString("errors\n")
		for _, line := range strings.Split(e.errors, "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	io.WriteString(w, b.String())
	return 0
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}
