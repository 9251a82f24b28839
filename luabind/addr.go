package luabind

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// An address value is a plain Lua table, {family=AF_INET, addr="127.0.0.1", port=43211}
// (luaposix's form). Each one udplab makes, or is first given, gets a metatable of its own that
// prints it ("127.0.0.1:43211") and keeps the encoded sockaddr (addrCache), so sending to the same
// table again does not parse it again. The cache is used only while the table's fields still say
// what they said when it was made.

// addrTypeName is the __name of an address table's metatable.
const addrTypeName = "address"

// addrCacheKey is the metatable field holding an address table's addrCache.
const addrCacheKey = "__sockaddr"

// addrCache is the sock.Addr of an address table, with the field values it was made from.
type addrCache struct {
	addr   *sock.Addr
	family lua.LValue
	host   lua.LValue
	port   lua.LValue
}

// checkAddr reads the address at argument n: an address table, or a host string and a port
// number. It returns the address and the index of the argument after it. family is the socket's,
// which picks the address a host name resolves to.
func (rt *Runtime) checkAddr(a args, n int, family int) (*sock.Addr, int) {
	switch v := a.L.Get(n).(type) {
	case *lua.LTable:
		return rt.tableAddr(a, n, v, family), n + 1
	case lua.LString:
		if host, port, ok := splitHostPort(string(v)); ok {
			if port < 0 || port > 65535 {
				a.argError(n, "port out of range 0..65535")
			}
			return rt.resolve(a, n, host, port, family), n + 1
		}
		port := a.port(n + 1)
		return rt.resolve(a, n, string(v), port, family), n + 2
	}
	a.typeError(n, "address")
	return nil, 0
}

// splitHostPort reads the forms addresses print as: "127.0.0.1:43211", "[::1]:43211",
// "localhost:43211". A bare IPv6 address ("::1") is not one.
func splitHostPort(s string) (host string, port int, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, false
	}
	host, digits := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return "", 0, false
	}
	p, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || host == "" {
		return "", 0, false
	}
	return host, int(min(p, 1<<20)), true
}

// resolveKey names one "host, port" argument as read on a socket of some family.
type resolveKey struct {
	host         string
	port, family int
}

// maxResolved bounds the cache of resolved addresses.
const maxResolved = 256

// resolve returns the address of host and port, parsing or looking it up once: a script that
// sends to "localhost", 43211 in a loop asks the resolver the first time only.
func (rt *Runtime) resolve(a args, n int, host string, port, family int) *sock.Addr {
	key := resolveKey{host, port, family}
	if addr, ok := rt.resolved[key]; ok {
		return addr
	}
	addr, err := sock.Resolve(rt.waitContext(a.L), host, port, family)
	if sock.ErrnoOf(err) != 0 {
		failWith(err) // the lookup could not be made (EMFILE), not a bad argument
	}
	if err != nil {
		a.argError(n, err.Error())
	}
	if rt.resolved == nil || len(rt.resolved) >= maxResolved {
		rt.resolved = make(map[resolveKey]*sock.Addr)
	}
	rt.resolved[key] = addr
	return addr
}

// port reads a port number, 0 to 65535, at argument n.
func (a args) port(n int) int {
	port := a.int(n)
	if port < 0 || port > 65535 {
		a.argError(n, "port out of range 0..65535")
	}
	return port
}

// tableAddr reads an address table, through its cache when the cache still holds.
func (rt *Runtime) tableAddr(a args, n int, t *lua.LTable, family int) *sock.Addr {
	fam, host, port := t.RawGetString("family"), t.RawGetString("addr"), t.RawGetString("port")
	mt, _ := t.Metatable.(*lua.LTable)
	if mt != nil {
		if ud, ok := mt.RawGetString(addrCacheKey).(*lua.LUserData); ok {
			if c, ok := ud.Value.(*addrCache); ok && c.family == fam && c.host == host && c.port == port {
				return c.addr
			}
		}
	}
	addr := rt.parseTableAddr(a, n, fam, host, port, family)
	cache := &addrCache{addr: addr, family: fam, host: host, port: port}
	switch {
	case mt == nil:
		t.Metatable = rt.newAddrMetatable(a.L, cache)
	case mt.RawGetString("__name") == lua.LString(addrTypeName):
		mt.RawSetString(addrCacheKey, &lua.LUserData{Value: cache})
	}
	return addr
}

