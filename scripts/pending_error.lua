-- pending_error.lua: how often is the asynchronous error reported, and how else can it be read?
--
-- Claim: an ICMP port unreachable sets the connected socket's pending error (sk_err) once. The
-- next receive returns it (ECONNREFUSED) and clears it, so the receive after that just waits (here
-- it times out with EAGAIN). The other way to collect it is getsockopt(SO_ERROR), which returns
-- the pending error (111) and clears it too: the receive that follows times out instead of
-- failing. A send() reports it as well, and then sends nothing: its datagram is not sent, even to
-- a port that has opened meanwhile; the send after it goes.

local experiment = require("experiment")

local probe = experiment.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
experiment.call("close", probe)
local client = experiment.udp(AF_INET, "127.0.0.1", "client")
experiment.call("connect", client, closed)

experiment.section("collected by recv: reported once")
experiment.call("send", client, "g1")
experiment.expect(experiment.errno("recv", client, 100) == ECONNREFUSED, "the first recv fails with ECONNREFUSED (111)")
experiment.expect(experiment.errno("recv", client, 100) == EAGAIN, "the second recv times out with EAGAIN (11)")

experiment.section("collected by getsockopt(SO_ERROR)")
experiment.call("send", client, "g2")
experiment.call("poll", {client}, 1) -- the ICMP error makes the socket readable
experiment.expect(experiment.call("getsockopt", client, SOL_SOCKET, SO_ERROR) == ECONNREFUSED, "SO_ERROR is 111")
experiment.expect(experiment.call("getsockopt", client, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR is 0 once read")
experiment.expect(experiment.errno("recv", client, 100) == EAGAIN, "the recv that follows times out with EAGAIN (11)")

experiment.section("collected by send: and that datagram is not sent")
experiment.call("send", client, "g3")
experiment.call("poll", {client}, 1)
local server = experiment.name(assert(socket(AF_INET, SOCK_DGRAM)), "server")
assert(bind(server, closed))
assert(settimeout(server, experiment.TIMEOUT))
print("server = socket(AF_INET, SOCK_DGRAM), bound to " .. tostring(closed) .. ": the port is open now")
experiment.expect(experiment.errno("send", client, "g4") == ECONNREFUSED, "the next send fails with ECONNREFUSED (111): the pending error")
experiment.expect(experiment.call("recv", server, 100) == nil, "and its datagram was not sent: the server gets nothing")
experiment.expect(experiment.call("send", client, "g5") == 2, "the send after it succeeds")
experiment.expect(experiment.call("recv", server, 100) == "g5", "and the server gets that one")

experiment.finish("the refusal was reported once: by the first recv (Connection refused), by SO_ERROR (111), or by a send, which then sent nothing")
