"""The tenant isolation matrix (issue 10): every role x every page, form and endpoint.

Each cell is one request by one user to one of tenant ``acme``'s URLs, and its expected
answer comes from ``console.roles.ROLE_ACTIONS``, the table the services check:

- the operator (staff): allowed (200 or a redirect), and for a POST the change happened
  (an audit event more, and what ``check`` looks at);
- a member of acme (admin, developer, viewer): allowed if its role has the row's action,
  else 403 and nothing changed;
- a member of another tenant only (``outsider``, globex's admin): 404, exactly like a
  name that does not exist, and the body names nothing of acme beyond the URL itself;
- operator-only actions (``console.roles.OPERATOR_ONLY``): 404 for everyone non-staff
  (Django's admin answers them with its own login form instead, see ``expect``);
- anonymous: a redirect to a login page;
- a row whose action is ``None`` is open to every logged-in user with content scoped by
  tenant (the topic and tenant lists): the outsider's page then shows no acme name.

HOW TO ADD A ROW (a page added later): append one ``Endpoint`` to ``ENDPOINTS``::

    Endpoint("audit-list", "GET", "/tenants/acme/audit/", Action.AUDIT_VIEW),
    Endpoint("quota-update", "POST", "/tenants/acme/quotas/", Action.QUOTA_MANAGE,
             {"producer_byte_rate": "1024"}, audit="quota.update"),

``url`` and ``data`` (keys and values) may use ``{uid}`` (unique per test: for names on the shared
broker), ``{rule_id}`` (one of acme's access rules) or ``{token_id}``-like keys you add to
``World.names``; ``audit`` is the audit action a successful POST records; ``prepare`` and
``check`` take the :class:`World` for anything more. ``test_every_url_is_in_the_matrix``
fails until each URL pattern of ``console.urls`` has a row or an entry in ``EXEMPT``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from console import broker_admin
from console.models import (
    AccessRule,
    AuditEvent,
    Membership,
    Plan,
    ServiceAccount,
    ServiceAccountState,
    Tenant,
    TenantState,
)
from console.roles import OPERATOR_ONLY, ROLE_ACTIONS, Action
from console.services import service_account_create, tenant_create
from console.services._common import audit
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.net import wait_until

pytestmark = pytest.mark.django_db

ACME_TOPIC = "acme.orders"
GLOBEX_TOPIC = "globex.orders"


@dataclass
class World:
    """Tenants acme and globex on the session's PostgreSQL and shared broker."""

    bootstrap: str
    users: dict[str, User | None]
    names: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        client = Client()
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def topics(self) -> set[str]:
        return set(broker_admin.describe_topics())


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str  # GET (a page) or POST (a form, with valid data)
    url: str
    action: Action | None  # None: any logged-in user, the content scoped by tenant
    data: dict[str, str] = field(default_factory=dict)
    audit: str = ""  # the audit action an allowed POST records
    prepare: Callable[[World], None] | None = None
    check: Callable[[World], bool] | None = None  # the change happened (POSTs)
    # an allowed answer's body is right for the role (role, body): a scoped page's content
    shows: Callable[[World, str, str], bool] | None = None


def _topic_exists(name: str) -> Callable[[World], bool]:
    return lambda world: name.format(**world.names) in world.topics()


def _topic_gone(name: str) -> Callable[[World], bool]:
    return lambda world: name.format(**world.names) not in world.topics()


def _create_doomed(world: World) -> None:
    create_topic(world.bootstrap, "acme.doomed-{uid}".format(**world.names))


def _acme_accounts() -> QuerySet[ServiceAccount]:
    return ServiceAccount.objects.filter(tenant__slug="acme")


def _account(name: str) -> ServiceAccount:
    return _acme_accounts().get(name=name)


def _acme_rules() -> QuerySet[AccessRule]:
    return AccessRule.objects.filter(service_account__tenant__slug="acme")


def _create_growing(world: World) -> None:
    create_topic(world.bootstrap, "acme.grow-{uid}".format(**world.names))


def _partition_count(name: str) -> int:
    return len(broker_admin.describe_topics()[name].partitions)


def _topic_config(world: World, config: str) -> str | None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": world.bootstrap})
    resource = ConfigResource("TOPIC", world.names["topic"])
    entries = admin.describe_configs([resource])[resource].result(15)
    return entries[config].value if config in entries else None


