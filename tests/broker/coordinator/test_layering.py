"""The coordinator is sans IO: only its service may use asyncio, and nothing in it
reaches for sockets, files, the server, storage or handlers (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "broker" / "coordinator"
FORBIDDEN = ("socket", "os", "pathlib", "broker.server", "broker.storage", "broker.handlers")
MODULES = sorted(PACKAGE.glob("*.py"))


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_coordinator_module_does_no_io(path: Path) -> None:
    forbidden = FORBIDDEN if path.name == "service.py" else (*FORBIDDEN, "asyncio", "time")
    bad = sorted(
        name
        for name in imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )
    assert bad == []
