-- unreachable.lua: how does a connected UDP client learn that its peer is not there? The four
-- ways a peer can be absent on a real LAN, side by side, each tried as the lesson's client does
-- (connect, send, recv) and again with IP_RECVERR on, which makes the kernel report every ICMP
-- error it ties to the socket and keep it on the error queue, where recverr shows it.
--
-- Claims, on Linux, for a client on host a connected to a port on host b (or c):
--   port closed:      b answers ICMP port unreachable (type 3, code 3), a hard error: recv fails
--                     with ECONNREFUSED (111) at once, IP_RECVERR or not.
--   host down:        ARP for c gets no answer; after about 3 s (3 probes, 1 s apart) a's kernel
--                     drops the datagram and sends itself an ICMP host unreachable (3/1), a soft
--                     error: without IP_RECVERR the socket is not told, and recv only times out
--                     (EAGAIN, 11); with it, recv fails with EHOSTUNREACH (113).
--   firewall drop:    nothing comes back: recv only times out (EAGAIN, 11), IP_RECVERR or not.
--   firewall reject:  b answers ICMP "administratively prohibited" (3/13), a hard error: recv
--                     fails with EHOSTUNREACH (113) at once, IP_RECVERR or not.
-- Left out of the default run, because it takes up to a minute: a host that a reached a moment
-- before goes down. a's ARP cache still holds its MAC address (reachable for 15 to 45 s at
-- random, then stale; at the next datagram 5 s of delay and 3 probes 1 s apart), so the
-- datagrams go out to a MAC nobody answers, in silence, and only after some 20 to 55 s does a
-- learn it as above. `udplab scripts/lan/unreachable.lua stale` runs that case alone.

local experiment = require("experiment")
local net = assert(network{"a", "b", "c"})
local PORT = 43211

-- attempt connects a client on a to peer's PORT, sends, and receives once, waiting at most wait
-- seconds; with queue, IP_RECVERR is on and the error queue is read after. It returns the
-- errno of the receive, the seconds it took, and the error queue's entry.
local function attempt(peer, queue, wait)
  local c = experiment.udp_in(net.a, AF_INET, net.a.addr, "client")
  if queue then experiment.call("setsockopt", c, IPPROTO_IP, IP_RECVERR, 1) end
  experiment.call("settimeout", c, wait)
  experiment.call("connect", c, peer.addr, PORT)
  experiment.call("send", c, "g1")
  local dt, data, msg, errno = experiment.timed("recv", c, 100)
  local e = queue and recverr(c) or nil
  if e then print("  recverr(client): " .. e.message) end
  close(c)
  return errno, dt, e
end

if arg[1] == "stale" then
  experiment.section("a host that was reachable goes down (c, after a datagram from a reached it)")
  local server = experiment.udp_in(net.c, AF_INET, net.c.addr, "server", PORT)
  local c = experiment.udp_in(net.a, AF_INET, net.a.addr, "client")
  experiment.call("setsockopt", c, IPPROTO_IP, IP_RECVERR, 1)
  experiment.call("connect", c, net.c.addr, PORT)
  experiment.call("send", c, "hello")
  experiment.call("recv", server, 100)
  experiment.on(net.c, "down")
  print("  (sending every second until a learns that c is gone)")
  local t0, errno, tries = os.time(), nil, 0
  settimeout(c, 1)
  repeat
    tries = tries + 1
    local n, _, e = send(c, "g1")
    local d, _, e2 = recv(c, 100)
    errno = e or (e2 ~= EAGAIN and e2) or nil
  until errno or os.time() - t0 > 90
  local took = os.time() - t0
  print(string.format("  after %d s and %d datagrams: %s", took, tries, errno and strerror(errno) or "nothing yet"))
  experiment.expect(errno == EHOSTUNREACH, "a learned it at last: EHOSTUNREACH")
  experiment.expect(took >= 15, "only after the ARP entry went stale (15 s at least): %d s", took)
  net:close()
  experiment.finish(string.format("a host that was reachable: %d s of silence, then EHOSTUNREACH", took))
end

experiment.section("port closed (nothing bound on b)")
local errno, dt = attempt(net.b, false, 1)
experiment.expect(errno == ECONNREFUSED and dt < 0.5, "a closed port: ECONNREFUSED at once")
local e
errno, dt, e = attempt(net.b, true, 1)
experiment.expect(errno == ECONNREFUSED and dt < 0.5, "a closed port with IP_RECVERR: ECONNREFUSED at once")
experiment.expect(e and e.origin == "icmp" and e.type == 3 and e.code == 3 and e.offender == net.b.addr, "the ICMP port unreachable came from b")

experiment.on(net.c, "down")
experiment.section("host down (c unplugged: ARP gets no answer)")
errno, dt = attempt(net.c, false, 5)
experiment.expect(errno == EAGAIN and dt > 4, "a host down, without IP_RECVERR: only the timeout")
errno, dt, e = attempt(net.c, true, 8)
experiment.expect(errno == EHOSTUNREACH and dt > 1 and dt < 7, "a host down, with IP_RECVERR: EHOSTUNREACH once ARP gave up")
experiment.expect(e and e.type == 3 and e.code == 1 and e.offender == net.a.addr, "the ICMP host unreachable came from a itself")
experiment.on(net.c, "up")

experiment.on(net.b, "firewall", "drop")
experiment.section("firewall drop on b")
errno = attempt(net.b, false, 1)
experiment.expect(errno == EAGAIN, "a firewall that drops: only a timeout")
errno, dt, e = attempt(net.b, true, 1)
experiment.expect(errno == EAGAIN and e == nil, "a firewall that drops, with IP_RECVERR: only a timeout, nothing queued")

experiment.on(net.b, "firewall", "reject")
experiment.section("firewall reject on b")
errno, dt = attempt(net.b, false, 1)
experiment.expect(errno == EHOSTUNREACH and dt < 0.5, "a firewall that rejects: EHOSTUNREACH at once")
errno, dt, e = attempt(net.b, true, 1)
experiment.expect(errno == EHOSTUNREACH and dt < 0.5, "a firewall that rejects, with IP_RECVERR: EHOSTUNREACH at once")
experiment.expect(e and e.type == 3 and e.code == 13 and e.offender == net.b.addr, "its ICMP says administratively prohibited (type 3, code 13), from b")
experiment.on(net.b, "firewall", nil)

net:close()
print()
print("(left out: a host that a reached a moment before; `udplab scripts/lan/unreachable.lua stale` shows it, in up to a minute)")
experiment.finish("closed port: ECONNREFUSED at once; host down: a timeout, or EHOSTUNREACH after ARP gave up with IP_RECVERR; firewall drop: a timeout; firewall reject: EHOSTUNREACH at once")
