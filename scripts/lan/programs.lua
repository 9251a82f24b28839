-- programs.lua: the lesson's own C programs, compiled here, on three hosts of a LAN and across a
-- NAT: do they print the lesson's transcripts, line for line?
--
-- udplab ships the three programs in C (scripts/c: the same calls and output lines as the
-- lesson's, shipped("c/udpconnectserver.c") gives one). When a C compiler (cc) is found, this
-- compiles them and runs them on the lab's hosts with net.b:spawn and net.a:exec.
--
-- Claims, on Linux, with the pinned server on b:
--   the first client (a) prints "now sending g1", "send bytes: 2 " and "Hi, g1";
--   the second (c) prints "now sending g2", "send bytes: 2 ", then, on stderr,
--   "recv failed: Connection refused (111)", and exits 1: b's kernel refused its datagram;
--   the server prints "received 2 bytes: g1", "send bytes: 6 ", and on SIGINT
--   "received 0 datagrams" (the lesson's program leaves the first out of its count);
--   the lesson's first client (sendto/recvfrom), with no server on the host it names, prints
--   "recvfrom failed: Connection refused (111)".
--   Behind a masquerading router, the same: the server pins a's mapping, and c, behind the same
--   router, is refused through it.

local experiment = require("experiment")

local probe = assert(network{"x"})
local found = probe.x:exec({"cc", "--version"})
probe:close()
if not found then
  print("no C compiler (cc) here: the lesson's C programs cannot be built, so this experiment is skipped")
  experiment.finish("skipped: no C compiler")
end

-- build compiles the three programs into a new folder, and returns it.
local function build(host)
  local _, dir = host:exec{"mktemp", "-d", "/tmp/udplab-programs-XXXXXX"}
  dir = dir:gsub("\n$", "")
  for _, name in ipairs{"lesson.h", "udpconnectclient.c", "udpconnectclient2.c", "udpconnectserver.c"} do
    local f = assert(io.open(dir .. "/" .. name, "w"))
    f:write(assert(shipped("c/" .. name)))
    f:close()
  end
  for _, prog in ipairs{"udpconnectclient", "udpconnectclient2", "udpconnectserver"} do
    local status, _, err = host:exec{"cc", "-O2", "-o", dir .. "/" .. prog, dir .. "/" .. prog .. ".c"}
    if status ~= 0 then
      io.stderr:write(err)
      error("cc could not build " .. prog)
    end
  end
  print("built udpconnectclient, udpconnectclient2 and udpconnectserver in " .. dir)
  return dir
end

-- show prints a program's transcript as a terminal would show it.
local function show(who, status, out, err)
  print(string.format("  %s, exit %s:", who, tostring(status)))
  for line in (out .. err):gmatch("[^\n]*\n?") do
    if line ~= "" then io.write("    | ", line) end
  end
end

-- pinned runs the lesson's run on net: the server on the server host, client 1 on first,
-- client 2 on second, and checks each transcript against the lesson's.
local function pinned(dir, net, server, first, second, where)
  local srv = experiment.on(net[server], "spawn", {dir .. "/udpconnectserver"})
  local st1, out1, err1 = net[first]:exec({dir .. "/udpconnectclient2", net[server].addr}, {stdin = "g1\n", timeout = 10})
  show(first .. ": udpconnectclient2 " .. net[server].addr .. " < g1", st1, out1, err1)
  local st2, out2, err2 = net[second]:exec({dir .. "/udpconnectclient2", net[server].addr}, {stdin = "g2\n", timeout = 10})
  show(second .. ": udpconnectclient2 " .. net[server].addr .. " < g2", st2, out2, err2)
  experiment.call("stop", srv)
  local sts, outs, errs = srv:wait()
  show(server .. ": udpconnectserver, then Ctrl-C (SIGINT)", sts, outs, errs)
  experiment.expect(st1 == 0 and out1 == "now sending g1\nsend bytes: 2 \nHi, g1\n" and err1 == "",
    "%s: client 1 gets Hi, g1", where)
  experiment.expect(st2 == 1 and out2 == "now sending g2\nsend bytes: 2 \n" and err2 == "recv failed: Connection refused (111)\n",
    "%s: client 2 gets recv failed: Connection refused (111), exit 1", where)
  experiment.expect(sts == 0 and outs == "received 2 bytes: g1\nsend bytes: 6 \n\nreceived 0 datagrams\n",
    "%s: the server answered client 1, and counted as the lesson's does", where)
end

local net = assert(network{"a", "b", "c"})
local dir = build(net.a)

experiment.section("the lesson's first client, with no server: recvfrom fails")
local st, out, err = net.a:exec({dir .. "/udpconnectclient", net.b.addr}, {stdin = "g1\n", timeout = 10})
show("a: udpconnectclient " .. net.b.addr .. " < g1", st, out, err)
experiment.expect(st == 1 and out == "now sending g1\nsend bytes: 2 \n" and err == "recvfrom failed: Connection refused (111)\n",
  "udpconnectclient: recvfrom failed: Connection refused (111)")

experiment.section("the pinned server on b, client 1 on a, client 2 on c")
pinned(dir, net, "b", "a", "c", "one LAN")
net:close()

experiment.section("the same behind a NAT: a and c on LAN left behind r, the server on b (right)")
local nat = assert(network{
  lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"},
  hosts = {a = "left", c = "left", b = "right", r = {"left", "right"}},
})
experiment.on(nat.r, "nat", "right")
pinned(dir, nat, "b", "a", "c", "behind the NAT")
nat:close()

os.execute("rm -rf '" .. dir .. "'")
experiment.finish("the lesson's C programs printed the lesson's transcripts on the LAN and across the NAT: Hi, g1 for the first client, recv failed: Connection refused (111) for the second")
