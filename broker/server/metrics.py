"""The broker's metrics: plain counters on the hot path, Prometheus families at scrape.

One :class:`BrokerMetrics` per broker (``BrokerState.metrics``; None while
``http.listeners`` is empty, so a broker without the endpoint pays one ``is None``
check per request). The request path only adds to ints, dicts and the tiny
fixed-bucket :class:`Histogram`; :class:`BrokerCollector`, registered in a per-broker
``CollectorRegistry`` (tests run several brokers in one process), turns them into
Prometheus families when ``/metrics`` is scraped, and reads what is naturally a
scrape-time value (connections, partitions, log sizes, groups by state) from the
broker's state then. Everything here runs on the event loop, except
:meth:`BrokerMetrics.fsync_round`, called by the flusher on the loop too
(``call_soon_threadsafe``), so no lock is needed.

Error codes are counted by walking only the response fields that can hold an
``error_code``: a plan per response class, derived once from its type hints.
"""

from __future__ import annotations

import dataclasses
import struct
import time
import typing
from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from broker.errors import ErrorCode
from broker.protocol import messages

if TYPE_CHECKING:
    from broker.server.state import BrokerState

LATENCY_BUCKETS = (0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5)
"""Seconds; few buckets keep observing and scraping cheap."""
ROUND_SIZE_BUCKETS = (1, 2, 4, 8, 16, 64, 256)
"""Requests covered by one group-commit fdatasync round."""

PRODUCE, FETCH = 0, 1
_BATCH_LENGTH = struct.Struct(">i")
_RECORDS_AT = 57  # record_count in the 61-byte RecordBatch v2 header
_LENGTH_AT = 8  # batch_length: the bytes after base_offset and itself


class Histogram:
    """Counts per bucket and a sum; cumulated only when scraped."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, int]]:
        total, out = 0, []
        for bound, n in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out


class ApiStats:
    __slots__ = ("errors", "handler", "queue", "requests", "response", "throttle_ms")

    def __init__(self) -> None:
        self.requests = 0
        self.errors: dict[int, int] = {}
        self.queue = Histogram(LATENCY_BUCKETS)
        self.handler = Histogram(LATENCY_BUCKETS)
        self.response = Histogram(LATENCY_BUCKETS)
        self.throttle_ms = 0


class TopicStats:
    __slots__ = ("bytes_in", "bytes_out", "records_in", "records_out")

    def __init__(self) -> None:
        self.bytes_in = self.records_in = self.bytes_out = self.records_out = 0


def record_count(data: bytes | bytearray | memoryview) -> int:
    """Records in a run of RecordBatch v2 batches, from their headers alone."""
    count, position, end = 0, 0, len(data)
    while position + 61 <= end:
        (length,) = _BATCH_LENGTH.unpack_from(data, position + _LENGTH_AT)
        (records,) = _BATCH_LENGTH.unpack_from(data, position + _RECORDS_AT)
        count += max(records, 0)
        position += 12 + max(length, 49)
    return count


ProduceSizes = list[tuple[str, list[tuple[int, int]]]]
"""Per topic of a Produce request: its name and each partition's (bytes, records)."""


def produce_sizes(request: object) -> ProduceSizes:
    sizes = []
    for topic in request.topic_data:  # type: ignore[attr-defined]
        partitions = []
        for partition in topic.partition_data:
            data = partition.records
            partitions.append((len(data), record_count(data)) if data else (0, 0))
        sizes.append((topic.name, partitions))
    return sizes


# -- error codes in a response ---------------------------------------------------------
_Plan = tuple[bool, tuple[str, ...]]
_PLANS: dict[type, _Plan] = {}


def _entity(hint: object) -> type | None:
    """The entity class of a field typed ``Entity``, ``Entity | None`` or ``tuple[Entity, ...]``."""
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    _PLANS[cls] = (False, ())  # recursion guard
    hints = typing.get_type_hints(cls)
    nested = []
    for f in dataclasses.fields(cls):
        child = _entity(hints.get(f.name))
        if child is not None and _reaches_error_code(child):
            nested.append(f.name)
    plan = ("error_code" in {f.name for f in dataclasses.fields(cls)}, tuple(nested))
    _PLANS[cls] = plan
    return plan


