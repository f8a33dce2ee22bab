"""Topics inside a tenant in a real browser with JavaScript off (issue 10): the tenant's
prefix is the fixed start of the name, a member with two tenants picks the prefix from a
select, and a config beyond the plan is refused by the field it was typed in."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient
from playwright.sync_api import Browser, Page, expect

from tests.support.broker import BrokerProcess
from tests.support.console import ConsoleServer

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
CONSOLE_SETUP = """
from django.contrib.auth.models import User
from console.models import Membership, Plan, Tenant
plan = Plan.objects.create(
    name="starter", max_topics=3, max_partitions=6, max_retention_ms=86400000
)
acme = Tenant.objects.create(name="Acme", slug="acme", plan=plan)
initech = Tenant.objects.create(name="Initech", slug="initech", plan=plan)
Tenant.objects.create(name="Globex", slug="globex", plan=plan)
dev = User.objects.create_user("dev", password="dev-password")
Membership.objects.create(user=dev, tenant=acme, role="developer")
Membership.objects.create(user=dev, tenant=initech, role="admin")
solo = User.objects.create_user("solo", password="solo-password")
Membership.objects.create(user=solo, tenant=acme, role="developer")
"""


def login(chromium: Browser, console: ConsoleServer, username: str, password: str) -> Page:
    context = chromium.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{console.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Topics")
    return page


def topics(bootstrap: str) -> set[str]:
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def test_one_tenant_shows_its_prefix_fixed_before_the_name(
    chromium: Browser, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    page = login(chromium, console, "solo", "solo-password")
    expect(page.locator(".field-name .prefix")).to_have_text("acme.")
    expect(page.locator("table.usage")).to_contain_text("0 / 3")
    page.fill("#id_name", "orders")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("acme.orders")
    assert "acme.orders" in topics(own_broker.bootstrap)
    page.context.close()


def test_two_tenants_pick_the_prefix_from_a_select_without_javascript(
    chromium: Browser, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    page = login(chromium, console, "dev", "dev-password")
    options = page.locator("#id_tenant option")
    expect(options).to_have_text(["acme.", "initech."])  # not globex., not "no tenant"
    page.select_option("#id_tenant", "initech")
    page.fill("#id_name", "billing")
    page.fill("#id_partitions", "2")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("initech.billing")
    assert "initech.billing" in topics(own_broker.bootstrap)

    page.fill("#id_retention_ms", "604800000")  # a week, beyond the plan's day
    page.click("#configs-form button[type=submit]")
    expect(page.locator(".field-retention_ms .field-error")).to_contain_text(
        "Cannot alter topic initech.billing: retention.ms 604,800,000 exceeds the plan's "
        "maximum of 86,400,000 ms."
    )
    expect(page.locator("#id_retention_ms")).to_have_value("604800000")
    page.fill("#id_count", "9")
    page.click("#partitions-form button[type=submit]")
    expect(page.locator(".field-count .field-error")).to_contain_text(
        "the plan allows 6 partitions in total under initech., 2 exist (4 more)."
    )
    page.context.close()