def _doomed_group(world: World) -> str:
    return "acme.doomed-{uid}".format(**world.names)


def _create_doomed_group(world: World) -> None:
    """A group of acme's with offsets 3 and 1 committed on the shared topic, no members
    (state Empty: what reset and delete need), committed through the admin API."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    group, topic = _doomed_group(world), world.names["topic"]
    admin = AdminClient({"bootstrap.servers": world.bootstrap})
    offsets = [TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 1)]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, offsets)])[
        group
    ].result(15)
    assert _committed(world) == {(topic, 0): 3, (topic, 1): 1}


def _committed(world: World) -> dict[tuple[str, int], int]:
    """The doomed group's committed offsets ({} once the group or its offsets are gone)."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    group = _doomed_group(world)
    admin = AdminClient({"bootstrap.servers": world.bootstrap})
    future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    return {
        (tp.topic, tp.partition): tp.offset for tp in future.result(15).topic_partitions
        if tp.offset >= 0
    }  # fmt: skip


def _audit_list_scoped(world: World, role: str, body: str) -> bool:
    """The audit list links the events the role may see, and only those: every event
    for the operator, acme's for acme's members, globex's for the outsider."""
    acme = f"/audit/{world.names['acme_event']}/" in body
    globex = f"/audit/{world.names['globex_event']}/" in body
    if role == "operator":
        return acme and globex
    return (acme, globex) == ((False, True) if role == "outsider" else (True, False))


def _offers(link: str, action: Action) -> Callable[[World, str, str], bool]:
    """A page readable with a view action shows ``link`` (a form's or a page's URL) to
    the roles allowed ``action`` only: read-only for the others rather than a 403."""

    def shows(world: World, role: str, body: str) -> bool:
        may = role == "operator" or action in ROLE_ACTIONS[role]
        return (link.format(**world.names) in body) is may

    return shows


RULE = {"form": "rule", "account": "app", "resource_type": "TOPIC",
        "resource_name": "acme.audit", "pattern_type": "LITERAL", "operation": "WRITE",
        "permission_type": "DENY", "host": "*"}  # fmt: skip

