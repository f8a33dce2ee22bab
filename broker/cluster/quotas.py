"""Client quotas as Kafka defines them: entities, precedence, rates and throttle times.

Entities
    A client quota is configured for a user, a client-id, or both, each either named or
    the default (``None`` here, ``<default>`` in Kafka's tools). Quota types:
    ``producer_byte_rate``, ``consumer_byte_rate`` (bytes/s), ``request_percentage``
    (% of one request-handler thread) and ``controller_mutation_rate`` (partitions
    created or deleted per second). An ``ip`` entity (KIP-612), named or the default,
    stands alone and has one type, ``connection_creation_rate`` (new connections per
    second from that address; ``broker.server.connection_quotas`` enforces it).

Precedence (Kafka's, most specific first)
    1. user + client-id          5. default user + default client-id
    2. user + default client-id  6. default user
    3. user                      7. client-id
    4. default user + client-id  8. default client-id

    The first level that sets the quota type wins; its entity is also the unit whose
    traffic is measured together (two clients of one user share a user quota).

Measuring and throttling
    :class:`TokenBucket` is KIP-599's stat, whose throttle time is ``-tokens / bound``,
    with a burst of ``quota.window.num`` x ``quota.window.size.seconds``. The broker
    measures every quota with it, byte rates included, where Kafka uses a sampled rate
    (``broker.server.quota_manager`` says why: a sampled rate lets a throttled client
    burst each time an old sample expires). The broker answers with that
    ``throttle_time_ms`` and mutes the connection for as long (KIP-219). Time is an
    input everywhere: nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

QUOTA_TYPES = (
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
)
IP_QUOTA_TYPES = ("connection_creation_rate",)


@dataclass(frozen=True, slots=True)
class QuotaEntity:
    """``user``/``client_id``/``ip``: a name, None for the default, or absent (``unset``).
    An ip entity has neither of the other two (Kafka refuses the combination)."""

    user: str | None = None
    client_id: str | None = None
    has_user: bool = False
    has_client_id: bool = False
    ip: str | None = None
    has_ip: bool = False

    def describe(self) -> str:
        parts = []
        for present, label, name in (
            (self.has_user, "user", self.user),
            (self.has_client_id, "client-id", self.client_id),
            (self.has_ip, "ip", self.ip),
        ):
            if present:
                parts.append(f"{label}={name if name is not None else '<default>'}")
        return ", ".join(parts)


class _Unset:
    """Marks an entity part as absent (unlike None, which is Kafka's <default>)."""


UNSET = _Unset()


def entity(
    *,
    user: str | _Unset | None = UNSET,
    client_id: str | _Unset | None = UNSET,
    ip: str | _Unset | None = UNSET,
) -> QuotaEntity:
    """``entity(user="alice")``, ``entity(user=None)`` (the default user),
    ``entity(ip="10.0.0.1")``, and so on."""
    return QuotaEntity(
        user=None if isinstance(user, _Unset) else user,
        client_id=None if isinstance(client_id, _Unset) else client_id,
        has_user=not isinstance(user, _Unset),
        has_client_id=not isinstance(client_id, _Unset),
        ip=None if isinstance(ip, _Unset) else ip,
        has_ip=not isinstance(ip, _Unset),
    )


def precedence(user: str, client_id: str) -> list[QuotaEntity]:
    """The eight candidate entities for a connection, most specific first."""
    return [
        entity(user=user, client_id=client_id),
        entity(user=user, client_id=None),
        entity(user=user),
        entity(user=None, client_id=client_id),
        entity(user=None, client_id=None),
        entity(user=None),
        entity(client_id=client_id),
        entity(client_id=None),
    ]


@dataclass(frozen=True, slots=True)
class ResolvedQuota:
    bound: float
    entity: QuotaEntity


def resolve(
    configs: Mapping[QuotaEntity, Mapping[str, float]], user: str, client_id: str, quota_type: str
) -> ResolvedQuota | None:
    """The quota that applies to (user, client_id), or None when none is configured."""
    for candidate in precedence(user, client_id):
        values = configs.get(candidate)
        if values is not None and quota_type in values:
            return ResolvedQuota(values[quota_type], candidate)
    return None


@dataclass(slots=True)
class TokenBucket:
    """KIP-599's token bucket: ``bound`` tokens per second, at most ``burst`` banked.

    Recording takes tokens (it may go below zero: a request is never cut in half); a
    bucket below zero is over its quota for ``-tokens / bound`` seconds. Kafka sizes the
    burst as ``bound * quota.window.num * quota.window.size.seconds``.
    """

    bound: float
    burst_s: float
    tokens: float
    _last_s: float | None = None

    @classmethod
    def full(cls, bound: float, burst_s: float) -> TokenBucket:
        """A new bucket starts full, as Kafka's does."""
        return cls(bound, burst_s, bound * burst_s)

    def _refill(self, now_s: float) -> None:
        if self._last_s is not None and now_s > self._last_s:
            self.tokens = min(
                self.bound * self.burst_s, self.tokens + (now_s - self._last_s) * self.bound
            )
        if self._last_s is None or now_s > self._last_s:
            self._last_s = now_s

    def record(self, amount: float, now_s: float) -> None:
        self._refill(now_s)
        self.tokens -= amount

    def throttle_ms(self, now_s: float) -> int:
        """How long until the bucket is back at zero (0 while it holds tokens)."""
        self._refill(now_s)
        if self.tokens >= 0 or self.bound <= 0:
            return 0
        return int(-self.tokens / self.bound * 1000)

    def change_bound(self, bound: float) -> None:
        """A new quota applies at once; banked tokens above the new burst are dropped."""
        self.bound = bound
        self.tokens = min(self.tokens, bound * self.burst_s)
