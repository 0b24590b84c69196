#!/usr/bin/env python3
"""Extract named constants per architecture from C headers into sources/consts-<arch>.tsv.

For each ABI, two translation units are preprocessed with that ABI's compiler:
  * KERNEL: only Linux UAPI headers (<linux/*.h>, <asm/*.h>) -- the values the kernel
    reads in a system call, which is what a seccomp filter compares against;
  * LIBC: glibc headers, only for names the UAPI does not export (AF_*, PF_*, SOL_*,
    SOCK_*, MSG_*, SHUT_*, MNT_*, UMOUNT_NOFOLLOW, R_OK/W_OK/X_OK/F_OK, EFD_*, and the
    aliases O_RSYNC, O_ASYNC, O_FSYNC, MAP_ANON).
Every object-like macro whose name matches WANTED (plus the enum names in ENUM_NAMES) is
evaluated by the compiler itself: the values are emitted into a data section of an object
file, which is read back with objcopy. Names that do not evaluate to an integer constant
(pointers such as SIG_DFL, function calls such as glibc's SIGRTMIN) are dropped.
A name defined by both units takes the KERNEL value (e.g. O_LARGEFILE is 0100000 to the
kernel on x86_64, 0 in glibc).

Compilers (Debian package names): gcc (x86_64), gcc -m32 with libc6-dev-i386 (i386),
aarch64-linux-gnu-gcc from gcc-aarch64-linux-gnu (aarch64). x32 uses the x86_64 values:
the UAPI constants covered here do not differ between the two x86-64 ABIs.

This is the refresh step; gen.py only reads the .tsv files it writes.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "sources")

ARCHES = {
    # arch: (cc argv, objcopy, extra include dirs searched after the defaults)
    "x86_64": (["gcc", "-m64"], "objcopy", []),
    "i386": (["gcc", "-m32"], "objcopy", ["/usr/include/x86_64-linux-gnu"]),
    "aarch64": (["aarch64-linux-gnu-gcc"], "aarch64-linux-gnu-objcopy", []),
}

KERNEL_HEADERS = """
linux/errno.h linux/fcntl.h linux/stat.h linux/mman.h linux/sched.h linux/prctl.h
linux/signal.h linux/wait.h linux/futex.h linux/seccomp.h linux/personality.h linux/time.h
linux/resource.h linux/random.h linux/memfd.h linux/inotify.h linux/timerfd.h
linux/eventpoll.h linux/fs.h linux/mount.h linux/kcmp.h linux/ptrace.h linux/in.h
linux/net.h linux/sockios.h linux/termios.h linux/ioctl.h asm/ioctls.h asm/socket.h
linux/audit.h
""".split()
KERNEL_HEADERS_X86 = ["asm/prctl.h"]

LIBC_HEADERS = """
sys/socket.h netinet/in.h sys/mount.h unistd.h sys/eventfd.h fcntl.h sys/mman.h
""".split()

# Names taken from the KERNEL unit (plus every E* errno name that <linux/errno.h> defines).
WANTED = re.compile(r"""^(
    EPOLL[A-Z0-9_]+ |
    O_[A-Z0-9_]+ | F_[A-Z0-9_]+ | FD_CLOEXEC | FASYNC | AT_[A-Z0-9_]+ |
    IPPROTO_[A-Z0-9_]+ | SO_[A-Z0-9_]+ | SOL_SOCKET | SYS_[A-Z0-9_]+ |
    PROT_[A-Z0-9_]+ | MAP_[A-Z0-9_]+ | MADV_[A-Z0-9_]+ | MREMAP_[A-Z0-9_]+ | MCL_[A-Z0-9_]+ |
    MS_[A-Z0-9_]+ | MLOCK_[A-Z0-9_]+ |
    CLONE_[A-Z0-9_]+ | CSIGNAL | SCHED_[A-Z0-9_]+ |
    PR_[A-Z0-9_]+ | SIG[A-Z0-9]+ | SIG_(BLOCK|UNBLOCK|SETMASK) | SA_[A-Z0-9_]+ |
    FUTEX_[A-Z0-9_]+ | FUTEX2_[A-Z0-9_]+ | SECCOMP_[A-Z0-9_]+ |
    CLOCK_[A-Z0-9_]+ | TIMER_ABSTIME | RLIMIT_[A-Z0-9_]+ | RLIM_INFINITY |
    P_(ALL|PID|PGID|PIDFD) | W(NOHANG|UNTRACED|STOPPED|EXITED|CONTINUED|NOWAIT) |
    __W(NOTHREAD|ALL|CLONE) |
    S_I[A-Z]+ | GRND_[A-Z0-9_]+ | MFD_[A-Z0-9_]+ | IN_(CLOEXEC|NONBLOCK) |
    TFD_[A-Z0-9_]+ | SEEK_[A-Z]+ | RENAME_[A-Z0-9_]+ | KCMP_[A-Z0-9_]+ |
    PTRACE_[A-Z0-9_]+ | ARCH_[A-Z0-9_]+ | AUDIT_ARCH_[A-Z0-9_]+ |
    TC[A-Z0-9]+ | TIOC[A-Z0-9_]+ | FIO[A-Z0-9]+ | SIOC[A-Z0-9]+ |
    MOUNT_ATTR_[A-Z0-9_]+ | MOVE_MOUNT_[A-Z0-9_]+ | OPEN_TREE_[A-Z0-9_]+ |
    FSOPEN_[A-Z0-9_]+ | FSMOUNT_[A-Z0-9_]+ | RESOLVE_[A-Z0-9_]+ | CLOSE_RANGE_[A-Z0-9_]+
)$""", re.X)

# Names taken from the LIBC unit (only if the KERNEL unit lacks them).
WANTED_LIBC = re.compile(r"""^(
    AF_[A-Z0-9_]+ | PF_[A-Z0-9_]+ | SOL_[A-Z0-9_]+ | SOCK_[A-Z0-9_]+ | MSG_[A-Z0-9_]+ |
    SHUT_(RD|WR|RDWR) | MNT_(FORCE|DETACH|EXPIRE) | UMOUNT_NOFOLLOW |
    [RWXF]_OK | EFD_[A-Z0-9_]+ | O_RSYNC | O_ASYNC | O_FSYNC | MAP_ANON
)$""", re.X)

# UAPI enums without a same-named #define (include/uapi/linux/personality.h).
ENUM_NAMES = """
UNAME26 ADDR_NO_RANDOMIZE FDPIC_FUNCPTRS MMAP_PAGE_ZERO ADDR_COMPAT_LAYOUT
READ_IMPLIES_EXEC ADDR_LIMIT_32BIT SHORT_INODE WHOLE_SECONDS STICKY_TIMEOUTS
ADDR_LIMIT_3GB PER_LINUX PER_LINUX_32BIT PER_LINUX_FDPIC PER_SVR4 PER_SVR3 PER_SCOSVR3
PER_OSR5 PER_WYSEV386 PER_ISCR4 PER_BSD PER_SUNOS PER_XENIX PER_LINUX32 PER_LINUX32_3GB
PER_IRIX32 PER_IRIXN32 PER_IRIX64 PER_RISCOS PER_SOLARIS PER_UW7 PER_OSF4 PER_HPUX
PER_MASK
""".split()

# Kernel-internal or misleading names that match the patterns above.
EXCLUDE = {"SIGSTKSZ", "MINSIGSTKSZ", "SIGUNUSED"}


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def macros(cc, incs, headers):
    src = "".join(f"#include <{h}>\n" for h in headers)
    out = run(cc + ["-E", "-dM", "-x", "c", "-"] + incs, input=src).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"#define ([A-Za-z_][A-Za-z0-9_]*)(\s|$)", line)
        if m:  # object-like only: a function-like macro has "(" right after the name
            names.add(m.group(1))
    return names


def evaluate(cc, objcopy, incs, headers, names):
    """Values of `names` (those that are integer constant expressions), by compiling."""
    names = sorted(names)
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, "v.c")
        o = os.path.join(tmp, "v.o")
        b = os.path.join(tmp, "v.bin")
        for _ in range(20):
            head = "".join(f"#include <{h}>\n" for h in headers)
            body = "__attribute__((section(\"sjvals\"), used))\nconst long long sj_vals[] = {\n"
            first = head.count("\n") + 3
            body += "".join(f"(long long)({n}),\n" for n in names) + "};\n"
            with open(c, "w") as f:
                f.write(head + body)
            p = subprocess.run(cc + ["-c", "-w", "-o", o, c] + incs, capture_output=True,
                               text=True)
            if p.returncode == 0:
                break
            bad = {int(m.group(1)) - first for m in
                   re.finditer(re.escape(c) + r":(\d+):\d+: error", p.stderr)}
            bad = {i for i in bad if 0 <= i < len(names)}
            if not bad:
                sys.exit(f"compile failed outside the value list:\n{p.stderr[:2000]}")
            names = [n for i, n in enumerate(names) if i not in bad]
        else:
            sys.exit("could not converge on a compiling set of constants")
        run([objcopy, "-O", "binary", "--only-section=sjvals", o, b])
        data = open(b, "rb").read()
    vals = struct.unpack(f"<{len(names)}q", data)
    return dict(zip(names, vals))


def extract(arch):
    cc, objcopy, extra = ARCHES[arch]
    incs = [a for d in extra for a in ("-idirafter", d)]
    kheaders = KERNEL_HEADERS + (KERNEL_HEADERS_X86 if arch in ("x86_64", "i386") else [])
    errnos = {n for n in macros(cc, incs, ["linux/errno.h"]) if re.match(r"^E[A-Z0-9]+$", n)}
    kn = {n for n in macros(cc, incs, kheaders) if WANTED.match(n)} | set(ENUM_NAMES) | errnos
    kv = evaluate(cc, objcopy, incs, kheaders, kn - EXCLUDE)
    ln = {n for n in macros(cc, incs, LIBC_HEADERS) if WANTED_LIBC.match(n)} - set(kv)
    lv = evaluate(cc, objcopy, incs, LIBC_HEADERS, ln - EXCLUDE)
    ver = run(cc + ["-dumpfullversion"]).stdout.strip()
    return kv, lv, f"{' '.join(cc)} {ver}"


def main():
    arches = sys.argv[1:] or list(ARCHES)
    for arch in arches:
        kv, lv, tool = extract(arch)
        path = os.path.join(SOURCES, f"consts-{arch}.tsv")
        with open(path, "w") as f:
            f.write(f"# {arch} constants extracted by extract_consts.py with {tool}\n")
            f.write("# columns: name, value, origin (uapi = Linux UAPI headers, libc = glibc)\n")
            for n in sorted(set(kv) | set(lv)):
                origin, v = ("uapi", kv[n]) if n in kv else ("libc", lv[n])
                f.write(f"{n}\t{v}\t{origin}\n")
        print(f"{path}: {len(kv)} uapi + {len(lv)} libc")


if __name__ == "__main__":
    main()
