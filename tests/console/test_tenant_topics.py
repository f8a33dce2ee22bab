"""Topics inside a tenant (issue 10), through the pages against the session's broker
and PostgreSQL: a member creates, configures and grows topics only inside its prefix
and within its plan; a viewer only reads; every change is audited.

Each test makes tenants with slugs of its own, so topics left on the shared broker by
other tests never count against these plans.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console import services, tenancy
from console.models import AuditEvent, Membership, Plan, Tenant
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic

MAX_RETENTION_MS = 3_600_000
MAX_MESSAGE_BYTES = 2_000_000


@dataclass
class World:
    bootstrap: str
    own: Tenant  # the developer's and the viewer's tenant
    other: Tenant  # nobody here is a member
    developer: Client
    viewer: Client
    developer_user: User

    def topic(self, suffix: str) -> str:
        return f"{self.own.prefix}{suffix}"


@pytest.fixture
def world(cluster: BrokerProcess, db: None) -> World:
    plan = Plan.objects.create(
        name=f"small-{uuid.uuid4().hex[:6]}", max_topics=2, max_partitions=4,
        max_retention_ms=MAX_RETENTION_MS, max_message_bytes=MAX_MESSAGE_BYTES,
    )  # fmt: skip
    hex_ = uuid.uuid4().hex[:8]
    own = Tenant.objects.create(name="Own", slug=f"own{hex_}", plan=plan)
    other = Tenant.objects.create(name="Other", slug=f"other{hex_}", plan=plan)
    clients = {}
    users = {}
    for role in ("developer", "viewer"):
        users[role] = User.objects.create_user(f"{role}-{hex_}")
        Membership.objects.create(user=users[role], tenant=own, role=role)
        clients[role] = Client()
        clients[role].force_login(users[role])
    return World(
        bootstrap=cluster.bootstrap, own=own, other=other, developer=clients["developer"],
        viewer=clients["viewer"], developer_user=users["developer"],
    )  # fmt: skip


def cluster_topics(bootstrap: str) -> dict[str, int]:
    """Topic -> partition count, straight from the broker."""
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    return {name: len(t.partitions) for name, t in metadata.topics.items()}


def topic_config(bootstrap: str, topic: str, name: str) -> str:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return admin.describe_configs([resource])[resource].result(10)[name].value


def create(client: Client, **fields: str) -> object:
    return client.post(reverse("topic-list"), {"partitions": "1", **fields})


# -- create ---------------------------------------------------------------------------


def test_a_member_creates_a_topic_inside_its_prefix_with_the_prefix_filled(
    world: World,
) -> None:
    page = world.developer.get(reverse("topic-list")).content.decode()
    assert '<span class="prefix" title="Your tenant\'s prefix' in page
    assert f">{world.own.prefix}</span>" in page
    assert f'<input type="hidden" name="tenant" value="{world.own.slug}">' in page
    assert "0 / 2" in page and "0 / 4" in page  # topics and partitions against the plan
    assert str(MAX_RETENTION_MS) in page and str(MAX_MESSAGE_BYTES) in page
    assert world.other.slug not in page

    response = create(world.developer, tenant=world.own.slug, name="orders", partitions="2")
    name = world.topic("orders")
    assert response.status_code == 302
    assert response["Location"] == reverse("topic-detail", kwargs={"name": name})
    assert cluster_topics(world.bootstrap)[name] == 2
    event = AuditEvent.objects.get(action="topic.create", resource_name=name)
    assert event.tenant == world.own and event.actor_name == world.developer_user.username
    # the plan's maximum retention, since none was asked for
    assert topic_config(world.bootstrap, name, "retention.ms") == str(MAX_RETENTION_MS)

    after = world.developer.get(reverse("topic-list")).content.decode()
    assert "1 / 2" in after and "2 / 4" in after


def test_a_name_typed_with_the_prefix_is_not_prefixed_twice(world: World) -> None:
    name = world.topic("typed")
    assert create(world.developer, tenant=world.own.slug, name=name).status_code == 302
    topics = cluster_topics(world.bootstrap)
    assert name in topics and f"{world.own.prefix}{name}" not in topics


def test_another_tenants_prefix_is_not_found(world: World) -> None:
    response = create(world.developer, tenant=world.other.slug, name="x")
    assert response.status_code == 404
    response = create(world.developer, tenant=world.other.slug, name=f"{world.other.prefix}x")
    assert response.status_code == 404
    assert f"{world.other.prefix}x" not in cluster_topics(world.bootstrap)
    assert world.other.slug not in response.content.decode()


def test_an_unprefixed_topic_is_refused(world: World) -> None:
    name = f"unprefixed-{uuid.uuid4().hex[:8]}"
    response = create(world.developer, tenant="", name=name)
    assert response.status_code == 200
    assert "Choose a tenant: your topics are named inside its prefix." in response.content.decode()
    with pytest.raises(tenancy.NotFound):
        services.topic_create(actor=world.developer_user, name=name, partitions=1)
    assert name not in cluster_topics(world.bootstrap)


def test_a_viewer_sees_no_create_form_and_a_post_is_forbidden(world: World) -> None:
    page = world.viewer.get(reverse("topic-list")).content.decode()
    assert "Create a topic" not in page and 'name="partitions"' not in page
    response = create(world.viewer, tenant=world.own.slug, name="nope")
    assert response.status_code == 403
    assert world.topic("nope") not in cluster_topics(world.bootstrap)


def test_the_plans_topic_limit_is_a_message_on_the_name(world: World) -> None:
    for suffix in ("one", "two"):
        assert create(world.developer, tenant=world.own.slug, name=suffix).status_code == 302
    response = create(world.developer, tenant=world.own.slug, name="three")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"] == [
        f"Cannot create topic {world.topic('three')}: the plan allows 2 topic(s) under "
        f"{world.own.prefix} and 2 exist."
    ]
    assert world.topic("three") not in cluster_topics(world.bootstrap)
    page = response.content.decode()
    assert 'class="num full">2 / 2' in page


def test_the_plans_partition_limit_is_a_message_on_partitions(world: World) -> None:
    response = create(world.developer, tenant=world.own.slug, name="wide", partitions="5")
    assert response.status_code == 200
    assert response.context["form"].errors["partitions"] == [
        f"Cannot add 5 partition(s) to {world.topic('wide')}: the plan allows 4 partitions "
        f"in total under {world.own.prefix}, 0 exist (4 more)."
    ]
    assert world.topic("wide") not in cluster_topics(world.bootstrap)


# -- configure --------------------------------------------------------------------------


@pytest.fixture
def own_topic(world: World) -> str:
    """A topic of the developer's tenant, made through the console (so its retention.ms
    is the plan's maximum, as the broker's plan policy would have it too)."""
    name = world.topic(f"cfg{uuid.uuid4().hex[:6]}")
    services.topic_create(actor=world.developer_user, name=name, partitions=1)
    return name


def alter(client: Client, topic: str, **fields: object) -> object:
    return client.post(reverse("topic-configs", kwargs={"name": topic}), fields)


def test_a_developer_changes_configs_within_the_plan_and_it_is_audited(
    world: World, own_topic: str
) -> None:
    page = world.developer.get(reverse("topic-detail", kwargs={"name": own_topic}))
    assert page.status_code == 200 and b'id="configs-form"' in page.content
    response = alter(
        world.developer, own_topic, retention_ms="60000", cleanup_policy="compact",
        max_message_bytes="1000000", configs="segment.ms=3600000",
    )  # fmt: skip
    assert response.status_code == 302
    assert topic_config(world.bootstrap, own_topic, "retention.ms") == "60000"
    assert topic_config(world.bootstrap, own_topic, "cleanup.policy") == "compact"
    assert topic_config(world.bootstrap, own_topic, "max.message.bytes") == "1000000"
    assert topic_config(world.bootstrap, own_topic, "segment.ms") == "3600000"
    event = AuditEvent.objects.get(action="topic.alter_configs", resource_name=own_topic)
    assert event.tenant == world.own
    assert event.before == {"retention.ms": str(MAX_RETENTION_MS), "cleanup.policy": None,
                            "max.message.bytes": None, "segment.ms": None}  # fmt: skip
    assert event.after == {"retention.ms": "60000", "cleanup.policy": "compact",
                           "max.message.bytes": "1000000", "segment.ms": "3600000"}  # fmt: skip

    detail = world.developer.get(reverse("topic-detail", kwargs={"name": own_topic}))
    assert b'<tr data-config="segment.ms" class="override">' in detail.content
    # deleting an override within the plan: back to the broker's default
    assert alter(world.developer, own_topic, delete=["segment.ms"]).status_code == 302
    assert topic_config(world.bootstrap, own_topic, "segment.ms") == "604800000"
    second = AuditEvent.objects.filter(action="topic.alter_configs").order_by("id").last()
    assert second.before == {"segment.ms": "3600000"} and second.after == {"segment.ms": None}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"retention_ms": "7200000"},
         "retention.ms 7,200,000 exceeds the plan's maximum of 3,600,000 ms."),
        ({"retention_ms": "-1"},
         "retention.ms infinite (-1) exceeds the plan's maximum of 3,600,000 ms."),
        ({"max_message_bytes": "3000000"},
         "max.message.bytes 3,000,000 exceeds the plan's maximum of 2,000,000."),
        ({"configs": "retention.ms=9999999"}, "exceeds the plan's maximum of 3,600,000 ms."),
        ({"configs": "no.such.config=1"}, "Unknown topic config name: no.such.config"),
        ({"retention_ms": "soon"},
         "Invalid value soon for configuration retention.ms: Not a number of type LONG"),
        ({"configs": "cleanup.policy=sometimes"},
         "Invalid value sometimes for configuration cleanup.policy: String must be one of: "
         "compact, delete"),
        ({"configs": ""}, "Nothing to change: set or delete a config."),
    ],
    ids=["retention", "infinite", "message-bytes", "by-line", "unknown", "not-a-long",
         "bad-policy", "nothing"],
)  # fmt: skip
def test_configs_beyond_the_plan_or_invalid_are_refused_with_the_message(
    world: World, own_topic: str, fields: dict[str, str], message: str
) -> None:
    before = topic_config(world.bootstrap, own_topic, "retention.ms")
    response = alter(world.developer, own_topic, **fields)
    assert response.status_code == 200
    errors = response.context["configs_form"].errors
    field = next(iter(fields), "configs")  # shown by the field it was typed in
    assert any(message in error for error in errors.get(field, [])), errors
    assert topic_config(world.bootstrap, own_topic, "retention.ms") == before
    assert not AuditEvent.objects.filter(action="topic.alter_configs").exists()


def test_deleting_the_retention_override_is_refused_when_the_default_exceeds_the_plan(
    world: World,
) -> None:
    assert create(world.developer, tenant=world.own.slug, name="kept").status_code == 302
    name = world.topic("kept")  # created with retention.ms = the plan's maximum
    response = alter(world.developer, name, delete=["retention.ms"])
    assert response.status_code == 200
    assert (
        f"Cannot alter topic {name}: retention.ms 604,800,000 exceeds the plan's maximum"
        in html.unescape(response.content.decode())
    )
    assert topic_config(world.bootstrap, name, "retention.ms") == str(MAX_RETENTION_MS)


def test_the_brokers_refusal_is_shown_in_kafkas_words(world: World, own_topic: str) -> None:
    # a cross-config rule the console leaves to the broker (INVALID_CONFIG)
    lines = "min.compaction.lag.ms=100\nmax.compaction.lag.ms=10"
    response = alter(world.developer, own_topic, configs=lines)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert (
        f"topic '{own_topic}': INVALID_CONFIG: conflict topic config setting "
        "min.compaction.lag.ms (100) > max.compaction.lag.ms (10)" in page
    )
    assert topic_config(world.bootstrap, own_topic, "min.compaction.lag.ms") == "0"


def test_a_viewer_reads_configs_but_cannot_change_them(world: World, own_topic: str) -> None:
    page = world.viewer.get(reverse("topic-detail", kwargs={"name": own_topic}))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-config="retention.ms"' in content  # the configs, read-only
    assert 'id="configs-form"' not in content and 'id="partitions-form"' not in content
    assert "Delete topic" not in content
    assert alter(world.viewer, own_topic, retention_ms="1000").status_code == 403
    url = reverse("topic-partitions", kwargs={"name": own_topic})
    assert world.viewer.post(url, {"count": "2"}).status_code == 403
    assert topic_config(world.bootstrap, own_topic, "retention.ms") != "1000"
    assert cluster_topics(world.bootstrap)[own_topic] == 1


def test_another_tenants_topic_cannot_be_configured_or_grown(world: World) -> None:
    name = f"{world.other.prefix}theirs"
    create_topic(world.bootstrap, name)
    assert alter(world.developer, name, retention_ms="1000").status_code == 404
    url = reverse("topic-partitions", kwargs={"name": name})
    assert world.developer.post(url, {"count": "2"}).status_code == 404
    assert world.developer.get(reverse("topic-detail", kwargs={"name": name})).status_code == 404
    assert cluster_topics(world.bootstrap)[name] == 1


# -- add partitions ----------------------------------------------------------------------


def grow(client: Client, topic: str, count: str) -> object:
    return client.post(reverse("topic-partitions", kwargs={"name": topic}), {"count": count})


def test_a_developer_adds_partitions_within_the_plan(world: World, own_topic: str) -> None:
    response = grow(world.developer, own_topic, "3")
    assert response.status_code == 302
    assert cluster_topics(world.bootstrap)[own_topic] == 3
    event = AuditEvent.objects.get(action="topic.create_partitions", resource_name=own_topic)
    assert (event.before, event.after) == ({"partitions": 1}, {"partitions": 3})
    assert event.tenant == world.own


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("5", "the plan allows 4 partitions in total under {prefix}, 1 exist (3 more)."),
        ("1", "Topic currently has 1 partitions, which is higher than or equal to the "
              "requested 1: Kafka only adds partitions."),
        ("many", "Not a number of partitions: enter a whole number."),
    ],
    ids=["plan", "not-more", "nan"],
)  # fmt: skip
def test_adding_partitions_beyond_the_plan_or_not_more_is_refused(
    world: World, own_topic: str, count: str, message: str
) -> None:
    response = grow(world.developer, own_topic, count)
    assert response.status_code == 200
    errors = response.context["partitions_form"].errors["count"]
    assert any(message.format(prefix=world.own.prefix) in e for e in errors), errors
    assert cluster_topics(world.bootstrap)[own_topic] == 1
    assert not AuditEvent.objects.filter(action="topic.create_partitions").exists()