ENDPOINTS: list[Endpoint] = [
    Endpoint("home", "GET", "/", None),
    # topics (the cluster's; a member's are those inside its tenants' prefixes)
    Endpoint("topic-list", "GET", "/topics/", None),
    Endpoint("topic-create", "POST", "/topics/", Action.TOPIC_MANAGE,
             {"tenant": "acme", "name": "acme.new-{uid}", "partitions": "1",
              "replication_factor": "", "configs": ""}, audit="topic.create",
             check=_topic_exists("acme.new-{uid}")),
    # a viewer reads the page; its configs and partitions forms only for topic.manage
    Endpoint("topic-detail", "GET", f"/topics/{ACME_TOPIC}/", Action.TOPIC_VIEW,
             shows=_offers(f"/topics/{ACME_TOPIC}/configs/", Action.TOPIC_MANAGE)),
    Endpoint("topic-delete-page", "GET", f"/topics/{ACME_TOPIC}/delete/", Action.TOPIC_MANAGE),
    Endpoint("topic-delete", "POST", "/topics/acme.doomed-{uid}/delete/", Action.TOPIC_MANAGE,
             {"confirm": "acme.doomed-{uid}"}, audit="topic.delete", prepare=_create_doomed,
             check=_topic_gone("acme.doomed-{uid}")),
    # operators' cluster-wide pages
    Endpoint("acl-list", "GET", "/acls/", Action.CLUSTER_VIEW),
    Endpoint("scram-user-list", "GET", "/users/", Action.CLUSTER_VIEW),
    Endpoint("admin", "GET", "/admin/", Action.CLUSTER_VIEW),
    # tenants
    Endpoint("tenant-list", "GET", "/tenants/", None),
    Endpoint("tenant-create", "POST", "/tenants/", Action.TENANT_CREATE,
             {"name": "Initech", "slug": "initech", "plan": "basic"}, audit="tenant.create",
             check=lambda w: Tenant.objects.filter(slug="initech").exists()),
    Endpoint("tenant-detail", "GET", "/tenants/acme/", Action.TENANT_VIEW),
    Endpoint("tenant-delete-page", "GET", "/tenants/acme/delete/", Action.TENANT_DELETE),
    Endpoint("tenant-delete", "POST", "/tenants/acme/delete/", Action.TENANT_DELETE,
             {"confirm_slug": "acme"}, audit="tenant.delete",
             check=lambda w: Tenant.objects.get(slug="acme").state == TenantState.DELETING),
    Endpoint("drift-reapply", "POST", "/tenants/acme/drift/reapply/", Action.DRIFT_RESOLVE,
             audit="drift.reapply"),
    Endpoint("drift-adopt", "POST", "/tenants/acme/drift/adopt/", Action.DRIFT_RESOLVE,
             audit="drift.adopt"),
    # service accounts
    Endpoint("service-account-list", "GET", "/tenants/acme/service-accounts/",
             Action.SERVICE_ACCOUNT_VIEW),
    Endpoint("service-account-create", "POST", "/tenants/acme/service-accounts/",
             Action.SERVICE_ACCOUNT_MANAGE, {"name": "worker", "mechanism": "SCRAM-SHA-256"},
             audit="service_account.create",
             check=lambda w: _acme_accounts().filter(name="worker").exists()),
    Endpoint("service-account-detail", "GET", "/tenants/acme/service-accounts/app/",
             Action.SERVICE_ACCOUNT_VIEW),
    Endpoint("service-account-rotate", "POST", "/tenants/acme/service-accounts/app/rotate/",
             Action.SERVICE_ACCOUNT_MANAGE, audit="service_account.rotate",
             check=lambda w: _account("app").ready_reason == "Rotating"),
    Endpoint("service-account-revoke-page", "GET",
             "/tenants/acme/service-accounts/batch/revoke/", Action.SERVICE_ACCOUNT_MANAGE),
    Endpoint("service-account-revoke", "POST", "/tenants/acme/service-accounts/batch/revoke/",
             Action.SERVICE_ACCOUNT_MANAGE, audit="service_account.revoke",
             check=lambda w: _account("batch").state == ServiceAccountState.REVOKED),
    # access rules
    Endpoint("access-rule-list", "GET", "/tenants/acme/acls/", Action.ACCESS_RULE_VIEW),
    Endpoint("access-rule-preset", "POST", "/tenants/acme/acls/", Action.ACCESS_RULE_MANAGE,
             {"form": "preset", "account": "app", "preset": "consumer"},
             audit="access_rule.create",
             check=lambda w: _acme_rules().filter(operation="READ").exists()),
    Endpoint("access-rule-create", "POST", "/tenants/acme/acls/", Action.ACCESS_RULE_MANAGE,
             RULE, audit="access_rule.create",
             check=lambda w: _acme_rules().filter(permission_type="DENY").exists()),
    Endpoint("access-rule-delete", "POST", "/tenants/acme/acls/{rule_id}/delete/",
             Action.ACCESS_RULE_MANAGE, audit="access_rule.delete",
             check=lambda w: AccessRule.objects.get(pk=w.names["rule_id"]).deleting),
    # members
    Endpoint("member-list", "GET", "/tenants/acme/members/", Action.MEMBER_VIEW),
    Endpoint("member-add", "POST", "/tenants/acme/members/", Action.MEMBER_MANAGE,
             {"username": "newcomer", "role": "viewer"}, audit="membership.add",
             check=lambda w: Membership.objects.filter(user__username="newcomer").exists()),
    Endpoint("member-update", "POST", "/tenants/acme/members/acme-viewer/",
             Action.MEMBER_MANAGE, {"role": "developer"}, audit="membership.update",
             check=lambda w: Membership.objects.get(user__username="acme-viewer").role
             == "developer"),
    Endpoint("member-remove", "POST", "/tenants/acme/members/acme-developer/",
             Action.MEMBER_MANAGE, {"action": "remove"}, audit="membership.remove",
             check=lambda w: not Membership.objects.filter(
                 user__username="acme-developer").exists()),
    # topics inside a tenant: configure, add partitions (issue 10)
    Endpoint("topic-configs", "POST", "/topics/{topic}/configs/", Action.TOPIC_MANAGE,
             {"retention_ms": "{retention_ms}"}, audit="topic.alter_configs",
             check=lambda w: _topic_config(w, "retention.ms") == w.names["retention_ms"]),
    Endpoint("topic-partitions", "POST", "/topics/acme.grow-{uid}/partitions/",
             Action.TOPIC_MANAGE, {"count": "2"}, audit="topic.create_partitions",
             prepare=_create_growing,
             check=lambda w: _partition_count("acme.grow-{uid}".format(**w.names)) == 2),
    # the audit log: everyone logged in, each sees the events of its own tenants only
    # (the outsider's page names nothing of acme; acme's members do not see globex's
    # event); one event of another tenant is 404 (test_another_tenants_audit_event)
    Endpoint("audit-list", "GET", "/audit/", None, shows=_audit_list_scoped),
    Endpoint("audit-detail", "GET", "/audit/{acme_event}/", Action.AUDIT_VIEW),
    # plans and quotas: the commercial side, operators only (404 for everyone else)
    Endpoint("plan-list", "GET", "/plans/", Action.PLAN_VIEW),
    Endpoint("plan-create-page", "GET", "/plans/new/", Action.PLAN_MANAGE),
    Endpoint("plan-create", "POST", "/plans/new/", Action.PLAN_MANAGE, {"name": "gold-{uid}"},
             audit="plan.create",
             check=lambda w: Plan.objects.filter(name="gold-{uid}".format(**w.names)).exists()),
    Endpoint("plan-edit-page", "GET", "/plans/basic/", Action.PLAN_MANAGE),
    Endpoint("plan-edit", "POST", "/plans/basic/", Action.PLAN_MANAGE,
             {"producer_byte_rate": "2048"}, audit="plan.update",
             check=lambda w: Plan.objects.get(name="basic").producer_byte_rate == 2048),
    Endpoint("quota-list", "GET", "/quotas/", Action.QUOTA_MANAGE),
    Endpoint("quota-update", "POST", "/quotas/", Action.QUOTA_MANAGE,
             {"account": "acme/batch", "q{batch_pk}-producer_byte_rate": "1024"},
             audit="quota.update",
             check=lambda w: _account("batch").quota_overrides.get("producer_byte_rate") == 1024),
    # consumer groups (issue 11): the list is scoped like the topic list; a group's pages
    # need group.view (reading) or group.manage (reset, delete)
    # searched by id: other tests' groups on the shared broker may fill the first page
    Endpoint("group-list", "GET", "/groups/?q={group}", None,
             shows=lambda w, role, body: (f'/groups/{w.names["group"]}/' in body)
             is (role != "outsider")),  # a link to it (the search box echoes the id)
    # a viewer reads the group (lag); reset/delete links and forms only for group.manage
    Endpoint("group-detail", "GET", "/groups/{group}/", Action.GROUP_VIEW,
             shows=_offers("/groups/{group}/reset/", Action.GROUP_MANAGE)),
    Endpoint("group-reset-page", "GET", "/groups/{group}/reset/", Action.GROUP_MANAGE),
    Endpoint("group-reset", "POST", "/groups/acme.doomed-{uid}/reset/", Action.GROUP_MANAGE,
             {"strategy": "to-earliest", "scope": "all", "execute": "1"},
             audit="group.offsets_reset", prepare=_create_doomed_group,
             check=lambda w: set(_committed(w).values()) == {0}),
    Endpoint("group-delete-page", "GET", "/groups/{group}/delete/", Action.GROUP_MANAGE),
    Endpoint("group-delete", "POST", "/groups/acme.doomed-{uid}/delete/", Action.GROUP_MANAGE,
             {"confirm": "acme.doomed-{uid}"}, audit="group.delete",
             prepare=_create_doomed_group, check=lambda w: _committed(w) == {}),
    Endpoint("group-offsets-delete", "POST", "/groups/acme.doomed-{uid}/offsets/delete/",
             Action.GROUP_MANAGE, {"topic": "{topic}"}, audit="group.offsets_delete",
             prepare=_create_doomed_group, check=lambda w: _committed(w) == {}),
    Endpoint("topic-groups", "GET", "/topics/{topic}/groups/", Action.GROUP_VIEW,
             shows=lambda w, role, body: w.names["group"] in body),
    # one's own API tokens: every logged-in user, no tenant's data on it
    Endpoint("token-list", "GET", "/account/tokens/", None),
    # messages (issue 11): browse with message.view; produce with message.produce
    Endpoint("message-list", "GET", "/topics/{topic}/messages/", Action.MESSAGE_VIEW,
             shows=_offers("/topics/{topic}/messages/produce/", Action.MESSAGE_PRODUCE)),
    Endpoint("message-produce", "POST", "/topics/{topic}/messages/produce/",
             Action.MESSAGE_PRODUCE, {"value": "matrix-{uid}"}, audit="message.produce"),
    # brokers (issue 11): operators only; the POST resets (DELETE) a config the shared
    # broker never sets, so it changes nothing other tests could see
    Endpoint("broker-list", "GET", "/brokers/", Action.CLUSTER_VIEW),
    Endpoint("broker-detail", "GET", "/brokers/1/", Action.CLUSTER_VIEW),
    Endpoint("broker-configs", "POST", "/brokers/1/", Action.CLUSTER_VIEW,
             {"name": "log.cleaner.min.cleanable.ratio", "reset": "on"},
             audit="broker.alter_configs"),
]  # fmt: skip

