-- multicast.lua: exercise 2b of the lesson. Can a UDP socket connect() to a multicast group?
--
-- Claim: yes. A sender connect()s to the group address and send()s; a receiver that joined the
-- group (IP_ADD_MEMBERSHIP) on the interface the sender uses (IP_MULTICAST_IF) gets the
-- datagram, given IP_MULTICAST_LOOP so that the sending host delivers to itself. Everything stays
-- on the loopback interface.
--
-- A socket on the same host and port that did not join gets the datagram too: Linux delivers a
-- group's datagrams to every socket bound to the port once any socket of the host joined, as long
-- as IP_MULTICAST_ALL is 1, its default (ip(7)); set to 0, the socket gets only the groups it
-- joined itself. (A socket on another port never gets them.)
--
-- IPv6: the same with IPV6_JOIN_GROUP and IPV6_MULTICAST_IF on "lo". Linux's lo has no MULTICAST
-- flag, so the kernel refuses to route the group there: connect() fails with ENETUNREACH (101).
-- Should a kernel route it, the member must get the datagram. IPv6 multicast between hosts is in
-- scripts/lan/multicast.lua.

local experiment = require("experiment")
local GROUP4, GROUP6 = "239.1.2.3", "ff02::1:3"

local function shared(name)
  local s = experiment.name(assert(socket(AF_INET, SOCK_DGRAM)), name)
  assert(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1))
  return s
end

experiment.section("IPv4: a member joins " .. GROUP4 .. " on 127.0.0.1; an outsider shares its port")
local member = shared("member")
experiment.call("bind", member, "0.0.0.0", 0)
local port = getsockname(member).port
settimeout(member, experiment.TIMEOUT)
experiment.expect(experiment.call("setsockopt", member, IPPROTO_IP, IP_ADD_MEMBERSHIP,
  {multiaddr = GROUP4, interface = "127.0.0.1"}) == 0, "IP_ADD_MEMBERSHIP succeeds")
local outsider = shared("outsider")
experiment.call("bind", outsider, "0.0.0.0", port)
settimeout(outsider, experiment.TIMEOUT)
local elsewhere = experiment.udp(AF_INET, "0.0.0.0", "elsewhere")

experiment.section("IPv4: the sender connect()s to the group")
local sender = experiment.udp(AF_INET, "127.0.0.1", "sender")
experiment.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_IF, "127.0.0.1")
experiment.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_LOOP, 1)
experiment.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_TTL, 0)
experiment.expect(experiment.call("connect", sender, {family = AF_INET, addr = GROUP4, port = port}) == 0, "connect to the group succeeds")
experiment.call("getpeername", sender)
experiment.expect(experiment.call("send", sender, "hello group") == 11, "send succeeds")
experiment.expect(experiment.call("recvfrom", member, 100) == "hello group", "the member receives the datagram")
experiment.call("getsockopt", outsider, IPPROTO_IP, IP_MULTICAST_ALL)
experiment.expect(experiment.call("recv", outsider, 100) == "hello group", "the outsider on the same port receives it too (IP_MULTICAST_ALL is 1)")
experiment.expect(experiment.call("recv", elsewhere, 100, MSG_DONTWAIT) == nil, "a socket on another port receives nothing")

experiment.section("IPv4: IP_MULTICAST_ALL 0 on the outsider")
experiment.call("setsockopt", outsider, IPPROTO_IP, IP_MULTICAST_ALL, 0)
experiment.call("send", sender, "members only")
experiment.expect(experiment.call("recv", member, 100) == "members only", "the member receives it")
experiment.expect(experiment.call("recv", outsider, 100) == nil, "the outsider, with IP_MULTICAST_ALL 0, does not")

experiment.call("setsockopt", member, IPPROTO_IP, IP_DROP_MEMBERSHIP, {multiaddr = GROUP4, interface = "127.0.0.1"})
-- The host may still be a member of the group through another program's socket on lo (another
-- run of this script, say): with IP_MULTICAST_ALL 1 the old member would still get the group's
-- datagrams, as the outsider did above. Turned off, only its own memberships count.
experiment.call("setsockopt", member, IPPROTO_IP, IP_MULTICAST_ALL, 0)
experiment.call("send", sender, "after leaving")
experiment.expect(experiment.call("recv", member, 100) == nil, "after IP_DROP_MEMBERSHIP (and with IP_MULTICAST_ALL 0) the old member receives nothing")

experiment.section("IPv6: a member joins " .. GROUP6 .. " on lo")
local v6
local member6 = socket(AF_INET6, SOCK_DGRAM)
if not member6 or not bind(member6, "::", 0) then
  v6 = "no IPv6 here"
else
  experiment.name(member6, "member6")
  settimeout(member6, experiment.TIMEOUT)
  local port6 = getsockname(member6).port
  experiment.expect(experiment.call("setsockopt", member6, IPPROTO_IPV6, IPV6_JOIN_GROUP, {multiaddr = GROUP6, interface = "lo"}) == 0,
    "IPV6_JOIN_GROUP on lo succeeds")
  local sender6 = experiment.name(assert(socket(AF_INET6, SOCK_DGRAM)), "sender6")
  experiment.call("setsockopt", sender6, IPPROTO_IPV6, IPV6_MULTICAST_IF, "lo")
  experiment.call("setsockopt", sender6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1)
  local ok, _, errno = experiment.call("connect", sender6, {family = AF_INET6, addr = GROUP6 .. "%lo", port = port6})
  if ok then
    experiment.call("send", sender6, "hello group6")
    experiment.expect(experiment.call("recv", member6, 100) == "hello group6", "this kernel routes IPv6 multicast over lo: the member receives it")
    v6 = "IPv6 multicast on lo worked too"
  else
    experiment.expect(errno == ENETUNREACH, "connect to the group fails with ENETUNREACH (101): lo has no MULTICAST flag")
    v6 = "IPv6 multicast is not routed over lo (ENETUNREACH)"
  end
end

experiment.finish("IPv4: the connected sender reached the member, and the outsider on its port until IP_MULTICAST_ALL was 0; " .. v6)
