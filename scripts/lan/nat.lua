-- nat.lua: connected UDP through a NAT. Whom does the server see, and whom does the lesson's
-- pinned server pin?
--
-- Claims, with clients a and c on LAN left behind router r, which masquerades what leaves it on
-- LAN right, and a server on b (right):
--   The server sees every datagram come from r's address on the right, not from the client's;
--   r maps each client to a port of its own.
--   The pinned server connect()s to that mapping: it answers the first client through r, and a
--   second client, mapped to another port of r, gets ECONNREFUSED (111): the ICMP port
--   unreachable b sends to r's mapping is translated back to that client.
--   A masquerade blocks nothing coming in: b, whose default route goes through r, reaches a's
--   own address (r forwards it untranslated).
--   Without the masquerade, the server sees the client's own address again.

local experiment = require("experiment")
local net = assert(network{
  lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"},
  hosts = {a = "left", c = "left", b = "right", r = {"left", "right"}},
})
local PORT = 43211
local outside = net.r.addrs.right

experiment.section("r masquerades what leaves it on the right")
experiment.expect(experiment.on(net.r, "nat", "right") == 0, "r translates")
local server = experiment.udp_in(net.b, AF_INET, net.b.addr, "server", PORT)
local client = experiment.udp_in(net.a, AF_INET, net.a.addr, "client")
experiment.call("connect", client, net.b.addr, PORT)
experiment.call("send", client, "g1")
local data, from = experiment.call("recvfrom", server, 100)
experiment.expect(data == "g1" and from and from.addr == outside, "the server sees g1 come from r (%s), not from a (%s)", outside, net.a.addr)

experiment.section("the pinned server pins the mapping")
experiment.call("connect", server, from)
experiment.call("send", server, "Hi, g1")
experiment.expect(experiment.call("recv", client, 100) == "Hi, g1", "the answer reaches a through r")
local other = experiment.udp_in(net.c, AF_INET, net.c.addr, "client2")
experiment.call("connect", other, net.b.addr, PORT)
experiment.call("send", other, "g2")
local _, _, errno = experiment.call("recv", other, 100)
experiment.expect(errno == ECONNREFUSED, "client 2, behind the same NAT, gets ECONNREFUSED (111)")

experiment.section("a masquerade is not a firewall: b reaches a's own address")
local inside = experiment.udp_in(net.a, AF_INET, net.a.addr, "inside")
local prober = experiment.udp_in(net.b, AF_INET, net.b.addr, "prober")
experiment.call("sendto", prober, "in", getsockname(inside))
data, from = experiment.call("recvfrom", inside, 100)
experiment.expect(data == "in" and from and from.addr == net.b.addr, "a got b's datagram, from b (%s)", net.b.addr)

experiment.section("without the masquerade")
experiment.on(net.r, "nat", nil)
local server2 = experiment.udp_in(net.b, AF_INET, net.b.addr, "server2")
local fresh = experiment.udp_in(net.c, AF_INET, net.c.addr, "client3")
experiment.call("sendto", fresh, "g3", getsockname(server2))
data, from = experiment.call("recvfrom", server2, 100)
experiment.expect(data == "g3" and from and from.addr == net.c.addr, "the server sees c's own address (%s)", net.c.addr)

net:close()
experiment.finish("behind r's NAT every client appeared as " .. outside .. "; the pinned server pinned a's mapping and refused c's; the NAT let b reach a's own address; without the NAT, c's own address came through")
