"""Tenant isolation end to end (issue 10), through ``headwater up``: the secure broker
(SASL/SCRAM, authorizer), the console, the Celery worker that reconciles, and chromium.

An operator creates tenants acme and globex on the tenants page and copies each first
service account's secret from it, creates ``acme.orders`` and ``globex.orders`` on the
topics page and waits for the worker to make ``acme-app`` Ready. Then kcat, as
``acme-app``, writes and reads ``acme.orders`` and is refused ``globex.orders`` by the
broker; and a viewer of acme, added on the members page, sees nothing of globex.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.console import OPERATOR_PASSWORD, OPERATOR_USERNAME
from tests.support.up import Up

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
READY_DEADLINE = 90.0  # seconds for the worker to reconcile a new tenant
VIEWER, VIEWER_PASSWORD = "acme-viewer", "viewer password 1"
VIEWER_PAGES = ["/topics/", "/tenants/", "/tenants/acme/", "/tenants/acme/service-accounts/",
                "/tenants/acme/acls/", "/tenants/acme/members/",
                "/topics/acme.orders/"]  # fmt: skip


@dataclass
class Platform:
    up: Up
    secrets: dict[str, str]  # tenant slug -> its first service account's secret
    shots: Path

    def url(self, path: str) -> str:
        return f"{self.up.console_url}{path}"


def log_in(browser: Browser, platform: Platform, username: str, password: str) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(platform.url("/tenants/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Tenants")
    return context


def create_tenant(page: Page, platform: Platform, name: str, slug: str) -> str:
    """Create the tenant on the tenants page; the secret as the page shows it (once)."""
    page.goto(platform.url("/tenants/"))
    page.fill("#id_name", name)
    page.fill("#id_slug", slug)
    page.select_option("#id_plan", "basic")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Tenant created")
    page.screenshot(path=str(platform.shots / f"{slug}-created.png"), full_page=True)
    secret = page.locator("code.the-secret").inner_text().strip()
    assert len(secret) > 20
    return secret


def create_topic(page: Page, platform: Platform, name: str) -> None:
    page.goto(platform.url("/topics/"))
    page.fill("#id_name", name)
    page.fill("#id_partitions", "1")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator(".message").first).to_contain_text(f"Created topic {name}")


def wait_account_ready(page: Page, platform: Platform, slug: str) -> None:
    """Poll the service accounts page until the worker has reconciled ``<slug>-app``."""
    status = page.locator('tr[data-account="app"] .status')
    deadline = time.monotonic() + READY_DEADLINE
    while True:
        page.goto(platform.url(f"/tenants/{slug}/service-accounts/"))
        if "status-ready" in (status.get_attribute("class") or "").split():
            return
        if time.monotonic() > deadline:
            page.screenshot(path=str(platform.shots / f"{slug}-not-ready.png"), full_page=True)
            raise AssertionError(
                f"{slug}-app not Ready after {READY_DEADLINE}s: {status.get_attribute('title')}"
                f"\n{platform.up.log()[-5000:]}"
            )
        time.sleep(1)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, chromium: Browser) -> Iterator[Platform]:
    """``headwater up``, with acme and globex set up by an operator in the browser."""
    root = tmp_path_factory.mktemp("isolation-up")
    up = Up(root)
    try:
        up.wait_ready()
        up.manage(
            "shell", "-c", "from console.models import Plan; Plan.objects.create(name='basic')"
        )
        platform = Platform(up=up, secrets={}, shots=tmp_path_factory.mktemp("isolation-shots"))
        context = log_in(chromium, platform, OPERATOR_USERNAME, OPERATOR_PASSWORD)
        page = context.pages[0]
        platform.secrets["acme"] = create_tenant(page, platform, "Acme Corp", "acme")
        platform.secrets["globex"] = create_tenant(page, platform, "Globex", "globex")
        # The first account has the "full" preset over its prefix (tenant_create): no
        # rules to add for acme-app to produce.
        page.goto(platform.url("/tenants/acme/acls/?account=app"))
        assert page.locator("[data-rule]").count() == 3
        create_topic(page, platform, "acme.orders")
        create_topic(page, platform, "globex.orders")
        wait_account_ready(page, platform, "acme")
        page.screenshot(path=str(platform.shots / "acme-accounts-ready.png"), full_page=True)
        context.close()
        yield platform
    finally:
        up.stop()


def kcat(
    platform: Platform, slug: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kcat as ``<slug>-app`` with the secret copied from the page."""
    argv = [
        "kcat", "-b", platform.up.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
        "-X", "sasl.mechanisms=SCRAM-SHA-256", "-X", f"sasl.username={slug}-app",
        "-X", f"sasl.password={platform.secrets[slug]}", "-m", "15", *args,
    ]  # fmt: skip
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


def test_acme_app_writes_its_topic_and_the_broker_refuses_it_globex_topic(
    platform: Platform,
) -> None:
    wrote = kcat(platform, "acme", "-P", "-t", "acme.orders", stdin="order-1\n")
    assert wrote.returncode == 0, wrote.stderr
    read = kcat(platform, "acme", "-C", "-t", "acme.orders", "-o", "beginning", "-c", "1", "-e")
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines() == ["order-1"]
    refused = kcat(platform, "acme", "-P", "-t", "globex.orders", stdin="sneaky\n")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert re.search(r"topic.authorization.failed", output, re.IGNORECASE), output
    # and globex's own account still writes there
    theirs = kcat(platform, "globex", "-P", "-t", "globex.orders", stdin="order-g\n")
    assert theirs.returncode == 0, theirs.stderr


def test_a_viewer_of_acme_sees_nothing_of_globex(platform: Platform, chromium: Browser) -> None:
    platform.up.manage(
        "shell", "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({VIEWER!r}, password={VIEWER_PASSWORD!r})",
    )  # fmt: skip
    operator = log_in(chromium, platform, OPERATOR_USERNAME, OPERATOR_PASSWORD)
    page = operator.pages[0]
    page.goto(platform.url("/tenants/acme/members/"))
    page.fill("#id_username", VIEWER)
    page.select_option("#id_role", "viewer")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator(f'tr[data-member="{VIEWER}"]')).to_contain_text("viewer")
    page.screenshot(path=str(platform.shots / "members.png"), full_page=True)
    operator.close()

    viewer = log_in(chromium, platform, VIEWER, VIEWER_PASSWORD)
    page = viewer.pages[0]
    page.goto(platform.url("/topics/"))
    expect(page.locator('tr[data-topic="acme.orders"]')).to_be_visible()
    assert page.locator('tr[data-topic^="globex"]').count() == 0
    page.screenshot(path=str(platform.shots / "viewer-topics.png"), full_page=True)
    for path in VIEWER_PAGES:
        response = page.goto(platform.url(path))
        assert response is not None and response.status == 200, path
        assert "globex" not in page.content().lower(), path
    # globex's topic answers exactly as a topic that does not exist
    missing = page.goto(platform.url("/topics/globex.orders/"))
    assert missing is not None and missing.status == 404
    globex_text = page.locator("main").inner_text().replace("globex.orders", "NAME")
    page.screenshot(path=str(platform.shots / "viewer-globex-404.png"), full_page=True)
    page.goto(platform.url("/topics/nosuch.topic/"))
    assert page.locator("main").inner_text().replace("nosuch.topic", "NAME") == globex_text
    for path in ["/tenants/globex/", "/tenants/globex/service-accounts/"]:
        response = page.goto(platform.url(path))
        assert response is not None and response.status == 404, path
        assert "globex" not in page.locator("body").inner_text().lower(), path
    viewer.close()
