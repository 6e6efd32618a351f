"""No import cycle between riskoff's modules: data flows one way, one stage per package.

The graph is read from the source with ``ast``, not from ``sys.modules``, so that every import
counts, including those inside function bodies: a deferred import of a sibling is exactly how a
cycle hides (it works at run time until someone moves the import to the top). An import of a
package's ``__init__`` is an edge to the package only for the names the ``__init__`` defines
itself; a name it merely re-exports is an edge to the module it comes from, and ``from pkg import
sub`` is an edge to the submodule.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module under ``root / "riskoff"``."""
    out = {}
    for path in sorted((root / "riskoff").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _absolute(node: ast.ImportFrom, here: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = here.split(".") if is_pkg else here.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _own_names(tree: ast.Module) -> set[str]:
    """Names a module binds itself at top level (defs, classes, assignments), not by importing."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
    return names


def _reexports(tree: ast.Module, here: str) -> dict[str, str]:
    """Name -> module it is imported from, for a package ``__init__``'s top-level imports."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, here, True)
            for a in node.names:
                out[a.asname or a.name] = source
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the riskoff modules it imports (anywhere in its body)."""
    files = module_files(root)
    trees = {m: ast.parse(p.read_text(), str(p)) for m, p in files.items()}
    packages = {m for m, p in files.items() if p.name == "__init__.py"}
    own = {m: _own_names(trees[m]) for m in packages}
    reexported = {m: _reexports(trees[m], m) for m in packages}

    def target(module: str, name: str | None) -> str | None:
        """The module an import of ``name`` from ``module`` really depends on."""
        if module not in files:
            return None
        if name is None or module not in packages:
            return module
        if f"{module}.{name}" in files:
            return f"{module}.{name}"
        if name in own[module]:
            return module
        source = reexported[module].get(name)
        return target(source, name) if source and source != module else module

    graph: dict[str, set[str]] = {m: set() for m in files}
    for here, tree in trees.items():
        for node in ast.walk(tree):
            deps: list[str | None] = []
            if isinstance(node, ast.Import):
                deps = [target(a.name, None) for a in node.names if a.name.startswith("riskoff")]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, here, here in packages)
                if source == "riskoff" or source.startswith("riskoff."):
                    deps = [target(source, a.name) for a in node.names]
            graph[here].update(d for d in deps if d and d != here)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_import_cycle_in_riskoff():
    found = cycles(import_graph())
    assert not found, "import cycles (imports inside functions count):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_a_deferred_import_of_a_sibling_is_a_cycle(tmp_path):
    # The detector itself: a cycle hidden behind an import inside a function body, and one through a
    # name a package __init__ re-exports, are both found; a re-export alone is not a cycle.
    pkg = tmp_path / "riskoff"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from riskoff.b import B\n")
    (pkg / "a.py").write_text("def f():\n    from riskoff.b import B\n    return B\n")
    (pkg / "b.py").write_text("from riskoff.a import f\nB = 1\n")
    (pkg / "data" / "__init__.py").write_text("from riskoff.data.c import C\nOWN = 1\n")
    (pkg / "data" / "c.py").write_text("C = 2\n")
    (pkg / "data" / "d.py").write_text("from riskoff import B\nfrom riskoff.data import C\n")
    graph = import_graph(tmp_path)
    assert graph["riskoff.data.d"] == {"riskoff.b", "riskoff.data.c"}
    assert cycles(graph) == [["riskoff.a", "riskoff.b"]]
    (pkg / "data" / "c.py").write_text("from riskoff.data import OWN\nC = 2\n")
    (pkg / "data" / "__init__.py").write_text("from riskoff.data.c import C\nOWN = 1\ndef g():\n    from riskoff.data.d import x\n")
    assert any({"riskoff.data", "riskoff.data.c"} <= set(c) for c in cycles(import_graph(tmp_path)))
