"""The package's import graph has no cycle (every import statement, also inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dcpower"


def module_name(path: Path) -> str:
    """``dcpower/iso/ercot/fetch.py`` → ``dcpower.iso.ercot.fetch`` (packages: their name)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (relative imports resolved; ``import a.b``
    and ``from a import b`` count ``a.b`` when it is a module, else ``a``; a package's imports
    of its own submodules are not edges)."""
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in files}

    def target(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                names = [
                    f"{origin}.{a.name}" if f"{origin}.{a.name}" in files else origin
                    for a in node.names
                ]
            for name in names:
                if name.split(".")[0] != "dcpower":
                    continue
                dep = target(name)
                own = is_pkg and dep is not None and dep.startswith(mod + ".")
                if dep is not None and dep != mod and not own:
                    graph[mod].add(dep)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "dcpower.columns" in graph["dcpower.plots"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_reading_results_and_the_study_layer_load_no_solver():
    """Results, plots, the sweep and the UI's state import without Pyomo (the model layer
    is imported on use by the functions that build or solve a model)."""
    import subprocess
    import sys

    code = (
        "import sys, dcpower.results, dcpower.plots, dcpower.sweep, dcpower.ui.state; "
        "print('pyomo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
