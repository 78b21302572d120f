"""The package's shape: floors that import only downward, no import circles, short modules.

Floors, lowest first (docs/layout.md): schemas, connectors, sangkien.errors, sangkien.text,
sangkien.store, sangkien.reference, sangkien.pipeline, sangkien.present, then sangkien.serve,
flows and sandbox beside each other, and sangkien.cli on top. A module may import its own
part and any part on a lower floor; every import counts, also one inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("schemas", "connectors", "sangkien", "flows", "sandbox")
# (part, floor): a module belongs to the longest part that prefixes its name
PARTS = {
    "schemas": 0,
    "connectors": 1,
    "sangkien.errors": 2,
    "sangkien": 2,  # sangkien/__init__.py
    "sangkien.text": 3,
    "sangkien.store": 4,
    "sangkien.reference": 5,
    "sangkien.pipeline": 6,
    "sangkien.present": 7,
    "sangkien.serve": 8,
    "flows": 8,
    "sandbox": 8,
    "sangkien.cli": 9,
}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _part(module: str) -> str:
    name = module
    while name not in PARTS:
        name = name.rpartition(".")[0]
    return name


def _resolve(name: str) -> str | None:
    """The module of ours that an import of ``name`` loads (a name imported from a package counts
    as the module of that name when there is one), or None for a third-party import."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module:
                found.add(resolved)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_no_module_imports_a_higher_floor_or_a_neighbour_on_its_own() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        part = _part(module)
        for target in targets:
            other = _part(target)
            if other == part or PARTS[other] < PARTS[part]:
                continue
            wrong.append(f"{module} -> {target} ({other} is not below {part})")
    assert not wrong, "\n".join(sorted(wrong))


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert _cycles() == []


def test_the_floor_check_sees_a_circle_and_an_upward_import() -> None:
    """The checks above are not vacuous: the graph they read holds the imports that matter."""
    assert "sangkien.store.tables" in GRAPH["sangkien.store"]
    assert "connectors.base" in GRAPH["connectors.files"]
    assert any(target.startswith("flows") for module in GRAPH if module.startswith("sangkien.cli")
               for target in GRAPH[module])
    # an upward import is seen as one: the CLI imports the pipeline, so the pipeline importing the CLI would be
    assert _part("sangkien.cli.sync") == "sangkien.cli" and PARTS["sangkien.cli"] > PARTS["sangkien.pipeline"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_are_short(module: str) -> None:
    path = MODULES[module]
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} is over {MAX_MODULE_LINES} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(ROOT)}: {', '.join(long)}"
