-- truncation.lua: what happens to a datagram larger than the buffer given to recv()?
--
-- Claim: the rest is lost, silently: recv(s, 4096) of a 5,000-byte datagram returns its first
-- 4,096 bytes, and the next recv gets the next datagram, not the remaining 904 bytes (UDP keeps
-- message boundaries). With MSG_TRUNC, the kernel returns the datagram's real length (5000), so
-- a program can tell it lost some; udplab returns it after the data. MSG_PEEK with MSG_TRUNC
-- tells the length without consuming the datagram.

local experiment = require("experiment")

local r = experiment.udp(AF_INET, "127.0.0.1", "receiver")
local s = experiment.udp(AF_INET, "127.0.0.1", "sender")
local to = getsockname(r)
local big = string.rep("x", 5000)

experiment.section("recv(s, 4096) of a 5,000-byte datagram")
experiment.call("sendto", s, big, to)
experiment.call("sendto", s, "next", to)
local data = recv(r, 4096)
print(string.format("recv(receiver, 4096) returned %d bytes", #data))
experiment.expect(#data == 4096, "the first 4,096 bytes come back")
experiment.expect(experiment.call("recv", r, 4096) == "next", "the next recv gets the next datagram: the other 904 bytes are gone")

experiment.section("with MSG_TRUNC: the real length")
experiment.call("sendto", s, big, to)
local peeked, peeklen = recv(r, 0, MSG_PEEK + MSG_TRUNC)
print(string.format("recv(receiver, 0, MSG_PEEK|MSG_TRUNC) = %q, %d", peeked, peeklen))
experiment.expect(peeklen == 5000, "peeking with MSG_TRUNC tells the length (5000) and leaves the datagram")
local cut, real = recv(r, 4096, MSG_TRUNC)
print(string.format("recv(receiver, 4096, MSG_TRUNC) = %d bytes, %d", #cut, real))
experiment.expect(#cut == 4096 and real == 5000, "MSG_TRUNC returns 4,096 bytes and the real length, 5000")

experiment.finish("a datagram longer than the buffer was cut silently, the rest lost; MSG_TRUNC gave its real length, 5000")
