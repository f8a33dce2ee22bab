"""The plan's pure rules (broker.common.plan_limits), at their boundaries."""

from __future__ import annotations

import pytest

from broker.cluster import client_quotas
from broker.common.plan_limits import (
    PlanLimits,
    PlanViolation,
    check_configs,
    check_create,
    check_partitions,
    tenant_prefix,
)
from broker.errors import BrokerError

TOPICS = {"acme.a": 2, "acme.b": 3, "globex.c": 50}


@pytest.mark.parametrize(
    ("user", "prefix"),
    [
        ("acme-app", "acme."),
        ("acme-app-2", "acme."),
        ("acme", None),
        ("-app", None),
        ("acme-", None),
    ],
)
def test_tenant_prefix(user: str, prefix: str | None) -> None:
    assert tenant_prefix(user) == prefix


def test_from_and_to_quotas() -> None:
    assert PlanLimits.from_quotas({"producer_byte_rate": 10.0}) is None
    limits = PlanLimits.from_quotas({"headwater_max_topics": 0.0, "consumer_byte_rate": 1.0})
    assert limits == PlanLimits(max_topics=0)
    assert limits.to_quotas()["headwater_max_topics"] == 0.0
    assert limits.to_quotas()["headwater_max_partitions"] is None


def create(limits: PlanLimits, partitions: int = 1, **configs: str) -> None:
    check_create(
        limits,
        prefix="acme.",
        topics=TOPICS,
        name="acme.new",
        partitions=partitions,
        configs=configs,
    )


def test_topic_count_boundary_counts_only_the_prefix() -> None:
    create(PlanLimits(max_topics=3))  # 2 exist under acme., globex.c is not counted
    with pytest.raises(PlanViolation, match="allows 2 topic"):
        create(PlanLimits(max_topics=2))
    with pytest.raises(PlanViolation):
        create(PlanLimits(max_topics=0))


def test_partitions_in_total_boundary() -> None:
    create(PlanLimits(max_partitions=10), partitions=5)  # 5 held + 5 = 10
    with pytest.raises(PlanViolation, match=r"10 partitions in total under acme\., 5 exist"):
        create(PlanLimits(max_partitions=10), partitions=6)
    check_partitions(
        PlanLimits(max_partitions=6), prefix="acme.", topics=TOPICS, name="acme.a", adding=1
    )
    with pytest.raises(PlanViolation, match=r"\(0 more\)"):
        check_partitions(
            PlanLimits(max_partitions=4), prefix="acme.", topics=TOPICS, name="acme.a", adding=1
        )


def test_retention_boundary_and_infinite() -> None:
    limits = PlanLimits(max_retention_ms=1000)
    check_configs(limits, {"retention.ms": "1000"}, subject="t")
    check_configs(limits, {"retention.ms": "0"}, subject="t")
    with pytest.raises(
        PlanViolation, match=r"retention\.ms 1,001 exceeds the plan's maximum of 1,000"
    ):
        check_configs(limits, {"retention.ms": "1001"}, subject="t")
    with pytest.raises(PlanViolation, match=r"infinite \(-1\)"):
        check_configs(limits, {"retention.ms": "-1"}, subject="t")
    check_configs(PlanLimits(), {"retention.ms": "-1"}, subject="t")  # no key, no limit


def test_message_bytes_boundary() -> None:
    limits = PlanLimits(max_message_bytes=100)
    check_configs(limits, {"max.message.bytes": "100"}, subject="t")
    with pytest.raises(PlanViolation, match=r"max\.message\.bytes 101"):
        check_configs(limits, {"max.message.bytes": "101"}, subject="t")


def test_quota_ops_accept_plan_keys_on_a_user_only() -> None:
    ops = [("headwater_max_topics", 0.0, False), ("headwater_max_partitions", 5.0, False)]
    assert client_quotas.parse_ops(ops, user_only=True) == {
        "headwater_max_topics": 0.0,
        "headwater_max_partitions": 5.0,
    }
    with pytest.raises(BrokerError, match="Invalid configuration key"):
        client_quotas.parse_ops(ops)  # a client-id or user+client-id entity
    for bad, message in ((-1.0, "0 or greater"), (1.5, "fractional"), (float("nan"), "0 or")):
        with pytest.raises(BrokerError, match=message):
            client_quotas.parse_ops([("headwater_max_topics", bad, False)], user_only=True)
    with pytest.raises(BrokerError, match="greater than 0"):  # Kafka's keys unchanged
        client_quotas.parse_ops([("producer_byte_rate", 0.0, False)], user_only=True)
