"""Kafka's ``ConnectionQuotas``: which new connection may be served, and when.

The acceptor (:mod:`broker.server.acceptor`) asks :meth:`ConnectionQuotas.admit` about
every accepted socket, and tells :meth:`ConnectionQuotas.release` when a served
connection ends. The checks run in Kafka's order (``SocketServer.ConnectionQuotas.inc``):

1. **Creation rate of the broker and of the listener** (``max.connection.creation.rate``,
   ``listener.name.<listener>.max.connection.creation.rate``): the connection is
   recorded; when that leaves either over its rate, the listener's acceptor waits the
   throttle time (at most ``quota.window.size.seconds``) before going on. Other
   connections of that listener stay in the kernel's backlog meanwhile.
2. **Open connections of the broker and of the listener** (``max.connections``,
   ``listener.name.<listener>.max.connections``): while either is reached, the acceptor
   waits until a connection closes (or the limit is raised).
3. **Creation rate of the address** (the ``ip`` quota entity's
   ``connection_creation_rate``, KIP-612, named address first, then the default ip
   entity): over it, the connection is not served and is closed after the throttle
   time (so a client that reconnects at once is slowed, not spun); it is taken back
   from the broker's and listener's rates.
4. **Open connections of the address** (``max.connections.per.ip``, or its entry in
   ``max.connections.per.ip.overrides``): over it, the connection is closed at once.

Rates are measured like the client quotas' (:class:`~broker.cluster.quotas.TokenBucket`,
holding ``quota.window.num`` x ``quota.window.size.seconds`` seconds of the rate): a
quiet address may open a burst of that many seconds' worth at once, then the rate holds.
Kafka's sampled ``Rate`` allows about the same first burst. With no limit configured,
``admit`` costs a few dictionary operations.

Every limit changes at runtime: :meth:`reconfigure` takes the broker's config layers
after AlterConfigs, :meth:`set_ip_quotas` the ip entities after AlterClientQuotas.
Host names (in overrides or ip entities) are resolved when they are applied, off the
event loop; until a name resolves, its addresses get the default. No listener is exempt
from the broker-wide limits yet (Kafka exempts the inter-broker listener; Headwater has
no inter-broker traffic). Owned by the event loop; not thread-safe.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from broker.cluster import connection_limits as limits
from broker.cluster.client_quotas import is_ip_address
from broker.cluster.configs import BrokerConfigLayers
from broker.cluster.quotas import QuotaEntity, TokenBucket

log = logging.getLogger(__name__)

MAX_TRACKED_ADDRESSES = 10_000  # ip rate buckets kept before idle ones are dropped
LOG_INTERVAL_S = 10.0  # one rejection line per address and kind this often, with a count


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    TOO_MANY = "too many"
    """Over the address's max.connections.per.ip: close at once."""
    THROTTLED = "throttled"
    """Over the address's connection_creation_rate: close after ``throttle_s``."""


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    throttle_s: float = 0.0
    limit: int = 0


ACCEPTED = Admission(Verdict.ACCEPTED)


def normalize_address(address: str) -> str:
    """One spelling per address: IPv4-mapped IPv6 (a dual-stack socket's peer) is IPv4."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


async def resolve_host(name: str) -> frozenset[str] | None:
    """The addresses of an IP literal or host name (None when it does not resolve),
    looked up on the event loop's resolver thread, as Kafka's ``InetAddress.getByName``."""
    if is_ip_address(name):
        return frozenset({normalize_address(name)})
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    return frozenset(normalize_address(str(info[4][0])) for info in infos) or None


class _RejectionLog:
    """Log a rejection per (kind, address) at most every LOG_INTERVAL_S, with a count of
    those not logged: a flood must not become a flood of log lines."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, kind: str, address: str, message: str, *args: object) -> None:
        now = self._clock()
        last, suppressed = self._last.get((kind, address), (float("-inf"), 0))
        if now - last < LOG_INTERVAL_S:
            self._last[(kind, address)] = (last, suppressed + 1)
            return
        if len(self._last) >= MAX_TRACKED_ADDRESSES:
            self._last.clear()
        self._last[(kind, address)] = (now, 0)
        more = f" ({suppressed} more like it since the last such line)" if suppressed else ""
        log.info(message + more, *args)


