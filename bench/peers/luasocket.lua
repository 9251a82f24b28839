-- luasocket.lua: the benchmark's operations in Lua 5.4 + LuaSocket (see ops.c).
-- Usage: lua5.4 luasocket.lua OP N
local socket = require("socket")
local op, n = arg[1], tonumber(arg[2])
local payload = string.rep("x", 64)
local now = socket.gettime

local function bound()
  local s = assert(socket.udp())
  assert(s:setsockname("127.0.0.1", 0))
  local ip, port = s:getsockname()
  return s, ip, tonumber(port)
end

local function rss()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then return kb end
  end
end

local total = 0
if op == "send" or op == "sendto_kept" or op == "sendto_hostport" then
  local sink, ip, port = bound() -- kept: a closed sink would refuse
  local s = assert(socket.udp())
  local t0
  if op == "send" then
    assert(s:setpeername(ip, port))
    t0 = now()
    for _ = 1, n do if s:send(payload) ~= 64 then error("send") end end
  else
    -- LuaSocket has no address object: the kept form and the host+port form are the same call
    t0 = now()
    for _ = 1, n do if s:sendto(payload, ip, port) ~= 64 then error("sendto") end end
  end
  total = now() - t0
elseif op == "recv" or op == "recvfrom" then
  local s, ip, port = bound()
  s:settimeout(2)
  for _ = 1, n, 100 do
    for _ = 1, 100 do s:sendto(payload, ip, port) end
    local t0 = now()
    if op == "recv" then
      for _ = 1, 100 do if s:receive(100) ~= payload then error("recv") end end
    else
      for _ = 1, 100 do local d, fip, fport = s:receivefrom(100); if d ~= payload then error("recvfrom") end end
    end
    total = total + now() - t0
  end
elseif op == "pingpong" then
  local a, aip, aport = bound()
  local b, bip, bport = bound()
  a:setpeername(bip, bport); b:setpeername(aip, aport)
  a:settimeout(2); b:settimeout(2)
  local t0 = now()
  for _ = 1, n do
    a:send(payload)
    b:send(b:receive(100))
    if a:receive(100) ~= payload then error("pingpong") end
  end
  total = now() - t0
elseif op == "poll1000" then
  local list, tip, tport = {}, nil, nil
  for i = 1, 1000 do
    local s, ip, port = bound()
    list[i] = s
    if i == 500 then tip, tport = ip, port end
  end
  list[1000]:sendto("x", tip, tport)
  local select = socket.select
  local t0 = now()
  for _ = 1, n do if #select(list, nil, 1) ~= 1 then error("select") end end
  total = now() - t0
elseif op == "rss" then
  local a, aip, aport = bound()
  local b, bip, bport = bound()
  a:setpeername(bip, bport)
  b:settimeout(2)
  local idle = rss()
  for _ = 1, n do a:send(payload); b:receive(100) end
  print(idle .. " " .. rss())
  os.exit(0)
else
  io.stderr:write("luasocket.lua: unknown op " .. tostring(op) .. "\n")
  os.exit(2)
end
print(string.format("%.1f", total / n * 1e9))
