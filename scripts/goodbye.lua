-- goodbye.lua: a reader's question. After the pinned server leaves on "goodbye", why does the
-- client block instead of failing?
--
-- The lesson's server exits when a message starts with "goodbye", without replying. The client
-- (udpconnectclient2) sent "goodbye" and waits in recv(): the server's socket was still open when
-- the datagram arrived, so no ICMP came back, and no reply ever will. Nothing tells the client;
-- it blocks (here: until its timeout, EAGAIN). Only the client's next send() reaches a port that
-- is now closed, brings back an ICMP port unreachable, and the recv() after it fails with
-- ECONNREFUSED. Both are shown, bounded by timeouts.

local experiment = require("experiment")

local server = experiment.udp(AF_INET, "127.0.0.1", "server")
local client = experiment.udp(AF_INET, "127.0.0.1", "client")

experiment.section("the client talks to the pinned server")
experiment.call("connect", client, getsockname(server))
experiment.call("send", client, "g1")
local msg, from = experiment.call("recvfrom", server, 100)
experiment.call("connect", server, from)
experiment.call("send", server, "Hi, " .. msg)
experiment.expect(experiment.call("recv", client, 100) == "Hi, g1", "the client gets Hi, g1")

experiment.section("goodbye: the server receives it and exits without replying")
experiment.call("send", client, "goodbye")
experiment.expect(experiment.call("recv", server, 100) == "goodbye", "the server receives goodbye")
experiment.call("close", server)
experiment.expect(experiment.errno("recv", client, 100) == EAGAIN, "the client's recv blocks (times out with EAGAIN, 11): no reply, no error")

experiment.section("the client sends again")
experiment.expect(experiment.call("send", client, "anyone there?") == 13, "send succeeds")
experiment.expect(experiment.errno("recv", client, 100) == ECONNREFUSED, "now recv fails with Connection refused (111)")

experiment.finish("after goodbye the client's recv blocked with no reply and no error; its next send brought ICMP port unreachable and recv failed with Connection refused")
