"""No riskoff module imports or reads another riskoff module's private (``_underscore``) names.

What one module needs from another is made public with a docstring (or shared through a service
such as riskoff.run.folder, riskoff.run.plan, riskoff.data.context); private helpers stay private.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "riskoff"

# Private modules another module may import, with the reason.
ALLOWED_MODULES = {
    "riskoff.util.mpl": "matplotlib set-up (Agg backend, thread lock) imported for its side effect by every plotting module",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def absolute(node: ast.ImportFrom, here: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = here.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def violations(path: Path) -> list[str]:
    here = module_name(path)
    is_pkg = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    aliases: dict[str, str] = {}   # local name -> riskoff module it refers to
    found = []

    def private_module(mod: str) -> bool:
        return any(is_private(p) for p in mod.split(".")) and mod not in ALLOWED_MODULES

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] != "riskoff":
                    continue
                if private_module(a.name):
                    found.append(f"{path.name}:{node.lineno} imports private module {a.name}")
                aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom):
            mod = absolute(node, here, is_pkg)
            if mod.split(".")[0] != "riskoff":
                continue
            if private_module(mod):
                found.append(f"{path.name}:{node.lineno} imports from private module {mod}")
            for a in node.names:
                target = f"{mod}.{a.name}"
                if is_private(a.name) and target not in ALLOWED_MODULES and mod != here:
                    found.append(f"{path.name}:{node.lineno} imports {a.name} from {mod}")
                aliases[a.asname or a.name] = target
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            base = node.value
            dotted = []
            while isinstance(base, ast.Attribute):
                dotted.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                mod = ".".join([aliases[base.id], *reversed(dotted)])
                if mod != here:
                    found.append(f"{path.name}:{node.lineno} reads {mod}.{node.attr}")
    return [f"{here}: {v}" for v in found]


def test_no_module_reaches_into_another_modules_private_names():
    found = [v for path in sorted(ROOT.rglob("*.py")) for v in violations(path)]
    assert found == [], "private names used across modules:\n" + "\n".join(found)


def test_the_check_catches_each_kind_of_reach_in(tmp_path, monkeypatch):
    pkg = tmp_path / "riskoff"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("_x = 1\ndef _f(): pass\n")
    (pkg / "sub" / "b.py").write_text(
        "from riskoff.a import _x\n"
        "from ..a import _f\n"
        "import riskoff.a as ra\n"
        "from riskoff import a\n"
        "from riskoff import _hidden\n"
        "ra._f(); a._x; ra.__name__\n")
    (pkg / "sub" / "c.py").write_text("from riskoff.sub import b\nfrom . import b as bb\n_own = 1\nprint(_own, b.ok)\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", pkg)
    found = violations(pkg / "sub" / "b.py")
    assert len(found) == 5, found
    assert any("imports _x from riskoff.a" in v for v in found)
    assert any("imports _f from riskoff.a" in v for v in found)
    assert any("reads riskoff.a._f" in v for v in found) and any("reads riskoff.a._x" in v for v in found)
    assert any("imports _hidden from riskoff" in v for v in found)
    assert violations(pkg / "sub" / "c.py") == []
