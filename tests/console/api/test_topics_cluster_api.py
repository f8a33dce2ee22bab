"""Topics and the operators' cluster reads over REST, against a real broker (the
authorizer on, so ACLs and the permission check are the cluster's own); an unreachable
cluster is a 503 with the reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)
from pytest_django.fixtures import Settings as SettingsWrapper

from console.models import AuditEvent
from tests.console.api.conftest import error_of
from tests.support.broker import BrokerProcess

pytestmark = pytest.mark.django_db
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@pytest.fixture(scope="module")
def authorizing_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(
        tmp_path_factory.mktemp("api-cluster"),
        overrides={"authorizer.class.name": STANDARD_AUTHORIZER, "super.users": "User:ANONYMOUS"},
    )
    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    binding = AclBinding(
        ResourceType.TOPIC, "acme.", ResourcePatternType.PREFIXED,
        "User:acme-app", "*", AclOperation.READ, AclPermissionType.ALLOW,
    )  # fmt: skip
    for future in admin.create_acls([binding]).values():
        future.result(15)
    yield broker
    broker.stop()


@pytest.fixture
def on_cluster(settings: SettingsWrapper, authorizing_broker: BrokerProcess) -> BrokerProcess:
    settings.HEADWATER_BOOTSTRAP_SERVERS = authorizing_broker.bootstrap
    return authorizing_broker


def unique(prefix: str) -> str:
    return f"{prefix}.api-{uuid.uuid4().hex[:8]}"


def test_topics_by_role_and_tenant(api_as, on_cluster: BrokerProcess) -> None:
    name, theirs = unique("acme"), unique("globex")
    assert api_as("viewer").post("/topics", {"name": name}).status_code == 403
    assert api_as("outsider").post("/topics", {"name": name}).status_code == 404
    created = api_as("developer").post("/topics", {"name": name, "partitions": 3})
    assert created.status_code == 201, created.content
    assert created.json()["partition_count"] == 3 and created.json()["record_count"] == 0
    assert api_as("outsider").post("/topics", {"name": theirs}).status_code == 201
    listed = {t["name"] for t in api_as("viewer").get("/topics").json()["items"]}
    assert name in listed and theirs not in listed
    assert api_as("viewer").get(f"/topics/{name}").json()["partitions"][0]["leader"] >= 0
    missing = api_as("viewer").get(f"/topics/{theirs}")
    assert missing.status_code == 404 and theirs not in error_of(missing)["detail"]
    assert api_as("operator").get(f"/topics/{theirs}").status_code == 200
    assert api_as("viewer").call("DELETE", f"/topics/{name}").status_code == 403
    assert api_as("outsider").call("DELETE", f"/topics/{name}").status_code == 404
    assert api_as("developer").call("DELETE", f"/topics/{name}").status_code == 204
    assert api_as("developer").get(f"/topics/{name}").status_code == 404
    assert AuditEvent.objects.filter(action="topic.delete", resource_name=name).exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "acme.bad name"}, 422, "name"),
        ({"name": "acme.x", "partitions": 0}, 422, "partitions"),
        ({"name": "acme.x", "partitions": 10**6}, 422, "partitions"),
        ({"name": "acme.x", "replication_factor": 0}, 422, "replication_factor"),
        ({"name": "acme.x", "partitions": 31}, 422, "partitions"),  # the plan: 30 in all
        ({"name": "unprefixed"}, 404, None),  # outside every tenant: for operators only
    ],
)
def test_bad_topic_input_is_a_json_error(
    api_as, on_cluster: BrokerProcess, body: dict, status: int, field: str | None
) -> None:
    response = api_as("developer").post("/topics", body)
    assert response.status_code == status, response.content
    if field:
        assert field in error_of(response)["errors"]


def test_a_topic_that_exists_is_409_with_kafkas_error(api_as, on_cluster: BrokerProcess) -> None:
    name = unique("acme")
    assert api_as("developer").post("/topics", {"name": name}).status_code == 201
    again = api_as("developer").post("/topics", {"name": name})
    assert again.status_code in (409, 422)
    error_of(again)


def test_internal_topics_cannot_be_deleted(api_as, on_cluster: BrokerProcess) -> None:
    response = api_as("operator").call("DELETE", "/topics/__consumer_offsets")
    assert response.status_code == 422 and "internal" in error_of(response)["detail"]


def test_operators_read_acls_scram_users_and_check_permissions(
    api_as, on_cluster: BrokerProcess
) -> None:
    operator = api_as("operator")
    acls = operator.get("/cluster/acls").json()
    assert {"resource_name": "acme.", "principal": "User:acme-app", "operation": "READ",
            "pattern_type": "PREFIXED", "permission_type": "ALLOW", "host": "*",
            "resource_type": "TOPIC"} in acls  # fmt: skip
    assert isinstance(operator.get("/cluster/scram-users").json(), list)
    question = {"principal": "User:acme-app", "operation": "READ", "resource_type": "TOPIC",
                "resource_name": "acme.orders"}  # fmt: skip
    decision = operator.get("/cluster/permission-check", **question).json()
    assert decision["allowed"] is True and decision["binding"]["resource_name"] == "acme."
    denied = operator.get("/cluster/permission-check", **question | {"operation": "WRITE"})
    assert denied.json()["allowed"] is False
    bad = operator.get("/cluster/permission-check", **question | {"principal": "acme-app"})
    assert bad.status_code == 422 and "principal" in error_of(bad)["errors"]
    for who in ("admin", "viewer"):
        for path in ("/cluster/acls", "/cluster/scram-users"):
            assert api_as(who).get(path).status_code == 404
        assert api_as(who).get("/cluster/permission-check", **question).status_code == 404


def test_an_unreachable_cluster_is_503_with_the_reason(api_as, cluster_down: str) -> None:
    for response in (
        api_as("operator").get("/topics"),
        api_as("developer").post("/topics", {"name": "acme.x"}),
        api_as("operator").get("/cluster/acls"),
    ):
        assert response.status_code == 503
        assert cluster_down in error_of(response)["detail"]


def test_a_new_accounts_credential_reaches_the_cluster(
    api_as, on_cluster: BrokerProcess, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as("admin").post("/tenants/acme/service-accounts", {"name": "stream"})
    assert created.status_code == 201
    users = {u["name"] for u in api_as("operator").get("/cluster/scram-users").json()}
    assert "acme-stream" in users


def test_topics_are_searched_paged_configured_and_grown(api_as, on_cluster: BrokerProcess) -> None:
    name = unique("acme")
    assert api_as("developer").post("/topics", {"name": name}).status_code == 201
    found = api_as("viewer").get("/topics", q=name.upper()).json()
    assert [t["name"] for t in found["items"]] == [name] and found["count"] == 1
    assert api_as("viewer").get("/topics", tenant="globex").json()["count"] == 0
    hidden = {t["name"] for t in api_as("operator").get("/topics").json()["items"]}
    assert "__consumer_offsets" not in hidden
    detail = api_as("viewer").get(f"/topics/{name}").json()
    assert detail["tenant"] == "acme" and detail["can_manage"] is False
    assert any(c["name"] == "cleanup.policy" for c in detail["configs"])
    change = {"set": {"cleanup.policy": "compact"}}
    assert api_as("viewer").call("PATCH", f"/topics/{name}/configs", change).status_code == 403
    assert api_as("outsider").call("PATCH", f"/topics/{name}/configs", change).status_code == 404
    changed = api_as("developer").call("PATCH", f"/topics/{name}/configs", change)
    assert changed.status_code == 200, changed.content
    configs = {c["name"]: c for c in changed.json()["configs"]}
    assert (
        configs["cleanup.policy"]["value"] == "compact" and configs["cleanup.policy"]["is_override"]
    )
    unknown = api_as("developer").call("PATCH", f"/topics/{name}/configs", {"set": {"nope": "1"}})
    assert unknown.status_code == 422 and "configs" in error_of(unknown)["errors"]
    grown = api_as("developer").post(f"/topics/{name}/partitions", {"count": 3})
    assert grown.status_code == 200 and grown.json()["partition_count"] == 3
    shrink = api_as("developer").post(f"/topics/{name}/partitions", {"count": 2})
    assert shrink.status_code == 422 and "count" in error_of(shrink)["errors"]
    beyond = api_as("developer").post(f"/topics/{name}/partitions", {"count": 31})
    assert beyond.status_code == 422  # the plan: 30 partitions in all
