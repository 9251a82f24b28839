-- multicast.lua: exercise 2b of the lesson on a real LAN, IPv4 and IPv6. Who gets a datagram sent
-- to a group, and what does connect() change?
--
-- Claims, with sender a, members b and c, non-member d on LAN one, and member e on LAN two behind
-- router r (which runs no multicast routing):
--   A sender connected to the group sends with send(); b and c get the datagram, d does not,
--   although d listens on the same port: its kernel drops groups it has not joined.
--   On b itself, a second socket bound to the same port but not joined gets the group's
--   datagrams too, because IP_MULTICAST_ALL is on by default (ip(7)); with it off, it does not.
--   (IPv4: IPv6 has no such option.)
--   A member that connect()s to the sender gets nothing more from the group, not even the
--   sender's datagrams: connect() gives the socket a unicast local address (getsockname shows
--   it), and datagrams sent to the group no longer match it.
--   A member bound to the group address (not 0.0.0.0) that connect()s keeps the group as its
--   local address: it still gets the group's datagrams, but only those from its peer.
--   A sender connected to the group never gets the members' replies: they come from a member's
--   unicast address, which is not the peer it connected to; an unconnected sender gets them.
--   e never gets them, with TTL (hop limit) 1 or 8: without a multicast router the group stays
--   on its LAN.

local experiment = require("experiment")
local net = assert(network{
  lans = {one = "10.0.0.0/24", two = "10.9.0.0/24"},
  hosts = {a = "one", b = "one", c = "one", d = "one", r = {"one", "two"}, e = "two"},
})
local PORT = 43400

local function run(family)
  local v6 = family == AF_INET6
  local any = v6 and "::" or "0.0.0.0"
  local group = v6 and "ff15::1:3" or "239.1.2.3"
  local addr = v6 and "addr6" or "addr"
  local level = v6 and IPPROTO_IPV6 or IPPROTO_IP
  local function join(s, host)
    local mreq = {multiaddr = group, interface = v6 and "eth0" or host[addr]}
    return experiment.call("setsockopt", s, level, v6 and IPV6_JOIN_GROUP or IP_ADD_MEMBERSHIP, mreq)
  end
  experiment.section((v6 and "IPv6" or "IPv4") .. ": group " .. group)
  local members = {}
  for _, h in ipairs({net.b, net.c, net.e}) do
    local s = experiment.udp_in(h, family, any, "member_" .. h.name, PORT, true)
    experiment.expect(join(s, h) == 0, "%s joins %s", h.name, group)
    members[h.name] = s
  end
  local outsider = experiment.udp_in(net.d, family, any, "outsider_d", PORT)
  local sender = experiment.udp_in(net.a, family, net.a[addr], "sender")
  experiment.call("setsockopt", sender, level, v6 and IPV6_MULTICAST_IF or IP_MULTICAST_IF, v6 and "eth0" or net.a[addr])
  experiment.call("connect", sender, group, PORT)
  experiment.call("send", sender, "hello group")
  for _, name in ipairs({"b", "c"}) do
    experiment.expect(experiment.call("recv", members[name], 100) == "hello group", "member %s gets it", name)
  end
  experiment.expect(experiment.call("recv", outsider, 100) == nil, "d, on the same port but not a member, does not")
  experiment.expect(experiment.call("recv", members.e, 100) == nil, "e, behind the router, does not (hop limit 1)")

  experiment.section("more hops, still no multicast router")
  experiment.call("setsockopt", sender, level, v6 and IPV6_MULTICAST_HOPS or IP_MULTICAST_TTL, 8)
  experiment.call("send", sender, "further?")
  experiment.call("recv", members.b, 100)
  experiment.call("recv", members.c, 100)
  experiment.expect(experiment.call("recv", members.e, 100) == nil, "e still does not: the group stays on its LAN")

  if not v6 then
    experiment.section("IP_MULTICAST_ALL, on b itself")
    local same = experiment.udp_in(net.b, family, any, "unjoined_b", PORT, true)
    experiment.call("getsockopt", same, IPPROTO_IP, IP_MULTICAST_ALL)
    experiment.call("send", sender, "to the group")
    experiment.call("recv", members.b, 100)
    experiment.call("recv", members.c, 100)
    experiment.expect(experiment.call("recv", same, 100) == "to the group", "a socket on b that did not join gets it (IP_MULTICAST_ALL is 1)")
    experiment.call("setsockopt", same, IPPROTO_IP, IP_MULTICAST_ALL, 0)
    experiment.call("send", sender, "again")
    experiment.call("recv", members.b, 100)
    experiment.call("recv", members.c, 100)
    experiment.expect(experiment.call("recv", same, 100) == nil, "with IP_MULTICAST_ALL 0 it does not")
    close(same)
  end

  experiment.section("a member connected to the sender")
  local other = experiment.udp_in(net.d, family, net.d[addr], "other_sender")
  experiment.call("setsockopt", other, level, v6 and IPV6_MULTICAST_IF or IP_MULTICAST_IF, v6 and "eth0" or net.d[addr])
  experiment.call("connect", members.c, getsockname(sender))
  local bound = experiment.call("getsockname", members.c)
  experiment.expect(bound and bound.addr == net.c[addr], "connect() gave c's socket its unicast address %s", net.c[addr])
  experiment.call("send", sender, "from a")
  experiment.call("sendto", other, "from d", group, PORT)
  experiment.expect(experiment.call("recv", members.c, 100) == nil, "c, connected to a, gets neither a's datagram nor d's")
  experiment.expect(experiment.call("recv", members.b, 100) == "from a" and experiment.call("recv", members.b, 100) == "from d", "b, not connected, gets both")

  experiment.section("a member bound to the group address, connected to the sender")
  local PORT2 = PORT + 1
  local pinned = experiment.udp_in(net.b, family, group, "group_bound_b", PORT2)
  experiment.expect(join(pinned, net.b) == 0, "b joins %s", group)
  experiment.call("connect", pinned, getsockname(sender))
  local local_addr = experiment.call("getsockname", pinned)
  experiment.expect(local_addr and local_addr.addr == group, "its local address stays the group %s", group)
  experiment.call("sendto", sender, "from a", group, PORT2)
  experiment.call("sendto", other, "from d", group, PORT2)
  experiment.expect(experiment.call("recv", pinned, 100) == "from a", "it gets the datagram its peer a sent to the group")
  experiment.expect(experiment.call("recv", pinned, 100) == nil, "and not the one d sent to the same group and port")

  experiment.section("a sender connected to the group, and the replies")
  experiment.call("sendto", members.b, "reply from b", getsockname(sender))
  experiment.expect(experiment.call("recv", sender, 100) == nil, "a, connected to the group, never gets b's reply: it comes from b's address, not the group's")
  local plain = experiment.udp_in(net.a, family, net.a[addr], "unconnected_a")
  experiment.call("sendto", plain, "hello group", group, PORT)
  local got, from = experiment.call("recvfrom", members.b, 100)
  experiment.call("sendto", members.b, "reply from b", from)
  experiment.expect(got == "hello group" and experiment.call("recv", plain, 100) == "reply from b", "an unconnected sender gets it")
  for _, s in pairs(members) do close(s) end
  close(outsider) close(sender) close(other) close(pinned) close(plain)
end

run(AF_INET)
run(AF_INET6)
net:close()
experiment.finish("members got the group's datagrams and a non-member host did not, on IPv4 and IPv6; an unjoined socket on a member host did until IP_MULTICAST_ALL was 0; a member that connected heard the group no more, one bound to the group heard only its peer; a sender connected to the group got no reply; the group stayed on its LAN")
