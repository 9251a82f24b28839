-- unreachable.lua: how does a connected UDP client learn that its peer is not there? The four
-- ways a peer can be absent on a real LAN, side by side.
--
-- Claims, on Linux, for a client on host a connected to a port on host b, sending, then
-- receiving (IP_RECVERR on, so that recverr can show the ICMP behind each error):
--   port closed:      b answers ICMP port unreachable: recv fails with ECONNREFUSED (111) at once.
--   host down:        ARP for the host gets no answer; after about 3 s (3 probes, 1 s apart) the
--                     kernel gives up and sends itself an ICMP host unreachable: recv fails with
--                     EHOSTUNREACH (113). (Had a sent to the host shortly before, its cached ARP
--                     entry would keep the datagrams going to a MAC nobody answers: silence.)
--   firewall drop:    nothing comes back: recv only times out (EAGAIN, 11).
--   firewall reject:  b answers ICMP "administratively prohibited" (type 3, code 13): recv fails
--                     with EHOSTUNREACH (113) at once.

local experiment = require("experiment")
local net = assert(network{"a", "b", "c"})
local PORT = 43211

local function attempt(title, peer, slow)
  experiment.section(title)
  local c = experiment.udp_in(net.a, AF_INET, net.a.addr, "client")
  experiment.call("setsockopt", c, IPPROTO_IP, IP_RECVERR, 1)
  experiment.call("settimeout", c, slow and 8 or 1)
  experiment.call("connect", c, peer.addr, PORT)
  experiment.call("send", c, "g1")
  local dt, data, msg, errno = experiment.timed("recv", c, 100)
  local e = recverr(c)
  if e then print("  recverr(client): " .. e.message) end
  close(c)
  return errno, dt, e
end

local server = experiment.udp_in(net.b, AF_INET, net.b.addr, "server", PORT)
close(server)
local errno, dt, e = attempt("port closed (nothing bound on b)", net.b)
experiment.expect(errno == ECONNREFUSED and dt < 0.5, "a closed port: ECONNREFUSED at once")
experiment.expect(e and e.origin == "icmp" and e.type == 3 and e.code == 3 and e.offender == net.b.addr, "the ICMP port unreachable came from b")

experiment.on(net.c, "down")
errno, dt, e = attempt("host down (c unplugged: ARP gets no answer)", net.c, true)
experiment.expect(errno == EHOSTUNREACH and dt > 1, "a host down: EHOSTUNREACH once ARP gave up")
experiment.expect(e and e.type == 3 and e.code == 1 and e.offender == net.a.addr, "the ICMP host unreachable came from a itself")
experiment.on(net.c, "up")

experiment.on(net.b, "firewall", "drop")
errno, dt = attempt("firewall drop on b", net.b)
experiment.expect(errno == EAGAIN, "a firewall that drops: only a timeout")

experiment.on(net.b, "firewall", "reject")
errno, dt, e = attempt("firewall reject on b", net.b)
experiment.expect(errno == EHOSTUNREACH and dt < 0.5, "a firewall that rejects: EHOSTUNREACH at once")
experiment.expect(e and e.type == 3 and e.code == 13, "its ICMP says administratively prohibited (type 3, code 13)")
experiment.on(net.b, "firewall", nil)

net:close()
experiment.finish("closed port: ECONNREFUSED at once; host down: EHOSTUNREACH after ARP gave up; firewall drop: a timeout; firewall reject: EHOSTUNREACH at once")
