package luabind

import (
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

type constant struct {
	name  string
	value int
}

var levelConstants = []constant{
	{"SOL_SOCKET", unix.SOL_SOCKET},
	{"IPPROTO_IP", unix.IPPROTO_IP},
	{"IPPROTO_IPV6", unix.IPPROTO_IPV6},
	{"IPPROTO_UDP", unix.IPPROTO_UDP},
}

// constants are the numeric globals besides the socket options and errno values, which come
// from sock's tables.
var constants = []constant{
	{"AF_UNSPEC", unix.AF_UNSPEC},
	{"AF_INET", unix.AF_INET},
	{"AF_INET6", unix.AF_INET6},
	{"SOCK_DGRAM", unix.SOCK_DGRAM},
	{"SOCK_STREAM", unix.SOCK_STREAM},
	{"SOCK_RAW", unix.SOCK_RAW},
	{"MSG_PEEK", unix.MSG_PEEK},
	{"MSG_DONTWAIT", unix.MSG_DONTWAIT},
	{"MSG_TRUNC", unix.MSG_TRUNC},
	{"MSG_ERRQUEUE", unix.MSG_ERRQUEUE},
	{"SIGINT", int(unix.SIGINT)},
	{"SIGTERM", int(unix.SIGTERM)},
	{"SIGHUP", int(unix.SIGHUP)},
	{"SIGUSR1", int(unix.SIGUSR1)},
	{"SIGUSR2", int(unix.SIGUSR2)},
}

// stringConstants are the address constants, as strings an address argument takes.
var stringConstants = []struct{ name, value string }{
	{"INADDR_ANY", "0.0.0.0"},
	{"INADDR_LOOPBACK", "127.0.0.1"},
	{"INADDR_BROADCAST", "255.255.255.255"},
	{"IN6ADDR_ANY", "::"},
	{"IN6ADDR_LOOPBACK", "::1"},
}

// setConstants sets every constant as a field of t.
func setConstants(t *lua.LTable) {
	for _, c := range levelConstants {
		t.RawSetString(c.name, lua.LNumber(c.value))
	}
	for _, c := range constants {
		t.RawSetString(c.name, lua.LNumber(c.value))
	}
	for _, c := range stringConstants {
		t.RawSetString(c.name, lua.LString(c.value))
	}
	for _, o := range sock.Options {
		t.RawSetString(o.Name, lua.LNumber(o.Number))
	}
	sock.Errnos(func(e unix.Errno, name string) {
		t.RawSetString(name, lua.LNumber(e))
	})
	t.RawSetString("EWOULDBLOCK", lua.LNumber(unix.EWOULDBLOCK))
}
