"""The operators' plan pages: quotas shown human-readable with how many tenants use
each plan; create and edit through plan_create/plan_update (audited, every tenant on the
plan reconciled, so a new quota reaches the broker); validation errors on the form;
anyone but an operator gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console import reconcile
from console.models import AuditEvent, Membership, Plan, ServiceAccount, Tenant
from console.roles import ROLE_ACTIONS, Action
from console.services import tenant_create
from tests.console.test_quotas_pages import (  # noqa: F401 (fixtures)
    MiB,
    cluster_quota,
    console_cluster,
    sasl_cluster,
    settle,
    tenant_on_cluster,
)
from tests.support.broker import BrokerProcess

pytestmark = pytest.mark.django_db

EMPTY = {key: "" for key in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS}


@pytest.fixture
def basic(operator: User) -> Plan:
    plan = Plan.objects.create(name="basic", producer_byte_rate=MiB, consumer_byte_rate=1536,
                               max_topics=10)  # fmt: skip
    for slug in ("acme", "globex"):
        tenant_create(actor=operator, name=slug, slug=slug, plan="basic")
    Plan.objects.create(name="empty")
    return plan


def test_the_list_shows_quotas_human_readable_limits_and_tenant_counts(
    operator_client: Client, basic: Plan
) -> None:
    response = operator_client.get("/plans/")
    assert response.status_code == 200
    rows = {row.plan.name: row.tenants for row in response.context["rows"]}
    assert rows == {"basic": 2, "empty": 0}
    page = response.content.decode()
    assert "1.0 MiB/s" in page and "1.5 KiB/s" in page and "unlimited" in page
    assert 'href="/plans/basic/"' in page and 'href="/plans/new/"' in page


@pytest.mark.parametrize("role", ["viewer", "developer", "admin"])
def test_plans_are_operators_only(basic: Plan, role: str) -> None:
    user = User.objects.create_user(f"u-{role}")
    Membership.objects.create(user=user, tenant=Tenant.objects.get(slug="acme"), role=role)
    client = Client()
    client.force_login(user)
    for url in ["/plans/", "/plans/new/", "/plans/basic/", "/plans/nosuch/"]:
        assert client.get(url).status_code == 404, url
    assert client.post("/plans/basic/", EMPTY | {"max_topics": "1"}).status_code == 404
    assert client.post("/plans/new/", EMPTY | {"name": "mine"}).status_code == 404
    assert Plan.objects.get(name="basic").max_topics == 10
    assert not Plan.objects.filter(name="mine").exists()
    assert Action.PLAN_VIEW not in ROLE_ACTIONS[role]
    # the tenant's own plan still shows on its page (tenant.view)
    assert "basic" in client.get("/tenants/acme/").content.decode()


def test_create_is_audited_and_its_errors_are_on_the_form(
    operator_client: Client, basic: Plan
) -> None:
    done = operator_client.post(
        "/plans/new/", EMPTY | {"name": "pro", "producer_byte_rate": "4194304", "max_topics": "50"}
    )
    assert done.status_code == 302
    pro = Plan.objects.get(name="pro")
    assert (pro.producer_byte_rate, pro.max_topics, pro.consumer_byte_rate) == (4 * MiB, 50, None)
    assert (
        AuditEvent.objects.get(action="plan.create", resource_name="pro").after["max_topics"] == 50
    )
    again = operator_client.post("/plans/new/", EMPTY | {"name": "pro"})
    assert again.status_code == 200 and "exists already" in again.context["form"].errors["name"][0]
    zero = operator_client.post("/plans/new/", EMPTY | {"name": "zero", "max_topics": "0"})
    assert "greater than 0" in zero.context["form"].errors["max_topics"][0]
    assert not Plan.objects.filter(name="zero").exists()
    blank = operator_client.post("/plans/new/", EMPTY)
    assert "needs a name" in blank.context["form"].errors["name"][0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("producer_byte_rate", "0", "greater than 0"), ("max_partitions", "-1", "greater than 0"),
     ("consumer_byte_rate", "lots", "Enter a number")],
)  # fmt: skip
def test_an_edit_with_a_bad_value_is_a_message_and_changes_nothing(
    operator_client: Client, basic: Plan, field: str, value: str, message: str
) -> None:
    response = operator_client.post("/plans/basic/", EMPTY | {field: value})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert message in response.content.decode()
    assert Plan.objects.get(name="basic").producer_byte_rate == MiB
    assert not AuditEvent.objects.filter(action="plan.update").exists()


def test_the_edit_form_starts_from_the_plan_and_empties_mean_unlimited(
    operator_client: Client, basic: Plan, django_capture_on_commit_callbacks: Any
) -> None:
    form = operator_client.get("/plans/basic/").context["form"]
    assert form.initial["producer_byte_rate"] == MiB and "name" not in form.fields
    with django_capture_on_commit_callbacks() as callbacks:
        done = operator_client.post("/plans/basic/", EMPTY | {"producer_byte_rate": str(MiB)})
    assert done.status_code == 302
    assert settle(callbacks) == 2  # acme and globex
    plan = Plan.objects.get(name="basic")
    assert (plan.producer_byte_rate, plan.consumer_byte_rate, plan.max_topics) == (MiB, None, None)
    event = AuditEvent.objects.get(action="plan.update")
    assert event.before["max_topics"] == 10 and event.after["max_topics"] is None


def test_a_plan_edit_reaches_the_broker_for_every_tenant_on_it(
    operator_client: Client, operator: User,
    console_cluster: BrokerProcess,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    tenant = tenant_on_cluster(operator, django_capture_on_commit_callbacks)
    user = ServiceAccount.objects.get(tenant=tenant).username
    assert cluster_quota(console_cluster, user, "consumer_byte_rate") is None
    url = f"/plans/{tenant.plan.name}/"
    with django_capture_on_commit_callbacks() as callbacks:
        done = operator_client.post(
            url, EMPTY | {"producer_byte_rate": str(MiB), "consumer_byte_rate": str(3 * MiB)}
        )
    assert done.status_code == 302
    assert settle(callbacks) == 1
    assert reconcile.reconcile_tenant(tenant_id=tenant.pk).result == "reconciled"
    assert cluster_quota(console_cluster, user, "consumer_byte_rate") == 3 * MiB
    assert cluster_quota(console_cluster, user, "producer_byte_rate") == MiB
    listing = operator_client.get("/plans/").content.decode()
    assert "3.0 MiB/s" in listing
