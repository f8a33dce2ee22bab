"""The broker's HTTP endpoint (issue 12): Prometheus ``/metrics`` and ``/v1/`` admin API.

A real broker subprocess with ``http.listeners`` set, its Kafka listener SASL/SCRAM
with the authorizer on, and real clients (confluent-kafka, kafka-python) producing and
consuming; every check scrapes the endpoint over a socket, as Prometheus would.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import NewTopic
from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from broker.config import ConfigError, config_from_properties
from broker.supervisor import HTTP_URL_ENV, http_endpoint
from tests.broker.security.authz import (
    admin_as,
    authorizing_broker,
    client_config,
    headwater,
    kafka_python_login,
)
from tests.support.broker import BrokerProcess
from tests.support.net import free_port, wait_until

LISTENER = "SASL_PLAINTEXT"
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    url = f"http://127.0.0.1:{free_port()}"
    broker = authorizing_broker(tmp_path_factory.mktemp("http"), **{"http.listeners": url})
    broker.http_url = url  # type: ignore[attr-defined]
    try:
        yield broker
    finally:
        broker.stop()


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def scrape(broker: BrokerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    status, body = get(f"{broker.http_url}/metrics")  # type: ignore[attr-defined]
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def admin_producer(broker: BrokerProcess) -> Producer:
    return Producer({**client_config(broker, "admin"), "linger.ms": 5})


def test_counters_move_as_real_clients_produce_and_consume(broker: BrokerProcess) -> None:
    topic = f"metrics-{uuid.uuid4().hex[:8]}"
    before = scrape(broker)
    producer = admin_producer(broker)
    for i in range(200):
        producer.produce(topic, value=b"v" * 100, key=str(i).encode())
    assert producer.flush(30) == 0
    consumer = KafkaConsumer(
        topic,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
        **kafka_python_login(broker.bootstrap, "admin"),
    )
    try:
        received = 0
        for _ in consumer:
            received += 1
            if received == 200:
                break
        assert received == 200
        during = scrape(broker)  # the consumer is still connected
        _, body = get(f"{broker.http_url}/v1/clients")  # type: ignore[attr-defined]
        software = {c["client_software_name"] for c in json.loads(body)["clients"]}
    finally:
        consumer.close()

    assert "kafka-python" in software, software
    assert value(during, "headwater_topic_records_in_total", topic=topic) == 200
    assert value(during, "headwater_topic_bytes_in_total", topic=topic) > 200 * 100
    assert value(during, "headwater_topic_records_out_total", topic=topic) >= 200
    assert value(during, "headwater_topic_bytes_out_total", topic=topic) > 200 * 100
    for api in ("produce", "fetch", "join_group", "sync_group", "api_versions"):
        grown = value(during, "headwater_requests_total", api=api) - value(
            before, "headwater_requests_total", api=api
        )
        assert grown >= 1, api
    handled = value(during, "headwater_request_handler_seconds_count", api="produce")
    assert handled == value(during, "headwater_requests_total", api="produce")
    assert value(during, "headwater_request_handler_seconds_bucket", api="produce", le="+Inf") > 0
    assert value(during, "headwater_connections", listener=LISTENER) >= 2  # producer, consumer
    assert value(during, "headwater_partitions") >= 1
    assert value(during, "headwater_log_size_bytes", topic=topic, partition="0") > 200 * 100
    assert sum(v for (n, _), v in during.items() if n == "headwater_consumer_groups") >= 1


def test_durable_produce_counts_fsync_rounds_and_records(broker: BrokerProcess) -> None:
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    admin = admin_as(broker, "admin")
    new = NewTopic(topic, num_partitions=2, replication_factor=1, config={"flush.mode": "durable"})
    admin.create_topics([new])[topic].result(15)
    before = scrape(broker)
    producer = Producer({**client_config(broker, "admin"), "acks": "all", "linger.ms": 1})
    for i in range(50):
        producer.produce(topic, value=b"d" * 10, partition=i % 2)
        producer.poll(0)
    assert producer.flush(30) == 0
    after = scrape(broker)
    assert value(after, "headwater_topic_records_in_total", topic=topic) == 50
    rounds = value(after, "headwater_fsync_seconds_count") - value(
        before, "headwater_fsync_seconds_count"
    )
    assert rounds >= 1
    covered = value(after, "headwater_group_commit_round_requests_sum") - value(
        before, "headwater_group_commit_round_requests_sum"
    )
    assert covered >= rounds  # every round covered at least one request
    answered = value(after, "headwater_response_seconds_count", api="produce") - value(
        before, "headwater_response_seconds_count", api="produce"
    )
    assert answered == value(after, "headwater_requests_total", api="produce") - value(
        before, "headwater_requests_total", api="produce"
    )


def test_errors_are_counted_per_api_and_code(broker: BrokerProcess) -> None:
    name = ("delete_topics", "UNKNOWN_TOPIC_OR_PARTITION")
    labels = dict(zip(("api", "error"), name, strict=True))
    before = value(scrape(broker), "headwater_request_errors_total", **labels)
    admin = admin_as(broker, "admin")
    futures = admin.delete_topics([f"missing-{uuid.uuid4().hex[:8]}"], operation_timeout=10)
    with pytest.raises(Exception, match="UNKNOWN_TOPIC_OR_PART"):
        next(iter(futures.values())).result(15)
    assert value(scrape(broker), "headwater_request_errors_total", **labels) == before + 1


def test_a_failed_login_is_counted(broker: BrokerProcess) -> None:
    name = "headwater_authentication_failures_total"
    before = value(scrape(broker), name, listener=LISTENER)
    wrong = {**client_config(broker, "admin"), "sasl.password": "wrong", "log_level": 0}
    with pytest.raises(KafkaException):
        Producer(wrong).list_topics(timeout=5)
    wait_until(
        lambda: value(scrape(broker), name, listener=LISTENER) >= before + 1,
        timeout=10,
        what="the failed login in /metrics",
    )


def test_clients_lists_connections_with_their_software(broker: BrokerProcess) -> None:
    consumer = Consumer({**client_config(broker, "admin"), "group.id": f"g-{uuid.uuid4().hex[:6]}"})
    try:
        consumer.list_topics(timeout=10)  # connected and logged in

        def listed() -> list[dict] | None:
            # librdkafka closes its bootstrap connection once it knows broker 1's: poll
            status, body = get(f"{broker.http_url}/v1/clients")  # type: ignore[attr-defined]
            assert status == 200
            clients = json.loads(body)["clients"]
            software = "confluent-kafka-python"
            return [c for c in clients if c["client_software_name"] == software] or None

        entry = wait_until(listed, timeout=10, what="the consumer in /v1/clients")[0]
        assert entry["listener"] == LISTENER
        assert entry["address"] == "127.0.0.1"
        assert entry["principal"] == "User:admin"
        assert entry["client_id"] == "rdkafka"
        assert "rdkafka" in entry["client_software_version"]
        assert entry["requests"] >= 3  # ApiVersions, SaslHandshake, SaslAuthenticate...
        assert entry["bytes_in"] > 0 and entry["bytes_out"] > 0
        assert entry["connected_since"].endswith("+00:00")
    finally:
        consumer.close()


def test_health_says_ready_with_uptime_and_free_space(broker: BrokerProcess) -> None:
    status, body = get(f"{broker.http_url}/v1/health")  # type: ignore[attr-defined]
    assert status == 200
    health = json.loads(body)
    assert health["ready"] is True
    assert health["uptime_seconds"] > 0
    (log_dir,) = health["log_dirs"]
    assert log_dir["path"] == str(broker.log_dir)
    assert 0 < log_dir["free_bytes"] <= log_dir["total_bytes"]


def raw_http(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /metrics\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
    ],
    ids=["no-request-line", "no-version", "bad-header", "huge-head", "tls-hello"],
)
def test_malformed_http_gets_400_and_kafka_is_still_served(
    broker: BrokerProcess, request_bytes: bytes
) -> None:
    answer = raw_http(broker.http_url, request_bytes)  # type: ignore[attr-defined]
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:100]
    assert broker.alive()
    assert admin_as(broker, "admin").list_topics(timeout=10).brokers
    assert get(f"{broker.http_url}/v1/health")[0] == 200  # type: ignore[attr-defined]


def test_other_methods_and_paths(broker: BrokerProcess) -> None:
    url = broker.http_url  # type: ignore[attr-defined]
    assert raw_http(url, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 ")
    assert get(f"{url}/v1/nothing")[0] == 404
    head = raw_http(url, b"HEAD /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")


def test_off_by_default(shared_broker: BrokerProcess) -> None:
    assert config_from_properties({}).http_listeners == ()
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap})
    producer.produce(f"off-{uuid.uuid4().hex[:6]}", b"x")
    assert producer.flush(15) == 0
    assert "metrics and admin endpoint" not in shared_broker.log()


def test_a_token_is_required_when_set(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    broker = BrokerProcess(tmp_path, overrides={"http.listeners": url, "http.admin.token": TOKEN})
    broker.start()
    try:
        for path in ("/metrics", "/v1/clients", "/v1/health"):
            assert get(url + path)[0] == 401
            assert get(url + path, token="wrong")[0] == 401
            assert get(url + path, token=TOKEN)[0] == 200
        assert TOKEN not in broker.log()
    finally:
        broker.stop()


def test_a_non_loopback_address_needs_a_token() -> None:
    with pytest.raises(ConfigError, match=r"http\.admin\.token"):
        config_from_properties({"http.listeners": "http://0.0.0.0:9644"})
    done = headwater("broker", "--override", "http.listeners=http://0.0.0.0:9644")
    assert done.returncode == 2
    assert "http.admin.token" in done.stderr
    with pytest.raises(ConfigError, match="http://host:port"):
        config_from_properties({"http.listeners": "tcp://127.0.0.1:9644"})


def test_up_turns_the_endpoint_on_and_names_it(tmp_path: Path) -> None:
    config = config_from_properties({})
    url, args = http_endpoint(config, ["--override=log.dirs=x"])
    assert url.startswith("http://127.0.0.1:")
    assert args == ["--override=log.dirs=x", f"--override=http.listeners={url}"]
    assert HTTP_URL_ENV == "HEADWATER_BROKER_HTTP_URL"
    chosen = config_from_properties({"http.listeners": "http://127.0.0.1:9777"})
    assert http_endpoint(chosen, []) == ("http://127.0.0.1:9777", [])
    # what up passes to the broker does serve /metrics
    broker = BrokerProcess(tmp_path, overrides={"http.listeners": url})
    broker.start()
    try:
        wait_until(lambda: get(f"{url}/metrics")[0] == 200, timeout=10, what="/metrics")
    finally:
        broker.stop()


def test_fuzzed_kafka_frames_with_metrics_on_cause_no_traceback(tmp_path: Path) -> None:
    """The measuring path (error-code walk, batch-header scan) on every advertised API
    and version, valid and mutated: no traceback, and /metrics still answers."""
    import random

    from tests.support.fuzz import FrameFactory, FrameSender
    from tests.support.raw_wire import RawConnection, api_versions_v0

    url = f"http://127.0.0.1:{free_port()}"
    broker = BrokerProcess(tmp_path, overrides={"http.listeners": url})
    broker.start()
    try:
        with RawConnection("127.0.0.1", broker.port) as conn:
            advertised = {
                k.api_key: range(k.min_version, k.max_version + 1)
                for k in api_versions_v0(conn).api_keys
            }
        factory = FrameFactory(advertised, random.Random(12).randrange(1 << 30))
        sender = FrameSender(broker.port)
        for _ in range(2):
            sender.send(factory.frames(1000))
        assert broker.alive()
        assert "Traceback" not in broker.log()
        status, body = get(f"{url}/metrics")
        assert status == 200
        assert b'headwater_requests_total{api="produce"}' in body
    finally:
        broker.stop()


def test_https_with_required_client_certificates(tmp_path: Path) -> None:
    import ssl

    from tests.support.pki import CertificateAuthority

    ca = CertificateAuthority(tmp_path / "pki")
    server = ca.issue_server()
    client = ca.issue_client("prometheus")
    port = free_port()
    broker = BrokerProcess(
        tmp_path / "broker",
        overrides={
            "http.listeners": f"https://127.0.0.1:{port}",
            "listener.name.http.ssl.keystore.type": "PEM",
            "listener.name.http.ssl.keystore.location": str(server.bundle),
            "listener.name.http.ssl.truststore.location": str(ca.certificate),
            "listener.name.http.ssl.client.auth": "required",
        },
    )
    broker.start()
    try:
        url = f"https://127.0.0.1:{port}/v1/health"
        trusted = ssl.create_default_context(cafile=str(ca.certificate))
        trusted.load_cert_chain(str(client.certificate), str(client.key))
        with urllib.request.urlopen(url, context=trusted, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["ready"] is True
        anonymous = ssl.create_default_context(cafile=str(ca.certificate))
        refused = pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError))
        with refused, urllib.request.urlopen(url, context=anonymous, timeout=10) as response:
            response.read()
        plain = raw_http(f"http://127.0.0.1:{port}", b"GET /metrics HTTP/1.1\r\n\r\n")
        assert not plain.startswith(b"HTTP/1.1 200")  # no answer in the clear
        assert broker.alive()
        assert "Traceback" not in broker.log()
    finally:
        broker.stop()
    # off loopback, required client certificates stand in for the token
    exposed = config_from_properties(
        {
            "http.listeners": "https://0.0.0.0:9644",
            "listener.name.http.ssl.client.auth": "required",
        }
    )
    assert exposed.http_listeners[0].tls
    with pytest.raises(ConfigError, match=r"client\.auth=required"):
        config_from_properties({"http.listeners": "https://0.0.0.0:9644"})
