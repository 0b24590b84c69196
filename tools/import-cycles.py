#!/usr/bin/env python3
"""Fails when the top-level modules of a crate import each other in a circle.

Every `crate::NAME` mentioned in a module's files (its tests included) is an edge from that
module to NAME. The runtime is meant to run one way (sandbox <- launch <- supervise <- learn),
and the pure crate's stages too (syntax -> resolve -> ir -> compile -> bpf); a circle means a
piece of one stage belongs in another.
Usage: tools/import-cycles.py [CRATE_SRC_DIR...]   (default: every crates/*/src)
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
dirs = [pathlib.Path(d) for d in sys.argv[1:]] or sorted(root.glob("crates/*/src"))
failed = False
for src in dirs:
    modules = {}
    for p in src.iterdir():
        name = p.stem if p.suffix == ".rs" else p.name
        if name in ("lib", "main") or name.startswith("."):
            continue
        files = [p] if p.is_file() else sorted(p.rglob("*.rs"))
        modules[name] = files
    edges = {m: set() for m in modules}
    for m, files in modules.items():
        for f in files:
            # Code only: a doc comment that links another module is not an import.
            text = "\n".join(l.split("//")[0] for l in f.read_text().splitlines())
            for target in re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text):
                if target in modules and target != m:
                    edges[m].add(target)
            for group in re.findall(r"\bcrate::\{([^}]*)\}", text):
                for target in re.findall(r"\b([a-z_][a-z0-9_]*)", group):
                    if target in modules and target != m:
                        edges[m].add(target)
    # Depth-first search for a back edge.
    state = {}
    stack = []

    def visit(m):
        global failed
        state[m] = "open"
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == "open":
                cycle = stack[stack.index(n):] + [n]
                print(f"{src}: import circle: {' -> '.join(cycle)}", file=sys.stderr)
                failed = True
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(modules):
        if m not in state:
            visit(m)
sys.exit(1 if failed else 0)
