-- broadcast.lua: exercise 2a of the lesson. Can a UDP socket connect() to a broadcast address?
--
-- Claim: only with SO_BROADCAST. Without it, connect() to 255.255.255.255 fails with EACCES,
-- "Permission denied (13)": the kernel refuses to make a broadcast route for the socket. With it,
-- connect() and send() work, and a receiver bound to the port gets the datagram.
--
-- To keep the datagram on this machine, the sender is bound to 127.0.0.1 and IP_UNICAST_IF pins
-- its route to the loopback interface "lo" (IP_UNICAST_IF applies to broadcast destinations, and
-- needs no privilege): nothing goes out on a real network.

local lab = require("lab")

local receiver = lab.udp(AF_INET, "0.0.0.0", "receiver")
local port = getsockname(receiver).port
local sender = lab.udp(AF_INET, "127.0.0.1", "sender")
local bcast = {family = AF_INET, addr = INADDR_BROADCAST, port = port}
lab.expect(lab.call("setsockopt", sender, IPPROTO_IP, IP_UNICAST_IF, "lo") == 0, "IP_UNICAST_IF lo is accepted")

lab.section("without SO_BROADCAST")
lab.call("getsockopt", sender, SOL_SOCKET, SO_BROADCAST)
lab.expect(lab.errno("connect", sender, bcast) == EACCES, "connect to 255.255.255.255 fails with EACCES (13)")

lab.section("with SO_BROADCAST")
lab.call("setsockopt", sender, SOL_SOCKET, SO_BROADCAST, 1)
lab.expect(lab.call("connect", sender, bcast) == 0, "connect to 255.255.255.255 succeeds")
lab.call("getpeername", sender)
lab.expect(lab.call("send", sender, "to everyone") == 11, "send succeeds")
local data, from = lab.call("recvfrom", receiver, 100)
lab.expect(data == "to everyone", "the receiver gets the broadcast datagram")

lab.section("lo's own broadcast address, 127.255.255.255")
local other = lab.udp(AF_INET, "127.0.0.1", "other")
local lobcast = {family = AF_INET, addr = "127.255.255.255", port = port}
lab.expect(lab.errno("sendto", other, "to lo", lobcast) == EACCES, "sendto 127.255.255.255 without SO_BROADCAST fails with EACCES (13) too")
lab.call("setsockopt", other, SOL_SOCKET, SO_BROADCAST, 1)
lab.call("sendto", other, "to lo", lobcast)
lab.expect(lab.call("recv", receiver, 100) == "to lo", "with SO_BROADCAST the receiver gets it")

lab.section("a broadcast to a port nobody listens on")
local probe = lab.udp(AF_INET, "127.0.0.1", "probe")
lab.call("setsockopt", probe, SOL_SOCKET, SO_BROADCAST, 1)
lab.call("connect", probe, {family = AF_INET, addr = "127.255.255.255", port = port + 1})
lab.call("send", probe, "anyone?")
lab.expect(lab.errno("recv", probe, 100) == EAGAIN, "no ICMP comes back for a broadcast: recv times out, no ECONNREFUSED")

lab.finish("connect() to 255.255.255.255 failed with EACCES until SO_BROADCAST was set, as did 127.255.255.255; then the receiver got the datagrams; a broadcast to a closed port brought back no refusal")
