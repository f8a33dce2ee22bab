"""broker/tools/ holds Kafka clients: they reach a cluster only through the protocol."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[3] / "broker" / "tools"
# The running broker's internals; a tool that used them would only work in-process.
FORBIDDEN = ("broker.server", "broker.storage", "broker.handlers")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(TOOLS.glob("*.py")), ids=lambda p: p.name)
def test_tool_does_not_import_the_broker_internals(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if n == "broker" or n.startswith(FORBIDDEN))
    assert bad == []
