-- unconnected.lua: the contrast with chapter 6. Does an unconnected UDP client see the refusal?
--
-- Claim: not by default. A datagram to a closed port brings back an ICMP port unreachable either
-- way, and the kernel does find the socket it concerns (the ICMP quotes the datagram's ports);
-- but for an unconnected socket it chooses not to report it, since the socket may be talking to
-- many peers (udp(7): errors are reported only on connected sockets, unless IP_RECVERR is set).
-- So an unconnected client's sendto() gets no error and its recvfrom() just waits, here until its
-- SO_RCVTIMEO-style timeout: "Resource temporarily unavailable (11)"; the same client connected
-- gets "Connection refused (111)". With IP_RECVERR on, the unconnected client gets
-- ECONNREFUSED too, and the error queue says which datagram was refused.

local lab = require("lab")

-- a port nothing is bound to: bind one, note it, close it
local probe = lab.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
lab.call("close", probe)

lab.section("unconnected client: sendto, then recvfrom")
local client = lab.udp(AF_INET, "127.0.0.1", "unconnected")
lab.expect(lab.call("sendto", client, "g1", closed) == 2, "sendto succeeds")
lab.expect(lab.errno("recvfrom", client, 4096) == EAGAIN, "recvfrom times out with EAGAIN (11) after %g s", lab.TIMEOUT)

lab.section("connected client: connect, send, then recv")
local connected = lab.udp(AF_INET, "127.0.0.1", "connected")
lab.call("connect", connected, closed)
lab.expect(lab.call("send", connected, "g1") == 2, "send succeeds")
lab.expect(lab.errno("recv", connected, 4096) == ECONNREFUSED, "recv fails with ECONNREFUSED (111)")

lab.section("unconnected client with IP_RECVERR: sendto, then recvfrom")
local told = lab.udp(AF_INET, "127.0.0.1", "unconnected_recverr")
lab.call("setsockopt", told, IPPROTO_IP, IP_RECVERR, 1)
lab.expect(lab.call("sendto", told, "g1", closed) == 2, "sendto succeeds")
lab.expect(lab.errno("recvfrom", told, 4096) == ECONNREFUSED, "recvfrom fails with ECONNREFUSED (111): the kernel had found the socket")
local e = recverr(told)
print("recverr(unconnected_recverr): " .. (e and e.message or "nothing"))
lab.expect(e and e.payload == "g1" and e.type == 3 and e.code == 3, "the error queue holds the ICMP port unreachable and the refused datagram")

lab.finish("the unconnected client saw no error (its recvfrom timed out); the connected one got Connection refused; with IP_RECVERR the unconnected one got it too")
