"""The brokers pages (issue 11) against a real broker: the cluster with its log dirs'
usage, a broker's configs with a dynamic one changed through the form."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from console.models import AuditEvent
from tests.broker.security.authz import authorizing_broker, client_config, create_users
from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic


def broker_config(bootstrap: str, name: str) -> tuple[str | None, ConfigSource]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ConfigResource.Type.BROKER, "1")
    entry = admin.describe_configs([resource], request_timeout=15)[resource].result(15)[name]
    return entry.value, ConfigSource(entry.source)


@pytest.fixture
def own_cluster(settings: SettingsWrapper, broker: BrokerProcess) -> BrokerProcess:
    """A broker of the test's own: its dynamic configs change."""
    settings.HEADWATER_BOOTSTRAP_SERVERS = broker.bootstrap
    return broker


def test_the_page_shows_cluster_id_controller_and_log_dir_usage(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    topic = f"big-{uuid.uuid4().hex[:8]}"
    confluent_create_topic(cluster.bootstrap, topic, 1)
    producer = Producer({"bootstrap.servers": cluster.bootstrap})
    for _ in range(50):
        producer.produce(topic, b"x" * 2000)
    assert producer.flush(15) == 0
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})  # alive until answered
    cluster_id = admin.describe_cluster(request_timeout=15).result(15).cluster_id

    response = operator_client.get("/brokers/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"data-cluster-id>{cluster_id}<" in page
    assert re.search(r"data-controller>broker 1<", page)
    assert f'data-log-dir="{cluster.log_dir.absolute()}"' in page
    overview = response.context["cluster"]
    (summary,) = overview.brokers
    (log_dir,) = summary.log_dirs
    assert log_dir.total_bytes == shutil.disk_usage(cluster.log_dir).total
    assert 0 < log_dir.usable_bytes < log_dir.total_bytes
    assert log_dir.used_bytes >= 50 * 2000
    assert any(p.topic == topic and p.size_bytes >= 50 * 2000 for p in summary.biggest) or (
        min(p.size_bytes for p in summary.biggest) >= 50 * 2000
    )
    assert f"{cluster.bootstrap}" in page and '<meter min="0"' in page
    assert 'href="/brokers/1/"' in page


def test_a_dynamic_config_edit_reaches_the_broker_and_is_audited(
    operator_client: Client, own_cluster: BrokerProcess
) -> None:
    page = operator_client.get("/brokers/1/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-config="log.retention.ms" data-source="DEFAULT_CONFIG"' in text
    assert 'data-config="log.dirs"' in text  # read-only ones are listed, not offered
    assert "read-only" in text and 'href="?name=log.retention.ms#id_name"' in text
    picked = operator_client.get("/brokers/1/?name=log.retention.ms").content.decode()
    assert '<option value="log.retention.ms" selected>' in picked

    response = operator_client.post("/brokers/1/", {"name": "log.retention.ms", "value": "7200000"})
    assert response.status_code == 302
    assert broker_config(own_cluster.bootstrap, "log.retention.ms") == (
        "7200000",
        ConfigSource.DYNAMIC_BROKER_CONFIG,
    )
    event = AuditEvent.objects.get(action="broker.alter_configs")
    assert (event.resource_type, event.resource_name) == ("broker", "1")
    assert event.after == {"log.retention.ms": "7200000"}
    assert event.actor_name == "operator"

    shown = operator_client.get("/brokers/1/").content.decode()
    assert 'data-config="log.retention.ms" data-source="DYNAMIC_BROKER_CONFIG"' in shown
    assert (
        operator_client.post("/brokers/1/", {"name": "log.retention.ms", "reset": "on"}).status_code
        == 302
    )
    assert broker_config(own_cluster.bootstrap, "log.retention.ms") == (
        None,  # Kafka's default: log.retention.hours decides
        ConfigSource.DEFAULT_CONFIG,
    )
    assert AuditEvent.objects.filter(action="broker.alter_configs").count() == 2


def test_a_bad_value_shows_kafkas_message(
    operator_client: Client, own_cluster: BrokerProcess
) -> None:
    response = operator_client.post("/brokers/1/", {"name": "log.retention.ms", "value": "soon"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "INVALID_CONFIG" in page
    assert "Invalid value soon for configuration log.retention.ms" in page
    assert not AuditEvent.objects.filter(action="broker.alter_configs").exists()
    assert broker_config(own_cluster.bootstrap, "log.retention.ms")[1] == (
        ConfigSource.DEFAULT_CONFIG
    )


def test_a_read_only_config_is_not_offered(operator_client: Client, cluster: BrokerProcess) -> None:
    response = operator_client.post("/brokers/1/", {"name": "log.dirs", "value": "/tmp/x"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not AuditEvent.objects.exists()


def test_an_unknown_broker_is_not_found(operator_client: Client, cluster: BrokerProcess) -> None:
    assert operator_client.get("/brokers/42/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [("get", "/brokers/", None), ("get", "/brokers/1/", None),
     ("post", "/brokers/1/", {"name": "log.retention.ms", "value": "1"})],
)  # fmt: skip
def test_non_operators_get_not_found(
    client: Client,
    db: None,
    cluster: BrokerProcess,
    method: str,
    url: str,
    data: dict[str, str] | None,
) -> None:
    user = User.objects.create_user("dev", password="pw")
    client.force_login(user)
    response = getattr(client, method)(url, data)
    assert response.status_code == 404
    assert "Brokers" not in client.get("/topics/").content.decode().split("<main>")[0]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("url", ["/brokers/", "/brokers/1/"])
def test_broker_down_is_a_message_not_a_500(
    operator_client: Client, cluster_down: str, url: str
) -> None:
    response = operator_client.get(url)
    assert response.status_code == 503
    assert f"cannot reach the Kafka cluster at {cluster_down}" in response.content.decode()


def test_the_nav_links_brokers_for_operators(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    assert 'href="/brokers/">Brokers</a>' in operator_client.get("/brokers/").content.decode()


@pytest.fixture(scope="module")
def authorizing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("brokers-page-authz"))
    create_users(broker, "reader")
    yield broker
    broker.stop()


def test_a_login_without_describe_on_the_cluster_sees_kafkas_refusal(
    operator_client: Client, settings: SettingsWrapper, authorizing: BrokerProcess
) -> None:
    settings.HEADWATER_BOOTSTRAP_SERVERS = authorizing.bootstrap
    settings.HEADWATER_KAFKA_CLIENT_CONFIG = client_config(authorizing, "reader")
    response = operator_client.get("/brokers/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "DescribeLogDirs: CLUSTER_AUTHORIZATION_FAILED" in page
    assert 'data-broker="1"' in page  # the broker is still listed

    settings.HEADWATER_KAFKA_CLIENT_CONFIG = client_config(authorizing, "admin")
    page = operator_client.get("/brokers/").content.decode()
    assert "CLUSTER_AUTHORIZATION_FAILED" not in page
    assert f'data-log-dir="{authorizing.log_dir.absolute()}"' in page
