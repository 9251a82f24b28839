-- filter.lua: does a connected UDP socket receive only from its peer?
--
-- Claim: yes. Once connect()ed, a UDP socket is matched by the kernel only for datagrams from its
-- peer's address and port; a datagram from any other socket is not delivered to it. With no other
-- socket on that port to take it, the kernel answers the stranger with ICMP port unreachable,
-- which the stranger sees as ECONNREFUSED only if it is itself connected (an unconnected
-- stranger gets no error at all).
-- But the filter applies on arrival: a datagram a stranger sent before connect() is already
-- queued, and the connected socket still reads it (so a pinned server can read a stranger's
-- earlier datagram).

local lab = require("lab")

local server = lab.udp(AF_INET, "127.0.0.1", "server")
local peer = lab.udp(AF_INET, "127.0.0.1", "peer")
local server_addr = getsockname(server)

lab.section("the server connects to its peer")
lab.call("connect", server, getsockname(peer))

lab.section("an unconnected stranger writes to the server")
local stranger = lab.udp(AF_INET, "127.0.0.1", "stranger")
lab.expect(lab.call("sendto", stranger, "from a stranger", server_addr) == 15, "the stranger's sendto succeeds")
lab.expect(lab.errno("recvfrom", stranger, 100) == EAGAIN, "the unconnected stranger sees no error (its recvfrom times out)")

lab.section("a connected stranger writes to the server")
local stranger2 = lab.udp(AF_INET, "127.0.0.1", "stranger2")
lab.call("connect", stranger2, server_addr)
lab.call("send", stranger2, "from another stranger")
lab.expect(lab.errno("recv", stranger2, 100) == ECONNREFUSED, "the connected stranger gets ECONNREFUSED (111)")

lab.section("the peer writes to the server")
lab.call("sendto", peer, "from the peer", server_addr)
local data, from = lab.call("recvfrom", server, 100)
lab.expect(data == "from the peer", "the server receives its peer's datagram, and only that one")
lab.expect(lab.call("recv", server, 100, MSG_DONTWAIT) == nil, "nothing else is queued for the server")

lab.section("a stranger's datagram queued before connect()")
local late = lab.udp(AF_INET, "127.0.0.1", "late_server")
local early = lab.udp(AF_INET, "127.0.0.1", "early_stranger")
lab.call("sendto", early, "sent before connect", getsockname(late))
lab.call("connect", late, getsockname(peer))
local got, sender = lab.call("recvfrom", late, 100)
lab.expect(got == "sent before connect" and tostring(sender) == tostring(getsockname(early)),
  "the connected socket still reads the stranger's datagram queued before connect()")

lab.finish("the connected server received only its peer's datagram; the kernel refused the strangers, and only the connected stranger saw ECONNREFUSED; a datagram queued before connect() was still read")
