"""The REST API's consumer groups and messages against a real broker and PostgreSQL,
with real confluent-kafka consumers in the groups and records read back by a real
consumer: list and detail with lag, reset offsets (dry run, execute, refusals), delete
(NON_EMPTY_GROUP while a member runs), delete a topic's offsets; browse with cursors,
filter with scan statistics, produce (MESSAGE_TOO_LARGE); tenancy, roles, broker down."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from console.models import AuditEvent
from tests.console.api.conftest import Api, error_of
from tests.support import consumers
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.consumers import GroupMember, committed, produce_aged, read_back
from tests.support.net import wait_until

pytestmark = pytest.mark.django_db

AGE_S = 600  # the group topic's records: offset n written AGE_S - n s ago
PER_PARTITION = 20  # the messages topic's records per partition


@dataclass
class World:
    bootstrap: str
    topic: str  # acme, 2 partitions, 5 aged records each
    group: str  # acme's
    events: str  # acme, 2 partitions, PER_PARTITION JSON records each
    other_topic: str  # globex's
    base_ms: int


@pytest.fixture
def world(cluster: BrokerProcess, users: dict[str, Any]) -> World:
    suffix = uuid.uuid4().hex[:8]
    w = World(
        bootstrap=cluster.bootstrap, topic=f"acme.orders-{suffix}",
        group=f"acme.billing-{suffix}", events=f"acme.events-{suffix}",
        other_topic=f"globex.orders-{suffix}",
        base_ms=int(time.time() * 1000) - AGE_S * 1000,
    )  # fmt: skip
    for topic in (w.topic, w.other_topic):
        create_topic(w.bootstrap, topic, partitions=2)
        produce_aged(w.bootstrap, topic, w.base_ms)
    create_topic(w.bootstrap, w.events, partitions=2)
    producer = Producer({"bootstrap.servers": w.bootstrap, "linger.ms": 0})
    for partition in (0, 1):
        for n in range(PER_PARTITION):
            value = json.dumps({"n": n, "tag": "even" if n % 2 == 0 else "odd"}).encode()
            producer.produce(w.events, value, key=f"k{partition}-{n}".encode(),
                             partition=partition, timestamp=w.base_ms + n * 1000 + partition * 500,
                             headers=[("src", b"test")])  # fmt: skip
    assert producer.flush(15) == 0
    return w


@pytest.fixture
def member(world: World) -> Iterator[GroupMember]:
    """A running consumer of acme's group with offsets 3 and 1 committed (lag 2 + 4)."""
    consumer = GroupMember(world.bootstrap, world.group, world.topic)
    consumer.commit({0: 3, 1: 1})
    yield consumer
    consumer.close()


@pytest.fixture
def idle_group(world: World) -> World:
    """Acme's group with offsets 3 and 1 committed and no members (state Empty)."""
    consumers.idle_group(world.bootstrap, world.group, world.topic, {0: 3, 1: 1})
    return world


def _reset(api: Api, group: str, **body: Any) -> Any:
    return api.post(f"/groups/{group}/offsets/reset", body)


# -- consumer groups -----------------------------------------------------------------


def test_list_and_detail_show_state_members_and_lag(
    api_as: Callable[[str], Api], world: World, member: GroupMember
) -> None:
    response = api_as("viewer").get("/groups", q=world.group)
    assert response.status_code == 200, response.content
    listing = response.json()
    assert listing["count"] == 1
    (item,) = listing["items"]
    assert item == {"group_id": world.group, "state": "Stable", "protocol": "classic",
                    "members": 1, "topics": [world.topic], "lag": 6}  # fmt: skip
    assert api_as("viewer").get("/groups", q=world.group, state="Empty").json()["count"] == 0
    assert api_as("outsider").get("/groups", q=world.group).json()["count"] == 0
    refused = error_of(api_as("viewer").get("/groups", tenant="globex"))
    assert list(refused["errors"]) == ["tenant"]

    detail = api_as("viewer").get(f"/groups/{world.group}").json()
    assert detail["state"] == "Stable" and detail["lag"] == 6 and not detail["empty"]
    (m,) = detail["members"]
    assert m["client_id"] == "test-classic" and m["host"].startswith("/127.0.0.1")
    assert sorted(a["partition"] for a in m["assignment"]) == [0, 1]
    p0, p1 = detail["partitions"]
    assert (p0["partition"], p0["committed"], p0["end"], p0["lag"]) == (0, 3, 5, 2)
    assert (p1["partition"], p1["committed"], p1["end"], p1["lag"]) == (1, 1, 5, 4)
    # the next record to consume on partition 0 is offset 3, written AGE_S - 3 s ago
    assert AGE_S - 3 <= p0["lag_seconds"] < AGE_S - 3 + 120
    assert p0["member"] == "test-classic"

    hidden = api_as("outsider").get(f"/groups/{world.group}")
    assert hidden.status_code == 404 and "acme" not in error_of(hidden)["detail"]
    missing = api_as("operator").get(f"/groups/acme.nosuch-{uuid.uuid4().hex[:6]}")
    assert missing.status_code == 404


