-- broadcast.lua: exercise 2a of the lesson. Can a UDP socket connect() to a broadcast address?
--
-- Claim: only with SO_BROADCAST. Without it, connect() to 255.255.255.255 fails with EACCES,
-- "Permission denied (13)": the kernel refuses to make a broadcast route for the socket. With it,
-- connect() and send() work, and a receiver bound to the port gets the datagram.
--
-- To keep the datagram on this machine, the sender is bound to 127.0.0.1 and IP_UNICAST_IF pins
-- its route to the loopback interface "lo" (IP_UNICAST_IF applies to broadcast destinations, and
-- needs no privilege): nothing goes out on a real network.

local experiment = require("experiment")

local receiver = experiment.udp(AF_INET, "0.0.0.0", "receiver")
local port = getsockname(receiver).port
local sender = experiment.udp(AF_INET, "127.0.0.1", "sender")
local bcast = {family = AF_INET, addr = INADDR_BROADCAST, port = port}
experiment.expect(experiment.call("setsockopt", sender, IPPROTO_IP, IP_UNICAST_IF, "lo") == 0, "IP_UNICAST_IF lo is accepted")

experiment.section("without SO_BROADCAST")
experiment.call("getsockopt", sender, SOL_SOCKET, SO_BROADCAST)
experiment.expect(experiment.errno("connect", sender, bcast) == EACCES, "connect to 255.255.255.255 fails with EACCES (13)")

experiment.section("with SO_BROADCAST")
experiment.call("setsockopt", sender, SOL_SOCKET, SO_BROADCAST, 1)
experiment.expect(experiment.call("connect", sender, bcast) == 0, "connect to 255.255.255.255 succeeds")
experiment.call("getpeername", sender)
experiment.expect(experiment.call("send", sender, "to everyone") == 11, "send succeeds")
local data, from = experiment.call("recvfrom", receiver, 100)
experiment.expect(data == "to everyone", "the receiver gets the broadcast datagram")

experiment.section("lo's own broadcast address, 127.255.255.255")
local other = experiment.udp(AF_INET, "127.0.0.1", "other")
local lobcast = {family = AF_INET, addr = "127.255.255.255", port = port}
experiment.expect(experiment.errno("sendto", other, "to lo", lobcast) == EACCES, "sendto 127.255.255.255 without SO_BROADCAST fails with EACCES (13) too")
experiment.call("setsockopt", other, SOL_SOCKET, SO_BROADCAST, 1)
experiment.call("sendto", other, "to lo", lobcast)
experiment.expect(experiment.call("recv", receiver, 100) == "to lo", "with SO_BROADCAST the receiver gets it")

experiment.section("a broadcast to a port nobody listens on")
local probe = experiment.udp(AF_INET, "127.0.0.1", "probe")
experiment.call("setsockopt", probe, SOL_SOCKET, SO_BROADCAST, 1)
experiment.call("connect", probe, {family = AF_INET, addr = "127.255.255.255", port = port + 1})
experiment.call("send", probe, "anyone?")
experiment.expect(experiment.errno("recv", probe, 100) == EAGAIN, "no ICMP comes back for a broadcast: recv times out, no ECONNREFUSED")

experiment.finish("connect() to 255.255.255.255 failed with EACCES until SO_BROADCAST was set, as did 127.255.255.255; then the receiver got the datagrams; a broadcast to a closed port brought back no refusal")
