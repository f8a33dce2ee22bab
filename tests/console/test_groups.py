"""Consumer-group pages against a real broker and PostgreSQL, with real confluent-kafka
consumers in the groups: list and detail (state, members, lag in records and seconds),
tenant scoping, roles, reset offsets (dry run, refusals, the tool's rules), delete."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.models import AuditEvent, Membership, Plan, Tenant
from console.services.groups import (
    OffsetChange,
    ResetSpec,
    ResetStrategy,
    reset_partitions,
    reset_plan,
)
from tests.support import consumers
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.consumers import GroupMember, committed, produce_aged
from tests.support.net import wait_until

RECORDS_PER_PARTITION = 5
AGE_S = 600  # the records' timestamps are this far in the past, 1 s apart


@dataclass
class Setup:
    bootstrap: str
    topic: str
    group: str
    other_topic: str
    other_group: str
    base_ms: int  # timestamp of offset 0 on each partition


@pytest.fixture
def setup(cluster: BrokerProcess, db: None) -> Setup:
    suffix = uuid.uuid4().hex[:8]
    s = Setup(
        bootstrap=cluster.bootstrap, topic=f"acme.orders-{suffix}", group=f"acme.billing-{suffix}",
        other_topic=f"globex.orders-{suffix}", other_group=f"globex.billing-{suffix}",
        base_ms=int(time.time() * 1000) - AGE_S * 1000,
    )  # fmt: skip
    plan = Plan.objects.create(name=f"basic-{suffix}")
    for slug in ("acme", "globex"):
        Tenant.objects.create(name=slug, slug=slug, plan=plan)
    for topic in (s.topic, s.other_topic):
        create_topic(s.bootstrap, topic, partitions=2)
        produce_aged(s.bootstrap, topic, s.base_ms, RECORDS_PER_PARTITION)
    return s


@pytest.fixture
def member(setup: Setup) -> Iterator[GroupMember]:
    """A running consumer of the acme group with offsets 3 and 1 committed (lag 2 + 4)."""
    consumer = GroupMember(setup.bootstrap, setup.group, setup.topic)
    consumer.commit({0: 3, 1: 1})
    yield consumer
    consumer.close()


@pytest.fixture
def idle_group(setup: Setup) -> Setup:
    """The acme group with offsets 3 and 1 committed and no members (state Empty)."""
    consumers.idle_group(setup.bootstrap, setup.group, setup.topic, {0: 3, 1: 1})
    return setup


def _client_for(client: Client, username: str, tenant: str, role: str) -> Client:
    user = User.objects.create_user(username)
    Membership.objects.create(user=user, tenant=Tenant.objects.get(slug=tenant), role=role)
    client.force_login(user)
    return client


@pytest.fixture
def developer_client(client: Client, setup: Setup) -> Client:
    return _client_for(client, "dev", "acme", "developer")


@pytest.fixture
def viewer_client(client: Client, setup: Setup) -> Client:
    return _client_for(client, "viewer", "acme", "viewer")


def _row(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start : html.index("</tr>", start)]


def test_list_and_detail_show_state_members_and_lag(
    operator_client: Client, setup: Setup, member: GroupMember
) -> None:
    page = operator_client.get(reverse("group-list"), {"q": setup.group}).content.decode()
    row = _row(page, f'data-group="{setup.group}"')
    assert ">Stable<" in row and "classic" in row
    assert '<td class="num" data-field="members">1</td>' in row
    assert '<td class="num" data-field="lag">6</td>' in row  # (5 - 3) + (5 - 1)
    assert setup.topic in row

    response = operator_client.get(reverse("group-detail", args=[setup.group]))
    assert response.status_code == 200
    detail = response.content.decode()
    assert "test-classic" in detail and "/127.0.0.1" in detail  # client id, host
    assert f"{setup.topic}-0" in detail and f"{setup.topic}-1" in detail  # assignment
    p0 = _row(detail, f'data-partition="{setup.topic}-0"')
    assert 'data-field="committed">3<' in p0 and 'data-field="end">5<' in p0
    assert 'data-field="lag">2<' in p0
    # the next record to consume on partition 0 is offset 3, written AGE_S - 3 s ago
    seconds = float(p0.split('data-field="lag_seconds">')[1].split("<")[0])
    assert AGE_S - 3 <= seconds < AGE_S - 3 + 120
    p1 = _row(detail, f'data-partition="{setup.topic}-1"')
    seconds = float(p1.split('data-field="lag_seconds">')[1].split("<")[0])
    assert AGE_S - 1 <= seconds < AGE_S - 1 + 120


def test_a_kip_848_group_is_listed_as_consumer_protocol(
    operator_client: Client, setup: Setup
) -> None:
    consumer = GroupMember(setup.bootstrap, setup.group, setup.topic, protocol="consumer")
    try:
        consumer.commit({0: 5, 1: 5})
        page = operator_client.get(reverse("group-list"), {"q": setup.group}).content.decode()
        row = _row(page, f'data-group="{setup.group}"')
        assert "consumer (KIP-848)" in row and 'data-field="lag">0<' in row
        detail = operator_client.get(reverse("group-detail", args=[setup.group])).content.decode()
        assert "test-consumer" in detail
        assert 'data-field="lag_seconds">0.0<' in detail  # caught up: no lag in time either
    finally:
        consumer.close()


def test_list_filters_by_state_and_search_and_pages(
    operator_client: Client, setup: Setup, member: GroupMember, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second group, committed by an admin only (no member ever joined: state Empty)
    second = f"{setup.group}-replay"
    admin = AdminClient({"bootstrap.servers": setup.bootstrap})
    request = ConsumerGroupTopicPartitions(second, [TopicPartition(setup.topic, 0, 1)])
    admin.alter_consumer_group_offsets([request])[second].result(15)

    def listed(**query: str) -> list[str]:
        page = operator_client.get(reverse("group-list"), query).content.decode()
        return [part.split('"')[0] for part in page.split('data-group="')[1:]]

    assert listed(q=setup.group) == [setup.group, second]
    assert listed(q=setup.group, state="Empty") == [second]
    assert listed(q=setup.group, state="Stable") == [setup.group]
    assert listed(q=setup.group.upper(), tenant="acme") == [setup.group, second]
    assert listed(q=setup.group, tenant="globex") == []
    monkeypatch.setattr("console.selectors.groups.PAGE_SIZE", 1)
    assert listed(q=setup.group, page="2") == [second]
    page = operator_client.get(reverse("group-list"), {"q": setup.group}).content.decode()
    assert f"q={setup.group}&amp;page=2" in page and "page 1 of 2" in page
    page = operator_client.get(reverse("group-list"), {"tenant": "nosuch"})
    assert "No tenant &#x27;nosuch&#x27;." in page.content.decode()


def test_a_member_sees_its_tenants_groups_only(
    developer_client: Client, setup: Setup, member: GroupMember
) -> None:
    other = GroupMember(setup.bootstrap, setup.other_group, setup.other_topic)
    try:
        page = developer_client.get(reverse("group-list")).content.decode()
        assert f'data-group="{setup.group}"' in page
        assert "globex" not in page
        for view in ("group-detail", "group-reset", "group-delete"):
            assert developer_client.get(reverse(view, args=[setup.other_group])).status_code == 404
        missing = f"acme.nosuch-{uuid.uuid4().hex[:6]}"
        assert developer_client.get(reverse("group-detail", args=[missing])).status_code == 404
        response = developer_client.post(
            reverse("group-reset", args=[setup.other_group]),
            {"strategy": "to-earliest", "scope": "all", "execute": "1"},
        )
        assert response.status_code == 404
        fragment = developer_client.get(reverse("topic-groups", args=[setup.other_topic]))
        assert fragment.status_code == 404
    finally:
        other.close()


def test_a_viewer_cannot_reset_or_delete(viewer_client: Client, idle_group: Setup) -> None:
    group = idle_group.group
    assert viewer_client.get(reverse("group-detail", args=[group])).status_code == 200
    assert viewer_client.get(reverse("group-reset", args=[group])).status_code == 403
    response = viewer_client.post(
        reverse("group-reset", args=[group]),
        {"strategy": "to-earliest", "scope": "all", "execute": "1"},
    )
    assert response.status_code == 403
    assert viewer_client.post(reverse("group-delete", args=[group]),
                              {"confirm": group}).status_code == 403  # fmt: skip
    assert committed(idle_group.bootstrap, group) == {
        (idle_group.topic, 0): 3, (idle_group.topic, 1): 1
    }  # fmt: skip


def test_a_dry_run_shows_old_and_new_and_changes_nothing(
    developer_client: Client, idle_group: Setup
) -> None:
    s = idle_group
    response = developer_client.post(
        reverse("group-reset", args=[s.group]),
        {"strategy": "to-earliest", "scope": "all", "preview": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    p0 = _row(page, f'data-partition="{s.topic}-0"')
    assert 'data-field="old">3<' in p0 and 'data-field="new">0<' in p0
    assert "Execute reset" in page
    assert committed(s.bootstrap, s.group) == {(s.topic, 0): 3, (s.topic, 1): 1}
    assert not AuditEvent.objects.filter(action="group.offsets_reset").exists()


def test_a_reset_is_refused_while_the_group_has_members(
    developer_client: Client, setup: Setup, member: GroupMember
) -> None:
    response = developer_client.post(
        reverse("group-reset", args=[setup.group]),
        {"strategy": "to-earliest", "scope": "all", "execute": "1"},
    )
    assert response.status_code == 200
    assert (
        f"Assignments can only be reset if the group &#x27;{setup.group}&#x27; is inactive, "
        "but the current state is Stable." in response.content.decode()
    )
    assert committed(setup.bootstrap, setup.group) == {(setup.topic, 0): 3, (setup.topic, 1): 1}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"strategy": "to-earliest", "scope": "all"}, {0: 0, 1: 0}),
        ({"strategy": "to-latest", "scope": "all"}, {0: 5, 1: 5}),
        ({"strategy": "to-offset", "value": "2", "scope": "all"}, {0: 2, 1: 2}),
        ({"strategy": "to-offset", "value": "99", "scope": "all"}, {0: 5, 1: 5}),  # clamped
        ({"strategy": "shift-by", "value": "-2", "scope": "all"}, {0: 1, 1: 0}),  # 1-2 -> 0
        ({"strategy": "shift-by", "value": "1", "scope": "topic"}, {0: 4, 1: 2}),
        ({"strategy": "to-earliest", "scope": "partition", "partition": "1"}, {0: 3, 1: 0}),
        ({"strategy": "to-datetime", "scope": "all", "when": "+2"}, {0: 2, 1: 2}),
        ({"strategy": "to-datetime", "scope": "all", "when": "+99"}, {0: 5, 1: 5}),  # none: end
    ],
    ids=[
        "earliest",
        "latest",
        "offset",
        "offset-clamped",
        "shift-back",
        "shift-topic",
        "one-partition",
        "datetime",
        "datetime-after-last",
    ],
)
def test_reset_gives_the_offsets_kafkas_tool_would(
    developer_client: Client, idle_group: Setup, form: dict[str, str], expected: dict[int, int]
) -> None:
    s = idle_group
    data = dict(form, topic=s.topic, execute="1")
    if "when" in data:  # seconds after offset 0's timestamp, as the form's UTC date-time
        from datetime import UTC, datetime

        at = s.base_ms / 1000 + int(data["when"]) - 0.5
        data["when"] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    response = developer_client.post(reverse("group-reset", args=[s.group]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert committed(s.bootstrap, s.group) == {(s.topic, p): o for p, o in expected.items()}
    event = AuditEvent.objects.get(action="group.offsets_reset", resource_name=s.group)
    assert event.tenant_slug == "acme" and event.actor_name == "dev"
    assert event.after == {f"{s.topic}-{p}": o for p, o in expected.items()
                           if form["scope"] != "partition" or p == 1}  # fmt: skip


def test_a_new_group_gets_offsets_on_a_named_topic_of_its_tenant_only(
    developer_client: Client, setup: Setup
) -> None:
    new = f"{setup.group}-new"
    url = reverse("group-reset", args=[new])
    data = {"strategy": "to-offset", "value": "2", "scope": "topic", "execute": "1"}
    response = developer_client.post(url, dict(data, topic=setup.other_topic))
    assert response.status_code == 200  # globex's topic is a topic that does not exist
    assert f"No topic &#x27;{setup.other_topic}&#x27; on the cluster." in response.content.decode()
    assert committed(setup.bootstrap, new) == {}
    response = developer_client.post(url, dict(data, topic=setup.topic))
    assert response.status_code == 302
    assert committed(setup.bootstrap, new) == {(setup.topic, 0): 2, (setup.topic, 1): 2}


def test_bad_reset_input_is_a_message_not_a_500(
    developer_client: Client, idle_group: Setup
) -> None:
    s = idle_group
    url = reverse("group-reset", args=[s.group])
    cases = [
        ({"strategy": "to-offset", "scope": "all", "value": "abc"}, "Enter a whole number."),
        ({"strategy": "to-offset", "scope": "all"}, "Enter the offset or the shift."),
        ({"strategy": "to-earliest", "scope": "topic", "topic": "acme.nope"}, "No topic"),
        ({"strategy": "to-earliest", "scope": "partition", "topic": s.topic, "partition": "7"},
         "has no partition 7"),
        ({"strategy": "to-datetime", "scope": "all", "when": "yesterday"}, "Enter a date"),
    ]  # fmt: skip
    for data, message in cases:
        response = developer_client.post(url, dict(data, preview="1"))
        assert response.status_code == 200
        assert message in response.content.decode(), data
    assert committed(s.bootstrap, s.group) == {(s.topic, 0): 3, (s.topic, 1): 1}


def test_the_reset_rules_without_io() -> None:
    committed_ = {("t", 0): 4}
    parts = reset_partitions(
        ResetSpec(ResetStrategy.SHIFT, value=-10, topic="t"),
        committed=committed_, topic_partitions=[("t", 0), ("t", 1)],
    )  # fmt: skip
    assert parts == [("t", 0), ("t", 1)]
    bounds = {"log_start": {("t", 0): 2, ("t", 1): 0}, "log_end": {("t", 0): 9, ("t", 1): 3}}
    plan = reset_plan(
        ResetSpec(ResetStrategy.SHIFT, value=-10), partitions=[("t", 0)], committed=committed_,
        **bounds,
    )  # fmt: skip
    assert plan == [OffsetChange("t", 0, 4, 2)]  # clamped to the log start
    with pytest.raises(Exception, match="no current committed offset"):
        reset_plan(ResetSpec(ResetStrategy.SHIFT, value=1), partitions=[("t", 1)],
                   committed=committed_, **bounds)  # fmt: skip
    plan = reset_plan(
        ResetSpec(ResetStrategy.DATETIME, value=0), partitions=[("t", 0), ("t", 1)],
        committed=committed_, by_timestamp={("t", 0): 5, ("t", 1): None}, **bounds,
    )  # fmt: skip
    assert [c.new for c in plan] == [5, 3]


def test_delete_a_group(developer_client: Client, setup: Setup, member: GroupMember) -> None:
    url = reverse("group-delete", args=[setup.group])
    response = developer_client.post(url, {"confirm": setup.group})
    assert response.status_code == 200
    assert "NON_EMPTY_GROUP" in response.content.decode()
    member.close()
    wait_until(
        lambda: b">Empty<" in developer_client.get(
            reverse("group-detail", args=[setup.group])).content,
        timeout=30, what="the group to be Empty",
    )  # fmt: skip
    response = developer_client.post(url, {"confirm": setup.group})
    assert response.status_code == 302
    assert developer_client.get(reverse("group-detail", args=[setup.group])).status_code == 404
    assert AuditEvent.objects.filter(action="group.delete", resource_name=setup.group).exists()
    member.close = lambda: None  # type: ignore[method-assign]


def test_delete_a_groups_offsets_for_one_topic(developer_client: Client, idle_group: Setup) -> None:
    s = idle_group
    response = developer_client.post(
        reverse("group-offsets-delete", args=[s.group]), {"topic": s.topic}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert committed(s.bootstrap, s.group) == {}
    event = AuditEvent.objects.get(action="group.offsets_delete", resource_name=s.group)
    assert event.before == {f"{s.topic}-0": 3, f"{s.topic}-1": 1}


def test_offsets_a_member_reads_are_not_deleted(
    developer_client: Client, setup: Setup, member: GroupMember
) -> None:
    response = developer_client.post(
        reverse("group-offsets-delete", args=[setup.group]), {"topic": setup.topic}
    )
    assert response.status_code == 200
    assert "GROUP_SUBSCRIBED_TO_TOPIC: Deleting offsets of a topic is forbidden" in (
        response.content.decode()
    )
    assert committed(setup.bootstrap, setup.group) == {(setup.topic, 0): 3, (setup.topic, 1): 1}
    assert not AuditEvent.objects.filter(action="group.offsets_delete").exists()


def test_the_topic_page_lists_the_groups_reading_it(
    developer_client: Client, setup: Setup, member: GroupMember
) -> None:
    page = developer_client.get(reverse("topic-detail", args=[setup.topic])).content.decode()
    assert reverse("topic-groups", args=[setup.topic]) in page
    fragment = developer_client.get(
        reverse("topic-groups", args=[setup.topic]), headers={"X-Requested-With": "fetch"}
    ).content.decode()
    row = _row(fragment, f'data-group="{setup.group}"')
    assert 'data-field="lag">6<' in row and "<html" not in fragment


def test_broker_down_is_a_message_not_a_500(operator_client: Client, cluster_down: str) -> None:
    for url in (reverse("group-list"), reverse("group-detail", args=["acme.x"])):
        response = operator_client.get(url)
        assert response.status_code == 503
        assert f"cannot reach the Kafka cluster at {cluster_down}" in response.content.decode()
    response = operator_client.post(
        reverse("group-reset", args=["acme.x"]),
        {"strategy": "to-earliest", "scope": "all", "preview": "1"},
    )
    assert response.status_code == 503
    assert "cannot reach the Kafka cluster" in response.content.decode()
    response = operator_client.post(reverse("group-delete", args=["acme.x"]), {"confirm": "acme.x"})
    assert response.status_code == 503
