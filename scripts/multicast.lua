-- multicast.lua: exercise 2b of the lesson. Can a UDP socket connect() to a multicast group?
--
-- Claim: yes. A sender connect()s to the group address and send()s; a receiver that joined the
-- group (IP_ADD_MEMBERSHIP) on the interface the sender uses (IP_MULTICAST_IF) gets the
-- datagram, given IP_MULTICAST_LOOP so that the sending host delivers to itself. A socket bound to
-- another port, not a member, gets nothing. Everything stays on the loopback interface.
--
-- IPv6: the same with IPV6_JOIN_GROUP and IPV6_MULTICAST_IF on "lo". Linux's lo has no MULTICAST
-- flag, so the kernel may refuse to route the group there (connect() fails with ENETUNREACH); the
-- script says what this kernel does and does not fail on it.

local lab = require("lab")
local GROUP4, GROUP6 = "239.1.2.3", "ff02::1:3"

lab.section("IPv4: receiver joins " .. GROUP4 .. " on 127.0.0.1")
local member = lab.udp(AF_INET, "0.0.0.0", "member")
local port = getsockname(member).port
lab.expect(lab.call("setsockopt", member, IPPROTO_IP, IP_ADD_MEMBERSHIP,
  {multiaddr = GROUP4, interface = "127.0.0.1"}) == 0, "IP_ADD_MEMBERSHIP succeeds")
local outsider = lab.udp(AF_INET, "0.0.0.0", "outsider")

lab.section("IPv4: sender connect()s to the group")
local sender = lab.udp(AF_INET, "127.0.0.1", "sender")
lab.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_IF, "127.0.0.1")
lab.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_LOOP, 1)
lab.call("setsockopt", sender, IPPROTO_IP, IP_MULTICAST_TTL, 0)
lab.expect(lab.call("connect", sender, {family = AF_INET, addr = GROUP4, port = port}) == 0, "connect to the group succeeds")
lab.call("getpeername", sender)
lab.expect(lab.call("send", sender, "hello group") == 11, "send succeeds")
lab.expect(lab.call("recvfrom", member, 100) == "hello group", "the member receives the datagram")
lab.expect(lab.call("recv", outsider, 100, MSG_DONTWAIT) == nil, "the non-member socket receives nothing")
lab.call("setsockopt", member, IPPROTO_IP, IP_DROP_MEMBERSHIP, {multiaddr = GROUP4, interface = "127.0.0.1"})
lab.call("send", sender, "after leaving")
lab.expect(lab.call("recv", member, 100) == nil, "after IP_DROP_MEMBERSHIP the old member receives nothing")

lab.section("IPv6: receiver joins " .. GROUP6 .. " on lo")
local v6 = "not tried"
local member6 = socket(AF_INET6, SOCK_DGRAM)
if not member6 or not bind(member6, "::", 0) then
  v6 = "no IPv6 here"
else
  lab.name(member6, "member6")
  settimeout(member6, lab.TIMEOUT)
  local port6 = getsockname(member6).port
  local joined = lab.call("setsockopt", member6, IPPROTO_IPV6, IPV6_JOIN_GROUP, {multiaddr = GROUP6, interface = "lo"})
  local sender6 = lab.name(assert(socket(AF_INET6, SOCK_DGRAM)), "sender6")
  lab.call("setsockopt", sender6, IPPROTO_IPV6, IPV6_MULTICAST_IF, "lo")
  lab.call("setsockopt", sender6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1)
  local ok, err, errno = lab.call("connect", sender6, {family = AF_INET6, addr = GROUP6 .. "%lo", port = port6})
  if joined and ok then
    lab.call("send", sender6, "hello group6")
    local data = lab.call("recv", member6, 100)
    v6 = data == "hello group6" and "IPv6 multicast on lo works too" or "IPv6: connect and send worked but the member got nothing"
  elseif not joined then
    v6 = "this kernel refused IPV6_JOIN_GROUP on lo"
  else
    v6 = string.format("this kernel does not route IPv6 multicast over lo (connect: %s (%d))", err, errno)
  end
end
print("IPv6: " .. v6)

lab.finish("IPv4: the connected sender reached the group member and not the outsider; " .. v6)
