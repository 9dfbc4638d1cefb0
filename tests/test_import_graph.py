"""The project's modules import each other without a circle, and the shared vocabulary stays below them.

Read from the source with ``ast`` (nothing is imported), counting every import a module can run:
those inside functions too, since a lazy import only hides a circle until the function is called.
Only ``if TYPE_CHECKING:`` imports are left out: they never run.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("banshi", "common", "knowledge", "retriever", "nlu", "dialogue", "channels", "hotline")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules ``module`` imports: ``from a import b`` counts ``a.b`` when that is a module (the
    package ``a`` imports it, not the other way round), and ``a`` itself when ``b`` is defined there."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in ``target`` itself
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in known and name != module}


@cache
def import_graph() -> dict[str, frozenset[str]]:
    files = {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    known = set(files)
    return {
        name: frozenset(_imported(ast.parse(path.read_text(encoding="utf-8")), name, path.stem == "__init__", known))
        for name, path in files.items()
    }


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def strongconnect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                strongconnect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return groups


def _importers(graph: dict[str, frozenset[str]], importer: str, imported: str) -> list[str]:
    """``module -> target`` lines for every module of package ``importer`` that imports package ``imported``."""
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.split(".")[0] == importer
        for target in targets
        if target.split(".")[0] == imported
    )


def test_the_graph_sees_lazy_imports():
    """A check that would pass on an empty graph proves nothing: the reader must see real edges."""
    graph = import_graph()
    assert "hotline.models" in graph["hotline.handoffs"]
    assert "common.conversations" in graph["channels.relay"]
    assert "banshi.db" in graph["common.users"]
    assert _cycles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}) == [
        ["a", "b", "c"]
    ]


def test_no_import_circles():
    assert _cycles(import_graph()) == []


def test_the_shared_vocabulary_imports_no_package_above_it():
    """``common`` sits under knowledge, hotline, dialogue and channels; only ``banshi.db`` (the declarative
    base, which imports nothing of ours but the config) is below it."""
    graph = import_graph()
    above = [
        f"{name} -> {target}" for name, targets in graph.items() if name.startswith("common.") for target in targets
    ]
    assert [
        line for line in above if not line.endswith(("-> banshi.db", "-> banshi.config")) and "-> common" not in line
    ] == []
    assert not {target for target in graph["banshi.db"] if not target.startswith("banshi.config")}


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("knowledge", "hotline"),
        ("knowledge", "dialogue"),
        ("knowledge", "channels"),
        ("hotline", "dialogue"),
        ("hotline", "channels"),
        ("retriever", "channels"),
        ("dialogue", "channels"),
    ],
)
def test_lower_packages_do_not_import_higher_ones(low, high):
    assert _importers(import_graph(), low, high) == []


def test_the_gateway_does_not_import_the_dialogue():
    """The gateway learns what the bot did from the structured outcome, not from ``dialogue`` code."""
    assert _importers(import_graph(), "channels", "dialogue") == []
