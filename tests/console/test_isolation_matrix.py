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

``url`` and ``data`` values may use ``{uid}`` (unique per test: for names on the shared
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
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic

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


RULE = {"form": "rule", "account": "app", "resource_type": "TOPIC",
        "resource_name": "acme.audit", "pattern_type": "LITERAL", "operation": "WRITE",
        "permission_type": "DENY", "host": "*"}  # fmt: skip

ENDPOINTS: list[Endpoint] = [
    Endpoint("home", "GET", "/", None),
    # topics (the cluster's; a member's are those inside its tenants' prefixes)
    Endpoint("topic-list", "GET", "/topics/", None),
    Endpoint("topic-create", "POST", "/topics/", Action.TOPIC_MANAGE,
             {"name": "acme.new-{uid}", "partitions": "1", "replication_factor": "",
              "configs": ""}, audit="topic.create", check=_topic_exists("acme.new-{uid}")),
    Endpoint("topic-detail", "GET", f"/topics/{ACME_TOPIC}/", Action.TOPIC_VIEW),
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
]  # fmt: skip

# URL patterns (routes of console.urls) no row covers, and why.
EXEMPT: dict[str, str] = {
    "favicon.ico": "a static file, the same for everyone",
    "accounts/login/": "the login page itself: what anonymous users are sent to",
    "accounts/logout/": "ends one's own session; names no tenant",
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


@pytest.fixture
def world(cluster: BrokerProcess, topics: None) -> World:
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
    names = {"uid": uuid.uuid4().hex[:10], "rule_id": str(rule.pk)}
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
    are not segments of ``url``: what a 404 must never confirm."""
    segments = set(url.split("/"))
    words = {w.strip(".-_") for w in re.findall(r"[\w.\-]+", body)}
    return sorted(w for w in words if "acme" in w.lower() and w not in segments)


def _request(client: Client, endpoint: Endpoint, world: World, **kwargs: object) -> HttpResponse:
    url = endpoint.url.format(**world.names)
    if endpoint.method == "GET":
        return client.get(url, **kwargs)
    data = {key: value.format(**world.names) for key, value in endpoint.data.items()}
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


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route not in COVERED_BY_PREFIX:
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def test_every_url_is_in_the_matrix() -> None:
    """A page added later without a row (or an exemption with a reason) fails here."""
    names = {"uid": "x", "rule_id": "1"}
    covered = {resolve(e.url.format(**names)).route for e in ENDPOINTS}
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
