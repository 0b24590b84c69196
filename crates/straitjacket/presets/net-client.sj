# A network client: the default policy without servers. It may connect out over IPv4, IPv6
# and Unix sockets (and ask the kernel for its addresses over netlink), but not listen or
# accept connections, nor bind a port of its own that others could send to: a bind is to
# port 0 only (the kernel picks an ephemeral port, as for any client), for every socket type.
# Rules are tried in order, so these come before the default's.
errno(EPERM) listen, accept, accept4
errno(EAFNOSUPPORT) socket if family != AF_INET && family != AF_INET6 && family != AF_UNIX && family != AF_NETLINK
net connect any
net bind *:0
include "default.sj"
