-- unconnected.lua: the contrast with chapter 6. Does an unconnected UDP client see the refusal?
--
-- Claim: no. A datagram to a closed port brings back an ICMP port unreachable either way, but
-- the kernel ties it to the socket only when the socket is connected (the error must name the
-- socket's one peer). So an unconnected client's sendto() gets no error and its recvfrom() just
-- waits, here until its SO_RCVTIMEO-style timeout: "Resource temporarily unavailable (11)"; the
-- same client connected gets "Connection refused (111)".

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

lab.finish("the unconnected client saw no error (its recvfrom timed out); the connected one got Connection refused")
