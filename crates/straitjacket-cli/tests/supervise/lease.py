# A lease the program holds on a file of its own, against an open and a truncate from
# another of its processes: those wait until the holder gives the lease up (fcntl(2),
# "Leases"), and meanwhile every other call is answered. One line per event, in an order the
# kernel fixes — run bare and under the supervisor, the lines must agree. A supervisor that
# waited for the lease itself would answer the other call only once the kernel broke the
# lease by force (/proc/sys/fs/lease-break-time, 45 s by default): the writer would finish
# first. Usage: lease.py DIR
import fcntl, os, signal, sys, time

d = sys.argv[1]
p = os.path.join(d, "leased")

def log(s):
    os.write(1, (s + "\n").encode())

def child(f):
    pid = os.fork()
    if pid == 0:
        try:
            f()
        except OSError as e:
            log("errno %d" % e.errno)
        os._exit(0)
    return pid

# The lease break's SIGIO, as a byte on a pipe written by the C-level handler itself
# (set_wakeup_fd): a Python-level handler runs only between bytecodes, so a signal that came
# just before os.read blocked would wait for a read that never returns.
broken_r, broken_w = os.pipe()
os.set_blocking(broken_w, False)
signal.signal(signal.SIGIO, lambda *_: None)
signal.set_wakeup_fd(broken_w)

def leased():
    with open(p, "w") as f:
        f.write("data")
    fd = os.open(p, os.O_RDONLY)
    # A read lease fails with EAGAIN while any process holds the file open for writing. The
    # supervisor closes its copy of a file it opened for the program just after handing it
    # over, so the previous round's writer may have been answered an instant before that
    # copy is gone: retry for a moment, as a program racing another writer would.
    for _ in range(200):
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
            return fd
        except BlockingIOError:
            time.sleep(0.01)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    return fd

def release(fd):
    log("holder: releasing")
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    os.close(fd)

def writer_open():
    fd = os.open(p, os.O_WRONLY)
    nonblock = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK != 0
    log("writer: opened, O_NONBLOCK %s" % nonblock)

def writer_truncate():
    os.truncate(p, 1)
    log("writer: truncated to %d" % os.stat(p).st_size)

def other():
    os.stat(p)
    os.close(os.open(os.path.join(d, "other"), os.O_WRONLY | os.O_CREAT, 0o600))
    log("other: answered")

for name, write in [("open", writer_open), ("truncate", writer_truncate)]:
    log("-- " + name)
    fd = leased()
    w = child(write)
    os.read(broken_r, 1)  # the writer's call is now waiting for the lease to break
    os.waitpid(child(other), 0)
    release(fd)
    os.waitpid(w, 0)

# A conflicting open that asks not to wait fails at once (and starts the break).
log("-- nonblocking open")
fd = leased()
os.waitpid(child(lambda: os.open(p, os.O_WRONLY | os.O_NONBLOCK) and log("opened")), 0)
os.read(broken_r, 1)
release(fd)
