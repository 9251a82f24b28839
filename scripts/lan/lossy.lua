-- lossy.lua: reliable.lua's protocol over a real lossy link. Does sequence numbering,
-- acknowledgement and retransmission still deliver everything when the kernel drops datagrams?
--
-- Claim: with a's link losing about one UDP datagram in five each way (a:impair{loss = 0.2}, an
-- nftables rule in a's namespace that drops at random), a sender on a and a receiver on b still
-- deliver all 100 messages, in order and exactly once: the receiver acknowledges cumulatively
-- ("I have everything up to n"), buffers what comes early, and the sender resends what is not
-- acknowledged in time. The loss is measured first (100 plain datagrams, some of which must go
-- missing), so that the verdict fails on a link that loses nothing.

local experiment = require("experiment")
local net = assert(network{"a", "b"})
local MESSAGES, WINDOW, RTO, PORT = 100, 8, 0.05, 43500

experiment.on(net.a, "impair", {loss = 0.2})
local sender = experiment.udp_in(net.a, AF_INET, net.a.addr, "sender")
local receiver = experiment.udp_in(net.b, AF_INET, net.b.addr, "receiver", PORT)
experiment.call("connect", sender, net.b.addr, PORT)
experiment.call("connect", receiver, getsockname(sender))

experiment.section("the link's loss, measured: 100 datagrams with no protocol")
for i = 1, 100 do send(sender, "probe") end
local arrived = 0
while recv(receiver, 100) do arrived = arrived + 1 end
print(string.format("%d of 100 arrived", arrived))
experiment.expect(arrived < 100, "the link loses datagrams")

experiment.section("the protocol: sequence numbers, cumulative acknowledgements, resends")

local sent_at, next_seq, acked, sends = {}, 1, 0, 0
local delivered, early, acks_sent = {}, {}, 0
local expected = 1

local function transmit(seq)
  send(sender, string.format("%d:message %03d", seq, seq))
  sent_at[seq] = os.clock()
  sends = sends + 1
end

local deadline = os.clock() + 30
while acked < MESSAGES and os.clock() < deadline do
  while next_seq <= MESSAGES and next_seq <= acked + WINDOW do
    transmit(next_seq)
    next_seq = next_seq + 1
  end
  for _, s in ipairs(poll({sender, receiver}, RTO / 2)) do
    if s == receiver then
      local data = recv(receiver, 200)
      local seq, text = (data or ""):match("^(%d+):(.*)$")
      seq = tonumber(seq)
      if seq and seq >= expected and not early[seq] then early[seq] = text end
      while early[expected] do
        delivered[#delivered + 1] = early[expected]
        early[expected] = nil
        expected = expected + 1
      end
      send(receiver, "ack:" .. (expected - 1))
      acks_sent = acks_sent + 1
    else
      local n = tonumber(((recv(sender, 100) or ""):match("^ack:(%d+)$")))
      if n and n > acked then acked = n end
    end
  end
  for seq = acked + 1, next_seq - 1 do
    if os.clock() - sent_at[seq] > RTO then transmit(seq) end
  end
end

local in_order = #delivered == MESSAGES
for i, text in ipairs(delivered) do
  if text ~= string.format("message %03d", i) then in_order = false end
end
print(string.format("sent %d datagrams for %d messages (%d resends); the receiver acknowledged %d times",
  sends, MESSAGES, sends - MESSAGES, acks_sent))
print(string.format("delivered: %d of %d messages, in order and exactly once: %s", #delivered, MESSAGES, tostring(in_order)))
experiment.expect(in_order, "every message delivered, in order, once")
experiment.on(net.a, "impair", nil)

net:close()
experiment.finish(string.format("the link lost %d of 100 plain datagrams; with the protocol all %d messages arrived in order, %d resends making up for the losses",
  100 - arrived, MESSAGES, sends - MESSAGES))
