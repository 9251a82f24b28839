-- reliable.lua: the interview question from the lesson's comments. How would you make UDP
-- reliable?
--
-- Answer shown here: sequence numbers, acknowledgements, retransmission on timeout, and a send
-- buffer whose entries are freed when acknowledged. A sender and a receiver talk through a lossy
-- relay socket, all three in this one script (poll() multiplexes them): the relay drops about
-- one datagram in five, in both directions, and holds some back to deliver them out of order,
-- with a fixed seed. The sender keeps a window of unacknowledged messages and resends the
-- oldest ones when no acknowledgement comes in time; the receiver buffers what arrives early,
-- delivers in sequence, and acknowledges cumulatively ("I have everything up to n").
-- Claim: all 200 messages are delivered in order, exactly once, despite the losses.

local experiment = require("experiment")

local MESSAGES, WINDOW, RTO = 200, 16, 0.02
local DROP, HOLD = 0.2, 0.1 -- the relay's drop and hold-back probabilities

-- Park-Miller minimal standard generator: the same sequence on every run and every host.
local seed = 20261126
local function random()
  seed = (seed * 16807) % 2147483647
  return seed / 2147483647
end

local sender = experiment.udp(AF_INET, "127.0.0.1", "sender")
local relay = experiment.udp(AF_INET, "127.0.0.1", "relay")
local receiver = experiment.udp(AF_INET, "127.0.0.1", "receiver")
local relay_addr = getsockname(relay)
experiment.call("connect", sender, relay_addr)
experiment.call("connect", receiver, relay_addr)
local sender_port, receiver_port = getsockname(sender).port, getsockname(receiver).port
local to_sender, to_receiver = getsockname(sender), getsockname(receiver)

-- the relay: forward each datagram to the other side, unless it drops or holds it back
local relayed, dropped, reordered = 0, 0, 0
local held = nil -- a datagram held back, sent after the next one
local function relay_one()
  local data, from = recvfrom(relay, 2048)
  if not data then return end
  relayed = relayed + 1
  local to = from.port == sender_port and to_receiver or to_sender
  local r = random()
  if r < DROP then
    dropped = dropped + 1
  elseif r < DROP + HOLD and not held then
    held = {data, to}
  else
    sendto(relay, data, to)
    if held then
      sendto(relay, held[1], held[2])
      held = nil
      reordered = reordered + 1
    end
  end
end

-- the receiver: buffer early arrivals, deliver in sequence, acknowledge cumulatively
local expected, early, delivered = 1, {}, {}
local function receive_one()
  local data = recv(receiver, 2048)
  if not data then return end
  local seq, payload = data:match("^DATA (%d+) (.*)$")
  seq = tonumber(seq)
  if seq and seq >= expected then early[seq] = payload end
  while early[expected] do
    delivered[#delivered + 1] = early[expected]
    early[expected] = nil
    expected = expected + 1
  end
  send(receiver, "ACK " .. (expected - 1))
end

-- the sender: a window of unacknowledged messages, freed on ACK, resent on timeout
local next_seq, acked = 1, 0
local unacked = {} -- seq -> time sent; the send buffer
local sent, retransmissions = 0, 0
local function message(seq) return string.format("message %03d", seq) end
local function transmit(seq)
  send(sender, "DATA " .. seq .. " " .. message(seq))
  unacked[seq] = os.clock()
  sent = sent + 1
end
local function fill_window()
  while next_seq <= MESSAGES and next_seq <= acked + WINDOW do
    transmit(next_seq)
    next_seq = next_seq + 1
  end
end
local function ack_one()
  local data = recv(sender, 2048)
  local n = data and tonumber(data:match("^ACK (%d+)$"))
  if n and n > acked then
    for seq = acked + 1, n do unacked[seq] = nil end -- free the send buffer
    acked = n
  end
end
local function resend_expired()
  local now = os.clock()
  for seq = acked + 1, math.min(acked + WINDOW, next_seq - 1) do
    if unacked[seq] and now - unacked[seq] > RTO then
      transmit(seq)
      retransmissions = retransmissions + 1
    end
  end
end

experiment.section(string.format("sending %d messages through a relay that drops %d%% and reorders", MESSAGES, DROP * 100))
local started = os.clock()
fill_window()
while acked < MESSAGES and os.clock() - started < 4 do
  for _, s in ipairs(poll({sender, relay, receiver}, RTO / 2)) do
    if s == relay then relay_one() elseif s == receiver then receive_one() else ack_one() end
  end
  fill_window()
  resend_expired()
end
local elapsed = os.clock() - started

local in_order = #delivered == MESSAGES
for i = 1, #delivered do
  if delivered[i] ~= message(i) then in_order = false end
end
local buffered = 0
for _ in pairs(unacked) do buffered = buffered + 1 end

print(string.format("delivered: %d of %d messages, in order and exactly once: %s", #delivered, MESSAGES, tostring(in_order)))
print(string.format("sender: %d data datagrams sent, %d retransmissions, %d left in the send buffer", sent, retransmissions, buffered))
print(string.format("relay: %d datagrams seen, %d dropped (loss rate %.1f%%), %d delivered out of order", relayed, dropped, 100 * dropped / relayed, reordered))
print(string.format("time: %.2f s", elapsed))
experiment.expect(in_order, "all %d messages delivered in order, exactly once", MESSAGES)
experiment.expect(acked == MESSAGES and buffered == 0, "every message acknowledged and its buffer freed")
experiment.expect(dropped > 0 and reordered > 0, "the relay really dropped and reordered datagrams")

experiment.finish(string.format("%d messages arrived in order exactly once over a relay that lost %.1f%% of datagrams, with %d retransmissions",
  #delivered, 100 * dropped / relayed, retransmissions))
