#!/usr/bin/python3
"""Builds libseccomp's filter for an OCI/Docker seccomp profile and writes it raw.

Usage: lsc_export.py PROFILE.json OUT.bpf [--tree] [--arches x86_64,x86,x32] [--time N]

Expands Docker's archMap/includes/excludes the way Docker does for an unprivileged
container (no gated capabilities; includes.minKernel compared with this kernel), adds each
rule as runc does (several args on one index become separate rules), and exports with
libseccomp's default layout or its binary tree (SCMP_FLTATR_CTL_OPTIMIZE=2).
With --time N, builds and exports the filter N times (rules added from the parsed profile,
output to /dev/null) and prints the best time of one build in µs instead of writing OUT:
libseccomp's compile time, measured the way straitjacket's compile bench measures its own
(the binding's per-rule calls included, as runc's Go binding has them too).
Run with Debian's python3 (/usr/bin/python3), which has python3-seccomp.
"""
import json, os, sys
import seccomp

ARCH = {"x86_64": seccomp.Arch.X86_64, "x86": seccomp.Arch.X86, "x32": seccomp.Arch.X32,
        "aarch64": seccomp.Arch.AARCH64, "arm": seccomp.Arch.ARM}
OPS = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT,
       "SCMP_CMP_LE": seccomp.LE, "SCMP_CMP_GT": seccomp.GT, "SCMP_CMP_GE": seccomp.GE,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}

def action(name, errno):
    return {"SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_ERRNO": seccomp.ERRNO(errno),
            "SCMP_ACT_KILL": seccomp.KILL, "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS,
            "SCMP_ACT_TRAP": seccomp.TRAP, "SCMP_ACT_LOG": seccomp.LOG}[name]

def kernel():
    rel = os.uname().release.split(".")
    return (int(rel[0]), int(rel[1].split("-")[0]))

def applies(rule):
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("caps"):
        return False
    if inc.get("arches") and "amd64" not in inc["arches"]:
        return False
    if exc.get("arches") and "amd64" in exc["arches"]:
        return False
    if inc.get("minKernel") and kernel() < tuple(int(x) for x in inc["minKernel"].split(".")):
        return False
    return True

def build(p, arches, tree):
    f = seccomp.SyscallFilter(action(p["defaultAction"], p.get("defaultErrnoRet", 1)))
    for a in arches:
        if ARCH[a] != seccomp.Arch.NATIVE and a != "x86_64":
            f.add_arch(ARCH[a])
    if tree:
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for r in p.get("syscalls", []):
        if not applies(r):
            continue
        act = action(r["action"], r.get("errnoRet", 1))
        if act == action(p["defaultAction"], p.get("defaultErrnoRet", 1)):
            continue
        args = r.get("args") or []
        idx = [a["index"] for a in args]
        groups = [args] if len(set(idx)) == len(idx) else [[a] for a in args]
        for name in r.get("names") or [r.get("name")]:
            for g in groups:
                conds = [seccomp.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0))
                         if a["op"] == "SCMP_CMP_MASKED_EQ" else seccomp.Arg(a["index"], OPS[a["op"]], a["value"])
                         for a in g]
                try:
                    f.add_rule(act, name, *conds)
                except (RuntimeError, ValueError):
                    pass  # a name this libseccomp or these arches do not know: runc skips it too
    return f

def main():
    src, out = sys.argv[1], sys.argv[2]
    tree = "--tree" in sys.argv
    arches = ["x86_64"]
    if "--arches" in sys.argv:
        arches = sys.argv[sys.argv.index("--arches") + 1].split(",")
    p = json.load(open(src))
    if "--time" in sys.argv:
        import time
        n = int(sys.argv[sys.argv.index("--time") + 1])
        best = float("inf")
        with open(os.devnull, "wb") as null:
            for _ in range(n):
                t = time.perf_counter()
                build(p, arches, tree).export_bpf(null)
                best = min(best, time.perf_counter() - t)
        print(f"{best * 1e6:.1f}")
        return
    with open(out, "wb") as fh:
        build(p, arches, tree).export_bpf(fh)

main()
