"""Tenant pages in a real browser: an operator creates tenant ``acme`` and is shown its
first secret and the kcat line, once (issue 10)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.broker import BrokerProcess
from tests.support.console import OPERATOR_PASSWORD, OPERATOR_USERNAME, ConsoleServer

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, shared_broker: BrokerProcess
) -> Iterator[ConsoleServer]:
    server = ConsoleServer(
        tmp_path_factory.mktemp("tenant-console"), bootstrap=shared_broker.bootstrap
    )
    server.start()
    server.manage(
        "shell", "-c", "from console.models import Plan; Plan.objects.create(name='basic')"
    )
    yield server
    server.stop()
    print(server.log())


def test_operator_creates_acme_and_sees_the_secret_and_kcat_line(
    chromium: Browser, console: ConsoleServer, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{console.url}/tenants/")
    page.fill("#id_username", OPERATOR_USERNAME)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Tenants")
    page.fill("#id_name", "Acme")
    page.fill("#id_slug", "acme")
    page.select_option("#id_plan", "basic")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Tenant created")
    secret = page.locator("code.the-secret").inner_text()
    assert len(secret) > 20
    kcat = page.locator("#conn-kcat").inner_text()
    assert re.search(r"kcat -b \S+ -X security.protocol=SASL_PLAINTEXT", kcat)
    assert f"-X sasl.username=acme-app -X sasl.password='{secret}' -L" in kcat
    page.screenshot(path=str(tmp_path / "tenant-created.png"), full_page=True)
    page.goto(f"{console.url}/tenants/acme/")
    assert secret not in page.content()
    context.close()