def test_reset_offsets_dry_run_then_execute_audited(
    api_as: Callable[[str], Api], idle_group: World
) -> None:
    w, developer = idle_group, api_as("developer")
    dry = _reset(developer, w.group, strategy="to-earliest")
    assert dry.status_code == 200, dry.content
    assert dry.json() == {"dry_run": True, "changes": [
        {"topic": w.topic, "partition": 0, "old": 3, "new": 0, "delta": -3},
        {"topic": w.topic, "partition": 1, "old": 1, "new": 0, "delta": -1},
    ]}  # fmt: skip
    assert committed(w.bootstrap, w.group) == {(w.topic, 0): 3, (w.topic, 1): 1}
    assert not AuditEvent.objects.filter(action="group.offsets_reset").exists()

    done = _reset(developer, w.group, strategy="shift-by", value=1, scope="partition",
                  topic=w.topic, partition=1, dry_run=False)  # fmt: skip
    assert done.status_code == 200, done.content
    assert done.json()["changes"] == [
        {"topic": w.topic, "partition": 1, "old": 1, "new": 2, "delta": 1}
    ]
    assert committed(w.bootstrap, w.group) == {(w.topic, 0): 3, (w.topic, 1): 2}
    event = AuditEvent.objects.get(action="group.offsets_reset", resource_name=w.group)
    assert event.after == {f"{w.topic}-1": 2} and event.actor_name == "acme-developer"

    # to-datetime: the first offset at or after the moment (offset 2, written AGE_S - 2 s ago)
    when = datetime.fromtimestamp((w.base_ms + 1500) / 1000, tz=UTC).isoformat()
    by_time = _reset(developer, w.group, strategy="to-datetime", when=when, scope="topic",
                     topic=w.topic, dry_run=False)  # fmt: skip
    assert [c["new"] for c in by_time.json()["changes"]] == [2, 2]
    assert committed(w.bootstrap, w.group) == {(w.topic, 0): 2, (w.topic, 1): 2}


def test_reset_refusals_are_422_by_field_403_and_404(
    api_as: Callable[[str], Api], world: World, member: GroupMember
) -> None:
    operator = api_as("operator")
    active = error_of(_reset(operator, world.group, strategy="to-latest", dry_run=False))
    assert "inactive" in active["detail"] and "Stable" in active["detail"]
    assert committed(world.bootstrap, world.group) == {(world.topic, 0): 3, (world.topic, 1): 1}
    cases = [
        ({"strategy": "to-offset"}, "value"),
        ({"strategy": "to-datetime"}, "when"),
        ({"strategy": "to-datetime", "when": "1969-12-31T23:59:59Z"}, "when"),
        ({"strategy": "to-earliest", "scope": "topic"}, "topic"),
        ({"strategy": "to-earliest", "scope": "partition", "topic": world.topic}, "partition"),
        ({"strategy": "to-somewhere"}, "strategy"),
        ({"strategy": "to-earliest", "partition": -1}, "partition"),
    ]
    for body, field in cases:
        response = _reset(operator, world.group, **body)
        assert response.status_code == 422, (body, response.content)
        assert field in error_of(response)["errors"], (body, response.json())
    viewer = _reset(api_as("viewer"), world.group, strategy="to-earliest")
    assert viewer.status_code == 403
    hidden = _reset(api_as("outsider"), world.group, strategy="to-earliest")
    assert hidden.status_code == 404 and "acme" not in error_of(hidden)["detail"]


def test_reset_a_partition_the_topic_lacks_is_422_on_partition(
    api_as: Callable[[str], Api], idle_group: World
) -> None:
    response = _reset(api_as("admin"), idle_group.group, strategy="to-earliest",
                      scope="partition", topic=idle_group.topic, partition=9)  # fmt: skip
    assert response.status_code == 422
    assert "no partition 9" in error_of(response)["errors"]["partition"][0]


