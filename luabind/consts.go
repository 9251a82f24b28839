package luabind

import (
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// signals are the signals a script may handle with signal().
var signals = []sock.Constant{
	{Name: "SIGINT", Value: int(unix.SIGINT)},
	{Name: "SIGTERM", Value: int(unix.SIGTERM)},
	{Name: "SIGHUP", Value: int(unix.SIGHUP)},
	{Name: "SIGUSR1", Value: int(unix.SIGUSR1)},
	{Name: "SIGUSR2", Value: int(unix.SIGUSR2)},
}

// stringConstants are the address constants, as strings an address argument takes.
var stringConstants = []struct{ name, value string }{
	{"INADDR_ANY", "0.0.0.0"},
	{"INADDR_LOOPBACK", "127.0.0.1"},
	{"INADDR_BROADCAST", "255.255.255.255"},
	{"IN6ADDR_ANY", "::"},
	{"IN6ADDR_LOOPBACK", "::1"},
}

// setConstants sets every constant as a field of t: sock's tables (families, types, protocols,
// levels, flags, socket options, errno values), the signals and the addresses.
func setConstants(t *lua.LTable) {
	for _, table := range [][]sock.Constant{sock.Families, sock.Types, sock.Protocols, sock.Levels, sock.MsgFlags, signals} {
		for _, c := range table {
			t.RawSetString(c.Name, intValue(c.Value))
		}
	}
	for _, c := range stringConstants {
		t.RawSetString(c.name, lua.LString(c.value))
	}
	for _, o := range sock.Options {
		t.RawSetString(o.Name, intValue(o.Number))
	}
	sock.Errnos(func(e unix.Errno, name string) {
		t.RawSetString(name, intValue(int(e)))
	})
	t.RawSetString("EWOULDBLOCK", intValue(int(unix.EWOULDBLOCK)))
}
