-- router.lua: connected UDP across a router. What does a TTL of 1 bring back, and does the
-- lesson's pinned server still pin across a router?
--
-- Claims, with hosts a and c on LAN left, b on LAN right, and r on both (r forwards, and is the
-- others' gateway):
--   A datagram from a to b with IP_TTL 1 dies at r, which answers ICMP time exceeded; with
--   IP_RECVERR on, a's connected socket reports it (EHOSTUNREACH, 113) and recverr shows it came
--   from r. With the default TTL the datagram reaches b.
--   A server on b that connect()s to its first client (a) answers a across the router, and a
--   second client (c) gets ECONNREFUSED (111): b's ICMP port unreachable crosses the router back.

local experiment = require("experiment")
local net = assert(network{
  lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"},
  hosts = {a = "left", c = "left", b = "right", r = {"left", "right"}},
})
local PORT = 43211

experiment.section("IP_TTL 1: the router answers time exceeded")
local server = experiment.udp_in(net.b, AF_INET, net.b.addr, "server", PORT)
local client = experiment.udp_in(net.a, AF_INET, net.a.addr, "client")
experiment.call("setsockopt", client, IPPROTO_IP, IP_RECVERR, 1)
experiment.call("setsockopt", client, IPPROTO_IP, IP_TTL, 1)
experiment.call("connect", client, net.b.addr, PORT)
experiment.call("send", client, "ttl 1")
local _, _, errno = experiment.call("recv", client, 100)
experiment.expect(errno == EHOSTUNREACH, "the datagram with TTL 1 comes back as EHOSTUNREACH")
local e = recverr(client)
print("  recverr(client): " .. (e and e.message or "nothing"))
experiment.expect(e and e.type == 11 and e.offender == net.r.addrs.left, "recverr shows ICMP time exceeded (type 11) from r (%s)", net.r.addrs.left)
experiment.expect(experiment.call("recv", server, 100) == nil, "the server got nothing")

experiment.section("the default TTL: through the router")
experiment.call("setsockopt", client, IPPROTO_IP, IP_TTL, 64)
experiment.call("send", client, "g1")
local data, from = experiment.call("recvfrom", server, 100)
experiment.expect(data == "g1" and from and from.addr == net.a.addr, "the server gets g1 from a (%s), its address unchanged by r", net.a.addr)

experiment.section("the pinned server, across the router")
experiment.call("connect", server, from)
experiment.call("send", server, "Hi, g1")
experiment.expect(experiment.call("recv", client, 100) == "Hi, g1", "client 1 gets its answer")
local other = experiment.udp_in(net.c, AF_INET, net.c.addr, "client2")
experiment.call("connect", other, net.b.addr, PORT)
experiment.call("send", other, "g2")
_, _, errno = experiment.call("recv", other, 100)
experiment.expect(errno == ECONNREFUSED, "client 2 gets ECONNREFUSED (111) through the router")

net:close()
experiment.finish("TTL 1 died at r with ICMP time exceeded (EHOSTUNREACH on the connected socket); the pinned server answered a and refused c across the router")
