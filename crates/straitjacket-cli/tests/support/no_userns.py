# Runs CMD as uid/gid 65534 where user namespaces are disabled: inside a user namespace of its
# own (the kernel counts user namespaces per namespace, kernel/ucount.c), whose
# user.max_user_namespaces is set to 0, so no process in it can make another. Needs root
# (CAP_SETUID and CAP_SETGID to write the full id maps). Usage: no_userns.py CMD [ARGS...]
import ctypes, os, sys

CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
go_r, go_w = os.pipe()
done_r, done_w = os.pipe()
pid = os.fork()
if pid == 0:
    # Outside the new namespace, with the privilege to map every id.
    os.read(go_r, 1)
    ppid = os.getppid()
    for f in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (ppid, f), "w") as m:
            m.write("0 0 4294967295\n")
    os.write(done_w, b"x")
    os._exit(0)
if libc.unshare(CLONE_NEWUSER) != 0:
    sys.exit("unshare: %s" % os.strerror(ctypes.get_errno()))
os.write(go_w, b"x")
os.read(done_r, 1)
os.waitpid(pid, 0)
with open("/proc/sys/user/max_user_namespaces", "w") as f:
    f.write("0\n")
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
os.execvp(sys.argv[1], sys.argv[1:])
