"""Plans (operators only; anyone else 404) and the audit log (scoped by tenant)."""

from __future__ import annotations

import pytest

from console.models import AuditEvent, Plan
from tests.console.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_plans_are_for_operators(api_as) -> None:
    for who in ("admin", "viewer", "outsider"):
        api = api_as(who)
        assert api.get("/plans").status_code == 404, who
        assert api.get("/plans/basic").status_code == 404, who
        assert api.post("/plans", {"name": "gold"}).status_code == 404, who
        assert api.call("PATCH", "/plans/basic", {"max_topics": 99}).status_code == 404, who
    assert not Plan.objects.filter(name="gold").exists()
    assert Plan.objects.get(name="basic").max_topics == 10


def test_an_operator_creates_and_changes_a_plan(api_as) -> None:
    operator = api_as("operator")
    listing = operator.get("/plans").json()
    assert [(p["name"], p["tenant_count"]) for p in listing] == [("basic", 2)]
    created = operator.post("/plans", {"name": "gold", "producer_byte_rate": 1048576})
    assert created.status_code == 201 and created.json()["producer_byte_rate"] == 1048576
    changed = operator.call("PATCH", "/plans/gold", {"max_topics": 5, "producer_byte_rate": None})
    assert changed.status_code == 200
    assert changed.json()["max_topics"] == 5 and changed.json()["producer_byte_rate"] is None
    assert AuditEvent.objects.filter(action="plan.update", resource_name="gold").exists()
    assert operator.get("/plans/nosuch").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "basic"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "max_topics": 0}, "max_topics"),
        ({"name": "x", "max_topics": 2**40}, "max_topics"),
        ({"name": "x", "producer_byte_rate": 2**70}, "producer_byte_rate"),
        ({"name": "x", "request_percentage": "lots"}, "request_percentage"),
    ],
)
def test_bad_plan_values_are_422(api_as, body: dict, field: str) -> None:
    response = api_as("operator").post("/plans", body)
    assert response.status_code == 422 and field in error_of(response)["errors"]


def test_members_see_only_their_tenants_audit_events(api_as) -> None:
    api_as("admin").post("/tenants/acme/service-accounts", {"name": "billing"})
    api_as("outsider").post("/tenants/globex/service-accounts", {"name": "secret-project"})
    viewer = api_as("viewer").get("/audit-events").json()
    assert viewer["count"] > 0 and {e["tenant"] for e in viewer["items"]} == {"acme"}
    assert "secret-project" not in str(viewer)
    refused = api_as("viewer").get("/audit-events", tenant="globex")  # as the audit page
    assert refused.status_code == 422 and "tenant" in error_of(refused)["errors"]
    missing = error_of(api_as("viewer").get("/audit-events", tenant="nosuch"))
    assert error_of(refused)["detail"] == missing["detail"].replace("nosuch", "globex")
    narrowed = api_as("operator").get("/audit-events", tenant="globex").json()
    assert {e["tenant"] for e in narrowed["items"]} == {"globex"}
    by_action = api_as("operator").get("/audit-events", action="service_account.create").json()
    assert {e["action"] for e in by_action["items"]} == {"service_account.create"}
    globex_event = AuditEvent.objects.filter(tenant_slug="globex").first()
    assert api_as("viewer").get(f"/audit-events/{globex_event.pk}").status_code == 404
    assert api_as("operator").get(f"/audit-events/{globex_event.pk}").status_code == 200
    acme_event = AuditEvent.objects.filter(tenant_slug="acme").first()
    detail = api_as("viewer").get(f"/audit-events/{acme_event.pk}").json()
    assert detail["tenant"] == "acme" and detail["diff"]
    token_event = AuditEvent.objects.filter(action="api_token.create").first()
    assert api_as("viewer").get(f"/audit-events/{token_event.pk}").status_code == 404
    assert api_as("viewer").get("/audit-events", page=0).status_code == 422
    assert api_as("viewer").get("/audit-events", page="x").status_code == 422


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("2026-01-01T00:00:00", 200),
        ("2026-01-01T00:00:00+18:56", 200),  # Python allows it, PostgreSQL does not: UTC
        ("0001-01-01T00:00:00+01:00", 422),  # before year 1 in UTC
        ("yesterday", 422),
    ],
)
def test_a_time_filter_is_read_in_utc(api_as, moment: str, status: int) -> None:
    """Found by the schemathesis run: an offset beyond PostgreSQL's range was a 500."""
    response = api_as("operator").client.get("/api/v1/audit-events", {"from": moment})
    assert response.status_code == status, response.content
