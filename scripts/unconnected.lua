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

local experiment = require("experiment")

-- a port nothing is bound to: bind one, note it, close it
local probe = experiment.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
experiment.call("close", probe)

experiment.section("unconnected client: sendto, then recvfrom")
local client = experiment.udp(AF_INET, "127.0.0.1", "unconnected")
experiment.expect(experiment.call("sendto", client, "g1", closed) == 2, "sendto succeeds")
experiment.expect(experiment.errno("recvfrom", client, 4096) == EAGAIN, "recvfrom times out with EAGAIN (11) after %g s", experiment.TIMEOUT)

experiment.section("connected client: connect, send, then recv")
local connected = experiment.udp(AF_INET, "127.0.0.1", "connected")
experiment.call("connect", connected, closed)
experiment.expect(experiment.call("send", connected, "g1") == 2, "send succeeds")
experiment.expect(experiment.errno("recv", connected, 4096) == ECONNREFUSED, "recv fails with ECONNREFUSED (111)")

experiment.section("unconnected client with IP_RECVERR: sendto, then recvfrom")
local told = experiment.udp(AF_INET, "127.0.0.1", "unconnected_recverr")
experiment.call("setsockopt", told, IPPROTO_IP, IP_RECVERR, 1)
experiment.expect(experiment.call("sendto", told, "g1", closed) == 2, "sendto succeeds")
experiment.expect(experiment.errno("recvfrom", told, 4096) == ECONNREFUSED, "recvfrom fails with ECONNREFUSED (111): the kernel had found the socket")
local e = recverr(told)
print("recverr(unconnected_recverr): " .. (e and e.message or "nothing"))
experiment.expect(e and e.payload == "g1" and e.type == 3 and e.code == 3, "the error queue holds the ICMP port unreachable and the refused datagram")

experiment.finish("the unconnected client saw no error (its recvfrom timed out); the connected one got Connection refused; with IP_RECVERR the unconnected one got it too")
