-- connected_speed.lua: the lesson's performance claim. Is send() on a connected UDP socket faster
-- than sendto() on an unconnected one?
--
-- Claim (the lesson, after Stevens): an unconnected sendto() makes the kernel set up the
-- destination and look up a route for every datagram, then forget them; a connected socket does
-- that once, at connect(), so its sends can be cheaper. The lesson's author admits the gain is
-- small. This script measures it rather than asserting it: the same payload, the same count,
-- connected send() and unconnected sendto() alternated over several rounds, each rate printed,
-- and the median ratio. Machines are noisy, so there is no pass or fail on the ratio: the script
-- exits 0 when both loops ran, and its verdict says "inconclusive" when the rounds disagree (some
-- find connected sends faster, others slower).

local experiment = require("experiment")

local COUNT, ROUNDS = 40000, 5
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
if low < 1 and high > 1 then
  -- Some rounds found connected sends faster, others slower: a loaded machine, not the kernel.
  experiment.finish(string.format("inconclusive: the rounds disagree (ratios from %.3f to %.3f, median %.3f)", low, high, median))
end
local word = median > 1.02 and "faster" or median < 0.98 and "slower" or "about as fast"
experiment.finish(string.format("connected send() was %s than unconnected sendto() here in every round (ratios %.3f to %.3f, median %.3f)", word, low, high, median))
