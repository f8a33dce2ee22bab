"""Docs that state facts the code decides must agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

from broker.handlers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
EN_DASH = "\u2013"  # the docs write version ranges as 0\u20139


def camel(api_name: str) -> str:
    return "".join(part.capitalize() for part in api_name.split("_"))


def test_architecture_doc_lists_every_api_with_the_versions_it_advertises() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = {
        int(m["key"]): (m["name"], m["versions"])
        for m in re.finditer(
            r"^\| (?P<name>\w+) \| (?P<key>\d+) \| (?P<versions>\d+\u2013\d+) \|", text, re.M
        )
    }
    expected = {
        h.api_key: (camel(h.name), f"{h.min_version}{EN_DASH}{h.max_version}") for h in REGISTRY
    }
    assert rows == expected
