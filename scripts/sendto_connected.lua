-- sendto_connected.lua: what does sendto() with an address do on a connected UDP socket?
--
-- The lesson says that on Linux "sendto and recvfrom on a connected socket ignore the to and
-- from addresses". Its own udpconnectclient relies on that. What Linux does: sendto() with an
-- explicit address on a connected UDP socket sends the datagram to that address, not to the
-- connected peer (BSD and macOS refuse with EISCONN instead). recvfrom() still receives only
-- from the peer. This script shows both on the running kernel.

local experiment = require("experiment")

local peer = experiment.udp(AF_INET, "127.0.0.1", "peer")
local other = experiment.udp(AF_INET, "127.0.0.1", "other")
local client = experiment.udp(AF_INET, "127.0.0.1", "client")

experiment.section("the client is connected to peer, and sendto()s to other")
experiment.call("connect", client, getsockname(peer))
local sent = experiment.call("sendto", client, "where do I go?", getsockname(other))
experiment.expect(sent == 14, "sendto on a connected socket succeeds on Linux")
local at_other = experiment.call("recv", other, 100)
local at_peer = experiment.call("recv", peer, 100, MSG_DONTWAIT)

local went
if at_other == "where do I go?" then
  went = "to the address given to sendto (not ignored)"
elseif at_peer == "where do I go?" then
  went = "to the connected peer (the address was ignored, as the lesson says)"
else
  went = "nowhere we could see"
end
print("the datagram went " .. went)
experiment.expect(at_other == "where do I go?" and at_peer == nil, "Linux sends it to the address given")

experiment.section("sendto() to the peer's own address, and recvfrom()")
experiment.call("sendto", client, "to the peer", getsockname(peer))
local data, from = experiment.call("recvfrom", peer, 100)
experiment.expect(data == "to the peer", "the peer receives it")
experiment.call("sendto", peer, "reply", getsockname(client))
local reply, from2 = experiment.call("recvfrom", client, 100)
experiment.expect(reply == "reply" and tostring(from2) == tostring(getsockname(peer)), "recvfrom on the connected socket gives the data and the peer's address")

experiment.section("sendto() to another, closed port: whose error is it?")
local probe = experiment.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
experiment.call("close", probe)
experiment.call("sendto", client, "to nobody", closed)
experiment.call("poll", {client}, 0.2)
experiment.expect(experiment.errno("recv", client, 100) == EAGAIN, "the connected socket reports nothing: the ICMP names another peer than its own")
experiment.expect(experiment.call("getsockopt", client, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR is 0")

experiment.finish("on this kernel sendto() on a connected UDP socket sent " .. went .. "; recvfrom() worked and named the peer; the refusal of a datagram sent to another port was not reported")
