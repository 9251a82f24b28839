-- experiment.lua: the helpers for writing an experiment, which the shipped ones use. An
-- experiment prints every call it makes and what the kernel answered, in the lesson's C style:
--
--   connect(sender, 255.255.255.255:40000): connect failed: Permission denied (13)
--   setsockopt(sender, SOL_SOCKET, SO_BROADCAST, 1) = 0
--
-- states what it expects with experiment.expect, and ends with experiment.finish, which prints
-- "verdict: ..." and exits 0 when every expectation held, 1 (naming what did not) otherwise.
--
-- local experiment = require("experiment") finds this file beside a script, in its lib/ folder
-- or its parent's (udplab adds them to package.path), else the copy inside udplab.

-- experiment.TIMEOUT is the receive timeout, in seconds, of the sockets experiment.udp opens;
-- experiment.failures lists the expectations that failed so far.
local experiment = {failures = {}, TIMEOUT = 0.3}

-- experiment.pack(...), experiment.unpack(t, i, j): Lua 5.4's table.pack and table.unpack, kept
-- under these names for scripts that use them (and for a Lua 5.1, which lacks them).
local pack = table.pack or function(...) return {n = select("#", ...), ...} end
local unpack = table.unpack or unpack
experiment.pack, experiment.unpack = pack, unpack

local names = setmetatable({}, {__mode = "k"})

-- experiment.name(v, name) makes v print as name in the calls shown.
function experiment.name(v, name)
  names[v] = name
  if type(v) == "userdata" and label then label(v, name) end -- its name in the picture too
  return v
end

