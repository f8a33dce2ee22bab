"""The OpenAPI document is generated and served, the docs page loads only the console's
own files, every answer under /api/ is JSON; and a property-based run (schemathesis)
against the document as an operator, on a real broker, never gets a server error."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from console.api.app import api
from console.models import AccessRule, AuditEvent
from tests.console.api.conftest import error_of
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic
from tests.support.consumers import commit_offsets

pytestmark = pytest.mark.django_db


def test_the_document_is_openapi_3_generated_from_the_endpoints(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    generated = json.loads(json.dumps(api.get_openapi_schema(path_params={}), default=str))
    assert document == generated
    paths = document["paths"]
    for path in ("/api/v1/tenants", "/api/v1/tenants/{slug}/service-accounts/{name}/rotate",
                 "/api/v1/tenants/{slug}/access-rules", "/api/v1/tenants/{slug}/members",
                 "/api/v1/plans", "/api/v1/topics/{name}", "/api/v1/audit-events",
                 "/api/v1/cluster/acls", "/api/v1/cluster/permission-check",
                 "/api/v1/groups/{group_id}/offsets/reset", "/api/v1/topics/{name}/messages",
                 ):  # fmt: skip
        assert path in paths, path
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    error = paths["/api/v1/tenants"]["post"]["responses"]["422"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_the_docs_page_loads_only_the_consoles_own_files(client: Client) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/ninja/") for a in assets), assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nosuch", 404),
        ("get", "/api/v1/", 404),
        ("put", "/api/v1/tenants", 405),
        ("get", "/api/v1/tenants/%00", 400),
        ("get", "/api/v1/tenants?q=%00", 400),
    ],
)
def test_every_answer_under_api_is_json(
    operator_client: Client, method: str, path: str, status: int
) -> None:
    response = getattr(operator_client, method)(path)
    assert response.status_code == status
    error_of(response)


DOCUMENT = json.loads(json.dumps(api.get_openapi_schema(path_params={}), default=str))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}
EXAMPLES_PER_OPERATION = 8  # over the 2 or 3 strategies: about 50 s for the whole run


def known_path_parameters(label: str, cluster: BrokerProcess) -> dict[str, Any]:
    """Path parameters naming things that exist in the test's world."""
    path = label.split(" ", 1)[1]
    names = re.findall(r"{(\w+)}", path)
    known: dict[str, Any] = {"slug": "acme", "username": "acme-viewer"}
    if "name" in names:
        if path.startswith("/api/v1/plans"):
            known["name"] = "basic"
        elif path.startswith("/api/v1/topics"):
            known["name"] = f"acme.fuzz-{uuid.uuid4().hex[:6]}"
            create_topic(cluster.bootstrap, known["name"])  # not the service: no plan limit
        else:
            known["name"] = "app"
    if "group_id" in names:  # a group of acme's, offsets committed, no members
        known["group_id"] = f"acme.fuzz-{uuid.uuid4().hex[:6]}"
        known["topic"] = f"{known['group_id']}-t"
        create_topic(cluster.bootstrap, known["topic"])
        commit_offsets(cluster.bootstrap, known["group_id"], {(known["topic"], 0): 0})
    if "rule_id" in names:
        known["rule_id"] = AccessRule.objects.filter(service_account__tenant__slug="acme")[0].pk
    if "event_id" in names:
        known["event_id"] = AuditEvent.objects.filter(tenant_slug="acme")[0].pk
    return {name: known[name] for name in names}


@pytest.fixture
def connection_kept() -> Iterator[None]:
    """As Django's test client does: a request's end must not close the test's database
    connection (its transaction holds the test's data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_request_the_document_allows_gets_a_server_error(
    label: str, api_as: Any, cluster: BrokerProcess, connection_kept: None
) -> None:
    """Schemathesis generates requests from the served document (valid ones, and with
    the negative mode ones the schema refuses), sent in-process through Django's WSGI
    application as the operator, whose token reaches each endpoint's deepest path; the
    database is this test's (acme and globex exist). None may answer 5xx, or non-JSON."""
    token = api_as("operator").secret
    api_as("admin")
    app = get_wsgi_application()
    operation = OPERATIONS[label]
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    known = known_path_parameters(label, cluster)
    if known:  # also requests that reach a resource that exists, not only 404s
        strategy |= operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known)
    seen: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
        seen.append(str(response.status_code))
        where = f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
        assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text}"
        if response.status_code != 204:
            headers = {name.lower(): value for name, value in response.headers.items()}
            content_type = headers.get("content-type", [""])
            assert content_type[0].startswith("application/json"), f"{where}: {content_type}"

    run()
    assert seen
