-- reconnect.lua: exercise 1 of the lesson. Can a UDP socket be connect()ed more than once?
--
-- Claim: yes. Unlike TCP, where a second connect() fails with EISCONN, a UDP socket may call
-- connect() again at any time; each call replaces the recorded peer ("setpeername").
-- This script connects one client to receiver A, then B, then A again, and shows after each
-- connect() what getpeername() answers and which receiver a send() reaches.

local lab = require("lab")

local a = lab.udp(AF_INET, "127.0.0.1", "A")
local b = lab.udp(AF_INET, "127.0.0.1", "B")
local client = lab.udp(AF_INET, "127.0.0.1", "client")
local receivers = {A = a, B = b}

local function connect_and_send(name, msg)
  lab.section("connect the client to " .. name)
  local target = getsockname(receivers[name])
  lab.expect(lab.call("connect", client, target) == 0, "connect to %s succeeds", name)
  local peer = lab.call("getpeername", client)
  lab.expect(peer and tostring(peer) == tostring(target), "getpeername names %s", name)
  lab.call("send", client, msg)
  for other, r in pairs(receivers) do
    local data = lab.call("recv", r, 100, other == name and 0 or MSG_DONTWAIT)
    if other == name then
      lab.expect(data == msg, "%s receives %q", name, msg)
    else
      lab.expect(data == nil, "%s receives nothing", other)
    end
  end
end

connect_and_send("A", "first")
connect_and_send("B", "second")
connect_and_send("A", "third")

lab.finish("connect() on one UDP socket succeeded three times; each time getpeername changed and datagrams went to the new peer only")