# URL patterns (routes of console.urls) no row covers, and why.
EXEMPT: dict[str, str] = {
    "favicon.ico": "a static file, the same for everyone",
    "accounts/login/": "the login page itself: what anonymous users are sent to",
    "accounts/logout/": "ends one's own session; names no tenant",
    "api/v1/": "the REST API has its own matrix with JSON answers (401, not a login redirect): "
    "tests/console/api/test_api_matrix.py, every role x every operation from ROLE_ACTIONS",
    "account/tokens/<int:token_id>/revoke/": "one's own API token only (another user's is 404); "
    "no tenant resource: tests/console/api/test_tokens.py",
}
# include()d URL sets covered as a whole by the row of their prefix.
COVERED_BY_PREFIX = {"admin/": "admin"}

# acme's members, then the roles that are not members of acme
ROLES = ("operator", "admin", "developer", "viewer", "outsider", "anonymous")
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


@pytest.fixture(scope="module")
def topics(shared_broker: BrokerProcess) -> None:
    """acme's and globex's topics on the shared broker (kept between tests)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    for name in (ACME_TOPIC, GLOBEX_TOPIC):
        if name not in existing:
            create_topic(shared_broker.bootstrap, name)


@dataclass(frozen=True)
class Shared:
    """Broker resources of acme the read-only rows look at (kept for the module)."""

    topic: str  # acme.matrix-<muid>, 2 partitions of 5 records each
    group: str  # acme.matrix-<muid>, offsets 3 and 1 committed by a real consumer


@pytest.fixture(scope="module")
def shared(shared_broker: BrokerProcess) -> Shared:
    from confluent_kafka import Consumer, Producer, TopicPartition

    muid = uuid.uuid4().hex[:8]
    topic = group = f"acme.matrix-{muid}"
    create_topic(shared_broker.bootstrap, topic, partitions=2)
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap, "linger.ms": 0})
    for partition in (0, 1):
        for offset in range(5):
            producer.produce(topic, b"v%d" % offset, partition=partition)
    assert producer.flush(15) == 0
    consumer = Consumer(
        {"bootstrap.servers": shared_broker.bootstrap, "group.id": group,
         "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    )  # fmt: skip
    try:
        consumer.subscribe([topic])

        def assigned() -> bool:
            consumer.poll(0.2)
            return len(consumer.assignment()) == 2

        wait_until(assigned, timeout=60, interval=0, what=f"{group} to get its assignment")
        offsets = [TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 1)]
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()  # the group stays, Empty, with its committed offsets
    return Shared(topic=topic, group=group)


@pytest.fixture
def world(cluster: BrokerProcess, topics: None, shared: Shared) -> World:
    Plan.objects.create(name="basic")
    operator = User.objects.create_user("operator", is_staff=True)  # no password: fast
    # tenant_create runs no reconcile here: the test's transaction never commits
    acme = tenant_create(actor=operator, name="Acme Corp", slug="acme", plan="basic").tenant
    globex = tenant_create(actor=operator, name="Globex", slug="globex", plan="basic").tenant
    service_account_create(actor=operator, tenant_slug="acme", name="batch")
    users: dict[str, User | None] = {"operator": operator, "anonymous": None}
    for role in ("admin", "developer", "viewer"):
        users[role] = User.objects.create_user(f"acme-{role}")
        Membership.objects.create(user=users[role], tenant=acme, role=role)
    users["outsider"] = User.objects.create_user("globex-admin")
    Membership.objects.create(user=users["outsider"], tenant=globex, role="admin")
    User.objects.create_user("newcomer")
    rule = AccessRule.objects.filter(service_account__tenant=acme).first()
    assert rule is not None  # the first account's "full" preset
    # one audit event of each tenant, named so a page showing it would say so
    acme_event = audit(
        actor=operator,
        action="matrix.acme",
        tenant=acme,
        resource_type="topic",
        resource_name="acme.audited",
    )
    globex_event = audit(actor=operator, action="matrix.globex", tenant=globex,
                         resource_type="topic", resource_name="globex.audited")  # fmt: skip
    uid = uuid.uuid4().hex[:10]
    names = {
        "uid": uid, "rule_id": str(rule.pk), "topic": shared.topic, "group": shared.group,
        "acme_event": str(acme_event.pk), "globex_event": str(globex_event.pk),
        "batch_pk": str(_account("batch").pk),
        "retention_ms": str(3_600_000 + int(uid, 16) % 10**6),
    }  # fmt: skip
    return World(bootstrap=cluster.bootstrap, users=users, names=names)


def expect(role: str, endpoint: Endpoint) -> str:
    """What ``role`` gets at ``endpoint``: allowed, forbidden, not_found or login."""
    if role == "anonymous":
        return "login"
    if role == "operator" or endpoint.action is None:
        return "allowed"
    if endpoint.action in OPERATOR_ONLY or role == "outsider":
        return "not_found"
    return "allowed" if endpoint.action in ROLE_ACTIONS[role] else "forbidden"


def acme_names_beyond(url: str, body: str) -> list[str]:
    """Words of ``body`` naming something of acme (a tenant, account, user, topic) that
    are not segments of ``url`` (its path, or a value of its query that the page echoes):
    what a 404 must never confirm."""
    path, _, query = url.partition("?")
    segments = set(path.split("/")) | {
        v for _, _, v in (p.partition("=") for p in query.split("&"))
    }
    words = {w.strip(".-_") for w in re.findall(r"[\w.\-]+", body)}
    return sorted(w for w in words if "acme" in w.lower() and w not in segments)


def _request(client: Client, endpoint: Endpoint, world: World, **kwargs: object) -> HttpResponse:
    url = endpoint.url.format(**world.names)
    if endpoint.method == "GET":
        return client.get(url, **kwargs)
    data = {k.format(**world.names): v.format(**world.names) for k, v in endpoint.data.items()}
    return client.post(url, data, **kwargs)


def _changed(endpoint: Endpoint, world: World, audits_before: int) -> bool:
    audited = AuditEvent.objects.filter(action=endpoint.audit).count() > audits_before
    return audited and (endpoint.check is None or endpoint.check(world))


CELLS = [
    pytest.param(role, endpoint, id=f"{role}-{endpoint.name}")
    for endpoint in ENDPOINTS
    for role in ROLES
]


@pytest.mark.parametrize(("role", "endpoint"), CELLS)
def test_cell(world: World, role: str, endpoint: Endpoint) -> None:
    if endpoint.prepare is not None:
        endpoint.prepare(world)
    url = endpoint.url.format(**world.names)
    audits_before = AuditEvent.objects.filter(action=endpoint.audit).count()
    client = world.client(role)
    outcome = expect(role, endpoint)
    if outcome == "login":
        response = _request(client, endpoint, world, follow=True)
        assert response.redirect_chain, "anonymous was not redirected"
        assert response.request["PATH_INFO"] in LOGIN_PAGES
    else:
        response = _request(client, endpoint, world)
        body = response.content.decode(errors="replace")
        if outcome == "allowed":
            assert response.status_code in (200, 302), body[:2000]
            if role == "outsider":  # an open page, scoped: nothing of acme on it
                assert acme_names_beyond(url, body) == []
            if endpoint.shows is not None and endpoint.method == "GET":
                assert endpoint.shows(world, role, body), body[:2000]
        elif outcome == "forbidden":
            assert response.status_code == 403, body[:2000]
        elif endpoint.url.startswith("/admin/"):
            # Django's admin sends a non-staff user to its own login form (no tenant data)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
        else:
            assert response.status_code == 404, body[:2000]
            assert acme_names_beyond(url, body) == []
    if endpoint.method == "POST":
        assert _changed(endpoint, world, audits_before) is (outcome == "allowed")


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_audit_event(world: World, role: str) -> None:
    """globex's event is 404 for acme's members (like an id that does not exist, naming
    nothing of globex), visible to globex's admin and the operator."""
    url = "/audit/{globex_event}/".format(**world.names)
    response = world.client(role).get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in ("operator", "outsider"):
        assert response.status_code == 200
        assert "globex.audited" in response.content.decode()
    else:
        body = response.content.decode()
        assert response.status_code == 404, body[:2000]
        assert "globex" not in body.lower()
        missing = world.client(role).get("/audit/999999999/")
        assert missing.status_code == 404


