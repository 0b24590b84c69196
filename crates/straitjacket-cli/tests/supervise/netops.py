# Random socket calls, one line of outcome each (the result, or the errno's name): run with the
# same SEED bare and under the supervisor with `net` rules that allow every address used, and
# the lines must agree: the supervisor carries out each call as the kernel would have.
# Usage: netops.py SEED L C F N [TAG]   (L: a port this program listens on, C: a closed port,
# F: a free port to bind; all on loopback. TAG makes the abstract socket names unique to one
# test run, so two runs on one machine never meet.)
import ctypes, errno, random, socket, struct, sys

seed, L, C, F = (int(a) for a in sys.argv[1:5])
n = int(sys.argv[5]) if len(sys.argv) > 5 else 300
tag = sys.argv[6].encode() if len(sys.argv) > 6 else b"0"
rnd = random.Random(seed)
LIBC = ctypes.CDLL(None, use_errno=True)

def call(f, *args):
    r = f(*args)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, errno.errorcode.get(e, str(e)))
    return r

def sin(ip, port):
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + bytes(8)

def sin6(ip, port):
    return (struct.pack("<H", socket.AF_INET6) + struct.pack(">H", port) + bytes(4)
            + socket.inet_pton(socket.AF_INET6, ip) + bytes(4))

def abstract(name):
    return struct.pack("<H", socket.AF_UNIX) + b"\0" + name

ADDRS = {
    "v4:L": sin("127.0.0.1", L), "v4:C": sin("127.0.0.1", C), "v4:F": sin("127.0.0.1", F),
    "v6:L": sin6("::1", L), "v6:C": sin6("::1", C), "v6:F": sin6("::1", F),
    "v4mapped:L": sin6("::ffff:127.0.0.1", L),
    "unspec": struct.pack("<H", socket.AF_UNSPEC) + bytes(14),
    "storage-v4:L": sin("127.0.0.1", L) + bytes(112),
    "storage-v6:L": sin6("::1", L) + bytes(100),
    # Not here: addresses too short for their family. The supervisor cannot read them and
    # answers EINVAL where the kernel may first find another fault (SECURITY.md).
    "abs:a": abstract(b"sj-netops-%s-%d-a" % (tag, seed)), "abs:b": abstract(b"sj-netops-%s-%d-b" % (tag, seed)),
}
KINDS = {
    "tcp4": (socket.AF_INET, socket.SOCK_STREAM), "udp4": (socket.AF_INET, socket.SOCK_DGRAM),
    "tcp6": (socket.AF_INET6, socket.SOCK_STREAM), "udp6": (socket.AF_INET6, socket.SOCK_DGRAM),
    "unix-stream": (socket.AF_UNIX, socket.SOCK_STREAM), "unix-dgram": (socket.AF_UNIX, socket.SOCK_DGRAM),
}

# What this program listens on (TCP and UDP on L, v4 and v6, and one abstract unix name).
# (A machine without IPv6 fails the v6 ones, bare and supervised alike: both print it.)
keep = []
def listen(fam, kind, addr):
    try:
        s = socket.socket(fam, kind)
        s.bind(addr)
        if kind == socket.SOCK_STREAM:
            s.listen(512)
        keep.append(s)
        print("setup", fam, kind, "-> ok")
    except OSError as e:
        print("setup", fam, kind, "-> error", errno.errorcode.get(e.errno, e.errno))
for fam, ip in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    listen(fam, socket.SOCK_STREAM, (ip, L))
    listen(fam, socket.SOCK_DGRAM, (ip, L))
listen(socket.AF_UNIX, socket.SOCK_STREAM, b"\0sj-netops-%s-%d-a" % (tag, seed))

slots = [None] * 4
desc = [""]

def op():
    i = rnd.randrange(len(slots))
    k = rnd.choice(["new", "new", "connect", "connect", "bind", "send", "send", "close"])
    if k == "new" or slots[i] is None:
        if slots[i] is not None:
            slots[i][1].close()
        name = rnd.choice(list(KINDS))
        slots[i] = (name, socket.socket(*KINDS[name]))
        return "%d new %s -> ok" % (i, name)
    name, s = slots[i]
    aname = rnd.choice(list(ADDRS))
    addr = ADDRS[aname]
    # A datagram to a closed port answers later, whenever ICMP comes back: not here.
    if name.startswith("udp") and aname.endswith(":C"):
        aname, addr = "v4:L", ADDRS["v4:L"]
    desc[0] = "%d %s %s %s" % (i, k, name, aname)
    if k == "connect":
        call(LIBC.connect, s.fileno(), addr, len(addr))
    elif k == "bind":
        call(LIBC.bind, s.fileno(), addr, len(addr))
    elif k == "send":
        # MSG_NOSIGNAL | MSG_DONTWAIT: never blocks, never kills.
        call(LIBC.sendto, s.fileno(), b"x", 1, 0x4000 | 0x40, addr, len(addr))
    else:
        s.close()
        slots[i] = None
    return "%s -> ok" % desc[0]

for j in range(n):
    desc[0] = "?"
    try:
        line = op()
    except OSError as e:
        line = "%s -> error %s" % (desc[0], errno.errorcode.get(e.errno, e.errno))
    print(j, line)
    sys.stdout.flush()
