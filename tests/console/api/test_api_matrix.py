"""The REST API's isolation matrix: every role x every endpoint, one test id per cell
(e.g. ``viewer-service-account-create``), the expected answer derived from
``console.roles.ROLE_ACTIONS`` as tests/console/test_isolation_matrix.py does for pages:

- the operator: allowed (2xx);
- a member of acme: allowed if its role has the row's action, else 403;
- a member of globex only (``outsider``): 404, and the body names nothing of acme;
- operator-only actions (``OPERATOR_ONLY``): 404 for everyone non-staff;
- no token: 401. ``None`` as the action: any caller, the content scoped by tenant.

To add a row, append one ``Row`` to ``ROWS``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.models import AccessRule, Plan
from console.roles import OPERATOR_ONLY, ROLE_ACTIONS, Action
from tests.console.api.conftest import Api
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.consumers import commit_offsets

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # may use {uid} and {rule_id}
    action: Action | None
    body: dict[str, Any] | None = field(default=None)
    needs_topic: bool = False  # acme.m-{uid} exists on the broker first
    needs_group: bool = False  # and group acme.g-{uid}, offset 1 committed on it, no members
    also_allowed: tuple[int, ...] = ()  # an allowed answer besides 2xx


RULE = {"account": "app", "resource_type": "TOPIC", "resource_name": "acme.x",
        "operation": "READ"}  # fmt: skip
ROWS = [
    Row("tenant-list", "GET", "/tenants", None),
    Row("tenant-create", "POST", "/tenants", Action.TENANT_CREATE,
        {"name": "Initech", "slug": "initech", "plan": "basic"}),
    Row("tenant-get", "GET", "/tenants/acme", Action.TENANT_VIEW),
    Row("tenant-delete", "DELETE", "/tenants/acme?confirm_slug=acme", Action.TENANT_DELETE),
    Row("drift-reapply", "POST", "/tenants/acme/drift/reapply", Action.DRIFT_RESOLVE, {}),
    Row("drift-adopt", "POST", "/tenants/acme/drift/adopt", Action.DRIFT_RESOLVE, {}),
    Row("service-account-list", "GET", "/tenants/acme/service-accounts",
        Action.SERVICE_ACCOUNT_VIEW),
    Row("service-account-create", "POST", "/tenants/acme/service-accounts",
        Action.SERVICE_ACCOUNT_MANAGE, {"name": "worker"}),
    Row("service-account-get", "GET", "/tenants/acme/service-accounts/app",
        Action.SERVICE_ACCOUNT_VIEW),
    Row("service-account-rotate", "POST", "/tenants/acme/service-accounts/app/rotate",
        Action.SERVICE_ACCOUNT_MANAGE, {}),
    Row("service-account-revoke", "POST", "/tenants/acme/service-accounts/app/revoke",
        Action.SERVICE_ACCOUNT_MANAGE, {}),
    Row("quota-update", "PUT", "/tenants/acme/service-accounts/app/quotas", Action.QUOTA_MANAGE,
        {"quotas": {"producer_byte_rate": 1024}}),
    Row("access-rule-list", "GET", "/tenants/acme/access-rules", Action.ACCESS_RULE_VIEW),
    Row("access-rule-create", "POST", "/tenants/acme/access-rules", Action.ACCESS_RULE_MANAGE,
        RULE),
    Row("access-rule-preset", "POST", "/tenants/acme/access-rules/presets",
        Action.ACCESS_RULE_MANAGE, {"account": "app", "preset": "consumer"}),
    Row("access-rule-delete", "DELETE", "/tenants/acme/access-rules/{rule_id}",
        Action.ACCESS_RULE_MANAGE),
    Row("member-list", "GET", "/tenants/acme/members", Action.MEMBER_VIEW),
    Row("member-add", "POST", "/tenants/acme/members", Action.MEMBER_MANAGE,
        {"username": "newcomer", "role": "viewer"}),
    Row("member-update", "PUT", "/tenants/acme/members/acme-viewer", Action.MEMBER_MANAGE,
        {"role": "developer"}),
    Row("member-remove", "DELETE", "/tenants/acme/members/acme-developer", Action.MEMBER_MANAGE),
    Row("plan-list", "GET", "/plans", Action.PLAN_VIEW),
    Row("plan-create", "POST", "/plans", Action.PLAN_MANAGE, {"name": "gold"}),
    Row("plan-get", "GET", "/plans/basic", Action.PLAN_VIEW),
    Row("plan-update", "PATCH", "/plans/basic", Action.PLAN_MANAGE, {"max_topics": 20}),
    Row("topic-list", "GET", "/topics", None),
    Row("topic-create", "POST", "/topics", Action.TOPIC_MANAGE, {"name": "acme.n-{uid}"}),
    Row("topic-get", "GET", "/topics/acme.m-{uid}", Action.TOPIC_VIEW, needs_topic=True),
    Row("topic-configs", "PATCH", "/topics/acme.m-{uid}/configs", Action.TOPIC_MANAGE,
        {"set": {"retention.ms": "60000"}}, needs_topic=True),
    Row("topic-partitions", "POST", "/topics/acme.m-{uid}/partitions", Action.TOPIC_MANAGE,
        {"count": 2}, needs_topic=True),
    Row("topic-delete", "DELETE", "/topics/acme.m-{uid}", Action.TOPIC_MANAGE, needs_topic=True),
    Row("audit-event-list", "GET", "/audit-events", None),
    # the shared broker has no authorizer: an allowed caller is told so (409)
    Row("acl-list", "GET", "/cluster/acls", Action.CLUSTER_VIEW, also_allowed=(409,)),
    Row("scram-user-list", "GET", "/cluster/scram-users", Action.CLUSTER_VIEW),
    Row("permission-check", "GET", "/cluster/permission-check?principal=User:acme-app"
        "&operation=READ&resource_type=TOPIC&resource_name=acme.orders", Action.CLUSTER_VIEW,
        also_allowed=(409,)),
    # consumer groups and messages (issue 11)
    Row("group-list", "GET", "/groups", None),
    Row("group-get", "GET", "/groups/acme.g-{uid}", Action.GROUP_VIEW, needs_group=True),
    Row("group-offsets-reset", "POST", "/groups/acme.g-{uid}/offsets/reset",
        Action.GROUP_MANAGE, {"strategy": "to-earliest", "dry_run": False}, needs_group=True),
    Row("group-delete", "DELETE", "/groups/acme.g-{uid}", Action.GROUP_MANAGE, needs_group=True),
    Row("group-offsets-delete", "DELETE", "/groups/acme.g-{uid}/offsets/acme.m-{uid}",
        Action.GROUP_MANAGE, needs_group=True),
    Row("message-list", "GET", "/topics/acme.m-{uid}/messages", Action.MESSAGE_VIEW,
        needs_topic=True),
    Row("message-produce", "POST", "/topics/acme.m-{uid}/messages", Action.MESSAGE_PRODUCE,
        {"value": "matrix-{uid}"}, needs_topic=True),
]  # fmt: skip
ROLES = ("operator", "admin", "developer", "viewer", "outsider", "anonymous")


def expect(role: str, row: Row) -> int | str:
    if role == "anonymous":
        return 401
    if role == "operator" or row.action is None:
        return "allowed"
    if row.action in OPERATOR_ONLY or role == "outsider":
        return 404
    return "allowed" if row.action in ROLE_ACTIONS[role] else 403


@pytest.mark.parametrize(
    ("role", "row"), [pytest.param(r, row, id=f"{r}-{row.name}") for row in ROWS for r in ROLES]
)
def test_cell(role: str, row: Row, api_as: Any, users: dict[str, User], settings: Any,
              shared_broker: BrokerProcess) -> None:  # fmt: skip
    settings.HEADWATER_BOOTSTRAP_SERVERS = shared_broker.bootstrap
    # permissions, not limits: acme.* topics of other tests stay on the shared broker
    Plan.objects.filter(name="basic").update(max_topics=None, max_partitions=None)
    rule = AccessRule.objects.filter(service_account__tenant__slug="acme")[0]
    names = {"uid": uuid.uuid4().hex[:10], "rule_id": rule.pk}
    if row.needs_topic or row.needs_group:
        create_topic(shared_broker.bootstrap, "acme.m-{uid}".format(**names))
    if row.needs_group:
        commit_offsets(shared_broker.bootstrap, "acme.g-{uid}".format(**names),
                       {("acme.m-{uid}".format(**names), 0): 1})  # fmt: skip
    User.objects.create_user("newcomer")
    api = Api(None) if role == "anonymous" else api_as(role)
    path = "/api/v1" + row.path.format(**names)
    body = json.loads(json.dumps(row.body).replace("{uid}", names["uid"])) if row.body else None
    client: Client = api.client
    send = getattr(client, row.method.lower())
    response = send(path, body, content_type="application/json") if body is not None else send(path)
    assert response["Content-Type"].startswith("application/json") or response.status_code == 204
    wanted = expect(role, row)
    text = response.content.decode()
    if wanted == "allowed":
        assert 200 <= response.status_code < 300 or response.status_code in row.also_allowed, text
        if role == "outsider":  # open to all, scoped: nothing of acme in it
            assert "acme" not in text
    else:
        assert response.status_code == wanted, text
    if wanted == 404:
        assert "acme" not in json.loads(text)["detail"]