class ConnectionQuotas:
    def __init__(
        self,
        layers: BrokerConfigLayers,
        listeners: Iterable[str],
        *,
        ip_quotas: Mapping[QuotaEntity, Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        window_num = int(layers.value("quota.window.num"))  # type: ignore[call-overload]
        window_size_s = int(layers.value("quota.window.size.seconds"))  # type: ignore[call-overload]
        self._burst_s = float(window_num * window_size_s)
        self._max_throttle_s = float(window_size_s)  # Kafka's maxThrottleTimeMs
        self._listeners = tuple(listeners)
        self._counts: dict[str, int] = {}
        self._listener_counts = dict.fromkeys(self._listeners, 0)
        self._total = 0
        self._max_connections = limits.UNLIMITED
        self._listener_max: dict[str, int] = {}
        self._broker_rate: TokenBucket | None = None
        self._listener_rates: dict[str, TokenBucket | None] = {}
        self._per_ip = limits.UNLIMITED
        self._overrides: dict[str, int] = {}  # as configured: address or host -> count
        self._ip_rates: dict[str | None, int] = {}  # ip entity name (None: default) -> rate
        self._hosts: dict[str, frozenset[str]] = {}  # resolved host names
        self._per_ip_by_address: dict[str, int] = {}
        self._ip_rate_by_address: dict[str, int] = {}
        self._ip_buckets: dict[str, TokenBucket] = {}
        self._slot_freed = asyncio.Event()
        self._refresh: asyncio.Task[None] | None = None
        self.log_rejection = _RejectionLog(clock)
        self.reconfigure(layers)
        self.set_ip_quotas(ip_quotas or {})

    # -- configuration ------------------------------------------------------------
    def reconfigure(self, layers: BrokerConfigLayers) -> None:
        """Apply the connection limits of the broker's (new) config layers."""
        self._max_connections = int(layers.value(limits.MAX_CONNECTIONS))  # type: ignore[call-overload]
        self._broker_rate = self._rate_bucket(
            self._broker_rate,
            int(layers.value(limits.MAX_CONNECTION_CREATION_RATE)),  # type: ignore[call-overload]
        )
        for listener in self._listeners:
            self._listener_max[listener] = int(
                layers.listener_value(listener, limits.MAX_CONNECTIONS)  # type: ignore[call-overload]
            )
            self._listener_rates[listener] = self._rate_bucket(
                self._listener_rates.get(listener),
                int(layers.listener_value(listener, limits.MAX_CONNECTION_CREATION_RATE)),  # type: ignore[call-overload]
            )
        self._per_ip = int(layers.value(limits.MAX_CONNECTIONS_PER_IP))  # type: ignore[call-overload]
        self._overrides = limits.parse_overrides(
            limits.MAX_CONNECTIONS_PER_IP_OVERRIDES,
            layers.value(limits.MAX_CONNECTIONS_PER_IP_OVERRIDES) or "",
        )
        self._rebuild()
        self._notify()

    def set_ip_quotas(self, quotas: Mapping[QuotaEntity, Mapping[str, float]]) -> None:
        """Apply the ``connection_creation_rate`` of every ip entity (others ignored)."""
        self._ip_rates = {
            e.ip: int(values["connection_creation_rate"])
            for e, values in quotas.items()
            if e.has_ip and "connection_creation_rate" in values
        }
        self._rebuild()

    def remember_host(self, name: str, addresses: frozenset[str]) -> None:
        """A host name resolved elsewhere (AlterClientQuotas validates ip entities)."""
        self._hosts[name] = addresses

    async def refresh(self) -> None:
        """Resolve the host names the limits name (e.g. before the first accept)."""
        for name in self._unresolved():
            addresses = await resolve_host(name)
            if addresses is None:
                log.warning("connection limits: cannot resolve %s; it gets the defaults", name)
                addresses = frozenset()
            self._hosts[name] = addresses
        self._rebuild()

    def _unresolved(self) -> list[str]:
        names = [*self._overrides, *(n for n in self._ip_rates if n is not None)]
        return [n for n in dict.fromkeys(names) if n not in self._hosts and not is_ip_address(n)]

    def _addresses(self, name: str) -> frozenset[str]:
        return (
            frozenset({normalize_address(name)})
            if is_ip_address(name)
            else self._hosts.get(name, frozenset())
        )

    def _rebuild(self) -> None:
        self._per_ip_by_address = {
            a: count for name, count in self._overrides.items() for a in self._addresses(name)
        }
        self._ip_rate_by_address = {
            a: rate
            for name, rate in self._ip_rates.items()
            if name is not None
            for a in self._addresses(name)
        }
        for address, bucket in list(self._ip_buckets.items()):
            rate = self._ip_rate(address)
            if rate >= limits.UNLIMITED:
                del self._ip_buckets[address]
            elif bucket.bound != rate:
                bucket.change_bound(rate)
        if self._unresolved() and self._refresh is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop yet: the server awaits refresh() at start
                return
            self._refresh = loop.create_task(self._refresh_later())

    async def _refresh_later(self) -> None:
        try:
            await self.refresh()
        finally:
            self._refresh = None

    def _rate_bucket(self, bucket: TokenBucket | None, rate: int) -> TokenBucket | None:
        if rate >= limits.UNLIMITED:
            return None
        if bucket is None:
            return TokenBucket.full(float(rate), self._burst_s)
        bucket.change_bound(float(rate))
        return bucket

    def _ip_rate(self, address: str) -> int:
        default = self._ip_rates.get(None, limits.UNLIMITED)
        return self._ip_rate_by_address.get(address, default)

    def max_for(self, address: str) -> int:
        """The most connections ``address`` may hold open."""
        return self._per_ip_by_address.get(address, self._per_ip)

    # -- admission ----------------------------------------------------------------
    async def admit(self, listener: str, address: str) -> Admission:
        """Decide on a new connection from ``address`` on ``listener`` (in Kafka's
        order); may wait first. An ACCEPTED connection is counted until :meth:`release`."""
        address = normalize_address(address)
        await self._wait_for_slot(listener)
        throttle_s = self._record_ip(listener, address)
        if throttle_s > 0:
            return Admission(Verdict.THROTTLED, throttle_s=throttle_s)
        limit = self.max_for(address)
        count = self._counts.get(address, 0)
        if count >= limit:
            return Admission(Verdict.TOO_MANY, limit=limit)
        self._counts[address] = count + 1
        self._listener_counts[listener] = self._listener_counts.get(listener, 0) + 1
        self._total += 1
        return ACCEPTED

    def release(self, listener: str, address: str) -> None:
        """An accepted connection ended."""
        address = normalize_address(address)
        count = self._counts.get(address, 0)
        if count <= 1:
            self._counts.pop(address, None)
        else:
            self._counts[address] = count - 1
        self._listener_counts[listener] = max(0, self._listener_counts.get(listener, 0) - 1)
        self._total = max(0, self._total - 1)
        self._notify()

    def open_connections(self, address: str | None = None) -> int:
        """Connections open (from ``address``, or in all)."""
        return self._total if address is None else self._counts.get(normalize_address(address), 0)

    def _slot_available(self, listener: str) -> bool:
        if self._listener_counts.get(listener, 0) >= self._listener_max.get(
            listener, limits.UNLIMITED
        ):
            return False
        return self._total < self._max_connections

    def _record_connection(self, listener: str) -> float:
        """Record on the broker's and listener's rates; the longer throttle, in s."""
        now = self._clock()
        throttle_ms = 0
        for bucket in (self._broker_rate, self._listener_rates.get(listener)):
            if bucket is not None:
                bucket.record(1, now)
                throttle_ms = max(throttle_ms, bucket.throttle_ms(now))
        return min(throttle_ms / 1000, self._max_throttle_s)

    async def _wait_for_slot(self, listener: str) -> None:
        """Kafka's ``waitForConnectionSlot``: the rate throttle, then a free slot."""
        deadline = self._clock() + self._record_connection(listener)
        while (remaining := deadline - self._clock()) > 0 or not self._slot_available(listener):
            # asyncio.wait, not wait_for: in 3.11 wait_for can swallow a cancellation
            waiter = asyncio.ensure_future(self._slot_freed.wait())
            try:
                await asyncio.wait({waiter}, timeout=remaining if remaining > 0 else None)
            finally:
                waiter.cancel()

    def _notify(self) -> None:
        self._slot_freed.set()
        self._slot_freed = asyncio.Event()

    def _record_ip(self, listener: str, address: str) -> float:
        """Kafka's ``recordIpConnectionMaybeThrottle``: 0, or the throttle time in s of a
        connection over its address's rate (then taken back from every rate)."""
        rate = self._ip_rate(address)
        if rate >= limits.UNLIMITED:
            return 0.0
        bucket = self._ip_buckets.get(address)
        if bucket is None:
            if len(self._ip_buckets) >= MAX_TRACKED_ADDRESSES:
                self._drop_full_buckets()
            bucket = self._ip_buckets[address] = TokenBucket.full(float(rate), self._burst_s)
        now = self._clock()
        bucket.record(1, now)
        throttle_ms = bucket.throttle_ms(now)
        if throttle_ms <= 0:
            return 0.0
        for taken in (bucket, self._broker_rate, self._listener_rates.get(listener)):
            if taken is not None:
                taken.record(-1, now)
        return min(max(throttle_ms, 1) / 1000, self._max_throttle_s)

    def _drop_full_buckets(self) -> None:
        now = self._clock()
        for address, bucket in list(self._ip_buckets.items()):
            bucket.throttle_ms(now)  # refills
            if bucket.tokens >= bucket.bound * bucket.burst_s:
                del self._ip_buckets[address]
