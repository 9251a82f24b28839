-- ratelimit.lua: "why did only some of my sends get refused?" Because the kernel that answers
-- with ICMP errors limits how many it sends.
--
-- Claims, on Linux, with every host keeping the kernel's defaults:
--   50 quick datagrams from a to a closed port on b (each from its own connected socket, so that
--   one refusal cannot hide the next: see pending_error.lua): only 6 are refused
--   (ECONNREFUSED, 111); the other 44 sockets hear nothing (EAGAIN, 11). b sends at most 6 ICMP
--   errors at once to one destination, then one per second: a token bucket per destination
--   (net.ipv4.icmp_ratelimit = 1000 ms a token, at most 6 saved).
--   The limit is per destination: 5 datagrams from c, right after, are all refused.
--   A second later a has one token back: of 5 more datagrams, 1 is refused.
--   With the limit lifted (network{..., icmp_ratelimit = 0}), all 20 of 20 are refused. (A
--   limit for all destinations together remains, net.ipv4.icmp_msgs_burst = 50 at once, then
--   icmp_msgs_per_sec = 1000 a second, each message counted as 0 to 2 at random: 20 stays well
--   under it; a burst of 100 gets some 50 to 70 refusals, depending on how fast it is sent.)

local experiment = require("experiment")
local PORT = 9 -- nothing is bound to it on b

-- burst sends n datagrams as fast as it can from host's n connected sockets to b's closed
-- port, waits for the errors to come, and returns how many sockets got ECONNREFUSED.
local function burst(net, host, n)
  local socks = {}
  for i = 1, n do
    socks[i] = assert(host:socket(AF_INET, SOCK_DGRAM))
    assert(connect(socks[i], net.b.addr, PORT))
  end
  local sent = 0
  for i = 1, n do
    if send(socks[i], "x") == 1 then sent = sent + 1 end
  end
  os.execute("sleep 0.3") -- what comes back comes within microseconds on a LAN
  local counts = {}
  for i = 1, n do
    local _, _, errno = recv(socks[i], 100, MSG_DONTWAIT)
    local name = errno and errname(errno) or "a datagram"
    counts[name] = (counts[name] or 0) + 1
    close(socks[i])
  end
  local shown = {}
  for name, k in pairs(counts) do shown[#shown + 1] = k .. " x " .. name end
  table.sort(shown)
  print(string.format("%d sockets on %s connected to b:%d, each sent \"x\" (%d sends returned 1); then recv(s, 100, MSG_DONTWAIT) on each: %s",
    n, host.name, PORT, sent, table.concat(shown, ", ")))
  return counts.ECONNREFUSED or 0, sent
end

local net = assert(network{"a", "b", "c"})
experiment.section("the kernel's defaults")
local refused, sent = burst(net, net.a, 50)
experiment.expect(sent == 50, "every send succeeded: %d of 50", sent)
experiment.expect(refused == 6, "6 of 50 refused (the burst of b's bucket for a): %d", refused)
local fromC = burst(net, net.c, 5)
experiment.expect(fromC == 5, "c has a bucket of its own: 5 of 5 refused, got %d", fromC)
os.execute("sleep 1.1")
print("(1.1 s later)")
local later = burst(net, net.a, 5)
experiment.expect(later >= 1 and later <= 2, "one token back after a second: 1 of 5 refused (2 if the pause took over 2 s), got %d", later)
net:close()

experiment.section("network{\"a\", \"b\", icmp_ratelimit = 0}: the limit per destination lifted")
local free = assert(network{"a", "b", icmp_ratelimit = 0})
local all = burst(free, free.a, 20)
experiment.expect(all == 20, "with no limit per destination, 20 of 20 refused: %d", all)
free:close()

experiment.finish(string.format("of 50 quick datagrams to a closed port %d were refused: b sends one destination at most 6 ICMP errors at once, then 1 a second; with that limit lifted, %d of 20", refused, all))
