#!/usr/bin/env python3
"""Fails when modules of one binding import each other in a cycle.

Reads the import statements of bindings/*/src (Rust `crate::module`), python/flowai
(relative imports) and node/*.js (`require('./module')`), builds one graph per binding and
prints every cycle found. Exit status 1 when there is one.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def rust_graph(src: pathlib.Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in src.rglob("*.rs"):
        name = path.stem if path.stem not in ("mod", "lib") else path.parent.name
        text = path.read_text(encoding="utf-8")
        graph.setdefault(name, set()).update(
            m for m in re.findall(r"crate::(\w+)", text) if m != name
        )
        # `use crate::{a, b::c}` lists several modules in braces.
        for group in re.findall(r"crate::\{([^}]*)\}", text):
            graph[name].update(
                part.strip().split("::")[0] for part in group.split(",") if part.strip()
            )
    return graph


def python_graph(package: pathlib.Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        targets = set(re.findall(r"^\s*from \.(\w+) import", text, re.M))
        for names in re.findall(r"^\s*from \. import ([\w, ]+)", text, re.M):
            targets.update(n.strip() for n in names.split(","))
        graph[path.stem] = {t for t in targets if t != path.stem}
    return graph


def node_graph(folder: pathlib.Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        found = re.findall(r"require\(['\"]\./([\w.-]+?)(?:\.js)?['\"]\)", text)
        found += re.findall(r"from ['\"]\./([\w.-]+?)(?:\.js)?['\"]", text)
        graph[path.stem] = {f for f in found if f != path.stem}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "active"
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "active":
                found.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def main() -> int:
    graphs = {
        f"bindings/{crate.name}": rust_graph(crate / "src")
        for crate in sorted((ROOT / "bindings").iterdir())
        if (crate / "src").is_dir()
    }
    graphs["python/flowai"] = python_graph(ROOT / "python" / "flowai")
    graphs["node"] = node_graph(ROOT / "node")
    bad = 0
    for name, graph in graphs.items():
        for cycle in cycles(graph):
            print(f"{name}: import cycle {' -> '.join(cycle)}")
            bad += 1
    print(f"import cycles: {bad} in {len(graphs)} bindings ({sum(len(g) for g in graphs.values())} modules)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
