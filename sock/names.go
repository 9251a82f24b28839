//go:build linux

package sock

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Constant is a C constant's name and value, such as {"AF_INET", 2}.
type Constant struct {
	Name  string
	Value int
}

// The constants sock names, each table in one place: the trace prints them, the Lua side makes
// globals of them.
var (
	// Families are the address families.
	Families = []Constant{{"AF_UNSPEC", unix.AF_UNSPEC}, {"AF_INET", unix.AF_INET}, {"AF_INET6", unix.AF_INET6}, {"AF_PACKET", unix.AF_PACKET}}
	// Types are the socket types.
	Types = []Constant{{"SOCK_DGRAM", unix.SOCK_DGRAM}, {"SOCK_STREAM", unix.SOCK_STREAM}, {"SOCK_RAW", unix.SOCK_RAW}}
	// Protocols are the protocols socket(2) takes for AF_INET and AF_INET6 (0 is IPPROTO_IP).
	Protocols = []Constant{{"IPPROTO_IP", 0}, {"IPPROTO_UDP", unix.IPPROTO_UDP}, {"IPPROTO_TCP", unix.IPPROTO_TCP}, {"IPPROTO_ICMP", unix.IPPROTO_ICMP}}
	// Levels are the socket option levels, by the names C programs pass them as.
	Levels = []Constant{{"SOL_SOCKET", unix.SOL_SOCKET}, {"IPPROTO_IP", unix.IPPROTO_IP}, {"IPPROTO_IPV6", unix.IPPROTO_IPV6}, {"IPPROTO_UDP", unix.IPPROTO_UDP}}
	// MsgFlags are the send and receive flags.
	MsgFlags = []Constant{{"MSG_PEEK", unix.MSG_PEEK}, {"MSG_DONTWAIT", unix.MSG_DONTWAIT}, {"MSG_TRUNC", unix.MSG_TRUNC}, {"MSG_ERRQUEUE", unix.MSG_ERRQUEUE}}
)

// NameOf returns the name of value in table, or value as a decimal number when it has none.
func NameOf(table []Constant, value int) string {
	for _, c := range table {
		if c.Value == value {
			return c.Name
		}
	}
	return strconv.Itoa(value)
}

// FamilyName names an address family: "AF_INET".
func FamilyName(family int) string { return NameOf(Families, family) }

// TypeName names a socket type: "SOCK_DGRAM".
func TypeName(sotype int) string { return NameOf(Types, sotype) }

// LevelName names a socket option level: "SOL_SOCKET", "IPPROTO_IP".
func LevelName(level int) string { return NameOf(Levels, level) }
