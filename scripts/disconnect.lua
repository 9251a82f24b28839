-- disconnect.lua: how is a connected UDP socket "disconnected"?
--
-- Claim (connect(2), exercise 1 of the lesson): connect() with an address whose family is
-- AF_UNSPEC dissolves the association. Afterwards getpeername() fails with ENOTCONN (107), send()
-- without an address fails with EDESTADDRREQ (89), and sendto() with an explicit address still
-- works.

local experiment = require("experiment")

local server = experiment.udp(AF_INET, "127.0.0.1", "server")
local client = experiment.udp(AF_INET, "127.0.0.1", "client")
local server_addr = getsockname(server)

experiment.section("connected")
experiment.call("connect", client, server_addr)
experiment.expect(tostring(experiment.call("getpeername", client)) == tostring(server_addr), "getpeername names the server")
experiment.expect(experiment.call("send", client, "connected") == 9, "send works while connected")
experiment.expect(experiment.call("recv", server, 100) == "connected", "the server receives it")

experiment.section("connect() to AF_UNSPEC")
experiment.expect(experiment.call("connect", client, {family = AF_UNSPEC}) == 0, "connect(AF_UNSPEC) returns 0")
experiment.expect(experiment.errno("getpeername", client) == ENOTCONN, "getpeername fails with ENOTCONN (107)")
experiment.expect(experiment.errno("send", client, "x") == EDESTADDRREQ, "send fails with EDESTADDRREQ (89)")
experiment.expect(experiment.call("sendto", client, "unconnected", server_addr) == 11, "sendto still works")
experiment.expect(experiment.call("recv", server, 100) == "unconnected", "the server receives the sendto")

experiment.finish("connect(AF_UNSPEC) dissolved the association: getpeername gave ENOTCONN, send gave EDESTADDRREQ, sendto still worked")
