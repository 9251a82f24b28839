//go:build linux

package sock

import "fmt"

// icmpMessage is an ICMP error type's name and the names of its codes.
type icmpMessage struct {
	name  string
	codes map[byte]string
}

// icmpMessages are the ICMP errors (RFC 792) and icmp6Messages the ICMPv6 ones (RFC 4443), by type.
var (
	icmpMessages = map[byte]icmpMessage{
		3: {"destination unreachable", map[byte]string{0: "net unreachable", 1: "host unreachable", 2: "protocol unreachable",
			3: "port unreachable", 4: "fragmentation needed", 13: "communication administratively prohibited"}},
		11: {"time exceeded", nil},
		12: {"parameter problem", nil},
	}
	icmp6Messages = map[byte]icmpMessage{
		1: {"destination unreachable", map[byte]string{0: "no route to destination", 1: "communication administratively prohibited",
			3: "address unreachable", 4: "port unreachable"}},
		2: {"packet too big", nil},
		3: {"time exceeded", nil},
	}
)

func icmpTable(v6 bool) map[byte]icmpMessage {
	if v6 {
		return icmp6Messages
	}
	return icmpMessages
}

// icmpName names an ICMP (v6: ICMPv6) error by its type and code: the code's name where the type's
// codes have names ("port unreachable"), else the type's ("time exceeded").
func icmpName(v6 bool, typ, code byte) string {
	m, ok := icmpTable(v6)[typ]
	switch {
	case !ok:
		return fmt.Sprintf("type %d code %d", typ, code)
	case m.codes == nil:
		return m.name
	}
	if name, ok := m.codes[code]; ok {
		return name
	}
	return fmt.Sprintf("%s (code %d)", m.name, code)
}

// icmpTypeName names an ICMP (v6: ICMPv6) error type: "destination unreachable".
func icmpTypeName(v6 bool, typ byte) string {
	if m, ok := icmpTable(v6)[typ]; ok {
		return m.name
	}
	return "message"
}
