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

local lab = require("lab")
local net = assert(network{
  lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"},
  hosts = {a = "left", c = "left", b = "right", r = {"left", "right"}},
})
local PORT = 43211
local outside = net.r.addrs.right

lab.section("r masquerades what leaves it on the right")
lab.expect(lab.on(net.r, "nat", "right") == 0, "r translates")
local server = lab.udp_in(net.b, AF_INET, net.b.addr, "server", PORT)
local client = lab.udp_in(net.a, AF_INET, net.a.addr, "client")
lab.call("connect", client, net.b.addr, PORT)
lab.call("send", client, "g1")
local data, from = lab.call("recvfrom", server, 100)
lab.expect(data == "g1" and from and from.addr == outside, "the server sees g1 come from r (%s), not from a (%s)", outside, net.a.addr)

lab.section("the pinned server pins the mapping")
lab.call("connect", server, from)
lab.call("send", server, "Hi, g1")
lab.expect(lab.call("recv", client, 100) == "Hi, g1", "the answer reaches a through r")
local other = lab.udp_in(net.c, AF_INET, net.c.addr, "client2")
lab.call("connect", other, net.b.addr, PORT)
lab.call("send", other, "g2")
local _, _, errno = lab.call("recv", other, 100)
lab.expect(errno == ECONNREFUSED, "client 2, behind the same NAT, gets ECONNREFUSED (111)")

lab.section("a masquerade is not a firewall: b reaches a's own address")
local inside = lab.udp_in(net.a, AF_INET, net.a.addr, "inside")
local prober = lab.udp_in(net.b, AF_INET, net.b.addr, "prober")
lab.call("sendto", prober, "in", getsockname(inside))
data, from = lab.call("recvfrom", inside, 100)
lab.expect(data == "in" and from and from.addr == net.b.addr, "a got b's datagram, from b (%s)", net.b.addr)

lab.section("without the masquerade")
lab.on(net.r, "nat", nil)
local server2 = lab.udp_in(net.b, AF_INET, net.b.addr, "server2")
local fresh = lab.udp_in(net.c, AF_INET, net.c.addr, "client3")
lab.call("sendto", fresh, "g3", getsockname(server2))
data, from = lab.call("recvfrom", server2, 100)
lab.expect(data == "g3" and from and from.addr == net.c.addr, "the server sees c's own address (%s)", net.c.addr)

net:close()
lab.finish("behind r's NAT every client appeared as " .. outside .. "; the pinned server pinned a's mapping and refused c's; the NAT let b reach a's own address; without the NAT, c's own address came through")
