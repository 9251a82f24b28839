package luabind

import (
	"net/netip"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/sock"
)

// option reads the option at argument n: a number (SO_BROADCAST) or a name ("SO_BROADCAST"). It
// returns the option and its kind; an option udplab does not know by number is taken as an int
// option, as C would pass it.
func (a args) option(level, n int) (int, sock.OptionKind) {
	if name, ok := a.L.Get(n).(lua.LString); ok {
		o, found := sock.OptionByName(string(name))
		if !found {
			a.argError(n, "unknown socket option '"+string(name)+"'")
		}
		if o.Level != level {
			a.argError(n, o.Name+" is not an option of level "+sock.LevelName(level))
		}
		return o.Number, o.Kind
	}
	number := a.cint(n)
	if o, found := sock.LookupOption(level, number); found {
		return number, o.Kind
	}
	return number, sock.KindInt
}

var setsockoptBinding = binding{name: "setsockopt", method: true, fn: (*Runtime).setsockoptCall, help: helpEntry{
	"setsockopt(s, level, option, value)", "set a socket option: setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)",
	"0; on failure nil, message, errno",
	"ENOPROTOOPT (92)  no such option at that level\nEINVAL (22)  a bad value\nEADDRINUSE (98)  IP_ADD_MEMBERSHIP: already a member"}}

func (rt *Runtime) setsockoptCall(a args) int {
	L := a.L
	c := a.socket(1).conn
	level := a.cint(2)
	number, kind := a.option(level, 3)
	var err error
	switch kind {
	case sock.KindInt:
		var v int
		if b, ok := L.Get(4).(lua.LBool); ok {
			if b {
				v = 1
			}
		} else {
			v = a.cint(4)
		}
		err = c.SetsockoptInt(level, number, v)
	case sock.KindTimeout:
		err = c.SetReadTimeout(a.seconds(4))
	case sock.KindInet4Addr:
		err = c.SetsockoptInet4Addr(level, number, a.ip(4, a.string(4)))
	case sock.KindMreqn:
		t := a.table(4)
		group := a.ip(4, a.field(t, 4, "multiaddr"))
		var ifaddr netip.Addr
		ifindex := 0
		if v, ok := t.RawGetString("interface").(lua.LString); ok {
			ifaddr, _ = netip.ParseAddr(string(v)) // an address; else a name, read below
		}
		if !ifaddr.IsValid() {
			ifindex = a.iface(c, t.RawGetString("interface"), 4)
		}
		err = c.SetsockoptMreqn(level, number, group, ifaddr, ifindex)
	case sock.KindIPv6Mreq:
		t := a.table(4)
		group := a.ip(4, a.field(t, 4, "multiaddr"))
		err = c.SetsockoptIPv6Mreq(level, number, group, a.iface(c, t.RawGetString("interface"), 4))
	case sock.KindDevice:
		err = c.SetsockoptString(level, number, a.string(4))
	case sock.KindIfindex:
		var ifindex int
		if _, ok := L.Get(4).(lua.LString); ok {
			ifindex = a.iface(c, L.Get(4), 4)
		} else {
			ifindex = a.cint(4)
		}
		err = c.SetsockoptIfindex(level, number, ifindex)
	}
	return pushZero(L, err)
}

var getsockoptBinding = binding{name: "getsockopt", method: true, fn: (*Runtime).getsockoptCall, help: helpEntry{
	"getsockopt(s, level, option)", "read a socket option; SO_ERROR reads and clears the pending error",
	"the value; on failure nil, message, errno",
	"ENOPROTOOPT (92)  no such option at that level\nEBADF (9)  the socket is closed"}}

func (rt *Runtime) getsockoptCall(a args) int {
	L := a.L
	c := a.socket(1).conn
	level := a.cint(2)
	number, kind := a.option(level, 3)
	switch kind {
	case sock.KindTimeout:
		if c.Closed() {
			_, err := c.GetsockoptInt(level, number)
			return pushFailure(L, err)
		}
		L.Push(lua.LNumber(float64(c.ReadTimeout()) / float64(time.Second)))
		return 1
	case sock.KindDevice:
		name, err := c.GetsockoptString(level, number)
		if err != nil {
			return pushFailure(L, err)
		}
		L.Push(lua.LString(name))
		return 1
	case sock.KindInet4Addr:
		ip, err := c.GetsockoptInet4Addr(level, number)
		if err != nil {
			return pushFailure(L, err)
		}
		L.Push(lua.LString(ip.String()))
		return 1
	}
	v, err := c.GetsockoptInt(level, number)
	if err != nil {
		return pushFailure(L, err)
	}
	L.Push(intValue(v))
	return 1
}

// field reads the string field key of table t, at argument n.
func (a args) field(t *lua.LTable, n int, key string) string {
	s, ok := t.RawGetString(key).(lua.LString)
	if !ok {
		a.argError(n, "field '"+key+"' must be a string")
	}
	return string(s)
}

// ip parses the numeric IP address s, given at argument n.
func (a args) ip(n int, s string) netip.Addr {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		a.argError(n, "invalid IP address \""+s+"\"")
	}
	return ip
}

// iface reads an interface given at argument n: its name ("lo", looked up in the namespace of c)
// or its index; nil or absent is 0, which lets the kernel choose.
func (a args) iface(c *sock.Conn, v lua.LValue, n int) int {
	switch v := v.(type) {
	case lua.LString:
		i, err := c.InterfaceIndex(string(v))
		if sock.ErrnoOf(err) != 0 {
			failWith(err)
		}
		if err != nil {
			a.argError(n, err.Error())
		}
		return i
	case lua.LNumber:
		return int(v)
	}
	return 0
}
