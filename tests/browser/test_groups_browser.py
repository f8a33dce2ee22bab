"""The consumer-group pages in a real browser: a group consumes half a topic and its lag
shows; it stops; its offsets are reset to earliest after a dry-run preview; the lag
grows back to the topic's size. Screenshots of the list, the detail and the preview
are written next to the test's tmp_path (and to $HEADWATER_SCREENSHOTS when set)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from playwright.sync_api import Browser, expect

from tests.support.broker import BrokerProcess
from tests.support.browser import screenshot
from tests.support.console import (
    OPERATOR_PASSWORD,
    OPERATOR_USERNAME,
    ConsoleServer,
    create_topic,
)
from tests.support.net import wait_until

pytestmark = pytest.mark.browser
TIMEOUT_MS = 20_000
TOPIC_SIZE = 20
CONSUMED = 12


def _consume(bootstrap: str, group: str, topic: str, count: int) -> Consumer:
    """A real member of ``group``: reads ``count`` records, commits after each."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "client.id": "billing-worker",
        }
    )  # fmt: skip
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 60
    while seen < count:
        assert time.monotonic() < deadline, f"consumed {seen} of {count} records in 60 s"
        message = consumer.poll(0.5)
        if message is None or message.error() is not None:
            continue
        seen += 1
        consumer.commit(message, asynchronous=False)
    return consumer


def test_lag_shows_and_a_reset_to_earliest_after_a_dry_run_brings_it_back(
    chromium: Browser, console: ConsoleServer, own_broker: BrokerProcess, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    topic, group = f"orders-{suffix}", f"billing-{suffix}"
    create_topic(own_broker.bootstrap, topic, partitions=1)
    producer = Producer({"bootstrap.servers": own_broker.bootstrap, "linger.ms": 0})
    old = int(time.time() * 1000) - 90_000  # written a minute and a half ago
    for i in range(TOPIC_SIZE):
        producer.produce(topic, b"order-%d" % i, partition=0, timestamp=old + i * 100)
    assert producer.flush(15) == 0
    consumer = _consume(own_broker.bootstrap, group, topic, CONSUMED)

    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{console.url}/groups/")
        page.fill("#id_username", OPERATOR_USERNAME)
        page.fill("#id_password", OPERATOR_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Consumer groups")
        row = page.locator(f'tr[data-group="{group}"]')
        expect(row.locator('[data-field="state"]')).to_have_text("Stable")
        expect(row.locator('[data-field="members"]')).to_have_text("1")
        expect(row.locator('[data-field="lag"]')).to_have_text(str(TOPIC_SIZE - CONSUMED))
        screenshot(page, tmp_path, "groups-list.png")

        row.locator("a").first.click()
        expect(page.locator("h1")).to_contain_text(group)
        partition = page.locator(f'tr[data-partition="{topic}-0"]')
        expect(partition.locator('[data-field="lag"]')).to_have_text(str(TOPIC_SIZE - CONSUMED))
        seconds = float(partition.locator('[data-field="lag_seconds"]').inner_text())
        assert 85 <= seconds < 300, seconds  # the next record was written ~90 s ago
        expect(page.locator("table.members")).to_contain_text("billing-worker")
        screenshot(page, tmp_path, "group-detail.png")

        consumer.close()  # the group stops: no members, state Empty

        def stopped() -> bool:
            page.reload()
            return page.locator("#group-state").inner_text() == "Empty"

        wait_until(stopped, timeout=30, interval=0.5, what="the group to be Empty")
        page.click("text=Reset offsets…")
        page.select_option("#id_strategy", "to-earliest")
        page.click("button[name=preview]")
        preview = page.locator(f'table.reset-preview tr[data-partition="{topic}-0"]')
        expect(preview.locator('[data-field="old"]')).to_have_text(str(CONSUMED))
        expect(preview.locator('[data-field="new"]')).to_have_text("0")
        screenshot(page, tmp_path, "group-reset-preview.png")

        page.goto(f"{console.url}/groups/{group}/")  # the dry run changed nothing
        expect(partition.locator('[data-field="committed"]')).to_have_text(str(CONSUMED))
        page.click("text=Reset offsets…")
        page.select_option("#id_strategy", "to-earliest")
        page.click("button[name=preview]")
        expect(preview.locator('[data-field="new"]')).to_have_text("0")
        page.click("button[name=execute]")
        expect(page).to_have_url(re.compile(rf"/groups/{group}/$"))
        expect(page.locator(".message.success")).to_contain_text("Reset 1 partition offset")
        expect(partition.locator('[data-field="committed"]')).to_have_text("0")
        expect(partition.locator('[data-field="lag"]')).to_have_text(str(TOPIC_SIZE))
        expect(page.locator("#group-lag")).to_contain_text(f"{TOPIC_SIZE} records")

        page.click(f"table.group-partitions a:text('{topic}')")  # the topic page lists it
        reader = page.locator(f'#topic-groups tr[data-group="{group}"]')
        expect(reader.locator('[data-field="lag"]')).to_have_text(str(TOPIC_SIZE))
        screenshot(page, tmp_path, "topic-groups.png")
    finally:
        context.close()
