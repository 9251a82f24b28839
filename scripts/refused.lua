-- refused.lua: the lesson's first client, udpconnectclient, line for line.
--
-- A UDP socket is connect()ed to the server (127.0.0.1:43211 unless told otherwise), then each
-- line read from stdin is sent with sendto() and the reply read with recvfrom(). With no server
-- listening, connect() still succeeds (it sends nothing), sendto() succeeds, the kernel gets an
-- ICMP port unreachable back, and the next recvfrom() reports it:
--
--   $ udplab scripts/refused.lua
--   g1
--   now sending g1
--   send bytes: 2
--   recvfrom failed: Connection refused (111)
--
-- usage: udplab scripts/refused.lua [IPaddress] [port]

local SERV_PORT, MAXLINE = 43211, 4096

local function usage()
  fatal(1, 0, "usage: udpconnectclient [IPaddress] [port]")
end
if #arg > 2 then usage() end
local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or SERV_PORT)
if not port or port ~= math.floor(port) or port < 1 or port > 65535 then usage() end

local s = socket(AF_INET, SOCK_DGRAM, 0)
local server_addr = {family = AF_INET, addr = host, port = port}
local ok, err, errno = connect(s, server_addr)
if not ok then fatal(1, errno, "connect failed") end

for send_line in io.lines() do
  print("now sending " .. send_line)
  -- sendto() with the server's address on a connected socket, as the C program does
  local rt, err, errno = sendto(s, send_line, server_addr)
  if not rt then fatal(1, errno, "sendto failed") end
  io.write(string.format("send bytes: %d \n", rt))
  local recv_line, err, errno = recvfrom(s, MAXLINE)
  if not recv_line then fatal(1, errno, "recvfrom failed") end
  io.write(recv_line, "\n")
end
os.exit(0)
