"""Topic pages in a real browser: what a new user typed and saw go wrong (issue 9).

One console on the embedded default per test module, against a broker of its own (the
disconnection test stops and restarts it).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

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
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def context(chromium: Browser, console: ConsoleServer) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{console.url}/topics/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", OPERATOR_USERNAME)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Topics")
    page.close()
    yield context
    context.close()


def submit_create(page: Page, console: ConsoleServer, name: str, partitions: str) -> None:
    page.goto(f"{console.url}/topics/")
    page.fill("#id_name", name)
    page.fill("#id_partitions", partitions)
    page.click("form.inline-form button[type=submit]")


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"the page is {width} px wide"


@pytest.mark.parametrize(
    ("partitions", "message"),
    [
        ("2147483648", "At most 10000 partitions"),
        ("abc", "Not a number of partitions"),
        ("0", "A topic needs at least one partition."),
    ],
    ids=["int32-overflow", "not-a-number", "zero"],
)
def test_bad_partition_counts_get_a_message_by_the_field(
    context: BrowserContext, console: ConsoleServer, partitions: str, message: str
) -> None:
    page = context.new_page()
    name = unique_topic("form")
    submit_create(page, console, name, partitions)
    expect(page.locator(".field-partitions .field-error")).to_contain_text(message)
    expect(page.locator("#id_partitions")).to_have_value(partitions)  # what was typed stays
    expect(page.locator("table.topics")).not_to_contain_text(name)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("replication_factor", "40000", "At most 32767 replicas"),
        ("configs", "retention.ms=abc", "Not a number of type LONG"),
    ],
    ids=["replication-int16-overflow", "config-not-a-long"],
)
def test_bad_replication_factor_and_configs_get_a_message_by_the_field(
    context: BrowserContext, console: ConsoleServer, field: str, value: str, message: str
) -> None:
    page = context.new_page()
    name = unique_topic("form")
    page.goto(f"{console.url}/topics/")
    page.fill("#id_name", name)
    page.fill(f"#id_{field}", value)
    page.click("form.inline-form button[type=submit]")
    expect(page.locator(f".field-{field} .field-error")).to_contain_text(message)
    expect(page.locator(f"#id_{field}")).to_have_value(value)
    expect(page.locator("table.topics")).not_to_contain_text(name)
    assert_no_horizontal_scroll(page)


def test_a_300_character_name_is_told_too_long_not_cut(
    context: BrowserContext, console: ConsoleServer
) -> None:
    page = context.new_page()
    name = "n" * 300
    submit_create(page, console, name, "1")
    expect(page.locator(".field-name .field-error")).to_contain_text(
        "longer than 249 characters (this one has 300)"
    )
    expect(page.locator("#id_name")).to_have_value(name)
    expect(page.locator("table.topics")).not_to_contain_text("n" * 249)
    assert_no_horizontal_scroll(page)


def test_a_colliding_name_is_refused_with_kafkas_message(
    context: BrowserContext, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    base = unique_topic("collide")
    create_topic(own_broker.bootstrap, f"{base}.metrics")
    page = context.new_page()
    submit_create(page, console, f"{base}_metrics", "1")
    expect(page.locator(".field-name .field-error")).to_have_text(
        f"Topic '{base}_metrics' collides with existing topic: {base}.metrics"
    )
    submit_create(page, console, f"{base}-metrics", "1")  # '-' is a character of its own
    expect(page.locator("h1")).to_contain_text(f"{base}-metrics")


def test_long_names_wrap_on_every_topic_page(
    context: BrowserContext, console: ConsoleServer
) -> None:
    name = "long" + "x" * 245
    page = context.new_page()
    submit_create(page, console, name, "1")
    expect(page.locator("h1")).to_contain_text(name)  # the created topic's page
    assert_no_horizontal_scroll(page)
    page.goto(f"{console.url}/topics/")
    expect(page.locator("table.topics")).to_contain_text(name)
    assert_no_horizontal_scroll(page)
    page.goto(f"{console.url}/topics/{name}/delete/")
    assert_no_horizontal_scroll(page)


def test_internal_topics_have_no_delete(
    context: BrowserContext, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    topic = unique_topic("committed")
    create_topic(own_broker.bootstrap, topic)
    consumer = Consumer({"bootstrap.servers": own_broker.bootstrap, "group.id": topic})
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()  # the broker has created __consumer_offsets for the commit
    page = context.new_page()
    page.goto(f"{console.url}/topics/")  # internal topics are hidden unless asked for
    expect(page.locator('tr[data-topic="__consumer_offsets"]')).to_have_count(0)
    page.check('input[name="internal"]')
    page.click("form.filters button[type=submit]")
    row = page.locator('tr[data-topic="__consumer_offsets"]')
    expect(row).to_contain_text("internal")
    expect(row.get_by_text("Delete…")).to_have_count(0)
    page.goto(f"{console.url}/topics/__consumer_offsets/")
    expect(page.locator("p.hint").first).to_contain_text("cannot be deleted")
    expect(page.get_by_text("Delete topic…")).to_have_count(0)


def kcat_produce(bootstrap: str, topic: str, lines: list[str]) -> None:
    subprocess.run(
        ["kcat", "-b", bootstrap, "-P", "-t", topic, "-p", "0"],
        input=("\n".join(lines) + "\n").encode(), check=True, timeout=30, capture_output=True,
    )  # fmt: skip


def test_the_partition_table_follows_new_records_without_a_reload(
    context: BrowserContext, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    topic = unique_topic("live-table")
    create_topic(own_broker.bootstrap, topic, partitions=2)
    page = context.new_page()
    page.goto(f"{console.url}/topics/{topic}/")
    expect(page.locator("#tail-status")).to_have_attribute("data-state", "live")
    hw = page.locator('tr[data-partition="0"] [data-field="high_watermark"]')
    expect(hw).to_have_text("0")
    kcat_produce(own_broker.bootstrap, topic, ["a", "b", "c"])
    expect(hw).to_have_text("3")
    expect(page.locator('tr[data-partition="0"] [data-field="record_count"]')).to_have_text("3")
    expect(page.locator("#partitions-status")).to_have_text("live")


def test_the_tail_says_disconnected_while_the_broker_is_down_and_recovers(
    context: BrowserContext, console: ConsoleServer, own_broker: BrokerProcess
) -> None:
    topic = unique_topic("outage")
    create_topic(own_broker.bootstrap, topic)
    page = context.new_page()
    page.goto(f"{console.url}/topics/{topic}/")
    status = page.locator("#tail-status")
    expect(status).to_have_attribute("data-state", "live")
    own_broker.stop()
    try:
        expect(status).to_have_attribute("data-state", "disconnected", timeout=30_000)
        expect(status).to_contain_text("cannot reach the Kafka cluster")
    finally:
        own_broker.start()
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    kcat_produce(own_broker.bootstrap, topic, ["after the outage"])
    expect(page.locator("#tail-records tr.record", has_text="after the outage")).to_be_visible()
