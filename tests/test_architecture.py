"""The package's shape: import contracts (pyproject.toml, run by ``make lint``) that hold, no
import cycle, no private module imported from outside its package."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("advlib")


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "broken" in res.stdout and "0 broken" in res.stdout


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in graph.modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph.modules):
        if v not in index:
            visit(v)
    return out


def _package_inits(modules):
    # a package's __init__ importing its own submodules (re-exports) is not a cycle of design
    return {m for m in modules if any(o.startswith(m + ".") for o in modules)}


def test_no_import_cycle(graph):
    inits = _package_inits(graph.modules)
    bad = [c for c in _cycles(graph) if len(set(c) - inits) > 1]
    assert not bad, f"import cycles: {bad}"


def test_cycle_finder_finds_a_cycle():
    g = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        g.add_module(m)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.a")
    g.add_import(importer="p.c", imported="p.a")
    assert _cycles(g) == [["p.a", "p.b"]]


def test_no_private_module_imported_from_outside_its_package(graph):
    bad = []
    for m in sorted(graph.modules):
        name = m.rsplit(".", 1)[-1]
        if not name.startswith("_") or name.startswith("__"):
            continue
        package = m.rsplit(".", 1)[0]
        for importer in graph.find_modules_that_directly_import(m):
            if not (importer == package or importer.startswith(package + ".")):
                bad.append(f"{importer} imports {m}")
    assert not bad, bad
