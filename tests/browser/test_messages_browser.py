"""The messages page in a real browser: records written a minute ago (confluent-kafka,
explicit timestamps) and now (kcat); browsing from a timestamp between them shows only
kcat's; a record produced from the page is read back with kcat. Screenshots of browse
(JSON, binary) and produce are written to tmp_path (and $HEADWATER_SCREENSHOTS)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Producer
from playwright.sync_api import Browser, expect

from tests.support.broker import BrokerProcess
from tests.support.browser import screenshot
from tests.support.console import (
    OPERATOR_PASSWORD,
    OPERATOR_USERNAME,
    ConsoleServer,
    create_topic,
)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 20_000


def _kcat() -> str:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is a system package of the test environment"
    return kcat


def test_browse_from_a_timestamp_then_produce_and_read_back_with_kcat(
    chromium: Browser, console: ConsoleServer, own_broker: BrokerProcess, tmp_path: Path
) -> None:
    bootstrap = own_broker.bootstrap
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions=2)
    cut_ms = int(time.time() * 1000) - 30_000  # between the old records and kcat's
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(3):
        producer.produce(topic, json.dumps({"old": i}).encode(), key=b"before-%d" % i,
                         partition=i % 2, timestamp=cut_ms - 30_000 + i)  # fmt: skip
    producer.produce(topic, bytes(range(0, 256, 7)), key=b"\x00\x01bin", partition=0,
                     timestamp=cut_ms - 20_000)  # fmt: skip
    assert producer.flush(15) == 0
    lines = "".join(
        f'after-{i}:{{"order": {i}, "item": "widget", "qty": {i + 1}}}\n' for i in range(4)
    )
    subprocess.run(
        [_kcat(), "-b", bootstrap, "-P", "-t", topic, "-K", ":", "-H", "origin=kcat"],
        input=lines.encode(), check=True, timeout=30,
    )  # fmt: skip
    cut = datetime.fromtimestamp(cut_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")

    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{console.url}/topics/{topic}/")
        page.fill("#id_username", OPERATOR_USERNAME)
        page.fill("#id_password", OPERATOR_PASSWORD)
        page.click("button[type=submit]")
        page.click("#messages-link")
        expect(page.locator("h1")).to_contain_text(f"Messages of {topic}")
        rows = page.locator("table.messages tbody tr[data-offset]")
        expect(rows).to_have_count(8)  # from newest: everything (8 < 50)
        # binary shown as hex, then as base64 through the select (same page)
        bin_row = page.locator("tr", has_text="01 62 69 6e")
        expect(bin_row).to_have_count(1)
        screenshot(page, tmp_path, "messages-binary.png")

        page.select_option("#id_start", "timestamp")
        page.fill("#id_timestamp", cut)
        page.click("#browse-form button[type=submit]")
        expect(rows).to_have_count(4)
        keys = sorted(rows.locator("td[data-field=key] pre").all_inner_texts())
        assert keys == [f"after-{i}" for i in range(4)], keys
        expect(page.locator("table.messages")).not_to_contain_text("before-")
        expect(rows.first.locator("td[data-field=value] pre")).to_have_attribute(
            "data-format", "json"
        )
        expect(rows.first.locator("td[data-field=headers]")).to_contain_text("origin")
        expect(rows.first.locator(".local-time")).to_be_visible()  # the script's local time
        screenshot(page, tmp_path, "messages-json.png")

        page.select_option("#id_fmt", "base64")
        expect(rows.first.locator("td[data-field=value] pre")).to_have_attribute(
            "data-format", "base64"
        )
        expect(rows).to_have_count(4)  # the same page, only the format changed

        page.fill("#produce_partition", "1")
        page.fill("#produce_key", "from-the-page")
        page.fill("#produce_value", '{"hello": "kafka"}')
        page.fill("#produce_headers", "via=console")
        page.click("#produce button[type=submit]")
        expect(page.locator("#produced")).to_be_visible()
        partition = int(page.locator("#produced [data-field=partition]").inner_text())
        offset = int(page.locator("#produced [data-field=offset]").inner_text())
        assert partition == 1
        screenshot(page, tmp_path, "messages-produce.png")
    finally:
        context.close()

    result = subprocess.run(
        [_kcat(), "-b", bootstrap, "-C", "-t", topic, "-p", str(partition), "-o", str(offset),
         "-c", "1", "-e", "-f", "%k|%s|%h\n"],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    assert result.stdout.decode().strip() == 'from-the-page|{"hello": "kafka"}|via=console'
