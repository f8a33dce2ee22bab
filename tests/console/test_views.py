"""Topic pages through Django's test client, logged in, against a real broker."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.support.broker import BrokerProcess
from tests.support.console import create_topic, produce, unique_topic


def cluster_topics(bootstrap: str) -> set[str]:
    """Topic names straight from the broker, not through the console."""
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def listed_topics(client: Client, query: str = "") -> dict[str, object]:
    """The list page's topics matching ``query`` (the list pages by 50: a session's
    shared broker may hold more)."""
    response = client.get(reverse("topic-list"), {"q": query})
    assert response.status_code == 200
    return {topic.name: topic for topic in response.context["topics"]}


@pytest.mark.parametrize(
    "url", ["/topics/", "/topics/anything/", "/topics/anything/delete/"], ids=str
)
def test_topic_pages_redirect_anonymous_users_to_login(client: Client, db: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_topic_create_list_detail_delete_through_the_pages(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic()

    response = operator_client.post(reverse("topic-list"), {"name": name, "partitions": "3"})
    assert response.status_code == 302
    assert response["Location"] == reverse("topic-detail", kwargs={"name": name})
    assert name in cluster_topics(cluster.bootstrap)

    listed = listed_topics(operator_client, name)
    assert listed[name].partition_count == 3
    assert listed[name].high_watermark_total == 0

    produce(cluster.bootstrap, name, b"one", partition=1)
    produce(cluster.bootstrap, name, b"two", partition=1)
    detail = operator_client.get(reverse("topic-detail", kwargs={"name": name}))
    assert detail.status_code == 200
    offsets = {
        p.partition: (p.log_start_offset, p.high_watermark)
        for p in detail.context["topic"].partitions
    }
    assert offsets == {0: (0, 0), 1: (0, 2), 2: (0, 0)}
    assert listed_topics(operator_client, name)[name].record_count == 2

    delete_url = reverse("topic-delete", kwargs={"name": name})
    assert operator_client.get(delete_url).status_code == 200
    wrong = operator_client.post(delete_url, {"confirm": "not-the-name"})
    assert wrong.status_code == 200
    assert b"does not match" in wrong.content
    assert name in cluster_topics(cluster.bootstrap)

    deleted = operator_client.post(delete_url, {"confirm": name}, follow=True)
    assert deleted.redirect_chain[-1][0] == reverse("topic-list")
    assert f"Deleted topic {name}." in deleted.content.decode()
    assert name not in cluster_topics(cluster.bootstrap)
    assert name not in listed_topics(operator_client, name)


@pytest.mark.parametrize(
    ("name", "partitions", "message"),
    [
        ("has space", "1", "contains a character other than ASCII alphanumerics"),
        ("slash/name", "1", "contains a character other than ASCII alphanumerics"),
        ("ümlaut", "1", "contains a character other than ASCII alphanumerics"),
        (".", "1", "cannot be &quot;.&quot; or &quot;..&quot;"),
        ("..", "1", "cannot be &quot;.&quot; or &quot;..&quot;"),
        ("x" * 250, "1", "longer than 249 characters"),
        ("", "1", "Enter a name for the topic."),
        ("fine-name", "0", "A topic needs at least one partition."),
        ("fine-name", "-3", "A topic needs at least one partition."),
        ("fine-name", "many", "Not a number of partitions: enter a whole number from 1 to 10000."),
        ("fine-name", "2147483648", "At most 10000 partitions: Kafka refuses more in one request."),
        ("fine-name", "10001", "At most 10000 partitions: Kafka refuses more in one request."),
        ("fine-name", "", "Enter the number of partitions"),
        ("x" * 300, "1", "longer than 249 characters (this one has 300)"),
    ],
    ids=[
        "space",
        "slash",
        "non-ascii",
        "dot",
        "dotdot",
        "too-long",
        "empty",
        "zero",
        "neg",
        "nan",
        "int32-overflow",
        "over-request-cap",
        "no-partitions",
        "300-chars",
    ],
)
def test_topic_create_with_bad_value_shows_message(
    operator_client: Client, cluster: BrokerProcess, name: str, partitions: str, message: str
) -> None:
    before = cluster_topics(cluster.bootstrap)
    response = operator_client.post(reverse("topic-list"), {"name": name, "partitions": partitions})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert cluster_topics(cluster.bootstrap) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"replication_factor": "40000"}, "At most 32767 replicas"),
        ({"replication_factor": "0"}, "at least one replica"),
        ({"replication_factor": "-1"}, "at least one replica"),
        ({"replication_factor": "two"}, "Not a replication factor: enter a whole number"),
        # One broker: the broker's own refusal, by the field.
        ({"replication_factor": "3"}, "INVALID_REPLICATION_FACTOR"),
        # The broker's config catalog types the values, with Kafka's messages.
        ({"configs": "retention.ms=abc"}, "Not a number of type LONG"),
        ({"configs": "segment.bytes=2147483648"}, "segment.bytes"),
        ({"configs": "no.such.config=1"}, "INVALID_CONFIG"),
        ({"configs": "retention.ms"}, "Line 1: expected name=value"),
        ({"configs": "retention.ms=1\nretention.ms=2"}, "Line 2: retention.ms is set twice."),
    ],
    ids=[
        "rf-int16-overflow",
        "rf-zero",
        "rf-negative",
        "rf-nan",
        "rf-more-than-brokers",
        "config-not-a-long",
        "config-int32-overflow",
        "config-unknown",
        "config-no-equals",
        "config-twice",
    ],
)
def test_topic_create_with_bad_replication_or_config_shows_message_by_the_field(
    operator_client: Client, cluster: BrokerProcess, fields: dict[str, str], message: str
) -> None:
    name = unique_topic("fields")
    data = {"name": name, "partitions": "1", **fields}
    response = operator_client.post(reverse("topic-list"), data)
    assert response.status_code == 200
    field = next(iter(fields))
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert name not in cluster_topics(cluster.bootstrap)


def test_topic_create_refused_by_the_broker_partition_limit_shows_its_message(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic("limit")
    # Under the request cap (10,000), over max.broker.partitions (5,000): the broker's
    # POLICY_VIOLATION, shown on the form; nothing is created.
    response = operator_client.post(reverse("topic-list"), {"name": name, "partitions": "6000"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "POLICY_VIOLATION" in content
    assert "max.broker.partitions" in content
    assert name not in cluster_topics(cluster.bootstrap)


def test_topic_create_with_configs_and_replication_factor_applies_them(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic("configs")
    data = {
        "name": name,
        "partitions": "2",
        "replication_factor": "1",
        "configs": "retention.ms=86400000\n\ncleanup.policy = compact\n",
    }
    response = operator_client.post(reverse("topic-list"), data)
    assert response.status_code == 302
    resource = ConfigResource("topic", name)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    described = admin.describe_configs([resource])[resource].result(timeout=10)
    assert described["retention.ms"].value == "86400000"
    assert described["cleanup.policy"].value == "compact"


def test_topic_create_of_existing_topic_shows_message(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic()
    create_topic(cluster.bootstrap, name, partitions=2)
    response = operator_client.post(reverse("topic-list"), {"name": name, "partitions": "5"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert listed_topics(operator_client, name)[name].partition_count == 2


def test_topic_name_of_249_characters_is_accepted(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic("long") + "x" * 249
    name = name[:249]
    response = operator_client.post(reverse("topic-list"), {"name": name, "partitions": "1"})
    assert response.status_code == 302
    assert name in cluster_topics(cluster.bootstrap)


def test_topic_detail_of_unknown_topic_is_404_with_message(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    response = operator_client.get(reverse("topic-detail", kwargs={"name": unique_topic()}))
    assert response.status_code == 404
    assert b"has no topic by this name" in response.content


def test_topic_delete_of_unknown_topic_is_not_found(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic()
    url = reverse("topic-delete", kwargs={"name": name})
    for response in (operator_client.get(url), operator_client.post(url, {"confirm": name})):
        assert response.status_code == 404
        assert b"has no topic by this name" in response.content
        assert b"id_confirm" not in response.content  # no confirmation form


def test_internal_topics_offer_no_delete_and_refuse_it(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    name = unique_topic()
    create_topic(cluster.bootstrap, name)
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": unique_topic()})
    consumer.commit(offsets=[TopicPartition(name, 0, 0)], asynchronous=False)  # creates it
    consumer.close()
    detail = operator_client.get(reverse("topic-detail", kwargs={"name": "__consumer_offsets"}))
    assert detail.status_code == 200
    assert b"cannot be deleted" in detail.content
    assert b"/topics/__consumer_offsets/delete/" not in detail.content
    listing = operator_client.get(reverse("topic-list")).content.decode()
    assert 'href="/topics/__consumer_offsets/delete/"' not in listing
    url = reverse("topic-delete", kwargs={"name": "__consumer_offsets"})
    refused = operator_client.post(url, {"confirm": "__consumer_offsets"})
    assert refused.status_code == 403
    assert b"is a Kafka internal topic and cannot be deleted" in refused.content
    assert "__consumer_offsets" in cluster_topics(cluster.bootstrap)


def test_topic_delete_service_refuses_internal_topics(operator: User) -> None:
    from django.core.exceptions import ValidationError

    from console import services

    with pytest.raises(ValidationError, match="internal topic"):
        services.topic_delete(actor=operator, name="__consumer_offsets")


def test_a_name_colliding_with_an_existing_topic_is_refused_by_the_form(
    operator_client: Client, cluster: BrokerProcess
) -> None:
    name = unique_topic()
    create_topic(cluster.bootstrap, f"{name}.metrics")
    response = operator_client.post(
        reverse("topic-list"), {"name": f"{name}_metrics", "partitions": "1"}
    )
    assert response.status_code == 200
    assert (
        f"Topic &#x27;{name}_metrics&#x27; collides with existing topic: {name}.metrics"
        in response.content.decode()
    )
    assert f"{name}_metrics" not in cluster_topics(cluster.bootstrap)


def test_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)


def test_topic_delete_requires_csrf_token(operator: User, cluster: BrokerProcess) -> None:
    name = unique_topic()
    create_topic(cluster.bootstrap, name)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post(reverse("topic-delete", kwargs={"name": name}), {"confirm": name})
    assert response.status_code == 403
    assert name in cluster_topics(cluster.bootstrap)


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/topics/", None),
        ("post", "/topics/", {"name": "while-down", "partitions": "1"}),
        ("get", "/topics/some-topic/", None),
        ("post", "/topics/some-topic/delete/", {"confirm": "some-topic"}),
    ],
    ids=["list", "create", "detail", "delete"],
)
def test_topic_pages_with_cluster_down_show_message(
    operator_client: Client, cluster_down: str, method: str, url: str, data: dict[str, str] | None
) -> None:
    response = getattr(operator_client, method)(url, data)
    assert response.status_code == 503
    assert f"cannot reach the Kafka cluster at {cluster_down}" in response.content.decode()


def test_admin_site_is_open_to_superusers(client: Client, db: None) -> None:
    admin = User.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
