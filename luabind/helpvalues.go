package luabind

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

// Help for what is not a call: a constant (help("SO_BROADCAST"), or help(SO_BROADCAST), which
// passes only the number and so lists every constant of that value), a socket (its state and
// methods), and Lua's own functions (where the manual describes them).

// optionMeanings says in one line what each socket option does.
var optionMeanings = map[string]string{
	"SO_BROADCAST":        "allow sending to a broadcast address (without it: EACCES)",
	"SO_REUSEADDR":        "let several sockets bind the same port (multicast receivers)",
	"SO_REUSEPORT":        "let several sockets bind the same address and port; the kernel spreads the datagrams",
	"SO_RCVBUF":           "the receive buffer's size in bytes (the kernel doubles what is set)",
	"SO_SNDBUF":           "the send buffer's size in bytes (the kernel doubles what is set)",
	"SO_RCVTIMEO":         "how long a receive waits, in seconds (settimeout sets it)",
	"SO_ERROR":            "the pending error, read and cleared (getsockopt only)",
	"SO_TYPE":             "the socket's type (getsockopt only)",
	"SO_BINDTODEVICE":     "send and receive through the named interface only (\"\" undoes it)",
	"IP_TTL":              "the TTL of the unicast datagrams sent (1: they die at the first router)",
	"IP_TOS":              "the type-of-service byte of the datagrams sent",
	"IP_RECVERR":          "queue ICMP errors with their details (recverr), and report them on unconnected sockets too",
	"IP_UNICAST_IF":       "the interface unicast datagrams leave by",
	"IP_MULTICAST_IF":     "the interface (by its IPv4 address) multicast datagrams leave by",
	"IP_MULTICAST_TTL":    "the TTL of multicast datagrams (1, the default: they stay on the LAN)",
	"IP_MULTICAST_LOOP":   "deliver the multicast datagrams sent to this host's own members too",
	"IP_MULTICAST_ALL":    "1 (the default): receive the groups any socket of the host joined; 0: only those this one joined",
	"IP_ADD_MEMBERSHIP":   "join a group: {multiaddr=\"239.1.2.3\", interface=\"10.0.0.1\"}",
	"IP_DROP_MEMBERSHIP":  "leave a group: {multiaddr=..., interface=...}",
	"IPV6_V6ONLY":         "an AF_INET6 socket takes IPv6 only (0: IPv4 too, as ::ffff:a.b.c.d)",
	"IPV6_UNICAST_HOPS":   "the hop limit of the unicast datagrams sent",
	"IPV6_RECVERR":        "queue ICMPv6 errors with their details (recverr), and report them on unconnected sockets too",
	"IPV6_UNICAST_IF":     "the interface unicast datagrams leave by",
	"IPV6_MULTICAST_IF":   "the interface (by name) multicast datagrams leave by",
	"IPV6_MULTICAST_HOPS": "the hop limit of multicast datagrams (1, the default: they stay on the LAN)",
	"IPV6_MULTICAST_LOOP": "deliver the multicast datagrams sent to this host's own members too",
	"IPV6_JOIN_GROUP":     "join a group: {multiaddr=\"ff15::1:3\", interface=\"eth0\"}",
	"IPV6_LEAVE_GROUP":    "leave a group: {multiaddr=..., interface=...}",
}

// constantMeanings says what the other constants are.
var constantMeanings = map[string]string{
	"AF_UNSPEC":    "address family: none; connect(s, {family=AF_UNSPEC}) dissolves a UDP association",
	"AF_INET":      "address family: IPv4; socket(AF_INET, SOCK_DGRAM), {family=AF_INET, addr=..., port=...}",
	"AF_INET6":     "address family: IPv6; socket(AF_INET6, SOCK_DGRAM), {family=AF_INET6, addr=..., port=...}",
	"AF_PACKET":    "address family: link-layer packets (the wire view's capture)",
	"SOCK_DGRAM":   "socket type: datagrams (UDP); socket(AF_INET, SOCK_DGRAM)",
	"SOCK_STREAM":  "socket type: a byte stream (TCP); udplab supports datagram sockets only",
	"SOCK_RAW":     "socket type: raw packets",
	"IPPROTO_IP":   "protocol 0 (the default for the type) for socket(); the option level of IP_* options",
	"IPPROTO_UDP":  "protocol UDP for socket(); the option level of UDP options",
	"IPPROTO_TCP":  "protocol TCP",
	"IPPROTO_ICMP": "protocol ICMP",
	"IPPROTO_IPV6": "the option level of IPV6_* options",
	"SOL_SOCKET":   "the option level of SO_* options",
	"MSG_PEEK":     "receive flag: return the next datagram and leave it queued",
	"MSG_DONTWAIT": "send and receive flag: do not wait; EAGAIN when the call would",
	"MSG_TRUNC":    "receive flag: also return the datagram's real length, when longer than maxlen",
	"MSG_ERRQUEUE": "receive flag: read the error queue (see recverr)",
	"SIGINT":       "signal: Ctrl-C; signal(SIGINT, fn) runs fn instead of ending the script",
	"SIGTERM":      "signal: a polite kill; signal(SIGTERM, fn)",
	"SIGHUP":       "signal: the terminal went away; signal(SIGHUP, fn)",
	"SIGUSR1":      "signal: for the user's own use; signal(SIGUSR1, fn)",
	"SIGUSR2":      "signal: for the user's own use; signal(SIGUSR2, fn)",
}

