"""An operator in a real browser sees records produced with kcat appear live.

The console runs as operators run it (migrate, ensure_operator, daphne) once on the
embedded default (SQLite, in-memory channel layer) and once on PostgreSQL + Redis.
Deleting the topic from a second tab reaches the first tab's websocket through the
channel layer (Redis in the second deployment).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.broker import BrokerProcess
from tests.support.console import (
    OPERATOR_PASSWORD,
    OPERATOR_USERNAME,
    ConsoleServer,
    create_topic,
    unique_topic,
)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


def fresh_database(postgres_url: str) -> str:
    """A new, empty database on the test PostgreSQL; its URL."""
    name = f"console_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["embedded", "postgres-redis"])
def console(
    request: pytest.FixtureRequest, tmp_path: Path, shared_broker: BrokerProcess
) -> Iterator[ConsoleServer]:
    extra_env: dict[str, str] = {}
    if request.param == "postgres-redis":
        extra_env = {
            "DATABASE_URL": fresh_database(request.getfixturevalue("postgres_url")),
            "REDIS_URL": request.getfixturevalue("redis_url"),
        }
    server = ConsoleServer(
        tmp_path / "console", bootstrap=shared_broker.bootstrap, extra_env=extra_env
    )
    server.start()
    yield server
    server.stop()
    print(server.log())  # shown by pytest when the test failed


def log_in(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", OPERATOR_USERNAME)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("button[type=submit]")


def kcat_produce(bootstrap: str, topic: str, line: str) -> None:
    """``kcat -P``: one record from stdin, key before ':', plus a header."""
    subprocess.run(
        ["kcat", "-b", bootstrap, "-P", "-t", topic, "-K", ":", "-H", "source=kcat"],
        input=f"{line}\n".encode(), check=True, timeout=30, capture_output=True,
    )  # fmt: skip


def test_browser_shows_record_produced_with_kcat_live(
    chromium: Browser, console: ConsoleServer, shared_broker: BrokerProcess
) -> None:
    topic = unique_topic("browser")
    create_topic(shared_broker.bootstrap, topic, partitions=2)
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    tail_page = context.new_page()

    tail_page.goto(f"{console.url}/topics/{topic}/")
    log_in(tail_page)
    expect(tail_page.locator("h1")).to_contain_text(topic)
    expect(tail_page.locator("#tail-status")).to_have_attribute("data-state", "live")

    kcat_produce(shared_broker.bootstrap, topic, "browser-key:hello from kcat")
    row = tail_page.locator("#tail-records tr.record", has_text="hello from kcat")
    expect(row).to_be_visible()
    expect(row).to_contain_text("browser-key")
    expect(row).to_contain_text("source: kcat")
    expect(row.locator("td").nth(1)).to_have_text("0")  # offset: the first record

    # Delete from a second tab: the first tab's tail hears topic.deleted.
    admin_page = context.new_page()
    admin_page.goto(f"{console.url}/topics/{topic}/delete/")
    admin_page.fill("#id_confirm", topic)
    admin_page.click("button.danger")
    expect(admin_page.locator(".message.success")).to_contain_text(f"Deleted topic {topic}.")
    expect(tail_page.locator("#tail-status")).to_have_text("topic deleted")
    context.close()
