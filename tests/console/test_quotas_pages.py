"""The operators' quotas page against a real SASL broker with the authorizer: per
service account the effective quotas, what the console applied and what the cluster
reports (DescribeClientQuotas); an edit goes through quota_update (audited, a reconcile
requested) and, once the reconciler runs, the cluster holds the new value; an empty
field goes back to the plan's. Members see their accounts' quotas read-only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from console import reconcile
from console.models import AuditEvent, Membership, Plan, ServiceAccount, Tenant
from console.services import plan_create, tenant_create
from tests.broker.security.authz import authorizing_broker, headwater, login_properties
from tests.console.reconcile_support import console_login
from tests.support.broker import BrokerProcess

pytestmark = pytest.mark.django_db
MiB = 1_048_576


@pytest.fixture(scope="module")
def sasl_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("quota-pages"))
    yield broker
    broker.stop()


@pytest.fixture
def console_cluster(settings: SettingsWrapper, sasl_cluster: BrokerProcess) -> BrokerProcess:
    """The console logged in to the SASL broker as its super user."""
    settings.HEADWATER_BOOTSTRAP_SERVERS = sasl_cluster.bootstrap
    settings.HEADWATER_KAFKA_CLIENT_CONFIG = console_login(sasl_cluster.bootstrap)
    settings.HEADWATER_PLAN_POLICY_ON_BROKER = True
    settings.HEADWATER_ADMIN_TIMEOUT = 5
    return sasl_cluster


def settle(callbacks: list[Callable[[], Any]]) -> int:
    """What a commit sets off, without a Celery worker: the credential writes run; the
    reconcile requests are counted, and the test then runs the reconciler itself, as
    the worker would."""
    requests = 0
    for callback in callbacks:
        if "request_reconcile" in callback.__qualname__:
            requests += 1
        else:
            callback()
    return requests


def new_slug() -> str:
    return "q" + uuid.uuid4().hex[:8]


def cluster_quota(broker: BrokerProcess, user: str, key: str) -> float | None:
    """``headwater quotas --describe`` as an operator runs it: ``key`` of ``user``."""
    done = headwater("quotas", "--describe", "--user", user, "--bootstrap-server",
                     broker.bootstrap, *login_properties("admin"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    for token in done.stdout.replace(",", " ").split():
        name, _, value = token.partition("=")
        if name == key:
            return float(value)
    return None


def tenant_on_cluster(
    operator: User, capture: Any, *, producer_byte_rate: int | None = MiB, **plan: Any
) -> Tenant:
    slug = new_slug()
    plan_create(actor=operator, name=f"plan-{slug}", producer_byte_rate=producer_byte_rate,
                **plan)  # fmt: skip
    with capture() as callbacks:
        created = tenant_create(actor=operator, name=slug, slug=slug, plan=f"plan-{slug}")
    assert settle(callbacks) >= 1
    assert created.credential.credential_set, created.credential.message
    assert reconcile.reconcile_tenant(tenant_id=created.tenant.pk).result == "reconciled"
    return created.tenant


def quota_form(account: ServiceAccount, **values: str) -> dict[str, str]:
    data = {"account": f"{account.tenant.slug}/{account.name}"}
    for key in Plan.QUOTA_KEYS:
        data[f"q{account.pk}-{key}"] = values.get(key, "")
    return data


def test_the_page_shows_effective_applied_and_cluster_quotas_and_an_edit_reaches_the_cluster(
    operator_client: Client, operator: User, console_cluster: BrokerProcess,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    tenant = tenant_on_cluster(operator, django_capture_on_commit_callbacks)
    account = ServiceAccount.objects.get(tenant=tenant)
    user = account.username
    assert cluster_quota(console_cluster, user, "producer_byte_rate") == MiB
    url = f"/quotas/?tenant={tenant.slug}"
    page = operator_client.get(url)
    assert page.status_code == 200
    [item] = page.context["overview"].accounts
    assert item.cluster["producer_byte_rate"] == MiB and item.in_sync is True
    html = page.content.decode()
    assert "1.0 MiB/s" in html and "cluster matches" in html and f"plan-{tenant.slug}" in html

    with django_capture_on_commit_callbacks() as callbacks:
        done = operator_client.post(url, quota_form(account, producer_byte_rate="2097152"))
    assert done.status_code == 302
    assert settle(callbacks) == 1  # the change asks for a reconcile on commit
    account.refresh_from_db()
    assert account.quota_overrides == {"producer_byte_rate": 2 * MiB}
    event = AuditEvent.objects.filter(action="quota.update", resource_name=user).get()
    assert event.after["quota_overrides"] == {"producer_byte_rate": 2 * MiB}
    [stale] = operator_client.get(url).context["overview"].accounts
    assert stale.in_sync is False  # the console wants 2 MiB/s; the cluster still has 1
    assert reconcile.reconcile_tenant(tenant_id=tenant.pk).result == "reconciled"
    assert cluster_quota(console_cluster, user, "producer_byte_rate") == 2 * MiB
    shown = operator_client.get(url)
    [fresh] = shown.context["overview"].accounts
    assert fresh.in_sync is True and fresh.cluster["producer_byte_rate"] == 2 * MiB
    assert "2.0 MiB/s" in shown.content.decode()

    with django_capture_on_commit_callbacks() as callbacks:  # empty: back to the plan's
        assert operator_client.post(url, quota_form(account)).status_code == 302
    assert settle(callbacks) == 1
    account.refresh_from_db()
    assert account.quota_overrides == {}
    reconcile.reconcile_tenant(tenant_id=tenant.pk)
    assert cluster_quota(console_cluster, user, "producer_byte_rate") == MiB


@pytest.mark.parametrize(
    ("value", "message"), [("0", "greater than 0"), ("-5", "greater than 0"),
                           ("fast", "Enter a number")],
)  # fmt: skip
def test_a_bad_quota_is_a_message_on_its_field_and_nothing_changes(
    operator_client: Client, operator: User, console_cluster: BrokerProcess,
    django_capture_on_commit_callbacks: Any, value: str, message: str,
) -> None:  # fmt: skip
    tenant = tenant_on_cluster(operator, django_capture_on_commit_callbacks)
    account = ServiceAccount.objects.get(tenant=tenant)
    url = f"/quotas/?tenant={tenant.slug}"
    response = operator_client.post(url, quota_form(account, consumer_byte_rate=value))
    assert response.status_code == 200
    [(_, form)] = response.context["rows"]
    assert message in form.errors["consumer_byte_rate"][0]
    account.refresh_from_db()
    assert account.quota_overrides == {}
    assert not AuditEvent.objects.filter(action="quota.update").exists()


def test_a_cluster_that_does_not_answer_is_a_message_not_a_500(
    operator_client: Client, operator: User, cluster_down: str
) -> None:
    Plan.objects.create(name="basic", producer_byte_rate=MiB)
    tenant_create(actor=operator, name="Acme", slug="acme", plan="basic")
    response = operator_client.get("/quotas/")
    assert response.status_code == 200
    assert "could not be read" in response.context["cluster_error"]
    [item] = response.context["overview"].accounts
    assert item.cluster is None and item.in_sync is None
    assert "1.0 MiB/s" in response.content.decode()  # the plan's value, from the database


def test_members_see_their_accounts_quotas_read_only_and_not_the_page(
    operator: User, cluster_down: str
) -> None:
    Plan.objects.create(name="basic", producer_byte_rate=MiB, consumer_byte_rate=2 * MiB)
    acme = tenant_create(actor=operator, name="Acme", slug="acme", plan="basic").tenant
    ServiceAccount.objects.filter(tenant=acme).update(quota_overrides={"consumer_byte_rate": 512})
    user = User.objects.create_user("anna")
    Membership.objects.create(user=user, tenant=acme, role="admin")
    client = Client()
    client.force_login(user)
    for url in ["/quotas/", "/quotas/?tenant=acme"]:
        assert client.get(url).status_code == 404
    account = ServiceAccount.objects.get(tenant=acme)
    post = client.post("/quotas/", quota_form(account, producer_byte_rate="1"))
    assert post.status_code == 404
    detail = client.get("/tenants/acme/service-accounts/app/").content.decode()
    assert "Client quotas" in detail and "1.0 MiB/s" in detail and "512 B/s" in detail
    assert "override" in detail and "Edit quotas" not in detail
