from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from broker.cluster.quotas import TokenBucket, entity, precedence, resolve


def test_the_most_specific_configured_level_wins() -> None:
    configs = {
        entity(client_id=None): {"producer_byte_rate": 1.0},
        entity(user=None): {"producer_byte_rate": 2.0},
        entity(user="alice"): {"producer_byte_rate": 3.0, "consumer_byte_rate": 30.0},
        entity(user="alice", client_id="etl"): {"producer_byte_rate": 4.0},
    }
    assert resolve(configs, "alice", "etl", "producer_byte_rate").bound == 4.0  # type: ignore[union-attr]
    assert resolve(configs, "alice", "web", "producer_byte_rate").bound == 3.0  # type: ignore[union-attr]
    assert resolve(configs, "alice", "etl", "consumer_byte_rate").bound == 30.0  # type: ignore[union-attr]
    assert resolve(configs, "bob", "etl", "producer_byte_rate").bound == 2.0  # type: ignore[union-attr]
    assert resolve(configs, "bob", "etl", "request_percentage") is None


def test_precedence_lists_kafkas_eight_levels_in_order() -> None:
    levels = [e.describe() for e in precedence("u", "c")]
    assert levels == [
        "user=u, client-id=c",
        "user=u, client-id=<default>",
        "user=u",
        "user=<default>, client-id=c",
        "user=<default>, client-id=<default>",
        "user=<default>",
        "client-id=c",
        "client-id=<default>",
    ]


def test_a_token_bucket_throttles_for_the_time_that_pays_back_its_debt() -> None:
    bucket = TokenBucket.full(bound=1000.0, burst_s=11.0)
    bucket.record(11_000, now_s=0.0)  # the whole burst: not yet over
    assert bucket.throttle_ms(now_s=0.0) == 0
    bucket.record(3000, now_s=0.0)
    assert bucket.throttle_ms(now_s=0.0) == 3000
    assert bucket.throttle_ms(now_s=3.0) == 0  # refilled at the bound
    assert bucket.throttle_ms(now_s=100.0) == 0
    assert bucket.tokens == 11_000  # never more than the burst


@given(st.integers(min_value=1, max_value=20), st.floats(min_value=0.01, max_value=2.0))
def test_a_client_that_waits_out_each_throttle_gets_exactly_the_bound(
    request_kb: int, gap_s: float
) -> None:
    bound = 100_000.0
    bucket = TokenBucket.full(bound, burst_s=2.0)
    now, sent = 0.0, 0.0
    while bucket.tokens >= 0:  # spend the burst
        bucket.record(request_kb * 1000, now)
        sent += request_kb * 1000
    start, start_sent = now, sent
    for _ in range(200):
        now += bucket.throttle_ms(now) / 1000 + gap_s * (bucket.throttle_ms(now) == 0)
        bucket.record(request_kb * 1000, now)
        sent += request_kb * 1000
    assert (sent - start_sent) / (now - start) <= bound * 1.01
