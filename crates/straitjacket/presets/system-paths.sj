# The paths a dynamically linked program needs to start, readable whenever a policy or the
# command line gives filesystem rules (unless `run --no-system-paths`). Paths that do not
# exist on this machine are skipped. `run` adds exec for the command's own binary and its
# interpreter (the ELF loader or the `#!` program). Not a policy of its own: include it.
default allow

# The loader and shared libraries.
fs read /lib, /lib64, /lib32, /usr/lib, /usr/lib64, /usr/lib32, /usr/libexec
fs read /etc/ld.so.cache, /etc/ld.so.conf, /etc/ld.so.conf.d, /etc/ld.so.preload
# Locale and time zone data.
fs read /usr/lib/locale, /usr/share/locale, /usr/share/i18n, /usr/share/zoneinfo, /etc/localtime
# Devices, and /proc. The supervisor lets a process read its own /proc/PID (and /proc/self)
# and the rest of /proc, but not other processes' /proc/PID (unless `unshare pid`, where only
# the sandbox's are there). Landlock cannot tell them apart (it would see /proc/self as the
# supervisor's when the rules are built), so for it the whole of /proc is readable.
fs read /dev/null, /dev/zero, /dev/urandom, /dev/random, /proc
fs write /dev/null, /dev/tty
