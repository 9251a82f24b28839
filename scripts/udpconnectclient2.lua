-- udpconnectclient2.lua: the lesson's second client, udpconnectclient2: connect()ed, it uses
-- send() and recv(), as the lesson recommends on a connected socket.
--
-- Run two of them against scripts/udpconnectserver.lua: the first one's messages are answered
-- ("Hi, g1"); the server is then connected to it, so the second gets
-- "recv failed: Connection refused (111)". At the end of its input it exits 0.
--
-- usage: udplab scripts/udpconnectclient2.lua [IPaddress] [port]

local SERV_PORT, MAXLINE = 43211, 4096

local function usage()
  fatal(1, 0, "usage: udpconnectclient2 [IPaddress] [port]")
end
if #arg > 2 then usage() end
local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or SERV_PORT)
if not port or port ~= math.floor(port) or port < 1 or port > 65535 then usage() end

local s = socket(AF_INET, SOCK_DGRAM, 0)
local ok, err, errno = connect(s, {family = AF_INET, addr = host, port = port})
if not ok then fatal(1, errno, "connect failed") end

for send_line in io.lines() do
  print("now sending " .. send_line)
  local rt, err, errno = send(s, send_line)
  if not rt then fatal(1, errno, "send failed ") end
  io.write(string.format("send bytes: %d \n", rt))
  local recv_line, err, errno = recv(s, MAXLINE)
  if not recv_line then fatal(1, errno, "recv failed") end
  io.write(recv_line, "\n")
end
os.exit(0)