def test_delete_a_group_is_refused_with_non_empty_group_while_a_member_runs(
    api_as: Callable[[str], Api], world: World, member: GroupMember
) -> None:
    developer = api_as("developer")
    refused = developer.client.delete(f"/api/v1/groups/{world.group}")
    assert refused.status_code == 422
    assert error_of(refused)["kafka_error"] == "NON_EMPTY_GROUP"
    assert api_as("viewer").client.delete(f"/api/v1/groups/{world.group}").status_code == 403
    member.close()
    wait_until(lambda: developer.get(f"/groups/{world.group}").json()["state"] == "Empty",
               timeout=60, what="the group to be Empty")  # fmt: skip
    deleted = developer.client.delete(f"/api/v1/groups/{world.group}")
    assert deleted.status_code == 204, deleted.content
    assert committed(world.bootstrap, world.group) == {}
    assert developer.get(f"/groups/{world.group}").status_code == 404
    assert AuditEvent.objects.filter(action="group.delete", resource_name=world.group).exists()


def test_delete_a_topics_offsets(api_as: Callable[[str], Api], idle_group: World) -> None:
    w, developer = idle_group, api_as("developer")
    response = developer.client.delete(f"/api/v1/groups/{w.group}/offsets/{w.topic}")
    assert response.status_code == 200, response.content
    assert response.json() == {"topic": w.topic, "partitions": [0, 1]}
    assert committed(w.bootstrap, w.group) == {}
    again = developer.client.delete(f"/api/v1/groups/{w.group}/offsets/{w.topic}")
    assert again.status_code == 422 and "topic" in error_of(again)["errors"]


def test_delete_offsets_of_a_topic_a_member_reads_is_refused_with_kafkas_name(
    api_as: Callable[[str], Api], world: World, member: GroupMember
) -> None:
    response = api_as("developer").client.delete(
        f"/api/v1/groups/{world.group}/offsets/{world.topic}"
    )
    assert response.status_code == 422
    assert error_of(response)["kafka_error"] == "GROUP_SUBSCRIBED_TO_TOPIC"
    assert committed(world.bootstrap, world.group) == {(world.topic, 0): 3, (world.topic, 1): 1}


# -- messages ------------------------------------------------------------------------


def _browse(api: Api, topic: str, **query: Any) -> dict[str, Any]:
    response = api.get(f"/topics/{topic}/messages", **query)
    assert response.status_code == 200, response.content
    return response.json()


def test_browse_pages_forward_and_back_with_cursors_never_skipping_a_record(
    api_as: Callable[[str], Api], world: World
) -> None:
    viewer = api_as("viewer")
    page = _browse(viewer, world.events, start="earliest", size=7)
    assert page["direction"] == "fwd" and page["previous_cursor"] is None
    assert page["watermarks"] == [
        {"partition": 0, "log_start_offset": 0, "high_watermark": PER_PARTITION},
        {"partition": 1, "log_start_offset": 0, "high_watermark": PER_PARTITION},
    ]
    first = page["records"][0]
    assert (first["partition"], first["offset"], first["timestamp"]) == (0, 0, world.base_ms)
    assert first["key"]["text"] == "k0-0" and first["value"]["format"] == "json"
    assert first["headers"] == [{"key": "src", "value": {
        "format": "text", "text": "test", "size": 4, "truncated": False}}]  # fmt: skip
    seen = [(r["partition"], r["offset"]) for r in page["records"]]
    while page["next_cursor"]:
        assert page["next_cursor"].startswith("fwd:")
        page = _browse(viewer, world.events, cursor=page["next_cursor"], size=7)
        seen += [(r["partition"], r["offset"]) for r in page["records"]]
    assert sorted(seen) == [(p, o) for p in (0, 1) for o in range(PER_PARTITION)]
    assert len(seen) == len(set(seen))

    newest = _browse(viewer, world.events, partition=1, size=5)
    assert newest["direction"] == "back" and newest["next_cursor"] is None
    assert [r["offset"] for r in newest["records"]] == list(range(PER_PARTITION - 5, PER_PARTITION))
    older = _browse(viewer, world.events, partition=1, size=5, cursor=newest["previous_cursor"])
    assert [r["offset"] for r in older["records"]] == list(
        range(PER_PARTITION - 10, PER_PARTITION - 5)
    )

    at = _browse(viewer, world.events, partition=0, start="offset", offset=12, size=2, format="hex")
    assert [r["offset"] for r in at["records"]] == [12, 13]
    assert at["records"][0]["key"] == {"format": "hex", "text": b"k0-12".hex(" "), "size": 5,
                                       "truncated": False}  # fmt: skip
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(world.base_ms / 1000 + 15))
    by_time = _browse(viewer, world.events, partition=0, start="timestamp", timestamp=moment)
    assert by_time["records"][0]["offset"] == 15


