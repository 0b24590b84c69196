#!/usr/bin/python3
"""Another runtime: installs a seccomp filter with libseccomp (as crun does), sends its
listener over the unix socket at argv[1] (as runc and crun do for an OCI listenerPath), then
makes the calls the agent at the other end judges, printing how each went."""
import errno
import os
import socket
import sys

import seccomp

f = seccomp.SyscallFilter(seccomp.ALLOW)
for name in ("uname", "getcwd", "mkdir", "getppid"):
    f.add_rule(seccomp.NOTIFY, name)
f.load()
listener = f.get_notify_fd()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
socket.send_fds(s, [b"listener"], [listener])
os.close(listener)
s.close()


def attempt(name, call):
    try:
        call()
        print(name, "ok", flush=True)
    except OSError as e:
        print(name, errno.errorcode[e.errno], flush=True)


attempt("uname", os.uname)
attempt("getcwd", os.getcwd)
attempt("mkdir", lambda: os.mkdir(sys.argv[2]))
attempt("getppid", os.getppid)
print("done", flush=True)
