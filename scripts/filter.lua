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

local experiment = require("experiment")

local server = experiment.udp(AF_INET, "127.0.0.1", "server")
local peer = experiment.udp(AF_INET, "127.0.0.1", "peer")
local server_addr = getsockname(server)

experiment.section("the server connects to its peer")
experiment.call("connect", server, getsockname(peer))

experiment.section("an unconnected stranger writes to the server")
local stranger = experiment.udp(AF_INET, "127.0.0.1", "stranger")
experiment.expect(experiment.call("sendto", stranger, "from a stranger", server_addr) == 15, "the stranger's sendto succeeds")
experiment.expect(experiment.errno("recvfrom", stranger, 100) == EAGAIN, "the unconnected stranger sees no error (its recvfrom times out)")

experiment.section("a connected stranger writes to the server")
local stranger2 = experiment.udp(AF_INET, "127.0.0.1", "stranger2")
experiment.call("connect", stranger2, server_addr)
experiment.call("send", stranger2, "from another stranger")
experiment.expect(experiment.errno("recv", stranger2, 100) == ECONNREFUSED, "the connected stranger gets ECONNREFUSED (111)")

experiment.section("the peer writes to the server")
experiment.call("sendto", peer, "from the peer", server_addr)
local data, from = experiment.call("recvfrom", server, 100)
experiment.expect(data == "from the peer", "the server receives its peer's datagram, and only that one")
experiment.expect(experiment.call("recv", server, 100, MSG_DONTWAIT) == nil, "nothing else is queued for the server")

experiment.section("a stranger's datagram queued before connect()")
local late = experiment.udp(AF_INET, "127.0.0.1", "late_server")
local early = experiment.udp(AF_INET, "127.0.0.1", "early_stranger")
experiment.call("sendto", early, "sent before connect", getsockname(late))
experiment.call("connect", late, getsockname(peer))
local got, sender = experiment.call("recvfrom", late, 100)
experiment.expect(got == "sent before connect" and tostring(sender) == tostring(getsockname(early)),
  "the connected socket still reads the stranger's datagram queued before connect()")

experiment.finish("the connected server received only its peer's datagram; the kernel refused the strangers, and only the connected stranger saw ECONNREFUSED; a datagram queued before connect() was still read")