def _reaches_error_code(cls: type) -> bool:
    has_error, nested = _plan(cls)
    return has_error or bool(nested)


def count_errors(entity: object, into: dict[int, int]) -> None:
    """Add every non-zero ``error_code`` in ``entity`` (a kio response) to ``into``."""
    has_error, nested = _PLANS.get(type(entity)) or _plan(type(entity))
    if has_error:
        code = entity.error_code  # type: ignore[attr-defined]
        if code:
            into[code] = into.get(code, 0) + 1
    for name in nested:
        value = getattr(entity, name)
        if value is None:
            continue
        if type(value) is tuple:
            for item in value:
                count_errors(item, into)
        else:
            count_errors(value, into)


# -- the counters -----------------------------------------------------------------------
class BrokerMetrics:
    def __init__(self) -> None:
        self.apis: dict[int, ApiStats] = {}
        self.topics: dict[str, TopicStats] = {}
        self.authentication_failures: dict[str, int] = {}
        self.fsync = Histogram(LATENCY_BUCKETS)
        self.round_size = Histogram(ROUND_SIZE_BUCKETS)
        self.started = time.time()

    def api(self, api_key: int) -> ApiStats:
        stats = self.apis.get(api_key)
        if stats is None:
            stats = self.apis[api_key] = ApiStats()
        return stats

    def topic(self, name: str) -> TopicStats:
        stats = self.topics.get(name)
        if stats is None:
            stats = self.topics[name] = TopicStats()
        return stats

    def responded(self, api_key: int, request: object, response: object | None) -> None:
        """A handler's answer (None for acks=0): error codes, and topic traffic."""
        if api_key == PRODUCE:
            self.produce_answered(produce_sizes(request), response)
            return
        if response is not None:
            count_errors(response, self.api(api_key).errors)
        if api_key == FETCH and response is not None:
            for topic in response.responses:  # type: ignore[attr-defined]
                size = records = 0
                for partition in topic.partitions:
                    data = partition.records
                    if data:
                        size += len(data)
                        records += record_count(data)
                if size:
                    counters = self.topic(topic.topic)
                    counters.bytes_out += size
                    counters.records_out += records

    def produce_answered(self, sizes: ProduceSizes, response: object | None) -> None:
        """A Produce's answer, given the sizes of its request (:func:`produce_sizes`,
        taken before a deferred answer, so its records need not outlive the append)."""
        if response is not None:
            count_errors(response, self.api(PRODUCE).errors)
        answers = response.responses if response is not None else None  # type: ignore[attr-defined]
        for index, (name, partitions) in enumerate(sizes):
            answered = answers[index].partition_responses if answers is not None else None
            size = records = 0
            for position, (partition_size, partition_records) in enumerate(partitions):
                if answered is not None and answered[position].error_code:
                    continue  # nothing of it was appended
                size += partition_size
                records += partition_records
            if size:
                counters = self.topic(name)
                counters.bytes_in += size
                counters.records_in += records

    def authentication_failed(self, listener_name: str) -> None:
        failures = self.authentication_failures
        failures[listener_name] = failures.get(listener_name, 0) + 1

    def fsync_round(self, seconds: float, requests: int) -> None:
        self.fsync.observe(seconds)
        self.round_size.observe(requests)


# -- scrape time ------------------------------------------------------------------------
def _histogram(name: str, doc: str, labels: list[str]) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, labels=labels)


