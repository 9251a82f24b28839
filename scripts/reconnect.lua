-- reconnect.lua: exercise 1 of the lesson. Can a UDP socket be connect()ed more than once?
--
-- Claim: yes. Unlike TCP, where a second connect() fails with EISCONN, a UDP socket may call
-- connect() again at any time; each call replaces the recorded peer ("setpeername").
-- This script connects one client to receiver A, then B, then A again, and shows after each
-- connect() what getpeername() answers and which receiver a send() reaches.
--
-- What a reconnect keeps, on an unbound socket (binding first would hide the first two):
--   The local address the first connect() chose sticks: connected to 127.0.0.1, the socket has
--   127.0.0.1 as its own address, and a connect() to a non-local address then fails with EINVAL
--   (22): that source cannot reach it.
--   connect(AF_UNSPEC) gives back the port the first connect() bound automatically: the next
--   connect() picks a new one.
--   A pending error survives a reconnect: the refusal from the old peer is reported after it.
--   Datagrams queued from the old peer stay queued: the next recv still returns them.

local experiment = require("experiment")

local a = experiment.udp(AF_INET, "127.0.0.1", "A")
local b = experiment.udp(AF_INET, "127.0.0.1", "B")
local client = experiment.udp(AF_INET, "127.0.0.1", "client")
local receivers = {A = a, B = b}

local function connect_and_send(name, msg)
  experiment.section("connect the client to " .. name)
  local target = getsockname(receivers[name])
  experiment.expect(experiment.call("connect", client, target) == 0, "connect to %s succeeds", name)
  local peer = experiment.call("getpeername", client)
  experiment.expect(peer and tostring(peer) == tostring(target), "getpeername names %s", name)
  experiment.call("send", client, msg)
  for other, r in pairs(receivers) do
    local data = experiment.call("recv", r, 100, other == name and 0 or MSG_DONTWAIT)
    if other == name then
      experiment.expect(data == msg, "%s receives %q", name, msg)
    else
      experiment.expect(data == nil, "%s receives nothing", other)
    end
  end
end

connect_and_send("A", "first")
connect_and_send("B", "second")
connect_and_send("A", "third")

local function unbound(name)
  local s = experiment.name(assert(socket(AF_INET, SOCK_DGRAM)), name)
  assert(settimeout(s, experiment.TIMEOUT))
  print(name .. " = socket(AF_INET, SOCK_DGRAM), not bound")
  return s
end

experiment.section("the local address the first connect() chose sticks")
local fresh = unbound("fresh")
experiment.call("connect", fresh, getsockname(a))
local me = experiment.call("getsockname", fresh)
experiment.expect(me and me.addr == "127.0.0.1", "connect() bound the socket to 127.0.0.1")
experiment.expect(experiment.errno("connect", fresh, "192.0.2.1", 9) == EINVAL, "a connect() to a non-local address then fails with EINVAL (22)")

experiment.section("connect(AF_UNSPEC) gives back the automatic port")
local roamer = unbound("roamer")
experiment.call("connect", roamer, getsockname(a))
local first = experiment.call("getsockname", roamer)
experiment.call("connect", roamer, {family = AF_UNSPEC})
local dissolved = experiment.call("getsockname", roamer)
experiment.expect(dissolved and dissolved.port == 0, "after AF_UNSPEC the socket has no port")
experiment.call("connect", roamer, getsockname(b))
local second = experiment.call("getsockname", roamer)
experiment.expect(first and second and second.port ~= 0 and second.port ~= first.port, "the next connect() picked a new port")

experiment.section("a pending error survives a reconnect")
local probe = experiment.udp(AF_INET, "127.0.0.1", "probe")
local closed = getsockname(probe)
experiment.call("close", probe)
local hurt = experiment.udp(AF_INET, "127.0.0.1", "hurt")
experiment.call("connect", hurt, closed)
experiment.call("send", hurt, "to nobody")
experiment.call("poll", {hurt}, 1)
experiment.call("connect", hurt, getsockname(a))
experiment.expect(experiment.errno("recv", hurt, 100) == ECONNREFUSED, "the refusal from the old peer is reported after the reconnect")

experiment.section("datagrams queued from the old peer stay queued")
local listener = experiment.udp(AF_INET, "127.0.0.1", "listener")
experiment.call("connect", listener, getsockname(a))
experiment.call("sendto", a, "queued from A", getsockname(listener))
experiment.call("poll", {listener}, 1)
experiment.call("connect", listener, getsockname(b))
local queued, from = experiment.call("recvfrom", listener, 100)
experiment.expect(queued == "queued from A" and tostring(from) == tostring(getsockname(a)), "the next recv still returns A's datagram")

experiment.finish("connect() on one UDP socket succeeded three times, each time moving the peer; the first local address stuck (EINVAL for a non-local peer), AF_UNSPEC gave back the port, and a pending error and queued datagrams outlived the reconnect")
