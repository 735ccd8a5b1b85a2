"""The hardware is independent of the server: nothing under ``hardware/`` imports ``app``.

A simulated cylinder that called the server's rules could never disagree with
a server bug, and the bridge agent must install on a customer's PC without the
server's dependencies (hardware/pyproject.toml). The only code the two share
is the dependency-free wire module ``hardware/wire.py``. These tests read the
source (every import statement, function-local ones included, and
``importlib.import_module("...")`` calls with a literal name) rather than
importing it, so a lazy import hidden in a rarely-run branch is caught too.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"


def _imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module name ``tree`` imports, with its line: statements anywhere in the file
    and ``importlib.import_module`` / ``__import__`` calls with a string literal."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module is not None:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    yield node.lineno, first.value


def _imports_of(path: Path) -> list[tuple[int, str]]:
    return list(_imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path))))


def _is_app(module: str) -> bool:
    return module == "app" or module.startswith("app.")


def test_no_module_under_hardware_imports_the_server() -> None:
    # given: every Python file of the hardware (simulators, bridge agent, desk link, wire)
    files = sorted(HARDWARE.rglob("*.py"))
    assert len(files) > 20  # the walk found the package, not an empty directory
    # when: their imports are read from the syntax tree
    offending = [
        f"{path.relative_to(HARDWARE.parent)}:{line} imports {module}"
        for path in files
        for line, module in _imports_of(path)
        if _is_app(module)
    ]
    # then: none reaches into app/
    assert offending == []


def test_the_walk_finds_a_function_local_import_of_the_server(tmp_path: Path) -> None:
    # given: a module that hides an import of the server inside a function and behind
    # importlib, as a lazy import would
    source = tmp_path / "sneaky.py"
    source.write_text(
        "import importlib\n"
        "def later():\n"
        "    from app.access.service import check_windows\n"
        "    return importlib.import_module('app.devices.service'), check_windows\n",
        encoding="utf-8",
    )
    # when
    found = [m for _, m in _imports_of(source) if _is_app(m)]
    # then: both are seen
    assert found == ["app.access.service", "app.devices.service"]


def test_the_wire_module_needs_nothing_but_the_standard_library() -> None:
    # given: the module both the server and the hardware import
    wire = HARDWARE / "wire.py"
    # when
    modules = {m.split(".")[0] for _, m in _imports_of(wire)}
    # then: the standard library only, so the bridge distribution can ship it as it is
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}
