"""ops.py: the benchmark's operations in Python (see ops.c). Usage: python3 ops.py OP N"""
import select
import socket
import sys
import time

op, n = sys.argv[1], int(sys.argv[2])
payload = b"x" * 64
now = time.perf_counter_ns


def bound():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return line.split()[1]


total = 0
if op in ("send", "sendto_kept", "sendto_hostport"):
    sink, to = bound()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = to[1]
    if op == "send":
        s.connect(to)
        send = s.send
        t0 = now()
        for _ in range(n):
            if send(payload) != 64:
                raise SystemExit("send")
    elif op == "sendto_kept":
        sendto = s.sendto
        t0 = now()
        for _ in range(n):
            if sendto(payload, to) != 64:
                raise SystemExit("sendto")
    else:
        sendto = s.sendto
        t0 = now()
        for _ in range(n):
            if sendto(payload, ("127.0.0.1", port)) != 64:
                raise SystemExit("sendto")
    total = now() - t0
elif op in ("recv", "recvfrom"):
    s, me = bound()
    for _ in range(0, n, 100):
        for _ in range(100):
            s.sendto(payload, me)
        t0 = now()
        if op == "recv":
            recv = s.recv
            for _ in range(100):
                if recv(100) != payload:
                    raise SystemExit("recv")
        else:
            recvfrom = s.recvfrom
            for _ in range(100):
                d, frm = recvfrom(100)
                if d != payload:
                    raise SystemExit("recvfrom")
        total += now() - t0
elif op == "pingpong":
    a, a_addr = bound()
    b, b_addr = bound()
    a.connect(b_addr)
    b.connect(a_addr)
    t0 = now()
    for _ in range(n):
        a.send(payload)
        b.send(b.recv(100))
        if a.recv(100) != payload:
            raise SystemExit("pingpong")
    total = now() - t0
elif op == "poll1000":
    socks, target = [], None
    p = select.poll()
    for i in range(1000):
        s, addr = bound()
        socks.append(s)
        p.register(s, select.POLLIN)
        if i == 499:
            target = addr
    socks[999].sendto(b"x", target)
    t0 = now()
    for _ in range(n):
        if len(p.poll(1000)) != 1:
            raise SystemExit("poll")
    total = now() - t0
elif op == "rss":
    a, a_addr = bound()
    b, b_addr = bound()
    a.connect(b_addr)
    idle = rss()
    for _ in range(n):
        a.send(payload)
        b.recv(100)
    print(idle, rss())
    sys.exit(0)
else:
    sys.exit("ops.py: unknown op " + op)
print("%.1f" % (total / n))
