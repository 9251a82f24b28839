-- icmp.lua: what is behind "Connection refused"?
--
-- The refusal a connected UDP client sees comes from an ICMP message: the kernel of the server's
-- host answers a datagram for a closed port with ICMP destination unreachable, port unreachable
-- (type 3, code 3; ICMPv6 type 1, code 4). The client's kernel matches it to the socket and sets
-- the socket's pending error, ECONNREFUSED. With IP_RECVERR (IPV6_RECVERR) set, the kernel also
-- queues the details, which recverr() reads from the socket's error queue (MSG_ERRQUEUE): the
-- errno, the ICMP type and code, and who sent it. This script repeats the refused experiment on
-- IPv4 and IPv6: recv() reports Connection refused as usual, then recverr() shows the ICMP
-- message that caused it; the queue then is empty (EAGAIN).

local experiment = require("experiment")

local function refused(family, host, level, option)
  local probe = experiment.udp(family, host, "probe")
  local closed = getsockname(probe)
  experiment.call("close", probe)
  local client = experiment.udp(family, host, "client")
  experiment.call("setsockopt", client, level, option, 1)
  experiment.call("connect", client, closed)
  experiment.call("send", client, "g1")
  experiment.call("poll", {client}, 1)
  experiment.expect(experiment.errno("recv", client, 100) == ECONNREFUSED, "recv reports Connection refused (111)")
  local e, err, errno = recverr(client)
  if e then
    print(string.format("recverr(client) = {errno=%d, origin=%q, type=%d, code=%d, offender=%q, payload=%q}",
      e.errno, e.origin, e.type, e.code, tostring(e.offender), e.payload))
    print("the ICMP behind the error: " .. e.message)
  else
    print(string.format("recverr(client): recvmsg failed: %s (%d)", err, errno))
  end
  experiment.expect(e and e.errno == ECONNREFUSED, "the error queue holds ECONNREFUSED (111)")
  experiment.expect(e and e.payload == "g1", "the queued entry carries the refused datagram")
  experiment.expect(experiment.errno("recverr", client) == EAGAIN, "the error queue is then empty (EAGAIN, 11)")
  return e
end

experiment.section("IPv4")
local e4 = refused(AF_INET, "127.0.0.1", IPPROTO_IP, IP_RECVERR)
experiment.expect(e4 and e4.origin == "icmp" and e4.type == 3 and e4.code == 3, "ICMP type 3 code 3 (port unreachable)")

experiment.section("IPv6")
local e6 = refused(AF_INET6, "::1", IPPROTO_IPV6, IPV6_RECVERR)
experiment.expect(e6 and e6.origin == "icmp6" and e6.type == 1 and e6.code == 4, "ICMPv6 type 1 code 4 (port unreachable)")

experiment.finish("Connection refused came from " .. (e4 and e4.message or "?") .. " (IPv6: " .. (e6 and e6.message or "?") .. ")")
