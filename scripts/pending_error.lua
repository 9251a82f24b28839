-- pending_error.lua: how often is the asynchronous error reported, and how else can it be read?
--
-- Claim: an ICMP port unreachable sets the connected socket's pending error (sk_err) once. The
-- next receive returns it (ECONNREFUSED) and clears it, so the receive after that just waits (here
-- it times out with EAGAIN). The other way to collect it is getsockopt(SO_ERROR), which returns
-- the pending error (111) and clears it too: the receive that follows times out instead of
-- failing. A send() reports it as well, and then sends nothing: its datagram is not sent, even to
-- a port that has opened meanwhile; the send after it goes.

local lab = require("lab")

local probe = lab.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
lab.call("close", probe)
local client = lab.udp(AF_INET, "127.0.0.1", "client")
lab.call("connect", client, closed)

lab.section("collected by recv: reported once")
lab.call("send", client, "g1")
lab.expect(lab.errno("recv", client, 100) == ECONNREFUSED, "the first recv fails with ECONNREFUSED (111)")
lab.expect(lab.errno("recv", client, 100) == EAGAIN, "the second recv times out with EAGAIN (11)")

lab.section("collected by getsockopt(SO_ERROR)")
lab.call("send", client, "g2")
lab.call("poll", {client}, 1) -- the ICMP error makes the socket readable
lab.expect(lab.call("getsockopt", client, SOL_SOCKET, SO_ERROR) == ECONNREFUSED, "SO_ERROR is 111")
lab.expect(lab.call("getsockopt", client, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR is 0 once read")
lab.expect(lab.errno("recv", client, 100) == EAGAIN, "the recv that follows times out with EAGAIN (11)")

lab.section("collected by send: and that datagram is not sent")
lab.call("send", client, "g3")
lab.call("poll", {client}, 1)
local server = lab.name(assert(socket(AF_INET, SOCK_DGRAM)), "server")
assert(bind(server, closed))
assert(settimeout(server, lab.TIMEOUT))
print("server = socket(AF_INET, SOCK_DGRAM), bound to " .. tostring(closed) .. ": the port is open now")
lab.expect(lab.errno("send", client, "g4") == ECONNREFUSED, "the next send fails with ECONNREFUSED (111): the pending error")
lab.expect(lab.call("recv", server, 100) == nil, "and its datagram was not sent: the server gets nothing")
lab.expect(lab.call("send", client, "g5") == 2, "the send after it succeeds")
lab.expect(lab.call("recv", server, 100) == "g5", "and the server gets that one")

lab.finish("the refusal was reported once: by the first recv (Connection refused), by SO_ERROR (111), or by a send, which then sent nothing")
