#!/usr/bin/env python3
"""Builds a seccomp filter from a plain OCI LinuxSeccomp profile with libseccomp, the way runc
does (libcontainer/seccomp/seccomp_linux.go), for ONE architecture, and writes the raw BPF.

usage: oci_filter.py PROFILE.json ARCH OUT.bpf      (ARCH: x86_64, x86, x32, aarch64)

Prints a JSON report on stdout: {"unresolved": [names libseccomp does not know on ARCH],
"refused": [[index, name, error] for rules libseccomp refused]}.

runc's rules reproduced: a rule whose action equals the default is skipped; several args on
one index turn every arg into a rule of its own; names that do not resolve are skipped.
(runc fails on a refused rule; here it is reported so the test can say so.)
"""
import json
import sys

import seccomp

ARCHES = {
    "x86_64": seccomp.Arch.X86_64,
    "x86": seccomp.Arch.X86,
    "x32": seccomp.Arch.X32,
    "aarch64": seccomp.Arch.AARCH64,
}
OPS = {
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}


def action(name, errno):
    e = 1 if errno is None else errno
    return {
        "SCMP_ACT_KILL": seccomp.KILL,
        "SCMP_ACT_KILL_THREAD": seccomp.KILL,
        "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS,
        "SCMP_ACT_TRAP": seccomp.TRAP,
        "SCMP_ACT_ERRNO": seccomp.ERRNO(e),
        "SCMP_ACT_TRACE": seccomp.TRACE(e),
        "SCMP_ACT_ALLOW": seccomp.ALLOW,
        "SCMP_ACT_LOG": seccomp.LOG,
    }[name]


def main():
    path, arch, out = sys.argv[1:4]
    prof = json.load(open(path))
    default = action(prof["defaultAction"], prof.get("defaultErrnoRet"))
    f = seccomp.SyscallFilter(default)
    target = ARCHES[arch]
    f.remove_arch(seccomp.Arch.NATIVE)
    f.add_arch(target)
    unresolved, refused = set(), []
    for i, rule in enumerate(prof.get("syscalls") or []):
        act = action(rule["action"], rule.get("errnoRet"))
        if act == default:
            continue
        args = rule.get("args") or []
        conds = [
            seccomp.Arg(a["index"], OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0))
            for a in args
        ]
        counts = {}
        for a in args:
            counts[a["index"]] = counts.get(a["index"], 0) + 1
        groups = [[c] for c in conds] if any(n > 1 for n in counts.values()) else [conds]
        for name in rule["names"]:
            try:
                nr = seccomp.resolve_syscall(target, name)
            except Exception:
                nr = -1
            if nr == -1:  # __NR_SCMP_ERROR: runc skips the name
                unresolved.add(name)
                continue
            if nr < 0:
                # A pseudo number: absent on this arch (or, on x86, reached only through
                # socketcall/ipc, which libseccomp handles when the rule is added).
                unresolved.add(name)
            for g in groups:
                try:
                    f.add_rule(act, name, *g)
                except Exception as e:  # runc would fail here
                    refused.append([i, name, str(e)])
    with open(out, "wb") as fh:
        f.export_bpf(fh)
    json.dump({"unresolved": sorted(unresolved), "refused": refused}, sys.stdout)


if __name__ == "__main__":
    main()
