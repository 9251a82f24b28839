package luabind

import (
	"math/bits"
	"net/netip"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/sock"
)

// checkOption reads the option at argument n: a number (SO_BROADCAST) or a name
// ("SO_BROADCAST"). It returns the option and its kind; an option udplab does not know by number
// is taken as an int option, as C would pass it.
func checkOption(L *lua.LState, level, n int, fname string) (int, sock.OptionKind) {
	if name, ok := L.Get(n).(lua.LString); ok {
		o, found := sock.OptionByName(string(name))
		if !found {
			argError(L, n, fname, "unknown socket option '"+string(name)+"'")
		}
		if o.Level != level {
			argError(L, n, fname, o.Name+" is not an option of level "+levelName(level))
		}
		return o.Number, o.Kind
	}
	number := checkInt(L, n, fname)
	if o, found := sock.LookupOption(level, number); found {
		return number, o.Kind
	}
	return number, sock.KindInt
}

// levelName names a socket option level for messages.
func levelName(level int) string {
	for _, c := range levelConstants {
		if c.value == level {
			return c.name
		}
	}
	return lua.LNumber(level).String()
}

func (rt *Runtime) setsockoptCall(L *lua.LState) int {
	const fname = "setsockopt"
	s := checkSocket(L, 1, fname)
	level := checkInt(L, 2, fname)
	number, kind := checkOption(L, level, 3, fname)
	c := s.conn
	var err error
	switch kind {
	case sock.KindInt:
		var v int
		if b, ok := L.Get(4).(lua.LBool); ok {
			if b {
				v = 1
			}
		} else {
			v = checkInt(L, 4, fname)
		}
		err = c.SetsockoptInt(level, number, v)
	case sock.KindTimeout:
		err = c.SetReadTimeout(checkSeconds(L, 4, fname))
	case sock.KindInet4Addr:
		err = c.SetsockoptInet4Addr(level, number, checkIP(L, 4, fname, checkString(L, 4, fname)))
	case sock.KindMreqn:
		t := checkTable(L, 4, fname)
		group := checkIP(L, 4, fname, fieldString(L, t, 4, fname, "multiaddr"))
		var ifaddr netip.Addr
		ifindex := 0
		if v, ok := t.RawGetString("interface").(lua.LString); ok {
			ifaddr, _ = netip.ParseAddr(string(v)) // an address; else a name, read below
		}
		if !ifaddr.IsValid() {
			ifindex = interfaceValue(L, t.RawGetString("interface"), 4, fname)
		}
		err = c.SetsockoptMreqn(level, number, group, ifaddr, ifindex)
	case sock.KindIPv6Mreq:
		t := checkTable(L, 4, fname)
		group := checkIP(L, 4, fname, fieldString(L, t, 4, fname, "multiaddr"))
		err = c.SetsockoptIPv6Mreq(level, number, group, interfaceValue(L, t.RawGetString("interface"), 4, fname))
	case sock.KindIfindex, sock.KindIfindexBE:
		var ifindex int
		if _, ok := L.Get(4).(lua.LString); ok {
			ifindex = interfaceValue(L, L.Get(4), 4, fname)
		} else {
			ifindex = checkInt(L, 4, fname)
		}
		if kind == sock.KindIfindexBE {
			ifindex = int(bits.ReverseBytes32(uint32(ifindex)))
		}
		err = c.SetsockoptInt(level, number, ifindex)
	}
	return pushZero(L, err)
}

func (rt *Runtime) getsockoptCall(L *lua.LState) int {
	const fname = "getsockopt"
	s := checkSocket(L, 1, fname)
	level := checkInt(L, 2, fname)
	number, kind := checkOption(L, level, 3, fname)
	c := s.conn
	switch kind {
	case sock.KindTimeout:
		if c.Closed() {
			_, err := c.GetsockoptInt(level, number)
			return pushFailure(L, err)
		}
		L.Push(lua.LNumber(float64(c.ReadTimeout()) / float64(time.Second)))
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

// fieldString reads the string field key of table t, at argument n.
func fieldString(L *lua.LState, t *lua.LTable, n int, fname, key string) string {
	s, ok := t.RawGetString(key).(lua.LString)
	if !ok {
		argError(L, n, fname, "field '"+key+"' must be a string")
	}
	return string(s)
}

// checkIP parses the numeric IP address s, given at argument n.
func checkIP(L *lua.LState, n int, fname, s string) netip.Addr {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		argError(L, n, fname, "invalid IP address \""+s+"\"")
	}
	return ip
}

// interfaceValue reads an interface given at argument n: its name ("lo") or its index; nil or
// absent is 0, which lets the kernel choose.
func interfaceValue(L *lua.LState, v lua.LValue, n int, fname string) int {
	switch v := v.(type) {
	case lua.LString:
		i, err := sock.InterfaceIndex(string(v))
		if err != nil {
			argError(L, n, fname, err.Error())
		}
		return i
	case lua.LNumber:
		return int(v)
	}
	return 0
}
