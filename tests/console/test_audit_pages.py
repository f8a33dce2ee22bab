"""The audit log pages on the session's PostgreSQL: filters and paging on the server,
newest first; a member sees only their tenants' events (another tenant's is 404, its
detail URL too); bad filter values are a message, never a 500."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.models import AuditEvent, Membership, Plan, Tenant
from console.selectors.audit import PAGE_SIZE
from console.services import plan_update, tenant_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants(operator: User) -> dict[str, Tenant]:
    Plan.objects.create(name="basic", producer_byte_rate=1_048_576)
    return {
        slug: tenant_create(actor=operator, name=slug.title(), slug=slug, plan="basic").tenant
        for slug in ("acme", "globex")
    }


def member_of(tenant: Tenant, username: str, role: str = "viewer") -> Client:
    user = User.objects.create_user(username, password="x")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    client = Client()
    client.force_login(user)
    return client


def event_ids(response: object) -> list[int]:
    return [e.pk for e in response.context["events"]]  # type: ignore[attr-defined]


def test_operators_see_every_event_newest_first_with_a_link_to_each(
    operator_client: Client, tenants: dict[str, Tenant]
) -> None:
    response = operator_client.get("/audit/")
    assert response.status_code == 200
    ids = event_ids(response)
    expected = list(AuditEvent.objects.order_by("-at", "-id").values_list("pk", flat=True))
    assert ids == expected and len(ids) >= 6  # two tenants, their accounts and rules
    page = response.content.decode()
    assert {"tenant.create", "service_account.create", "access_rule.create"} <= {
        e.action for e in response.context["events"]
    }
    assert f'href="/audit/{ids[0]}/"' in page


def test_filters_by_tenant_user_action_resource_and_time(
    operator_client: Client, operator: User, tenants: dict[str, Tenant]
) -> None:
    other = User.objects.create_user("bob", is_staff=True)
    plan_update(actor=other, name="basic", producer_byte_rate=2_097_152)
    old = AuditEvent.objects.create(
        at=datetime(2020, 1, 2, 3, 4, tzinfo=UTC), actor_name="carol", tenant=tenants["acme"],
        tenant_slug="acme", action="topic.create", resource_type="topic",
        resource_name="acme.orders",
    )  # fmt: skip

    def ids(query: str) -> set[int]:
        response = operator_client.get(f"/audit/?{query}")
        assert response.status_code == 200, query
        assert not response.context["form"].errors, response.context["form"].errors
        return set(event_ids(response))

    acme = set(AuditEvent.objects.filter(tenant_slug="acme").values_list("pk", flat=True))
    assert ids("tenant=acme") == acme and old.pk in acme
    bobs = ids("actor=bo")
    assert bobs == {AuditEvent.objects.get(actor_name="bob").pk}
    assert ids("action=plan.update") == bobs
    accounts = ids("action=service_account")
    assert accounts and all(
        AuditEvent.objects.get(pk=pk).action.startswith("service_account.") for pk in accounts
    )
    assert ids("resource=orders") == {old.pk}
    globex_app = AuditEvent.objects.filter(resource_name__icontains="globex-app")
    assert ids("resource=globex-app") == set(globex_app.values_list("pk", flat=True))
    assert ids("to=2020-01-02") == {old.pk}  # a date alone: the whole day
    assert ids("from=2020-01-01&to=2020-01-02T03:03") == set()
    assert old.pk not in ids(f"from={(datetime.now(UTC) - timedelta(hours=1)):%Y-%m-%dT%H:%M}")
    assert ids("tenant=acme&actor=carol&action=topic&resource=acme.orders") == {old.pk}


def test_paging_is_on_the_server_and_keeps_the_filters(
    operator_client: Client, tenants: dict[str, Tenant]
) -> None:
    base = datetime(2024, 5, 1, tzinfo=UTC)
    fields = {"actor_name": "loader", "tenant": tenants["globex"], "tenant_slug": "globex",
              "action": "topic.create", "resource_type": "topic"}  # fmt: skip
    AuditEvent.objects.bulk_create(
        AuditEvent(at=base + timedelta(minutes=i), resource_name=f"globex.t{i:03d}", **fields)
        for i in range(PAGE_SIZE + 7)
    )
    first = operator_client.get("/audit/?actor=loader")
    assert len(first.context["events"]) == PAGE_SIZE
    assert first.context["events"][0].resource_name == f"globex.t{PAGE_SIZE + 6:03d}"
    page = first.content.decode()
    assert "page 1 of 2" in page and 'href="?actor=loader&amp;page=2"' in page
    second = operator_client.get("/audit/?actor=loader&page=2")
    names = [e.resource_name for e in second.context["events"]]
    assert names == [f"globex.t{i:03d}" for i in range(6, -1, -1)]
    assert operator_client.get("/audit/?actor=loader&page=x").status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "since", "Enter a date"),
        ("to=2024-13-40", "until", "Enter a date"),
        ("from=2024-02-02&to=2024-02-01", "until", "before its start"),
        ("tenant=nosuch", "tenant", "No tenant 'nosuch'"),
    ],
)
def test_bad_filter_values_are_a_message_not_a_500(
    operator_client: Client, tenants: dict[str, Tenant], query: str, field: str, message: str
) -> None:
    response = operator_client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert message in html.unescape(response.content.decode())
    assert response.context["events"] == []


def test_a_member_sees_only_their_tenants_events(tenants: dict[str, Tenant]) -> None:
    globex = member_of(tenants["globex"], "gina")
    response = globex.get("/audit/")
    assert response.status_code == 200
    seen = {e.tenant_slug for e in response.context["events"]}
    assert seen == {"globex"}
    acme_event = AuditEvent.objects.filter(tenant_slug="acme").first()
    assert acme_event is not None
    assert globex.get(f"/audit/{acme_event.pk}/").status_code == 404
    assert globex.get("/audit/999999/").status_code == 404
    mine = AuditEvent.objects.filter(tenant_slug="globex").first()
    assert mine is not None and globex.get(f"/audit/{mine.pk}/").status_code == 200
    # naming the other tenant in the filter: the same answer as a tenant that does not exist
    other = globex.get("/audit/?tenant=acme")
    missing = globex.get("/audit/?tenant=nosuch")
    assert other.context["form"].errors["tenant"] == ["No tenant 'acme'."]
    assert missing.context["form"].errors["tenant"] == ["No tenant 'nosuch'."]
    assert "acme" not in "".join(e.tenant_slug for e in other.context["events"])


def test_plan_events_and_the_nav_links_are_for_operators(
    operator_client: Client, operator: User, tenants: dict[str, Tenant]
) -> None:
    plan_update(actor=operator, name="basic", max_topics=5)
    event = AuditEvent.objects.get(action="plan.update")
    acme = member_of(tenants["acme"], "anna", role="admin")
    assert event.pk not in event_ids(acme.get("/audit/"))
    assert acme.get(f"/audit/{event.pk}/").status_code == 404
    nav = acme.get("/tenants/").content.decode()
    assert 'href="/audit/"' in nav and 'href="/plans/"' not in nav and "/quotas/" not in nav
    ops = operator_client.get("/tenants/").content.decode()
    assert 'href="/audit/"' in ops and 'href="/plans/"' in ops and 'href="/quotas/"' in ops
    loner = User.objects.create_user("loner")
    client = Client()
    client.force_login(loner)
    assert 'href="/audit/"' not in client.get("/tenants/").content.decode()
    assert client.get("/audit/").context["events"] == []


def test_the_detail_shows_before_and_after_as_a_diff(
    operator_client: Client, operator: User, tenants: dict[str, Tenant]
) -> None:
    plan_update(actor=operator, name="basic", producer_byte_rate=2_097_152, max_topics=5)
    event = AuditEvent.objects.get(action="plan.update")
    response = operator_client.get(f"/audit/{event.pk}/")
    assert response.status_code == 200
    rows = {row.key: row for row in response.context["detail"].diff}
    assert rows["producer_byte_rate"].kind == "changed"
    assert (rows["producer_byte_rate"].before, rows["producer_byte_rate"].after) == (
        1_048_576, 2_097_152,
    )  # fmt: skip
    assert rows["max_topics"].kind == "changed" and rows["name"].kind == "same"
    page = response.content.decode()
    assert "<del>1048576</del>" in page and "<ins>2097152</ins>" in page
    created = AuditEvent.objects.filter(action="tenant.create", tenant_slug="acme").first()
    assert created is not None
    diff = operator_client.get(f"/audit/{created.pk}/").context["detail"].diff
    assert {row.key: row.kind for row in diff} == {"name": "added", "slug": "added",
                                                   "plan": "added"}  # fmt: skip


def test_the_tenant_page_links_to_its_audit_log(
    operator_client: Client, tenants: dict[str, Tenant]
) -> None:
    page = operator_client.get("/tenants/acme/").content.decode()
    assert 'href="/audit/?tenant=acme"' in page
    scoped = operator_client.get("/audit/?tenant=acme")
    assert {e.tenant_slug for e in scoped.context["events"]} == {"acme"}


def test_audit_events_stay_immutable(tenants: dict[str, Tenant]) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    event.message = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
