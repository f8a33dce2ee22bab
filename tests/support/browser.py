"""Helpers for the browser tests (tests/browser/)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page


def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot into the test's tmp_path (and $HEADWATER_SCREENSHOTS when set,
    to look at them after the run)."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    target = os.environ.get("HEADWATER_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)