@pytest.mark.parametrize("page", ["/audit/", "/groups/", "/topics/"])
def test_a_filter_naming_another_tenant(world: World, page: str) -> None:
    """``?tenant=acme`` from globex's admin is answered exactly as a slug that does not
    exist (the typed value echoed in the field and its message, nothing else)."""
    client = world.client("outsider")
    acme = client.get(page, {"tenant": "acme"})
    nosuch = client.get(page, {"tenant": "nosuch"})
    assert acme.status_code == nosuch.status_code == 200

    def text(response: HttpResponse) -> str:  # the CSRF token differs per response
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())

    assert text(acme).replace("acme", "nosuch") == text(nosuch)


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route not in COVERED_BY_PREFIX | EXEMPT:
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def test_every_url_is_in_the_matrix() -> None:
    """A page added later without a row (or an exemption with a reason) fails here."""
    names = {"uid": "x", "rule_id": "1", "topic": "acme.t", "group": "acme.g", "acme_event": "1",
             "globex_event": "2", "batch_pk": "1", "retention_ms": "1"}  # fmt: skip
    covered = {resolve(e.url.format(**names).partition("?")[0]).route for e in ENDPOINTS}
    rows = {e.name for e in ENDPOINTS}
    missing = []
    for route in _routes(get_resolver().url_patterns):
        if route in EXEMPT:
            continue
        if route in COVERED_BY_PREFIX:
            if COVERED_BY_PREFIX[route] not in rows:
                missing.append(route)
        elif route not in covered:
            missing.append(route)
    assert missing == [], f"URL patterns with no row in ENDPOINTS (nor in EXEMPT): {missing}"
    assert set(EXEMPT) <= set(_routes(get_resolver().url_patterns)), "a stale exemption"


