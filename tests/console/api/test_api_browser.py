"""In a real browser, against the console as it runs (daphne): a user makes an API token
on /account/tokens/ (shown once), a script uses it over HTTP, the user revokes it and
the script is refused; the interactive docs at /api/v1/docs render with no request
leaving the console."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

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
        tmp_path_factory.mktemp("api-console"), bootstrap=shared_broker.bootstrap
    )
    server.start()
    yield server
    server.stop()
    print(server.log())


def call(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_token_made_on_the_page_calls_the_api_until_revoked(
    chromium: Browser, console: ConsoleServer, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{console.url}/account/tokens/")
    page.fill("#id_username", OPERATOR_USERNAME)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("API tokens")
    page.fill("#id_name", "ci-deploy")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Token created")
    token = page.locator("code.the-secret").inner_text()
    assert token.startswith("hwt_")
    page.screenshot(path=str(tmp_path / "token-created.png"), full_page=True)

    status, body = call(f"{console.url}/api/v1/tenants", token)
    assert status == 200 and body["items"] == []

    page.goto(f"{console.url}/account/tokens/")
    row = page.locator("tr[data-token=ci-deploy]")
    expect(row).to_contain_text(token[:12])
    assert token not in page.content()
    page.screenshot(path=str(tmp_path / "token-list.png"), full_page=True)
    row.get_by_role("button", name="revoke ci-deploy").click()
    expect(page.locator(".message.success")).to_contain_text("Revoked the token ci-deploy")
    page.screenshot(path=str(tmp_path / "token-revoked.png"), full_page=True)
    status, body = call(f"{console.url}/api/v1/tenants", token)
    assert status == 401 and "token" in body["detail"]
    context.close()


def test_the_docs_render_from_the_consoles_own_files(
    chromium: Browser, console: ConsoleServer, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"{console.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Headwater console API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock").count() >= 30
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    assert hosts == {urlsplit(console.url).netloc}, hosts
    context.close()
