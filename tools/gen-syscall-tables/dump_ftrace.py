#!/usr/bin/env python3
"""Reduce this machine's ftrace syscall event formats to `name(type arg, ...)` lines.

Reads /sys/kernel/tracing/events/syscalls/sys_enter_*/format (needs tracefs mounted and
root) and writes sources/ftrace-<machine>.txt. Run it on a kernel whose version you record
in PROVENANCE.md; gen.py only reads the file it writes, never tracefs.
"""
import glob
import os
import platform
import re
import sys

TRACEFS = os.environ.get("TRACEFS", "/sys/kernel/tracing")
FIELD = re.compile(r"^\s*field:(.*?);\s*offset:")


def parse(path):
    args = []
    seen_nr = False
    with open(path) as f:
        for line in f:
            m = FIELD.match(line)
            if not m:
                continue
            decl = m.group(1).strip()
            if decl.endswith("__syscall_nr"):
                seen_nr = True
                continue
            if not seen_nr:
                continue
            # "const char * filename" -> type "const char *", name "filename"
            m2 = re.match(r"^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)$", decl)
            if not m2:
                sys.exit(f"{path}: cannot split field {decl!r}")
            args.append((m2.group(1).strip(), m2.group(2)))
    return args


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "sources", f"ftrace-{platform.machine()}.txt")
    files = sorted(glob.glob(f"{TRACEFS}/events/syscalls/sys_enter_*/format"))
    if not files:
        sys.exit(f"no syscall events under {TRACEFS} (mount tracefs, run as root)")
    lines = [
        f"# ftrace syscall prototypes from {TRACEFS}/events/syscalls/sys_enter_*/format",
        f"# kernel {platform.release()} {platform.machine()}; written by dump_ftrace.py",
    ]
    for path in files:
        name = os.path.basename(os.path.dirname(path))[len("sys_enter_"):]
        args = parse(path)
        lines.append(f"{name}(" + ", ".join(f"{t} {n}" for t, n in args) + ")")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(files)} events")


if __name__ == "__main__":
    main()