def test_filter_reports_what_it_scanned(api_as: Callable[[str], Api], world: World) -> None:
    page = _browse(api_as("viewer"), world.events, start="earliest", q='"odd"', q_in="value",
                   size=3, limit=1000)  # fmt: skip
    assert [json.loads(r["value"]["text"])["tag"] for r in page["records"]] == ["odd"] * 3
    assert page["scanned"] >= 6 and page["stopped"] == ""
    limited = _browse(api_as("viewer"), world.events, start="earliest", q="nowhere", limit=10)
    assert limited["records"] == [] and limited["scanned"] == 10
    assert limited["stopped"] == "limit" and limited["next_cursor"]


def test_browse_bad_input_is_422_by_field_and_other_tenants_topic_404(
    api_as: Callable[[str], Api], world: World
) -> None:
    viewer = api_as("viewer")
    for query, field in [
        ({"start": "offset"}, "offset"),
        ({"start": "timestamp", "timestamp": "yesterday"}, "timestamp"),
        ({"start": "timestamp"}, "timestamp"),
        ({"cursor": "sideways:0:1"}, "cursor"),
        ({"cursor": "fwd:0-1"}, "cursor"),
        ({"size": 0}, "size"),
        ({"partition": 7}, "partition"),
        ({"partition": 0, "start": "offset", "offset": 999}, "offset"),
        ({"format": "morse"}, "format"),
    ]:
        response = viewer.get(f"/topics/{world.events}/messages", **query)
        assert response.status_code == 422, (query, response.content)
        assert field in error_of(response)["errors"], (query, response.json())
    for path in (f"/topics/{world.other_topic}/messages", "/topics/acme.nosuch/messages"):
        response = viewer.get(path)
        assert response.status_code == 404 and "globex" not in error_of(response)["detail"]


def test_produce_by_key_to_a_partition_and_as_bytes_read_back(
    api_as: Callable[[str], Api], world: World
) -> None:
    developer = api_as("developer")
    url = f"/topics/{world.events}/messages"
    response = developer.post(url, {"key": "order-7", "value": '{"total": 12}',
                                    "headers": [{"key": "trace", "value": "t-1"}]})  # fmt: skip
    assert response.status_code == 201, response.content
    produced = response.json()
    message = read_back(world.bootstrap, world.events, produced["partition"], produced["offset"])
    assert message.key() == b"order-7" and message.value() == b'{"total": 12}'
    assert message.headers() == [("trace", b"t-1")]
    again = developer.post(url, {"key": "order-7", "value": "second"}).json()
    assert (again["partition"], again["offset"]) == (produced["partition"], produced["offset"] + 1)

    binary = bytes(range(256))
    response = developer.post(url, {"value": base64.b64encode(binary).decode(), "partition": 1,
                                    "encoding": "base64"})  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["partition"] == 1
    message = read_back(world.bootstrap, world.events, 1, response.json()["offset"])
    assert message.value() == binary and message.key() is None
    event = AuditEvent.objects.filter(action="message.produce", resource_name=world.events).first()
    assert event is not None and event.after["value_bytes"] == 256

    for body, field in [({"value": "x", "partition": 5}, "partition"),
                        ({"value": "***", "encoding": "base64"}, "value"),
                        ({"value": "\ud800"}, "value")]:  # fmt: skip
        refused = developer.post(url, body)
        assert refused.status_code == 422, (body, refused.content)
        assert field in error_of(refused)["errors"], (body, refused.json())
    assert api_as("viewer").post(url, {"value": "x"}).status_code == 403
    hidden = api_as("outsider").post(url, {"value": "x"})
    assert hidden.status_code == 404 and "acme" not in error_of(hidden)["detail"]


def test_a_record_beyond_max_message_bytes_is_422_message_too_large(
    api_as: Callable[[str], Api], world: World
) -> None:
    topic = f"acme.small-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": world.bootstrap})
    new_topic = NewTopic(topic, num_partitions=1, config={"max.message.bytes": "2000"})
    admin.create_topics([new_topic])[topic].result(15)
    response = api_as("developer").post(f"/topics/{topic}/messages", {"value": "x" * 5000})
    assert response.status_code == 422
    assert error_of(response)["kafka_error"] == "MESSAGE_TOO_LARGE"
    assert not AuditEvent.objects.filter(action="message.produce", resource_name=topic).exists()


def test_broker_down_is_503(api_as: Callable[[str], Api], cluster_down: str) -> None:
    operator = api_as("operator")
    for response in (
        operator.get("/groups"),
        operator.get("/groups/acme.billing"),
        operator.get("/topics/acme.events/messages"),
        operator.post("/topics/acme.events/messages", {"value": "x"}),
    ):
        assert response.status_code == 503, response.content
        assert error_of(response)["detail"]
