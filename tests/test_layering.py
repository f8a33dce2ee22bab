"""The import rules of docs/architecture.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> module prefixes it must not import
FORBIDDEN = {
    "broker": ("django", "console", "streams", "channels"),
    "broker/protocol": ("asyncio", "socket", "broker.server", "broker.storage", "broker.handlers"),
    "broker/storage": ("asyncio", "socket", "broker.server", "broker.handlers"),
    "broker/cluster": ("asyncio", "socket", "broker.server", "broker.handlers", "broker.storage"),
    "broker/common": (
        "asyncio",
        "socket",
        "os",
        "pathlib",
        "broker.server",
        "broker.storage",
        "broker.handlers",
        "broker.cluster",
        "broker.coordinator",
        "broker.security",
    ),
    "broker/handlers": ("socket",),
    "broker/security": ("asyncio", "socket", "broker.server", "broker.handlers", "broker.storage"),
    # The console reaches the cluster over the Kafka protocol; of the broker it may use only
    # the pure rules in broker.common (and the codec in broker.protocol).
    "console": (
        "broker.server",
        "broker.storage",
        "broker.handlers",
        "broker.cluster",
        "broker.coordinator",
        "broker.security",
        "broker.config",
        "broker.supervisor",
        "streams",
    ),
}

# The ASGI entry point composes the console with the websocket routes of streams/.
ALLOWED = {("console/asgi.py", "streams.routing")}
# The broker's topic-config catalog (Kafka's names, types, validators and synonyms) is
# pure data and functions (no IO; it imports only broker.cluster.config_def,
# connection_limits and broker.errors, all pure): the console validates topic configs
# with it rather than a second copy (issue 10, Kafka's rules once).
ALLOWED |= {
    ("console/services/topics.py", "broker.cluster.config_catalog"),
    ("console/broker_admin.py", "broker.cluster.config_catalog"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_rules(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
        and (str(path.relative_to(ROOT)), name) not in ALLOWED
    ]
    assert violations == []
