"""Rules of the test suite itself.

A test module never imports from another test module: shared fixtures live in
``tests/conftest.py`` (or a helper registered there in ``pytest_plugins``),
shared functions in helper modules without tests (``*_support.py``, …).
Importing a test module drags its tests and module-wide marks along and hides
where a fixture comes from.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imported_test_modules(source: str) -> list[str]:
    """The test modules (``test_*``) that ``source`` imports from, in any
    spelling: ``import tests.test_x``, ``from tests.test_x import y``,
    ``from tests import test_x``, ``from .test_x import y``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and _is_test_module(node.module):
                found.append(module)
            else:
                found += [
                    f"{module}.{a.name}" for a in node.names if _is_test_module(a.name)
                ]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "import tests.test_contact_form",
        "from tests.test_contact_form import site",
        "from tests import test_contact_form",
        "from .test_contact_form import site",
        "from . import test_contact_form",
        "def f():\n    from tests.test_staff_support import url\n",
    ],
)
def test_every_spelling_of_a_test_module_import_is_found(source):
    assert imported_test_modules(source)


def test_helper_imports_are_allowed():
    source = (
        "from tests import factories, staff_support\n"
        "from tests.pages_support import post\n"
        "import tests.conftest\n"
    )
    assert imported_test_modules(source) == []


def test_no_test_module_imports_from_another_test_module():
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        "move shared fixtures to tests/conftest.py and shared functions to a "
        f"helper module: {offenders}"
    )
