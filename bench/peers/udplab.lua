-- udplab.lua: the benchmark's operations in udplab (see ops.c for what each one is).
-- Usage: udplab udplab.lua OP N
local op, n = arg[1], tonumber(arg[2])
local payload = string.rep("x", 64)
local now = os.clock -- udplab's os.clock is wall time, in seconds, with nanoseconds

local function bound()
  local s = socket(AF_INET, SOCK_DGRAM)
  assert(bind(s, "127.0.0.1", 0))
  return s, getsockname(s)
end

local function rss()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then return kb end
  end
end

local total = 0
if op == "send" or op == "sendto_kept" or op == "sendto_hostport" then
  local sink, to = bound() -- kept: a closed sink would refuse
  local s = socket(AF_INET, SOCK_DGRAM)
  local send, sendto, port = send, sendto, to.port
  local t0
  if op == "send" then
    connect(s, to)
    t0 = now()
    for _ = 1, n do if send(s, payload) ~= 64 then error("send") end end
  elseif op == "sendto_kept" then
    t0 = now()
    for _ = 1, n do if sendto(s, payload, to) ~= 64 then error("sendto") end end
  else
    t0 = now()
    for _ = 1, n do if sendto(s, payload, "127.0.0.1", port) ~= 64 then error("sendto") end end
  end
  total = now() - t0
elseif op == "recv" or op == "recvfrom" then
  local s, me = bound()
  local recv, recvfrom, sendto = recv, recvfrom, sendto
  for _ = 1, n, 100 do
    for _ = 1, 100 do sendto(s, payload, me) end
    local t0 = now()
    if op == "recv" then
      for _ = 1, 100 do if recv(s, 100) ~= payload then error("recv") end end
    else
      for _ = 1, 100 do local d, from = recvfrom(s, 100); if d ~= payload then error("recvfrom") end end
    end
    total = total + now() - t0
  end
elseif op == "pingpong" then
  local a, a_addr = bound()
  local b, b_addr = bound()
  connect(a, b_addr); connect(b, a_addr)
  local send, recv = send, recv
  local t0 = now()
  for _ = 1, n do
    send(a, payload)
    send(b, recv(b, 100))
    if recv(a, 100) ~= payload then error("pingpong") end
  end
  total = now() - t0
elseif op == "poll1000" then
  local list, target = {}, nil
  for i = 1, 1000 do
    local s, addr = bound()
    list[i] = s
    if i == 500 then target = addr end
  end
  sendto(list[1000], "x", target)
  local poll = poll
  local t0 = now()
  for _ = 1, n do if #poll(list, 1) ~= 1 then error("poll") end end
  total = now() - t0
elseif op == "rss" then
  local a, a_addr = bound()
  local b, b_addr = bound()
  connect(a, b_addr)
  local idle = rss()
  for _ = 1, n do send(a, payload); recv(b, 100) end
  print(idle .. " " .. rss())
  os.exit(0)
else
  io.stderr:write("udplab.lua: unknown op " .. tostring(op) .. "\n")
  os.exit(2)
end
print(string.format("%.1f", total / n * 1e9))
