-- luaposix.lua: the benchmark's operations in Lua 5.3 + luaposix (see ops.c).
-- Usage: lua5.3 luaposix.lua OP N
local S = require("posix.sys.socket")
local ptime = require("posix.time")
local ppoll = require("posix.poll")
local op, n = arg[1], tonumber(arg[2])
local payload = string.rep("x", 64)
local function now()
  local t = ptime.clock_gettime(ptime.CLOCK_MONOTONIC)
  return t.tv_sec + t.tv_nsec * 1e-9
end

local function bound()
  local s = assert(S.socket(S.AF_INET, S.SOCK_DGRAM, 0))
  assert(S.bind(s, {family = S.AF_INET, addr = "127.0.0.1", port = 0}))
  return s, S.getsockname(s)
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
  local s = assert(S.socket(S.AF_INET, S.SOCK_DGRAM, 0))
  local send, sendto, port = S.send, S.sendto, to.port
  local t0
  if op == "send" then
    assert(S.connect(s, to))
    t0 = now()
    for _ = 1, n do if send(s, payload) ~= 64 then error("send") end end
  elseif op == "sendto_kept" then
    t0 = now()
    for _ = 1, n do if sendto(s, payload, to) ~= 64 then error("sendto") end end
  else
    local AF_INET = S.AF_INET
    t0 = now()
    for _ = 1, n do if sendto(s, payload, {family = AF_INET, addr = "127.0.0.1", port = port}) ~= 64 then error("sendto") end end
  end
  total = now() - t0
elseif op == "recv" or op == "recvfrom" then
  local s, me = bound()
  local recv, recvfrom, sendto = S.recv, S.recvfrom, S.sendto
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
  S.connect(a, b_addr); S.connect(b, a_addr)
  local send, recv = S.send, S.recv
  local t0 = now()
  for _ = 1, n do
    send(a, payload)
    send(b, recv(b, 100))
    if recv(a, 100) ~= payload then error("pingpong") end
  end
  total = now() - t0
elseif op == "poll1000" then
  local fds, target, last = {}, nil, nil
  for i = 1, 1000 do
    local s, addr = bound()
    fds[s] = {events = {IN = true}}
    if i == 500 then target = addr end
    last = s
  end
  S.sendto(last, "x", target)
  local poll = ppoll.poll
  local t0 = now()
  for _ = 1, n do if poll(fds, 1000) ~= 1 then error("poll") end end
  total = now() - t0
elseif op == "rss" then
  local a, a_addr = bound()
  local b, b_addr = bound()
  S.connect(a, b_addr)
  local idle = rss()
  for _ = 1, n do S.send(a, payload); S.recv(b, 100) end
  print(idle .. " " .. rss())
  os.exit(0)
else
  io.stderr:write("luaposix.lua: unknown op " .. tostring(op) .. "\n")
  os.exit(2)
end
print(string.format("%.1f", total / n * 1e9))