// constantsByName returns the constants by name, made on first use (help's only).
func (rt *Runtime) constantsByName() map[string]lua.LValue {
	if rt.constants == nil {
		rt.constants = map[string]lua.LValue{}
		t := &lua.LTable{}
		setConstants(t)
		t.ForEach(func(k, v lua.LValue) { rt.constants[string(k.(lua.LString))] = v })
	}
	return rt.constants
}

// Constant returns the value of udplab's constant called name.
func (rt *Runtime) Constant(name string) (lua.LValue, bool) {
	v, ok := rt.constantsByName()[name]
	return v, ok
}

// constantHelp describes the constant called name, or says there is none.
func (rt *Runtime) constantHelp(name string) (string, bool) {
	for _, c := range stringConstants {
		if c.name == name {
			return fmt.Sprintf("%s = %q\n  an address: bind(s, %s, port), sendto(s, data, %s, port)\n", name, c.value, name, name), true
		}
	}
	for _, o := range sock.Options {
		if o.Name == name {
			level := sock.NameOf(sock.Levels, o.Level)
			return fmt.Sprintf("%s = %d\n  socket option at level %s: %s\n  setsockopt(s, %s, %s, value), getsockopt(s, %s, %s)\n",
				name, o.Number, level, optionMeanings[name], level, name, level, name), true
		}
	}
	if e, ok := sock.ErrnoValue(name); ok {
		var b strings.Builder
		fmt.Fprintf(&b, "%s = %d\n  errno: %q; a failed call returns nil, %q, %d\n", name, int(e), sock.Strerror(e), sock.Strerror(e), int(e))
		uses := func(call, errors string) {
			for _, line := range strings.Split(errors, "\n") {
				if strings.HasPrefix(line, name+" ") {
					why := strings.TrimSpace(line[strings.Index(line, ")")+1:])
					fmt.Fprintf(&b, "  %s: %s\n", call, why)
				}
			}
		}
		for _, bd := range rt.bindings {
			uses(bd.name, bd.help.errors)
		}
		for _, e := range append(hostMethodHelp[:len(hostMethodHelp):len(hostMethodHelp)], networkMethodHelp...) {
			uses(e.synopsis[:strings.Index(e.synopsis, ":")+1]+methodName(e.synopsis), e.errors)
		}
		if why, ok := labErrnos[name]; ok {
			b.WriteString("  on a lab host: " + why + "\n")
		}
		return b.String(), true
	}
	if meaning, ok := constantMeanings[name]; ok {
		value := "nil"
		switch v := rt.constantsByName()[name].(type) {
		case lua.LNumber:
			value = lua54.Number(float64(v))
		case lua.LValue:
			value = v.String()
		}
		return fmt.Sprintf("%s = %s\n  %s\n", name, value, meaning), true
	}
	return "", false
}

// valueHelp lists the constants whose value is n: help(AF_INET) passes only the number 2, which
// is also SOCK_DGRAM, ENOENT and SIGINT.
func (rt *Runtime) valueHelp(n lua.LNumber) (string, bool) {
	var names []string
	for name, v := range rt.constantsByName() {
		if v == lua.LValue(n) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s is the value of %s (help(\"NAME\") names one):\n", lua54.Number(float64(n)), strings.Join(names, ", "))
	for _, name := range names {
		if text, ok := rt.constantHelp(name); ok {
			b.WriteString(text)
		}
	}
	return b.String(), true
}

// socketHelp describes a socket: its state and its methods.
func (rt *Runtime) socketHelp(L *lua.LState, ud *lua.LUserData) string {
	var b strings.Builder
	b.WriteString("a socket: " + lua54.ToString(L, ud) + "\nmethods (s:name(...) is name(s, ...)):\n")
	for _, bd := range rt.bindings {
		if bd.method {
			b.WriteString("  s:" + padRight(bd.name, 12) + bd.help.summary + "\n")
		}
	}
	return b.String()
}

// luaFunctionHelp names a function of Lua's own library and where the manual describes it.
func luaFunctionHelp(L *lua.LState, fn *lua.LFunction) (string, bool) {
	name := ""
	L.Get(lua.GlobalsIndex).(*lua.LTable).ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok || name != "" {
			return
		}
		if v == fn {
			name = string(ks)
			return
		}
		if lib, ok := v.(*lua.LTable); ok && ks != "_G" && ks != "sock" {
			lib.ForEach(func(fk, fv lua.LValue) {
				if fs, ok := fk.(lua.LString); ok && fv == fn && name == "" {
					name = string(ks) + "." + string(fs)
				}
			})
		}
	})
	if name == "" {
		return "", false
	}
	return fmt.Sprintf("%s is Lua's own (Lua 5.4, as package lua makes gopher-lua show it):\n  https://www.lua.org/manual/5.4/manual.html#pdf-%s\n", name, name), true
}
