-- udpconnectserver.lua: the lesson's "pinned" server, udpconnectserver.
--
-- It binds 0.0.0.0:port (43211 unless told otherwise), waits for a first datagram with
-- recvfrom(), then connect()s the socket to that client's address: from then on the kernel
-- delivers it only that client's datagrams, and answers any other client with ICMP port
-- unreachable, which that client sees as "Connection refused". It replies "Hi, <message>" to each
-- message until one starts with "goodbye". On Ctrl-C it prints how many datagrams it received.
--
-- Two bugs of the C program are not copied: its receive buffer was not re-terminated after
-- recv(), so a short message after a longer one was answered with stale bytes
-- ("Hi, shortnger message"); and its count left out the first datagram. Here every datagram
-- received is counted, the first included.
--
-- usage: udplab scripts/udpconnectserver.lua [port]

local SERV_PORT, MAXLINE = 43211, 4096

if #arg > 1 then fatal(1, 0, "usage: udpconnectserver [port]") end
local port = tonumber(arg[1] or SERV_PORT)
if not port or port ~= math.floor(port) or port < 1 or port > 65535 then
  fatal(1, 0, "usage: udpconnectserver [port]")
end

local s = socket(AF_INET, SOCK_DGRAM, 0)
local ok, err, errno = bind(s, {family = AF_INET, addr = INADDR_ANY, port = port})
if not ok then fatal(1, errno, "bind failed") end

local count = 0
signal(SIGINT, function()
  io.write(string.format("\nreceived %d datagrams\n", count))
  os.exit(0)
end)

-- on failure recvfrom returns nil, the error text and errno; on success the data and the sender
local message, client_addr, errno = recvfrom(s, MAXLINE)
if not message then fatal(1, errno, "recvfrom failed") end
count = count + 1
io.write(string.format("received %d bytes: %s\n", #message, message))

ok, err, errno = connect(s, client_addr)
if not ok then fatal(1, errno, "connect failed") end

while message:sub(1, 7) ~= "goodbye" do
  local rt, err, errno = send(s, "Hi, " .. message)
  if not rt then fatal(1, errno, "send failed ") end
  io.write(string.format("send bytes: %d \n", rt))
  local reply, err, errno = recv(s, MAXLINE)
  if not reply then fatal(1, errno, "recv failed") end
  count = count + 1
  message = reply
end
os.exit(0)
