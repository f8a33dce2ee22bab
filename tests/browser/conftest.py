"""A real Chromium (Debian's, never a downloaded one) driven by Playwright's sync API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.broker import BrokerProcess
from tests.support.console import ConsoleServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API runs an event loop on this thread while open,
    which Django would take for an async context, so it must not outlive these tests."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker of the test module's own (its topics and groups meet no other module's)."""
    proc = BrokerProcess(tmp_path_factory.mktemp("browser-broker"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def console(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    own_broker: BrokerProcess,
) -> Iterator[ConsoleServer]:
    """The console as a real server on ``own_broker``; a module's ``CONSOLE_SETUP`` (Python
    for ``manage.py shell -c``) runs once before its tests. A module may override it."""
    server = ConsoleServer(
        tmp_path_factory.mktemp("browser-console"), bootstrap=own_broker.bootstrap
    )
    server.start()
    setup = getattr(request.module, "CONSOLE_SETUP", None)
    if setup:
        server.manage("shell", "-c", setup)
    yield server
    server.stop()
    print(server.log())