class BrokerCollector(Collector):
    """Prometheus families from a broker's counters and state, built when scraped."""

    def __init__(
        self,
        metrics: BrokerMetrics,
        state: BrokerState,
        connections: Callable[[], dict[str, int]],
    ) -> None:
        self.metrics = metrics
        self.state = state
        self.connections = connections

    def collect(self) -> Iterator[object]:
        yield from self._requests()
        yield from self._topics()
        yield from self._storage()
        m = self.metrics
        fsync = _histogram("headwater_fsync_seconds", "Group-commit fdatasync round duration.", [])
        fsync.add_metric([], m.fsync.buckets(), m.fsync.sum)
        yield fsync
        rounds = _histogram(
            "headwater_group_commit_round_requests",
            "Produce requests covered by one group-commit fdatasync round.",
            [],
        )
        rounds.add_metric([], m.round_size.buckets(), m.round_size.sum)
        yield rounds
        active = GaugeMetricFamily(
            "headwater_connections", "Open Kafka connections per listener.", labels=["listener"]
        )
        counts = self.connections()
        for listener in self.state.config.listeners:
            active.add_metric([listener.name], counts.get(listener.name, 0))
        yield active
        failures = CounterMetricFamily(
            "headwater_authentication_failures",
            "Failed SASL logins per listener.",
            labels=["listener"],
        )
        for listener in self.state.config.listeners:
            failures.add_metric([listener.name], m.authentication_failures.get(listener.name, 0))
        yield failures
        groups = GaugeMetricFamily(
            "headwater_consumer_groups", "Consumer groups by state.", labels=["state"]
        )
        by_state: dict[str, int] = {}
        for group in self.state.groups.list_groups():
            by_state[group.state] = by_state.get(group.state, 0) + 1
        for group_state, n in sorted(by_state.items()):
            groups.add_metric([group_state], n)
        yield groups
        yield GaugeMetricFamily(
            "headwater_uptime_seconds", "Seconds since the broker started.",
            value=time.time() - m.started,
        )  # fmt: skip

    def _requests(self) -> Iterator[object]:
        requests = CounterMetricFamily(
            "headwater_requests", "Kafka requests served per API.", labels=["api"]
        )
        errors = CounterMetricFamily(
            "headwater_request_errors",
            "Error codes in responses per API (one per partition, topic or group answered).",
            labels=["api", "error"],
        )
        throttle = CounterMetricFamily(
            "headwater_throttle_time_seconds",
            "Quota throttle time given to clients per API.",
            labels=["api"],
        )
        phases = {
            "queue": _histogram(
                "headwater_request_queue_seconds",
                "From a request's last byte read to its handler starting.",
                ["api"],
            ),
            "handler": _histogram(
                "headwater_request_handler_seconds", "Time in the API's handler.", ["api"]
            ),
            "response": _histogram(
                "headwater_response_seconds",
                "From the handler's answer to the response handed to the socket "
                "(for acks=all on durable topics, including the fdatasync).",
                ["api"],
            ),
        }
        for key, stats in sorted(self.metrics.apis.items()):
            api = messages.api_name(key)
            requests.add_metric([api], stats.requests)
            throttle.add_metric([api], stats.throttle_ms / 1000)
            for code, n in sorted(stats.errors.items()):
                errors.add_metric([api, _error_name(code)], n)
            for phase, family in phases.items():
                histogram: Histogram = getattr(stats, phase)
                family.add_metric([api], histogram.buckets(), histogram.sum)
        yield requests
        yield errors
        yield throttle
        yield from phases.values()

    def _topics(self) -> Iterator[object]:
        names = {
            "bytes_in": "Record bytes appended per topic.",
            "records_in": "Records appended per topic.",
            "bytes_out": "Record bytes fetched per topic.",
            "records_out": "Records fetched per topic (whole batches as sent).",
        }
        families = {
            attr: CounterMetricFamily(f"headwater_topic_{attr}", doc, labels=["topic"])
            for attr, doc in names.items()
        }
        for topic, stats in sorted(self.metrics.topics.items()):
            for attr, family in families.items():
                family.add_metric([topic], getattr(stats, attr))
        yield from families.values()

    def _storage(self) -> Iterator[object]:
        partitions = GaugeMetricFamily(
            "headwater_partitions", "Partitions with an open log on this broker."
        )
        offline = GaugeMetricFamily(
            "headwater_offline_partitions", "Partitions whose log could not be opened."
        )
        sizes = GaugeMetricFamily(
            "headwater_log_size_bytes",
            "Bytes of a partition's log segments.",
            labels=["topic", "partition"],
        )
        count = 0
        for partition_log in self.state.logs:
            count += 1
            sizes.add_metric(
                [partition_log.topic, str(partition_log.partition)], partition_log.size_bytes
            )
        partitions.add_metric([], count)
        offline.add_metric([], len(self.state.offline_partitions))
        yield partitions
        yield offline
        yield sizes


def _error_name(code: int) -> str:
    try:
        return ErrorCode(code).name.upper()
    except ValueError:
        return str(code)


def registry_for(collector: BrokerCollector) -> CollectorRegistry:
    """A registry of this broker alone (not prometheus-client's global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
