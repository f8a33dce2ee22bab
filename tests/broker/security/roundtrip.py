"""Produce a record and read it back, or fail to log in, with each real client library.

``Login`` says how a client connects (listener protocol, SASL mechanism and user, CA,
client certificate); each library's settings are derived from it, so a test states the
login once and runs it through confluent-kafka, kafka-python and aiokafka alike.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition


@dataclass(frozen=True)
class Login:
    bootstrap: str
    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    user: str | None = None
    password: str | None = None
    ca: Path | None = None
    certificate: Path | None = None
    key: Path | None = None


def new_topic() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


# --- confluent-kafka --------------------------------------------------------------------


def confluent_config(login: Login) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": login.bootstrap,
        "security.protocol": login.protocol,
    }
    if login.mechanism == "OAUTHBEARER":  # a token librdkafka makes up: enough to ask
        conf |= {
            "sasl.mechanism": login.mechanism,
            "enable.sasl.oauthbearer.unsecure.jwt": True,
            "sasl.oauthbearer.config": f"principal={login.user}",
        }
    elif login.mechanism:
        conf |= {
            "sasl.mechanism": login.mechanism,
            "sasl.username": login.user,
            "sasl.password": login.password,
        }
    if login.ca:
        conf["ssl.ca.location"] = str(login.ca)
    if login.certificate:
        conf["ssl.certificate.location"] = str(login.certificate)
        conf["ssl.key.location"] = str(login.key)
    return conf


def confluent_round_trip(login: Login, value: bytes = b"hello") -> None:
    topic = new_topic()
    producer = Producer(confluent_config(login) | {"acks": "all"})
    errors: list[object] = []
    producer.produce(topic, value=value, on_delivery=lambda err, _msg: err and errors.append(err))
    assert producer.flush(15) == 0 and not errors, errors
    consumer = Consumer(
        confluent_config(login) | {"group.id": "unused", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                assert message.value() == value
                return
        raise AssertionError("the record did not come back")
    finally:
        consumer.close()


def confluent_login_error(login: Login, timeout: float = 10) -> KafkaError:
    """The first error librdkafka reports for a producer that cannot log in."""
    errors: list[KafkaError] = []
    producer = Producer(confluent_config(login) | {"error_cb": errors.append})
    deadline = time.monotonic() + timeout
    while not errors and time.monotonic() < deadline:
        producer.poll(0.1)
    assert errors, "librdkafka reported no error"
    return errors[0]


def confluent_broker_ports(login: Login) -> set[int]:
    producer = Producer(confluent_config(login))
    metadata = producer.list_topics(timeout=10)
    return {broker.port for broker in metadata.brokers.values()}


# --- kafka-python -----------------------------------------------------------------------


def kafka_python_config(login: Login) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap_servers": login.bootstrap,
        "security_protocol": login.protocol,
        "request_timeout_ms": 10000,
    }
    if login.mechanism:
        conf |= {
            "sasl_mechanism": login.mechanism,
            "sasl_plain_username": login.user,
            "sasl_plain_password": login.password,
        }
    if login.ca:
        conf["ssl_cafile"] = str(login.ca)
    if login.certificate:
        conf["ssl_certfile"] = str(login.certificate)
        conf["ssl_keyfile"] = str(login.key)
    return conf


def kafka_python_round_trip(login: Login, value: bytes = b"hello") -> None:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTopicPartition

    topic = new_topic()
    producer = KafkaProducer(**kafka_python_config(login), acks="all")
    try:
        producer.send(topic, value=value).get(timeout=15)
    finally:
        producer.close(timeout=5)
    consumer = KafkaConsumer(
        **kafka_python_config(login), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    try:
        consumer.assign([KTopicPartition(topic, 0)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                assert records[0].value == value
                return
        raise AssertionError("the record did not come back")
    finally:
        consumer.close()


def kafka_python_login_error(login: Login) -> Exception:
    from kafka import KafkaProducer

    try:  # bootstrap retries until its timeout, logging each failed login
        producer = KafkaProducer(**kafka_python_config(login), bootstrap_timeout_ms=1500)
    except Exception as exc:
        return exc
    try:
        producer.send(new_topic(), b"x").get(timeout=10)
    except Exception as exc:
        return exc
    finally:
        producer.close(timeout=1)
    raise AssertionError("kafka-python logged in")


# --- aiokafka ---------------------------------------------------------------------------


def aiokafka_config(login: Login) -> dict[str, Any]:
    from aiokafka.helpers import create_ssl_context

    conf: dict[str, Any] = {
        "bootstrap_servers": login.bootstrap,
        "security_protocol": login.protocol,
        "request_timeout_ms": 10000,
    }
    if login.mechanism == "OAUTHBEARER":  # a made-up token: enough to ask for it
        from aiokafka.abc import AbstractTokenProvider

        class Token(AbstractTokenProvider):
            async def token(self) -> str:
                return "unsigned"

        conf |= {"sasl_mechanism": login.mechanism, "sasl_oauth_token_provider": Token()}
    elif login.mechanism:
        conf |= {
            "sasl_mechanism": login.mechanism,
            "sasl_plain_username": login.user,
            "sasl_plain_password": login.password,
        }
    if login.protocol in ("SSL", "SASL_SSL"):
        conf["ssl_context"] = create_ssl_context(
            cafile=str(login.ca),
            certfile=str(login.certificate) if login.certificate else None,
            keyfile=str(login.key) if login.key else None,
        )
    return conf


def aiokafka_round_trip(login: Login, value: bytes = b"hello") -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as ATopicPartition

    async def run() -> None:
        topic = new_topic()
        producer = AIOKafkaProducer(**aiokafka_config(login), acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            **aiokafka_config(login), enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            consumer.assign([ATopicPartition(topic, 0)])
            message = await asyncio.wait_for(consumer.getone(), 15)
            assert message.value == value
        finally:
            await consumer.stop()

    asyncio.run(run())


def aiokafka_login_error(login: Login) -> Exception:
    from aiokafka import AIOKafkaProducer

    async def run() -> Exception:
        producer = AIOKafkaProducer(**aiokafka_config(login))
        try:
            await asyncio.wait_for(producer.start(), 15)
        except Exception as exc:
            return exc
        finally:
            await producer.stop()
        raise AssertionError("aiokafka logged in")

    return asyncio.run(run())
