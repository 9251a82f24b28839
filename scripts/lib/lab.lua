-- lab.lua: the helpers the experiment scripts share. Each experiment prints every call it makes
-- and what the kernel answered, in the lesson's C style:
--
--   connect(sender, 255.255.255.255:40000): connect failed: Permission denied (13)
--   setsockopt(sender, SOL_SOCKET, SO_BROADCAST, 1) = 0
--
-- then states what it expected with lab.expect, and ends with lab.finish, which prints
-- "verdict: ..." and exits 0 when every expectation held, 1 (naming what did not) otherwise.
--
-- scripts/<name>.lua finds this file through require("lab"): udplab adds the script's folder
-- and its lib/ to package.path.

local lab = {failures = {}, TIMEOUT = 0.3}

-- udplab's Lua is 5.1 (gopher-lua): no table.pack, table.unpack is unpack
local pack = table.pack or function(...) return {n = select("#", ...), ...} end
local unpack = table.unpack or unpack
lab.pack, lab.unpack = pack, unpack

local names = setmetatable({}, {__mode = "k"})

-- lab.name(v, name) makes v print as name in the calls shown, and names a socket in the
-- picture (label).
function lab.name(v, name)
  names[v] = name
  if type(v) == "userdata" and label then label(v, name) end
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

-- lab.describe(name, ...) is the call as shown: connect(client, 127.0.0.1:5000).
function lab.describe(name, ...)
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

-- lab.call(name, ...) calls the global function name with the arguments, prints the call and
-- what it returned (or "<name> failed: <text> (<errno>)"), and returns what it returned.
function lab.call(name, ...)
  local r = pack(_G[name](...))
  local desc = lab.describe(name, ...)
  if r[1] == nil and type(r[2]) == "string" and type(r[3]) == "number" then
    print(string.format("%s: %s failed: %s (%d)", desc, name, r[2], r[3]))
  else
    local shown = {}
    for i = 1, r.n do shown[i] = show(r[i]) end
    print(desc .. " = " .. table.concat(shown, ", "))
  end
  return unpack(r, 1, r.n)
end

-- lab.errno(name, ...) is lab.call, returning only the errno the call failed with (nil when it
-- succeeded).
function lab.errno(name, ...)
  local r = pack(lab.call(name, ...))
  if r[1] == nil then return r[3] end
  return nil
end

-- lab.udp(family, host, name) opens a UDP socket bound to host on a port the kernel picks, with
-- the receive timeout lab.TIMEOUT, and names it; it raises an error if the kernel refuses.
function lab.udp(family, host, name)
  local s = assert(socket(family, SOCK_DGRAM))
  lab.name(s, name)
  assert(bind(s, host, 0))
  assert(settimeout(s, lab.TIMEOUT))
  print(string.format("%s = socket(%s, SOCK_DGRAM), bound to %s", name,
    family == AF_INET6 and "AF_INET6" or "AF_INET", show(getsockname(s))))
  return s
end

-- lab.udp_in(host, family, addr, name[, port[, shared]]) is lab.udp inside a host of a
-- network{}: a UDP socket opened in host, bound to addr (its address, or "0.0.0.0" / "::") and
-- port (0: the kernel picks); shared sets SO_REUSEADDR first, so that several sockets of the
-- host can share the port.
function lab.udp_in(host, family, addr, name, port, shared)
  local s = assert(host:socket(family, SOCK_DGRAM))
  lab.name(s, name)
  if shared then assert(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1)) end
  assert(bind(s, addr, port or 0))
  assert(settimeout(s, lab.TIMEOUT))
  print(string.format("%s = %s:socket(%s, SOCK_DGRAM), bound to %s", name, host.name,
    family == AF_INET6 and "AF_INET6" or "AF_INET", show(getsockname(s))))
  return s
end

-- lab.on(host, method, ...) calls host:method(...) (down, up, firewall, impair, nat), prints the
-- call and what it returned, and returns it.
function lab.on(host, method, ...)
  local r = pack(host[method](host, ...))
  local desc = lab.describe(host.name .. ":" .. method, ...)
  if r[1] == nil then
    print(string.format("%s: failed: %s (%s)", desc, tostring(r[2]), tostring(r[3])))
  else
    print(desc .. " = " .. show(r[1]))
  end
  return unpack(r, 1, r.n)
end

-- lab.timed(name, ...) is lab.call, also printing how long the call took; it returns the
-- seconds, then what the call returned.
function lab.timed(name, ...)
  local t0 = os.clock()
  local r = pack(lab.call(name, ...))
  local dt = os.clock() - t0
  print(string.format("  (%.2f s)", dt))
  return dt, unpack(r, 1, r.n)
end

-- For the test that proves every check can fail: with UDPLAB_FLIP=n in the environment, the
-- n-th expectation is taken as its opposite (the script must then fail), and lab.finish says how
-- many expectations there were.
local flip = tonumber(os.getenv("UDPLAB_FLIP") or "")
local expectations = 0

-- lab.expect(ok, fmt, ...) records the expectation string.format(fmt, ...) as failed unless ok.
function lab.expect(ok, fmt, ...)
  expectations = expectations + 1
  if flip == expectations then
    ok = not ok
    print("  (UDPLAB_FLIP: this check is taken as its opposite)")
  end
  if not ok then
    local msg = string.format(fmt, ...)
    table.insert(lab.failures, msg)
    print("  NOT AS EXPECTED: " .. msg)
  end
  return ok
end

-- lab.section(title) prints a heading for one step of the experiment, and starts a band of
-- that title in the picture (section).
function lab.section(title)
  print()
  print("-- " .. title)
  if section then section(title) end
end

-- lab.finish(verdict) ends the experiment: "verdict: <verdict>" and exit 0 when every
-- expectation held, else the failed expectations on stderr and exit 1.
function lab.finish(verdict)
  print()
  if flip then print("expectations: " .. expectations) end
  if #lab.failures == 0 then
    print("verdict: " .. verdict)
    os.exit(0)
  end
  for _, f in ipairs(lab.failures) do io.stderr:write(arg[0], ": not as stated: ", f, "\n") end
  print("verdict: the kernel did not behave as stated: " .. lab.failures[1])
  os.exit(1)
end

return lab
