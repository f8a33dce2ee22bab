"""The group coordinator's broker settings, under Kafka's names and with its defaults.

- ``group.min.session.timeout.ms`` (6000) / ``group.max.session.timeout.ms`` (1800000):
  a JoinGroup with a session timeout outside them gets INVALID_SESSION_TIMEOUT.
- ``group.initial.rebalance.delay.ms`` (3000): how long the first rebalance of an empty
  group waits for more members (extended while they keep arriving).
- ``group.max.size`` (2^31-1): more members get GROUP_MAX_SIZE_REACHED.
- ``offsets.topic.num.partitions`` (50) and ``offsets.topic.segment.bytes`` (100 MiB):
  the shape of ``__consumer_offsets`` when it is created (an existing topic keeps its
  partition count).
- ``offsets.retention.minutes`` (10080): how long the offsets of an empty group (or of
  topics a group no longer subscribes to) are kept; ``offsets.retention.check.interval.ms``
  (600000): how often expired offsets are removed.
- ``offset.metadata.max.bytes`` (4096): longer commit metadata: OFFSET_METADATA_TOO_LARGE.
- KIP-848 groups: ``group.consumer.session.timeout.ms`` (45000),
  ``group.consumer.heartbeat.interval.ms`` (5000), ``group.consumer.assignors``
  (uniform,range; the first is the default) and ``group.consumer.max.size``.

They are read once at start-up from the broker's properties (``--override`` or the
properties file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

INT_MAX = 2**31 - 1


class GroupConfigError(ValueError):
    """A group setting has a value the coordinator cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class GroupCoordinatorConfig:
    min_session_timeout_ms: int = 6_000
    max_session_timeout_ms: int = 1_800_000
    initial_rebalance_delay_ms: int = 3_000
    max_size: int = INT_MAX
    offsets_topic_num_partitions: int = 50
    offsets_topic_segment_bytes: int = 104_857_600
    offsets_retention_ms: int = 10_080 * 60_000
    offsets_retention_check_interval_ms: int = 600_000
    offset_metadata_max_bytes: int = 4_096
    consumer_session_timeout_ms: int = 45_000
    consumer_heartbeat_interval_ms: int = 5_000
    consumer_assignors: tuple[str, ...] = ("uniform", "range")
    consumer_max_size: int = INT_MAX

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> GroupCoordinatorConfig:
        values: dict[str, object] = {}
        for key, (name, minimum) in _INT_KEYS.items():
            if key in properties:
                values[name] = _int(key, properties[key], minimum)
        if "offsets.retention.minutes" in properties:
            minutes = _int("offsets.retention.minutes", properties["offsets.retention.minutes"], 1)
            values["offsets_retention_ms"] = minutes * 60_000
        if "group.consumer.assignors" in properties:
            names = tuple(
                n.strip() for n in properties["group.consumer.assignors"].split(",") if n.strip()
            )
            unknown = [n for n in names if n not in ("uniform", "range")]
            if not names or unknown:
                raise GroupConfigError(
                    f"group.consumer.assignors: expected uniform and/or range, got "
                    f"{properties['group.consumer.assignors']!r}"
                )
            values["consumer_assignors"] = names
        config = cls(**values)  # type: ignore[arg-type]
        if config.min_session_timeout_ms > config.max_session_timeout_ms:
            raise GroupConfigError(
                "group.min.session.timeout.ms must not exceed group.max.session.timeout.ms"
            )
        return config


_INT_KEYS: dict[str, tuple[str, int]] = {
    "group.min.session.timeout.ms": ("min_session_timeout_ms", 0),
    "group.max.session.timeout.ms": ("max_session_timeout_ms", 0),
    "group.initial.rebalance.delay.ms": ("initial_rebalance_delay_ms", 0),
    "group.max.size": ("max_size", 1),
    "offsets.topic.num.partitions": ("offsets_topic_num_partitions", 1),
    "offsets.topic.segment.bytes": ("offsets_topic_segment_bytes", 1),
    "offsets.retention.check.interval.ms": ("offsets_retention_check_interval_ms", 1),
    "offset.metadata.max.bytes": ("offset_metadata_max_bytes", 0),
    "group.consumer.session.timeout.ms": ("consumer_session_timeout_ms", 1),
    "group.consumer.heartbeat.interval.ms": ("consumer_heartbeat_interval_ms", 1),
    "group.consumer.max.size": ("consumer_max_size", 1),
}

KNOWN_KEYS = frozenset([*_INT_KEYS, "offsets.retention.minutes", "group.consumer.assignors"])
_FIELDS = {f.name for f in fields(GroupCoordinatorConfig)}
assert {name for name, _minimum in _INT_KEYS.values()} <= _FIELDS


def _int(key: str, value: str, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise GroupConfigError(f"{key}: expected an integer, got {value!r}") from None
    if number < minimum:
        raise GroupConfigError(f"{key}: must be at least {minimum}, got {number}")
    return number
