-- broadcast.lua: exercise 2a of the lesson on a real LAN. Which hosts does a broadcast reach, and
-- what does connect() to a broadcast address give?
--
-- Claims, with a, b and c on LAN one (10.0.0.0/24), d on LAN two behind router r:
--   Without SO_BROADCAST, sendto the LAN's broadcast address fails with EACCES (13).
--   With it, 10.0.0.255 and 255.255.255.255 reach b and c, and not d: routers do not forward
--   broadcasts.
--   A socket connected to the broadcast address sends to everyone, but the answers, sent from
--   b's own (unicast) address, never reach it: a connected socket takes only its peer's
--   datagrams, and no host has the broadcast address as its own.
--   A broadcast to a port nobody listens on brings back no ICMP: hosts do not answer broadcasts
--   with errors, so even a connected socket with IP_RECVERR sees nothing.

local experiment = require("experiment")
local net = assert(network{
  lans = {one = "10.0.0.0/24", two = "10.9.0.0/24"},
  hosts = {a = "one", b = "one", c = "one", r = {"one", "two"}, d = "two"},
})
local PORT = 43300
local lanbcast = "10.0.0.255"

local rb = experiment.udp_in(net.b, AF_INET, "0.0.0.0", "rb", PORT)
local rc = experiment.udp_in(net.c, AF_INET, "0.0.0.0", "rc", PORT)
local rd = experiment.udp_in(net.d, AF_INET, "0.0.0.0", "rd", PORT)
local s = experiment.udp_in(net.a, AF_INET, net.a.addr, "sender")

experiment.section("without SO_BROADCAST")
experiment.expect(experiment.errno("sendto", s, "to all", lanbcast, PORT) == EACCES, "sendto %s fails with EACCES (13)", lanbcast)

experiment.section("with SO_BROADCAST")
experiment.call("setsockopt", s, SOL_SOCKET, SO_BROADCAST, 1)
for _, dest in ipairs({lanbcast, INADDR_BROADCAST}) do
  experiment.call("sendto", s, "to all", dest, PORT)
  experiment.expect(experiment.call("recv", rb, 100) == "to all", "b gets the broadcast to %s", dest)
  experiment.expect(experiment.call("recv", rc, 100) == "to all", "c gets the broadcast to %s", dest)
  experiment.expect(experiment.call("recv", rd, 100) == nil, "d, behind the router, does not get it")
end

experiment.section("a socket connected to the broadcast address")
local cs = experiment.udp_in(net.a, AF_INET, net.a.addr, "connected")
experiment.call("setsockopt", cs, SOL_SOCKET, SO_BROADCAST, 1)
experiment.call("connect", cs, lanbcast, PORT)
experiment.call("send", cs, "who is there?")
local _, from = experiment.call("recvfrom", rb, 100)
experiment.call("recvfrom", rc, 100)
experiment.expect(from and from.addr == net.a.addr, "b sees it come from a")
experiment.call("sendto", rb, "b is here", from)
experiment.expect(experiment.call("recv", cs, 100) == nil, "b's unicast answer never reaches the socket connected to the broadcast address")

experiment.section("a broadcast to a closed port")
local probe = experiment.udp_in(net.a, AF_INET, net.a.addr, "probe")
experiment.call("setsockopt", probe, SOL_SOCKET, SO_BROADCAST, 1)
experiment.call("setsockopt", probe, IPPROTO_IP, IP_RECVERR, 1)
experiment.call("connect", probe, lanbcast, PORT + 1)
experiment.call("send", probe, "anyone?")
local _, _, errno = experiment.call("recv", probe, 100)
experiment.expect(errno == EAGAIN, "no error comes back, only a timeout")
experiment.expect(recverr(probe) == nil, "the error queue is empty: no ICMP")

net:close()
experiment.finish("broadcasts needed SO_BROADCAST, reached b and c but not d behind the router; a socket connected to the broadcast address never got the unicast answer; a broadcast to a closed port brought back no ICMP")