def test_every_action_of_a_page_is_in_the_role_table() -> None:
    """Rows name actions the role table knows, so each cell's answer is derived from it."""
    for endpoint in ENDPOINTS:
        assert endpoint.action is None or endpoint.action in ROLE_ACTIONS["operator"]


# The live tail (streams/): a websocket, refused for a topic the user may not see.


def _tail_connects(world: World, role: str, topic: str) -> bool:
    client = world.client(role)
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))

    async def connects() -> bool:
        from console.asgi import application

        socket = WebsocketCommunicator(application, f"/ws/topics/{topic}/tail/", headers=headers)
        connected, _ = await socket.connect(timeout=15)
        if connected:
            await socket.disconnect()
        return connected

    return async_to_sync(connects)()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("topic", [ACME_TOPIC, GLOBEX_TOPIC], ids=["acme-tail", "globex-tail"])
def test_live_tail(world: World, role: str, topic: str) -> None:
    """acme's members tail acme's topic and are refused globex's, as if it did not
    exist; globex's admin the other way round; the operator both; anonymous neither."""
    if role == "anonymous":
        allowed = False
    elif role == "operator":
        allowed = True
    else:
        allowed = (role == "outsider") is (topic == GLOBEX_TOPIC)
    assert _tail_connects(world, role, topic) is allowed
