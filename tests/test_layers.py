"""The app's import graph has no cycle, counting imports inside functions.

``lint-imports`` (the contracts in ``pyproject.toml``) keeps the layers in
order; this test keeps the stricter promise that no module reaches back to
itself through any chain of imports, including the lazy ones a function makes
at call time, which hide a circle from Python's import machinery but not from
a reader.

The graph is read with :mod:`ast` from the source files: every ``import`` and
``from … import`` of a ``vivadesk_wagtail`` module, wherever it stands
(``if TYPE_CHECKING:`` blocks excepted: they never run). ``from pkg import
name`` points at the submodule ``pkg.name`` when one exists, else at ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vivadesk_wagtail

PACKAGE = "vivadesk_wagtail"
ROOT = Path(vivadesk_wagtail.__file__).resolve().parent


def _module_files() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((PACKAGE, *parts))] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, outside ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(node, module: str, is_package: bool, modules) -> set[str]:
    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return {t for n in names if n.startswith(PACKAGE) and (t := known(n))}
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base] if base else anchor)
    if base != PACKAGE and not base.startswith(PACKAGE + "."):
        return set()
    found = set()
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        found.add(sub if sub in modules else known(base))
    return found - {None}


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports, lazy imports included."""
    modules = _module_files()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = set()
        for node in _import_nodes(tree):
            edges |= _targets(node, module, is_package, modules)
        graph[module] = edges - {module}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def test_the_graph_sees_lazy_imports():
    """The reader finds an import made inside a function body."""
    tree = ast.parse("def f():\n    from vivadesk_wagtail import conf\n")
    modules = _module_files()
    targets = set()
    for node in _import_nodes(tree):
        targets |= _targets(node, "vivadesk_wagtail.x", False, modules)
    assert targets == {"vivadesk_wagtail.conf"}


def test_a_circle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_cycle_counting_lazy_imports():
    cycles = strongly_connected(import_graph())
    assert cycles == [], "modules that import each other:\n" + "\n".join(
        ", ".join(group) for group in cycles
    )


def test_the_task_queue_seam_imports_nothing_of_the_project():
    """Any layer may queue a task: ``queueing`` depends on no layer."""
    assert import_graph()["vivadesk_wagtail.queueing"] == set()
