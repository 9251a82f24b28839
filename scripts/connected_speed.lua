-- connected_speed.lua: the lesson's performance claim. Is send() on a connected UDP socket faster
-- than sendto() on an unconnected one?
--
-- Claim (the lesson, after Stevens): an unconnected sendto() makes the kernel set up the
-- destination and look up a route for every datagram, then forget them; a connected socket does
-- that once, at connect(), so its sends can be cheaper. The lesson's author admits the gain is
-- small. This script measures it rather than asserting it: the same payload, the same count,
-- connected send() and unconnected sendto() alternated over several rounds, each rate printed,
-- and the median ratio. Machines are noisy, so there is no pass or fail on the ratio: the script
-- exits 0 when both loops ran. Its verdict names a winner only when the median's distance from
-- 1 (the margin) is larger than the spread of the rounds (the largest ratio less the smallest)
-- and at least 2%: a round at 1.003 among rounds from 0.95 to 1.10 says nothing. When every
-- round is within 2% of 1 they are "about as fast"; otherwise the verdict is "inconclusive".
--
-- Usage: udplab connected_speed.lua [count [rounds]]   (40000 datagrams each way, 5 rounds)

local experiment = require("experiment")

local function positive(v, default, what)
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n or n < 1 then
    io.stderr:write(string.format("usage: connected_speed.lua [count [rounds]]: %s must be a positive integer, got %q\n", what, v))
    os.exit(2)
  end
  return n
end
local COUNT, ROUNDS = positive(arg[1], 40000, "count"), positive(arg[2], 5, "rounds")
local payload = string.rep("x", 64)

local sink = experiment.udp(AF_INET, "127.0.0.1", "sink") -- never read: the kernel drops what overflows
local sink_addr = getsockname(sink)
local connected = experiment.udp(AF_INET, "127.0.0.1", "connected")
experiment.call("connect", connected, sink_addr)
local unconnected = experiment.udp(AF_INET, "127.0.0.1", "unconnected")

local function rate(loop)
  local t0 = os.clock()
  local ok = loop()
  local dt = os.clock() - t0
  return ok and COUNT / dt or nil
end
local function connected_loop()
  local send, s, p = send, connected, payload
  for _ = 1, COUNT do
    if not send(s, p) then return false end
  end
  return true
end
local function unconnected_loop()
  local sendto, s, p, to = sendto, unconnected, payload, sink_addr
  for _ = 1, COUNT do
    if not sendto(s, p, to) then return false end
  end
  return true
end

experiment.section(string.format("%d rounds of %d datagrams of %d bytes each way", ROUNDS, COUNT, #payload))
local ratios = {}
for round = 1, ROUNDS do
  local c = rate(connected_loop)
  local u = rate(unconnected_loop)
  experiment.expect(c and u, "round %d: both loops sent every datagram", round)
  if not (c and u) then break end
  ratios[#ratios + 1] = c / u
  print(string.format("round %d: connected send %8.0f datagrams/s   unconnected sendto %8.0f datagrams/s   ratio %.3f",
    round, c, u, c / u))
end
table.sort(ratios)
local median = ratios[math.ceil(#ratios / 2)] or 0
print(string.format("median ratio (connected / unconnected): %.3f", median))

local low, high = ratios[1] or 0, ratios[#ratios] or 0
print(string.format("spread of the rounds: %.3f to %.3f", low, high))

-- verdict(low, median, high) is the verdict on rounds whose ratios go from low to high: a winner
-- only by a margin larger than the rounds' spread, and at least 2%.
local function verdict(low, median, high)
  local spread, margin = high - low, math.abs(median - 1)
  local figures = string.format("ratios %.3f to %.3f, median %.3f", low, high, median)
  if low >= 0.98 and high <= 1.02 then
    return string.format("connected send() and unconnected sendto() were about as fast here: every round within 2%% (%s)", figures)
  end
  if margin <= spread or margin < 0.02 then
    return string.format("inconclusive: the rounds' spread (%.3f) is not smaller than the median's distance from 1 (%.3f) (%s)", spread, margin, figures)
  end
  local word = median > 1 and "faster" or "slower"
  return string.format("connected send() was %s than unconnected sendto() here, by %.0f%%, more than the rounds' spread (%s)", word, margin * 100, figures)
end
experiment.finish(verdict(low, median, high))
