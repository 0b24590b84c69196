#!/usr/bin/env python3
"""Start-up of two straitjacket binaries, A and B (say, before and after a change), on the same
work, interleaved: each round runs a batch of N starts of every row (the first row rotating)
and each row keeps its best batch. Minor page faults per start (the whole tree, from wait4)
are deterministic where wall time on a shared machine is not: compare them to judge a change.

Usage: tools/bench-ab.py A B [N] [ROUNDS]   (default 200 starts a batch, 5 rounds)
"""
import os
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__.strip())
a, b = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
work = {
    "run -- /bin/true": ["run", "--", "/bin/true"],
    "run --preset strict (killed at once)": ["run", "--preset", "strict", "--", "/bin/true"],
    "run --allow-read /tmp (fs rules)": ["run", "--allow-read", "/tmp", "--", "/bin/true"],
}
rows = [(f"{w} [{tag}]", [binary] + args) for w, args in work.items() for tag, binary in (("A", a), ("B", b))]
devnull = os.open("/dev/null", os.O_RDWR)


def start(argv):
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(argv[0], argv)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_minflt


best = {name: float("inf") for name, _ in rows}
faults = {}
for r in range(rounds):
    order = rows[r % len(rows):] + rows[:r % len(rows)]
    for name, argv in order:
        t = time.perf_counter()
        f = sum(start(argv) for _ in range(n))
        best[name] = min(best[name], (time.perf_counter() - t) / n)
        faults[name] = f / n
print(f"A = {a}\nB = {b}\n{n} starts a batch, best of {rounds} rounds")
print("| work | ms a start | minor faults a start |\n|---|---|---|")
for name, _ in rows:
    print(f"| {name} | {best[name] * 1000:.2f} | {faults[name]:.1f} |")
