-- pinned.lua: the lesson's whole experiment in one process, on an ephemeral loopback port.
--
-- A pinned server (udpconnectserver) and two connected clients (udpconnectclient2) run in the
-- lesson's order: the server receives client 1's "g1" and connect()s to client 1; client 1 gets
-- "Hi, g1"; client 2 sends "g2", which the kernel does not deliver to the server's socket (it is
-- connected to client 1 now) but answers with ICMP port unreachable, so client 2's recv() fails
-- with "Connection refused (111)". The three transcripts are printed as the lesson shows them.
-- Exit status 0 when the kernel behaved so, 1 with the difference when it did not.
--
-- usage: udplab scripts/pinned.lua

local MAXLINE, TIMEOUT = 4096, 2
local transcripts = {server = {}, client1 = {}, client2 = {}}
local function say(who, fmt, ...) table.insert(transcripts[who], string.format(fmt, ...)) end
local function fail(fmt, ...)
  io.stderr:write("pinned.lua: ", string.format(fmt, ...), "\n")
  os.exit(1)
end
local function check(v, what, err, errno)
  if not v then fail("%s failed: %s (%s)", what, tostring(err), tostring(errno)) end
  return v
end

-- The server: bound to 127.0.0.1 on a port the kernel picks.
local server = check(socket(AF_INET, SOCK_DGRAM), "socket")
label(server, "server") -- its name in the picture (udplab --diagram)
check(bind(server, "127.0.0.1", 0), "bind")
settimeout(server, TIMEOUT)
local server_addr = getsockname(server)

-- A client of udpconnectclient2's kind: connect()ed, send() then recv().
local function client(who, line)
  local s = check(socket(AF_INET, SOCK_DGRAM), "socket")
  label(s, who)
  check(connect(s, server_addr), "connect")
  settimeout(s, TIMEOUT)
  say(who, "now sending %s", line)
  say(who, "send bytes: %d ", check(send(s, line), "send"))
  return s
end
local function client_reply(who, s)
  local reply, err, errno = recv(s, MAXLINE)
  if reply then say(who, "%s", reply) else say(who, "recv failed: %s (%d)", err, errno) end
  return reply, errno
end

-- 1. client 1 sends g1; the server receives it and pins itself to client 1.
local c1 = client("client1", "g1")
local message, client_addr, errno = recvfrom(server, MAXLINE)
if not message then fail("the server's recvfrom failed: %s (%s)", tostring(client_addr), tostring(errno)) end
say("server", "received %d bytes: %s", #message, message)
check(connect(server, client_addr), "the server's connect")
say("server", "send bytes: %d ", check(send(server, "Hi, " .. message), "the server's send"))
local reply1 = client_reply("client1", c1)

-- 2. client 2 sends g2 to the same server.
local c2 = client("client2", "g2")
local reply2, errno2 = client_reply("client2", c2)

-- 3. the server's socket must not have received g2.
local stray = recv(server, MAXLINE, MSG_DONTWAIT)

print("server: udplab scripts/udpconnectserver.lua " .. server_addr.port)
for _, line in ipairs(transcripts.server) do print(line) end
print()
print("client 1: udplab scripts/udpconnectclient2.lua 127.0.0.1 " .. server_addr.port)
print("g1")
for _, line in ipairs(transcripts.client1) do print(line) end
print()
print("client 2: udplab scripts/udpconnectclient2.lua 127.0.0.1 " .. server_addr.port)
print("g2")
for _, line in ipairs(transcripts.client2) do print(line) end
print()

if reply1 ~= "Hi, g1" then fail("client 1 got %q, want \"Hi, g1\"", tostring(reply1)) end
if reply2 ~= nil or errno2 ~= ECONNREFUSED then
  fail("client 2 got %s, want recv failed: Connection refused (111)", reply2 and string.format("%q", reply2) or tostring(errno2))
end
if stray then fail("the pinned server received %q from client 2", stray) end
print("verdict: the pinned server answered client 1 only; client 2's datagram was refused by the kernel")
