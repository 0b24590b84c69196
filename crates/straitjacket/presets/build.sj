# Compilers and build tools with no network: the default policy, with sockets only for local
# IPC (Unix domain), as make, ninja, cargo's jobserver and compiler drivers need.
# Rules are tried in order, so this comes before the default's `allow socket`.
errno(EACCES) socket if family != AF_UNIX
include "default.sj"
