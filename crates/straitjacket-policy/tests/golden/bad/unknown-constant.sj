default kill
allow socket if family == AF_UNXI