func (rt *Runtime) parseTableAddr(a args, n int, fam, host, port lua.LValue, family int) *sock.Addr {
	f, ok := fam.(lua.LNumber)
	if fam != lua.LNil && (!ok || float64(f) != math.Trunc(float64(f)) || f < math.MinInt32 || f > math.MaxInt32) {
		a.argError(n, "address field 'family' must be an integer")
	}
	if ok && int(f) == unix.AF_UNSPEC {
		return sock.Unspec
	}
	h, ok := host.(lua.LString)
	if !ok {
		a.argError(n, "address field 'addr' must be a string")
	}
	p, ok := port.(lua.LNumber)
	if port == lua.LNil {
		p, ok = 0, true
	}
	if !ok || float64(p) != float64(int(p)) || p < 0 || p > 65535 {
		a.argError(n, "address field 'port' must be an integer in 0..65535")
	}
	if fam != lua.LNil {
		family = int(f)
	}
	addr := rt.resolve(a, n, string(h), int(p), family)
	if fam != lua.LNil && addr.Family() != family {
		a.argError(n, "address "+string(h)+" is not of family "+sock.FamilyName(family))
	}
	return addr
}

// newAddrMetatable returns the metatable of one address table.
func (rt *Runtime) newAddrMetatable(L *lua.LState, c *addrCache) *lua.LTable {
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__name", lua.LString(addrTypeName))
	mt.RawSetString("__tostring", rt.addrToString)
	mt.RawSetString("__eq", rt.addrEqual)
	mt.RawSetString(addrCacheKey, &lua.LUserData{Value: c})
	return mt
}

// pushAddr pushes a new address table for a.
func (rt *Runtime) pushAddr(L *lua.LState, a *sock.Addr) {
	t := L.CreateTable(0, 3)
	fam := lua.LNumber(a.Family())
	t.RawSetString("family", fam)
	c := &addrCache{addr: a, family: fam, host: lua.LNil, port: lua.LNil}
	if a.Family() != unix.AF_UNSPEC {
		c.host, c.port = lua.LString(a.IP().String()), intValue(a.Port())
		t.RawSetString("addr", c.host)
		t.RawSetString("port", c.port)
	}
	t.Metatable = rt.newAddrMetatable(L, c)
	L.Push(t)
}

// addrEqual is an address table's __eq: two addresses are equal when their family, addr and port
// fields are, so that getsockname(s) == getsockname(s).
func addrEqual(L *lua.LState) int {
	a, ok1 := L.Get(1).(*lua.LTable)
	b, ok2 := L.Get(2).(*lua.LTable)
	equal := ok1 && ok2
	for _, field := range []string{"family", "addr", "port"} {
		if !equal {
			break
		}
		equal = a.RawGetString(field) == b.RawGetString(field)
	}
	L.Push(lua.LBool(equal))
	return 1
}

// addrString is an address table's __tostring: "127.0.0.1:43211", "[::1]:43211", "AF_UNSPEC",
// made from its fields as they are now.
func addrString(L *lua.LState) int {
	t := args{L, "tostring"}.table(1)
	if f, ok := t.RawGetString("family").(lua.LNumber); ok && int(f) == unix.AF_UNSPEC {
		L.Push(lua.LString("AF_UNSPEC"))
		return 1
	}
	host := lua.LVAsString(t.RawGetString("addr"))
	port := lua.LVAsString(t.RawGetString("port"))
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	L.Push(lua.LString(host + ":" + port))
	return 1
}
