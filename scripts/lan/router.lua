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
--   A firewall on r acts on what r forwards: with "drop", a's datagram to b vanishes (only a
--   timeout); with "reject", r answers ICMP administratively prohibited (3/13) and a's
--   connected socket fails with EHOSTUNREACH (113) at once.

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

experiment.section("a firewall on the router: what r forwards")
local server3 = experiment.udp_in(net.b, AF_INET, net.b.addr, "server3")
local client3 = experiment.udp_in(net.a, AF_INET, net.a.addr, "client3")
experiment.call("setsockopt", client3, IPPROTO_IP, IP_RECVERR, 1)
experiment.call("connect", client3, getsockname(server3))
experiment.on(net.r, "firewall", "drop")
experiment.call("send", client3, "dropped")
_, _, errno = experiment.call("recv", client3, 100)
experiment.expect(errno == EAGAIN and experiment.call("recv", server3, 100) == nil, "r drops it: a times out, b gets nothing")
experiment.on(net.r, "firewall", "reject")
experiment.call("send", client3, "rejected")
_, _, errno = experiment.call("recv", client3, 100)
e = recverr(client3)
print("  recverr(client3): " .. (e and e.message or "nothing"))
experiment.expect(errno == EHOSTUNREACH and e and e.type == 3 and e.code == 13 and e.offender == net.r.addrs.left,
  "r rejects it: EHOSTUNREACH, ICMP admin-prohibited (3/13) from r (%s)", net.r.addrs.left)
experiment.on(net.r, "firewall", nil)
experiment.call("send", client3, "passed")
experiment.expect(experiment.call("recv", server3, 100) == "passed", "without the firewall it passes")

net:close()
experiment.finish("TTL 1 died at r with ICMP time exceeded (EHOSTUNREACH on the connected socket); the pinned server answered a and refused c across the router; r's firewall dropped or rejected what it forwards")
