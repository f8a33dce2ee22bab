"""The messages page against a real broker and PostgreSQL: records written with
confluent-kafka (and kcat for binary values), browsed from earliest / newest / an offset
/ a timestamp, paged forward and back, shown as JSON, text, hex and base64, filtered
with the scan count, produced (by key and to a partition, read back with a real
consumer), refused when too large, downloaded as JSON Lines; tenancy and bad input."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.message_client import Record
from console.models import AuditEvent, Membership, Plan, Tenant
from console.records import detect_format, format_bytes
from console.selectors import messages as selectors
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.consumers import read_back

BASE_AGE_S = 3600  # offset 0 was written this long ago; each next record 1 s later
PER_PARTITION = 30


@dataclass
class Setup:
    bootstrap: str
    topic: str  # acme, 2 partitions, PER_PARTITION records each, timestamps known
    other_topic: str  # globex
    base_ms: int


def _ts(base_ms: int, partition: int, offset: int) -> int:
    return base_ms + offset * 1000 + partition * 500  # partitions interleave in time


@pytest.fixture
def setup(cluster: BrokerProcess, db: None) -> Setup:
    suffix = uuid.uuid4().hex[:8]
    s = Setup(
        bootstrap=cluster.bootstrap, topic=f"acme.events-{suffix}",
        other_topic=f"globex.events-{suffix}",
        base_ms=int(time.time() * 1000) - BASE_AGE_S * 1000,
    )  # fmt: skip
    plan = Plan.objects.create(name=f"basic-{suffix}")
    for slug in ("acme", "globex"):
        Tenant.objects.create(name=slug, slug=slug, plan=plan)
    create_topic(s.bootstrap, s.topic, partitions=2, config={})
    create_topic(s.bootstrap, s.other_topic, partitions=1)
    producer = Producer({"bootstrap.servers": s.bootstrap, "linger.ms": 0})
    for partition in (0, 1):
        for offset in range(PER_PARTITION):
            value = json.dumps({"n": offset, "p": partition, "tag": "even" if offset % 2 == 0
                                else "odd"}).encode()  # fmt: skip
            producer.produce(
                s.topic, value, key=f"k{partition}-{offset}".encode(), partition=partition,
                timestamp=_ts(s.base_ms, partition, offset), headers=[("src", b"test")],
            )  # fmt: skip
    producer.produce(s.other_topic, b"secret", partition=0)
    assert producer.flush(15) == 0
    return s


def _member_client(client: Client, role: str, tenant: str = "acme") -> Client:
    user = User.objects.create_user(f"{role}-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, tenant=Tenant.objects.get(slug=tenant), role=role)
    client.force_login(user)
    return client


def _rows(html: str) -> list[tuple[int, int]]:
    return [
        (int(p), int(o)) for p, o in re.findall(r'data-partition="(\d+)" data-offset="(\d+)"', html)
    ]


def _get(client: Client, topic: str, **params: object) -> tuple[int, str]:
    response = client.get(reverse("message-list", args=[topic]), params)
    return response.status_code, response.content.decode()


def _link(html: str, link_id: str) -> str:
    match = re.search(rf'id="{link_id}" href="\?([^"]+)"', html)
    assert match, f"no {link_id} link"
    return match.group(1).replace("&amp;", "&")


# -- pure helpers ---------------------------------------------------------------------


def _record(p: int, o: int, ts: int) -> Record:
    return Record(p, o, ts, "CreateTime", None, b"v", ())


def test_merge_takes_a_prefix_or_suffix_of_every_partition() -> None:
    records = [_record(0, o, 10 * o) for o in range(5)] + [
        _record(1, o, 10 * o + 5) for o in range(5)
    ]
    forward = selectors.merge_forward(records, 4)
    assert [(r.partition, r.offset) for r in forward] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    backward = selectors.merge_backward(records, 3)
    assert [(r.partition, r.offset) for r in backward] == [(1, 3), (0, 4), (1, 4)]
    older, newer = selectors.backward_links(backward, {0: 5, 1: 5}, {0: 0, 1: 0}, {0, 1})
    assert older == {0: 4, 1: 3} and newer == {0: 5, 1: 5}


def test_formats_are_detected_per_field_and_switchable() -> None:
    assert detect_format(b'{"a": [1, 2]}') == "json"
    assert detect_format(b"hello world") == "text"
    assert detect_format(b"\x00\xff\x10") == "hex"
    assert format_bytes(b'{"a":1}')["text"] == '{\n  "a": 1\n}'
    assert format_bytes(b"\x00\xff", "base64") == {
        "format": "base64", "text": "AP8=", "size": 2, "truncated": False,
    }  # fmt: skip
    assert format_bytes(b"\x00\xff", "text")["format"] == "hex"  # not text: shown as hex
    assert format_bytes(b"plain", "json")["format"] == "text"  # not JSON: as detected
    assert format_bytes(b"plain", "hex")["text"] == "70 6c 61 69 6e"
    assert detect_format(b"[" * 3000 + b"]" * 3000) == "text"  # too deep for Python's json
    assert selectors.parse_positions("0:12,1:40") == {0: 12, 1: 40}
    with pytest.raises(ValueError):
        selectors.parse_positions("0:-1")
    assert selectors.parse_timestamp("1970-01-01T00:00:01Z") == 1000
    assert selectors.parse_timestamp("1970-01-01T01:00:01+01:00") == 1000
    assert selectors.parse_timestamp("1000") == 1000


# -- browsing -------------------------------------------------------------------------


def test_browse_from_earliest_and_page_forward_and_back(
    operator_client: Client, setup: Setup
) -> None:
    status, html = _get(operator_client, setup.topic, start="earliest", size=10)
    assert status == 200
    first = _rows(html)
    # by timestamp: p0-0, p1-0, p0-1, p1-1, ...
    assert first == [(p, o) for o in range(5) for p in (0, 1)]
    assert "no older records" in html
    status, html = _get_query(operator_client, setup.topic, _link(html, "newer"))
    second = _rows(html)
    assert second == [(p, o) for o in range(5, 10) for p in (0, 1)]
    status, html = _get_query(operator_client, setup.topic, _link(html, "older"))
    assert _rows(html) == first  # back exactly to the first page


def _get_query(client: Client, topic: str, query: str) -> tuple[int, str]:
    response = client.get(f"{reverse('message-list', args=[topic])}?{query}")
    return response.status_code, response.content.decode()


def test_browse_from_newest_one_partition_and_from_an_offset(
    operator_client: Client, setup: Setup
) -> None:
    status, html = _get(operator_client, setup.topic, size=4)  # newest is the default
    assert status == 200
    assert _rows(html) == [(0, 28), (1, 28), (0, 29), (1, 29)]
    assert "no newer records" in html
    _, html = _get_query(operator_client, setup.topic, _link(html, "older"))
    assert _rows(html) == [(0, 26), (1, 26), (0, 27), (1, 27)]
    _, html = _get_query(operator_client, setup.topic, _link(html, "newer"))
    assert _rows(html) == [(0, 28), (1, 28), (0, 29), (1, 29)]

    _, html = _get(operator_client, setup.topic, partition=1, start="offset", offset=7, size=3)
    assert _rows(html) == [(1, 7), (1, 8), (1, 9)]
    _, html = _get(operator_client, setup.topic, partition=1, size=2)
    assert _rows(html) == [(1, 28), (1, 29)]


def test_browse_from_a_timestamp_uses_list_offsets_by_time(
    operator_client: Client, setup: Setup
) -> None:
    at = _ts(setup.base_ms, 0, 20)  # p0-20 and p1-20 (500 ms later) are the first at/after
    status, html = _get(operator_client, setup.topic, start="timestamp", timestamp=at, size=4)
    assert status == 200
    assert _rows(html) == [(0, 20), (1, 20), (0, 21), (1, 21)]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at / 1000))
    _, html = _get(operator_client, setup.topic, start="timestamp", timestamp=iso + "Z", size=2)
    assert _rows(html)[0][1] in (19, 20)  # seconds resolution: at most one record earlier
    assert '<time datetime="' in html and " UTC</time>" in html


def test_formats_json_text_binary_and_headers(operator_client: Client, setup: Setup) -> None:
    topic = f"acme.bin-{uuid.uuid4().hex[:6]}"
    create_topic(setup.bootstrap, topic)
    kcat = shutil.which("kcat")
    assert kcat, "kcat is a system package of the test environment"
    binary = bytes([0, 1, 2, 0xFE, 0xFF])
    subprocess.run(
        [kcat, "-b", setup.bootstrap, "-P", "-t", topic, "-p", "0", "-k", "plain-key",
         "-H", "trace=abc"],
        input=binary, check=True, timeout=30,
    )  # fmt: skip
    _, html = _get(operator_client, topic, start="earliest")
    assert '<pre data-format="hex">00 01 02 fe ff</pre>' in html
    assert '<pre data-format="text">plain-key</pre>' in html
    assert 'header-name">trace</span>' in html and '<pre data-format="text">abc</pre>' in html
    _, html = _get(operator_client, topic, start="earliest", fmt="base64")
    assert f'<pre data-format="base64">{base64.b64encode(binary).decode()}</pre>' in html
    _, html = _get(operator_client, setup.topic, start="earliest", size=1)
    assert '<pre data-format="json">{\n  &quot;n&quot;: 0,' in html  # pretty JSON


def test_filter_states_the_scan_count(operator_client: Client, setup: Setup) -> None:
    # value contains "odd" in 15 records of each partition; a limit of 20 scans 20 records
    _, html = _get(operator_client, setup.topic, start="earliest", q='"odd"', limit=20, size=50)
    assert re.search(r"Scanned 20 records, 10 matched: stopped at the scan limit", html)
    assert all(o % 2 == 1 for _, o in _rows(html))
    _, html = _get(operator_client, setup.topic, start="earliest", q="k1-2", q_in="key")
    assert _rows(html) == [(1, 2)] + [(1, o) for o in range(20, 30)]
    assert "Scanned 60 records, 11 matched." in html
    _, html = _get(operator_client, setup.topic, start="earliest", q="src=test", q_in="header",
                   size=5)  # fmt: skip
    assert len(_rows(html)) == 5 and "5 matched" in html
    _, html = _get(operator_client, setup.topic, start="earliest", q="nothing-like-this")
    assert "Scanned 60 records, 0 matched." in html and "No records here." in html


def test_jsonl_download_is_the_page_shown(operator_client: Client, setup: Setup) -> None:
    response = operator_client.get(
        reverse("message-list", args=[setup.topic]),
        {"start": "offset", "offset": 3, "partition": 0, "size": 2, "format": "jsonl"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [(r["partition"], r["offset"]) for r in lines] == [(0, 3), (0, 4)]
    assert lines[0]["key"]["text"] == "k0-3" and lines[0]["value"]["format"] == "json"
    assert lines[0]["headers"] == [
        {"key": "src", "value": {"format": "text", "text": "test", "size": 4, "truncated": False}}
    ]
    assert lines[0]["timestamp"] == _ts(setup.base_ms, 0, 3)


# -- producing ------------------------------------------------------------------------


def _produced(html: str) -> tuple[int, int]:
    partition = re.search(r'data-field="partition">(\d+)<', html)
    offset = re.search(r'data-field="offset">(\d+)<', html)
    assert partition and offset, "no produced partition/offset on the page"
    return int(partition.group(1)), int(offset.group(1))


def test_produce_by_key_and_to_a_partition_andread_back(client: Client, setup: Setup) -> None:
    developer = _member_client(client, "developer")
    url = reverse("message-produce", args=[setup.topic])
    response = developer.post(url, {"key": "order-7", "value": '{"total": 12}',
                                    "headers": "trace=t-1\nsource=console"})  # fmt: skip
    assert response.status_code == 200
    partition, offset = _produced(response.content.decode())
    message = read_back(setup.bootstrap, setup.topic, partition, offset)
    assert message.key() == b"order-7" and message.value() == b'{"total": 12}'
    assert message.headers() == [("trace", b"t-1"), ("source", b"console")]
    # the same key again: the default partitioner puts it on the same partition
    again = developer.post(url, {"key": "order-7", "value": "second"}).content.decode()
    assert _produced(again) == (partition, offset + 1)

    response = developer.post(url, {"partition": "1", "value": "to one"})
    p1, o1 = _produced(response.content.decode())
    assert p1 == 1 and o1 == PER_PARTITION
    message = read_back(setup.bootstrap, setup.topic, 1, o1)
    assert message.key() is None and message.value() == b"to one"

    event = AuditEvent.objects.filter(action="message.produce", resource_name=setup.topic).first()
    assert event is not None and event.after["partition"] == 1 and event.after["offset"] == o1
    assert "to one" not in json.dumps(event.after)  # the value is never audited


def test_a_record_beyond_max_message_bytes_is_refused_with_kafkas_message(
    operator_client: Client, setup: Setup
) -> None:
    topic = f"acme.small-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": setup.bootstrap})
    new_topic = NewTopic(topic, num_partitions=1, config={"max.message.bytes": "2000"})
    admin.create_topics([new_topic])[topic].result(15)
    url = reverse("message-produce", args=[topic])
    response = operator_client.post(url, {"value": "x" * 5000})
    assert response.status_code == 400
    html = response.content.decode()
    assert "MESSAGE_TOO_LARGE" in html and 'id="produce-error"' in html
    assert not AuditEvent.objects.filter(action="message.produce", resource_name=topic).exists()
    ok = operator_client.post(url, {"value": "small"})
    assert ok.status_code == 200 and _produced(ok.content.decode()) == (0, 0)


# -- tenancy and roles ----------------------------------------------------------------


def test_another_tenants_topic_is_404_like_a_missing_one(client: Client, setup: Setup) -> None:
    member = _member_client(client, "admin")
    other = member.get(reverse("message-list", args=[setup.other_topic]))
    missing = member.get(reverse("message-list", args=["acme.no-such-topic-here"]))
    assert other.status_code == missing.status_code == 404
    assert b"secret" not in other.content
    produce = member.post(reverse("message-produce", args=[setup.other_topic]), {"value": "x"})
    assert produce.status_code == 404
    jsonl = member.get(reverse("message-list", args=[setup.other_topic]), {"format": "jsonl"})
    assert jsonl.status_code == 404


def test_a_viewer_browses_but_cannot_produce(client: Client, setup: Setup) -> None:
    viewer = _member_client(client, "viewer")
    status, html = _get(viewer, setup.topic, size=2)
    assert status == 200 and len(_rows(html)) == 2
    assert 'id="produce"' not in html
    response = viewer.post(reverse("message-produce", args=[setup.topic]), {"value": "nope"})
    assert response.status_code == 403


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"partition": "7"}, "there is no partition 7"),
        ({"partition": "x"}, "Partition must be a whole number."),
        ({"start": "offset", "offset": "-3"}, "Offset must be 0 or more"),
        ({"start": "offset", "partition": "0", "offset": "999"}, "999 is outside them"),
        ({"start": "offset"}, "Give the offset to start from."),
        ({"start": "timestamp", "timestamp": "yesterday"}, "Not a timestamp"),
        ({"start": "timestamp", "timestamp": "9" * 25}, "Not a timestamp"),
        ({"size": "0"}, "Page size must be 1 to 500"),
        ({"size": "501"}, "Page size must be 1 to 500"),
        ({"dir": "sideways", "pos": "0:1"}, "dir must be fwd or back"),
        ({"dir": "fwd", "pos": "0:x"}, "This page link is broken"),
        ({"q": "a", "limit": "1000000"}, "Scan limit must be 1 to 100000"),
    ],
)
def test_bad_input_is_a_message(
    operator_client: Client, setup: Setup, params: dict[str, str], message: str
) -> None:
    status, html = _get(operator_client, setup.topic, **params)
    assert status == 400, html
    assert message in html.replace("&#x27;", "'")


def test_bad_produce_input_is_a_message(operator_client: Client, setup: Setup) -> None:
    url = reverse("message-produce", args=[setup.topic])
    response = operator_client.post(url, {"partition": "9", "value": "v"})
    assert response.status_code == 400 and b"there is no partition 9" in response.content
    response = operator_client.post(url, {"value": "v", "headers": "no-equals-sign"})
    assert response.status_code == 400 and b"is not name=value" in response.content


def test_a_topic_deleted_while_its_page_is_open(operator_client: Client, setup: Setup) -> None:
    topic = f"acme.gone-{uuid.uuid4().hex[:6]}"
    create_topic(setup.bootstrap, topic)
    assert _get(operator_client, topic)[0] == 200
    admin = AdminClient({"bootstrap.servers": setup.bootstrap})
    admin.delete_topics([topic])[topic].result(15)
    status, html = _get(operator_client, topic, dir="fwd", pos="0:0")
    assert status == 404 and "No topic" in html
    response = operator_client.post(reverse("message-produce", args=[topic]), {"value": "v"})
    assert response.status_code == 404


def test_broker_down_is_a_message(operator_client: Client, db: None, cluster_down: str) -> None:
    status, html = _get(operator_client, "acme.anything")
    assert status == 503 and "cannot reach the Kafka cluster" in html
    response = operator_client.post(reverse("message-produce", args=["acme.anything"]),
                                    {"value": "v"})  # fmt: skip
    assert response.status_code == 503 and b"cannot reach the Kafka cluster" in response.content


def test_a_request_body_beyond_djangos_limit_is_a_400(
    operator_client: Client, setup: Setup
) -> None:
    url = reverse("message-produce", args=[setup.topic])
    response = operator_client.post(url, {"value": "x" * 3_000_000})
    assert response.status_code == 400


def test_a_filter_page_continues_its_scan_and_stops_at_its_time_budget(
    operator_client: Client, operator: User, setup: Setup
) -> None:
    _, html = _get(operator_client, setup.topic, start="earliest", q='"odd"', limit=20)
    seen = _rows(html)
    pages = 1
    while 'id="newer"' in html:  # each page scans the next 20 records of the partitions
        _, html = _get_query(operator_client, setup.topic, _link(html, "newer"))
        seen += _rows(html)
        pages += 1
        assert pages <= 4, "more pages than 60 records / 20 per scan"
    assert pages == 3 and "Scanned 20 records, 10 matched." in html
    assert sorted(seen) == [(p, o) for p in (0, 1) for o in range(1, PER_PARTITION, 2)]

    page = selectors.message_page(
        actor=operator, topic=setup.topic, start=selectors.Start("earliest"),
        filter=selectors.Filter('"odd"'), time_budget=0.0,
    )  # fmt: skip
    assert page.stopped == "budget" and page.scanned == 0 and page.rows == []
    assert page.newer == {0: 0, 1: 0}  # Newer starts the scan again from where it stopped
