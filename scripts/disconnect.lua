-- disconnect.lua: how is a connected UDP socket "disconnected"?
--
-- Claim (connect(2), exercise 1 of the lesson): connect() with an address whose family is
-- AF_UNSPEC dissolves the association. Afterwards getpeername() fails with ENOTCONN (107), send()
-- without an address fails with EDESTADDRREQ (89), and sendto() with an explicit address still
-- works.

local lab = require("lab")

local server = lab.udp(AF_INET, "127.0.0.1", "server")
local client = lab.udp(AF_INET, "127.0.0.1", "client")
local server_addr = getsockname(server)

lab.section("connected")
lab.call("connect", client, server_addr)
lab.expect(tostring(lab.call("getpeername", client)) == tostring(server_addr), "getpeername names the server")
lab.expect(lab.call("send", client, "connected") == 9, "send works while connected")
lab.expect(lab.call("recv", server, 100) == "connected", "the server receives it")

lab.section("connect() to AF_UNSPEC")
lab.expect(lab.call("connect", client, {family = AF_UNSPEC}) == 0, "connect(AF_UNSPEC) returns 0")
lab.expect(lab.errno("getpeername", client) == ENOTCONN, "getpeername fails with ENOTCONN (107)")
lab.expect(lab.errno("send", client, "x") == EDESTADDRREQ, "send fails with EDESTADDRREQ (89)")
lab.expect(lab.call("sendto", client, "unconnected", server_addr) == 11, "sendto still works")
lab.expect(lab.call("recv", server, 100) == "unconnected", "the server receives the sendto")

lab.finish("connect(AF_UNSPEC) dissolved the association: getpeername gave ENOTCONN, send gave EDESTADDRREQ, sendto still worked")