-- constant names for the level and option arguments of setsockopt and getsockopt
local levels = {[SOL_SOCKET] = "SOL_SOCKET", [IPPROTO_IP] = "IPPROTO_IP", [IPPROTO_IPV6] = "IPPROTO_IPV6"}
local prefixes = {SOL_SOCKET = "SO_", IPPROTO_IP = "IP_", IPPROTO_IPV6 = "IPV6_"}
local function option_name(level, opt)
  local prefix = prefixes[levels[level] or ""]
  if prefix then
    for k, v in pairs(_G) do
      if v == opt and type(k) == "string" and k:sub(1, #prefix) == prefix then return k end
    end
  end
  return tostring(opt)
end
local flag_names = {[MSG_PEEK] = "MSG_PEEK", [MSG_DONTWAIT] = "MSG_DONTWAIT"}

local function show(v)
  if names[v] then return names[v] end
  if type(v) == "string" then
    if #v > 32 then return string.format("%q...", v:sub(1, 32)) end
    return string.format("%q", v)
  end
  if type(v) == "table" then
    if v.multiaddr then
      return string.format("{multiaddr=%s, interface=%s}", v.multiaddr, tostring(v.interface))
    end
    if v.family == AF_UNSPEC then return "{family=AF_UNSPEC}" end
    if v.addr then
      local host = v.addr:find(":") and "[" .. v.addr .. "]" or v.addr
      return host .. ":" .. tostring(v.port)
    end
    local list = {}
    for _, e in ipairs(v) do list[#list + 1] = show(e) end
    return "{" .. table.concat(list, ", ") .. "}"
  end
  return tostring(v)
end

-- experiment.describe(name, ...) is the call as shown: connect(client, 127.0.0.1:5000).
function experiment.describe(name, ...)
  local args = pack(...)
  local shown = {}
  for i = 1, args.n do
    local a = args[i]
    if (name == "setsockopt" or name == "getsockopt") and i == 2 then
      shown[i] = levels[a] or tostring(a)
    elseif (name == "setsockopt" or name == "getsockopt") and i == 3 then
      shown[i] = option_name(args[2], a)
    elseif (name == "send" or name == "recv" or name == "recvfrom") and i == 3 and flag_names[a] then
      shown[i] = flag_names[a]
    else
      shown[i] = show(a)
    end
  end
  return name .. "(" .. table.concat(shown, ", ") .. ")"
end

-- experiment.call(name, ...) calls the global function name with the arguments, prints the call
-- and what it returned (or "<name> failed: <text> (<errno>)"), and returns what it returned.
function experiment.call(name, ...)
  local r = pack(_G[name](...))
  local desc = experiment.describe(name, ...)
  if r[1] == nil and type(r[2]) == "string" and type(r[3]) == "number" then
    print(string.format("%s: %s failed: %s (%d)", desc, name, r[2], r[3]))
  else
    local shown = {}
    for i = 1, r.n do shown[i] = show(r[i]) end
    print(desc .. " = " .. table.concat(shown, ", "))
  end
  return unpack(r, 1, r.n)
end

-- experiment.errno(name, ...) is experiment.call, returning only the errno the call failed with
-- (nil when it succeeded).
function experiment.errno(name, ...)
  local r = pack(experiment.call(name, ...))
  if r[1] == nil then return r[3] end
  return nil
end

-- experiment.udp(family, host, name) opens a UDP socket bound to host on a port the kernel picks,
-- with the receive timeout experiment.TIMEOUT, and names it; it raises an error if the kernel
-- refuses.
function experiment.udp(family, host, name)
  local s = assert(socket(family, SOCK_DGRAM))
  experiment.name(s, name)
  assert(bind(s, host, 0))
  assert(settimeout(s, experiment.TIMEOUT))
  print(string.format("%s = socket(%s, SOCK_DGRAM), bound to %s", name,
    family == AF_INET6 and "AF_INET6" or "AF_INET", show(getsockname(s))))
  return s
end

-- experiment.udp_in(host, family, addr, name[, port[, shared]]) is experiment.udp inside a host of
-- a network{}: a UDP socket opened in host, bound to addr (its address, or "0.0.0.0" / "::") and
-- port (0: the kernel picks); shared sets SO_REUSEADDR first, so that several sockets of the host
-- can share the port.
function experiment.udp_in(host, family, addr, name, port, shared)
  local s = assert(host:socket(family, SOCK_DGRAM))
  experiment.name(s, name)
  if shared then assert(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1)) end
  assert(bind(s, addr, port or 0))
  assert(settimeout(s, experiment.TIMEOUT))
  print(string.format("%s = %s:socket(%s, SOCK_DGRAM), bound to %s", name, host.name,
    family == AF_INET6 and "AF_INET6" or "AF_INET", show(getsockname(s))))
  return s
end

-- experiment.on(host, method, ...) calls host:method(...) (down, up, firewall, impair, nat),
-- prints the call and what it returned, and returns it.
function experiment.on(host, method, ...)
  local r = pack(host[method](host, ...))
  local desc = experiment.describe(host.name .. ":" .. method, ...)
  if r[1] == nil then
    print(string.format("%s: failed: %s (%s)", desc, tostring(r[2]), tostring(r[3])))
  else
    print(desc .. " = " .. show(r[1]))
  end
  return unpack(r, 1, r.n)
end

-- experiment.timed(name, ...) is experiment.call, also printing how long the call took; it returns
-- the seconds, then what the call returned.
function experiment.timed(name, ...)
  local t0 = os.clock()
  local r = pack(experiment.call(name, ...))
  local dt = os.clock() - t0
  print(string.format("  (%.2f s)", dt))
  return dt, unpack(r, 1, r.n)
end

-- For the test that proves every check can fail: with UDPLAB_FLIP=n in the environment, the
-- n-th expectation is taken as its opposite (the script must then fail), and experiment.finish
-- says how many expectations there were.
local flip = tonumber(os.getenv("UDPLAB_FLIP") or "")
local expectations = 0

-- experiment.expect(ok, fmt, ...) records the expectation string.format(fmt, ...) as failed
-- unless ok, and returns ok.
function experiment.expect(ok, fmt, ...)
  expectations = expectations + 1
  if flip == expectations then
    ok = not ok
    print("  (UDPLAB_FLIP: this check is taken as its opposite)")
  end
  if not ok then
    local msg = string.format(fmt, ...)
    table.insert(experiment.failures, msg)
    print("  NOT AS EXPECTED: " .. msg)
  end
  return ok
end

-- experiment.section(title) prints a heading for one step of the experiment.
function experiment.section(title)
  print()
  print("-- " .. title)
  if section then section(title) end -- a band in the picture
end

-- experiment.finish(verdict) ends the experiment: "verdict: <verdict>" and exit 0 when every
-- expectation held, else the failed expectations on stderr and exit 1.
function experiment.finish(verdict)
  print()
  if flip then print("expectations: " .. expectations) end
  if #experiment.failures == 0 then
    print("verdict: " .. verdict)
    os.exit(0)
  end
  for _, f in ipairs(experiment.failures) do
    io.stderr:write(arg[0], ": not as stated: ", f, "\n")
  end
  print("verdict: the kernel did not behave as stated: " .. experiment.failures[1])
  os.exit(1)
end

return experiment
