"""Client quota enforcement: who is over which quota, and for how long to hold them.

Kafka's model (KIP-13, KIP-124, KIP-219, KIP-599): quotas are configured per entity
(:mod:`broker.cluster.quotas` resolves the eight precedence levels); the resolved entity,
with a default name replaced by the client's own, is the unit measured together (two
clients of user alice share alice's quota; under a default client-id quota each client-id
has its own). Handlers record what a request cost:

- ``producer_byte_rate``: Produce request bytes, after the append;
- ``consumer_byte_rate``: the record bytes a Fetch returns;
- ``request_percentage``: the time the event loop spent running the request's handler
  (not the time it waited, e.g. in a Fetch long poll), as a percentage of one thread;
  ApiVersions, SaslHandshake and SaslAuthenticate are exempt, as in Kafka;
- ``controller_mutation_rate``: partitions created or deleted by CreateTopics,
  CreatePartitions and DeleteTopics.

A request that leaves its entity over quota gets ``throttle_time_ms`` in its response, and
the server stops reading that connection for as long (KIP-219's mute), so the client's
next requests wait; other connections are unaffected. Each entity's usage is a KIP-599
token bucket (:class:`~broker.cluster.quotas.TokenBucket`) holding up to
``quota.window.num * quota.window.size.seconds`` seconds' worth of quota, Kafka's burst.
Kafka measures byte rates with a sampled Rate instead; a throttled client then bursts
each time an old sample expires (throughput pulses with a period of the window), which
the token bucket does not do: its steady state is exactly the quota.

With no quota configured, the cost per request is one truthiness check of the config
dict. Resolution is cached per (user, client-id) and dropped whenever quotas change,
so a change applies at once to connected clients. Not thread-safe (event loop owned).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
import types
from collections.abc import Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from broker.cluster.metadata import MetadataStore
from broker.cluster.quotas import QUOTA_TYPES, QuotaEntity, TokenBucket, resolve
from broker.errors import BrokerError, ErrorCode

PRODUCE = "producer_byte_rate"
FETCH = "consumer_byte_rate"
REQUEST = "request_percentage"
MUTATION = "controller_mutation_rate"

EXEMPT_API_KEYS = frozenset({17, 18, 36})  # SaslHandshake, ApiVersions, SaslAuthenticate
MAX_TRACKED = 10_000  # cached resolutions / buckets before idle ones are dropped

_MetricKey = tuple[str, str, str]  # (quota type, user or "", client-id or "")


def quota_user(principal: str) -> str:
    """The user entity name of a principal: ``User:alice`` -> ``alice``."""
    kind, sep, name = principal.partition(":")
    return name if sep and kind == "User" else principal


@dataclass(slots=True)
class RequestQuota:
    """One request's quota identity and verdict. Handlers raise ``throttle_ms``; the
    server puts it in the response and mutes the connection for that long."""

    user: str
    client_id: str
    request_size: int = 0
    throttle_ms: int = 0

    def throttle(self, ms: int) -> None:
        if ms > self.throttle_ms:
            self.throttle_ms = ms


class HandlerTime:
    """Accumulates the time a coroutine actually runs, not the time it is suspended."""

    __slots__ = ("busy_s",)

    def __init__(self) -> None:
        self.busy_s = 0.0

    @types.coroutine
    def run(self, coro: Coroutine[Any, Any, Any]) -> Generator[Any, Any, Any]:
        send_value: Any = None
        error: BaseException | None = None
        while True:
            started = time.perf_counter()
            try:
                yielded = coro.throw(error) if error is not None else coro.send(send_value)
            except StopIteration as stop:
                return stop.value
            finally:
                self.busy_s += time.perf_counter() - started
            try:
                send_value, error = (yield yielded), None
            except BaseException as exc:  # cancellation and the like go to the handler
                send_value, error = None, exc


class QuotaManager:
    def __init__(
        self,
        metadata: MetadataStore,
        *,
        window_num: int = 11,
        window_size_s: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[dict[QuotaEntity, dict[str, float]]], None] | None = None,
    ) -> None:
        self._metadata = metadata
        self._burst_s = float(window_num * window_size_s)
        self._clock = clock
        self._on_change = on_change
        self._all = metadata.client_quotas()
        self._configs = self._client_configs()
        self._resolved: dict[tuple[str, str], dict[str, tuple[_MetricKey, float]]] = {}
        self._buckets: dict[_MetricKey, TokenBucket] = {}

    def _client_configs(self) -> dict[QuotaEntity, dict[str, float]]:
        """The user / client-id entities (ip entities are the connection quotas')."""
        return {e: q for e, q in self._all.items() if not e.has_ip}

    @property
    def active(self) -> bool:
        """Whether any client quota is configured (else nothing is measured)."""
        return bool(self._configs)

    def configs(self) -> dict[QuotaEntity, dict[str, float]]:
        """Every entity's quotas, ip entities included (DescribeClientQuotas)."""
        return {e: dict(q) for e, q in self._all.items()}

    def alter(self, alterations: Iterable[tuple[QuotaEntity, dict[str, float]]]) -> None:
        """Persist new quotas for entities (empty: none) and apply them at once (ip
        entities through ``on_change``, the connection quotas)."""
        self._metadata.alter_client_quotas(alterations)
        self._all = self._metadata.client_quotas()
        self._configs = self._client_configs()
        self._resolved.clear()
        if self._on_change is not None:
            self._on_change(self.configs())

    # -- measuring ----------------------------------------------------------------
    def _resolve(self, user: str, client_id: str) -> dict[str, tuple[_MetricKey, float]]:
        resolved = {}
        for quota_type in QUOTA_TYPES:
            found = resolve(self._configs, user, client_id, quota_type)
            if found is not None:
                key = (
                    quota_type,
                    user if found.entity.has_user else "",
                    client_id if found.entity.has_client_id else "",
                )
                resolved[quota_type] = (key, found.bound)
        return resolved

    def _bucket(self, quota: RequestQuota, quota_type: str) -> TokenBucket | None:
        identity = (quota.user, quota.client_id)
        resolved = self._resolved.get(identity)
        if resolved is None:
            if len(self._resolved) >= MAX_TRACKED:
                self._resolved.clear()
            resolved = self._resolved[identity] = self._resolve(*identity)
        found = resolved.get(quota_type)
        if found is None:
            return None
        key, bound = found
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._drop_idle_buckets()
            bucket = self._buckets[key] = TokenBucket.full(bound, self._burst_s)
        elif bucket.bound != bound:
            bucket.change_bound(bound)
        return bucket

    def _drop_idle_buckets(self) -> None:
        """Forget buckets that are full again: a new bucket starts the same way."""
        now = self._clock()
        for key, bucket in list(self._buckets.items()):
            bucket.throttle_ms(now)  # refills
            if bucket.tokens >= bucket.bound * bucket.burst_s:
                del self._buckets[key]

    def record(self, quota: RequestQuota, quota_type: str, amount: float) -> int:
        """Record usage; returns (and raises the request's) throttle time in ms."""
        if not self._configs:
            return 0
        bucket = self._bucket(quota, quota_type)
        if bucket is None:
            return 0
        now = self._clock()
        bucket.record(amount, now)
        throttle_ms = bucket.throttle_ms(now)
        quota.throttle(throttle_ms)
        return throttle_ms

    def unrecord(self, quota: RequestQuota, quota_type: str, amount: float) -> None:
        """Take back usage that was recorded but not delivered (a throttled Fetch)."""
        if self._configs and (bucket := self._bucket(quota, quota_type)) is not None:
            bucket.record(-amount, self._clock())

    def throttle_ms(self, quota: RequestQuota, quota_type: str) -> int:
        """How long the entity is over this quota now, without recording anything."""
        if not self._configs:
            return 0
        bucket = self._bucket(quota, quota_type)
        return 0 if bucket is None else bucket.throttle_ms(self._clock())

    def fetch_throttled(self, quota: RequestQuota, response_bytes: int) -> bool:
        """Kafka's handleFetchRequest: record the bytes a Fetch would return; when that
        leaves the client over its consumer_byte_rate, or it is over its
        request_percentage, take the bytes back and say so: the Fetch then answers with
        no data and the throttle time. A Fetch bigger than the whole burst is delivered
        anyway (throttled), or that client could never receive it."""
        if not self._configs:
            return False
        bandwidth_ms = self.record(quota, FETCH, response_bytes)
        quota.throttle(self.throttle_ms(quota, REQUEST))
        if quota.throttle_ms == 0:
            return False
        bucket = self._bucket(quota, FETCH)
        if bandwidth_ms and bucket is not None and response_bytes > bucket.bound * bucket.burst_s:
            return False
        self.unrecord(quota, FETCH, response_bytes)
        return True

    def mutations(self, quota: RequestQuota, *, strict: bool) -> MutationQuota:
        return MutationQuota(self, quota, strict)


class MutationQuota:
    """KIP-599 for one CreateTopics / CreatePartitions / DeleteTopics request.

    Strict (the versions that know THROTTLING_QUOTA_EXCEEDED: CreateTopics v6+,
    CreatePartitions v3+, DeleteTopics v5+): a topic is refused while the quota is
    already exceeded; a topic accepted may take it below zero. Permissive (older
    versions): everything is accepted and only throttle_time_ms tells the client.
    """

    def __init__(self, manager: QuotaManager, quota: RequestQuota, strict: bool) -> None:
        self._manager = manager
        self._quota = quota
        self._strict = strict

    def check(self) -> None:
        """Raise THROTTLING_QUOTA_EXCEEDED when a strict request must not mutate now."""
        if self._strict:
            throttle_ms = self._manager.throttle_ms(self._quota, MUTATION)
            if throttle_ms > 0:
                self._quota.throttle(throttle_ms)
                raise BrokerError(
                    ErrorCode.throttling_quota_exceeded, "The throttling quota has been exceeded."
                )

    def record(self, partitions: int) -> None:
        self._manager.record(self._quota, MUTATION, partitions)


def with_throttle(response: Any, throttle_ms: int) -> Any:
    """``response`` with ``throttle_time_ms`` raised to ``throttle_ms`` (if it has one)."""
    current = getattr(response, "throttle_time", None)
    if not isinstance(current, datetime.timedelta) or current >= datetime.timedelta(
        milliseconds=throttle_ms
    ):
        return response
    return dataclasses.replace(response, throttle_time=datetime.timedelta(milliseconds=throttle_ms))
