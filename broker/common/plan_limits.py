"""A tenant plan's limits on topics, as pure rules the broker and the console share.

Headwater's tenancy convention (docs/console.md, "Names"): a tenant's topics start with
``<slug>.`` and its service accounts are SCRAM users ``<slug>-<name>``; slugs hold no
``.``, ``-`` or ``_``. The console writes each service account's plan limits to the
cluster as client-quota keys on the account's user entity (:data:`LIMIT_QUOTA_KEYS`,
AlterClientQuotas); the broker's plan policy reads them back for the principal of a
CreateTopics, CreatePartitions or (Incremental)AlterConfigs request and refuses, with
POLICY_VIOLATION and one of the messages below, what would exceed them. The console's
forms apply the same functions before asking, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LIMIT_QUOTA_KEYS = {
    "max_topics": "headwater_max_topics",
    "max_partitions": "headwater_max_partitions",
    "max_retention_ms": "headwater_max_retention_ms",
    "max_message_bytes": "headwater_max_message_bytes",
}
"""Plan field -> the client-quota key that carries it on a service account's user."""


class PlanViolation(ValueError):
    """A request beyond the plan; the message says which limit and by how much."""


@dataclass(frozen=True, slots=True)
class PlanLimits:
    max_topics: int | None = None
    max_partitions: int | None = None
    max_retention_ms: int | None = None
    max_message_bytes: int | None = None

    @classmethod
    def from_quotas(cls, quotas: Mapping[str, float]) -> PlanLimits | None:
        """The limits a user entity's quota keys carry; None when it carries none."""
        values = {
            field: int(quotas[key]) for field, key in LIMIT_QUOTA_KEYS.items() if key in quotas
        }
        return cls(**values) if values else None

    def to_quotas(self) -> dict[str, float | None]:
        """Quota keys to set (a number) or remove (None) on the cluster."""
        return {
            key: (None if (value := getattr(self, field)) is None else float(value))
            for field, key in LIMIT_QUOTA_KEYS.items()
        }


def tenant_prefix(username: str) -> str | None:
    """``acme.`` for SCRAM user ``acme-app`` (the first ``-`` ends the slug)."""
    slug, dash, rest = username.partition("-")
    return f"{slug}." if dash and slug and rest else None


def _usage(prefix: str, topics: Mapping[str, int]) -> tuple[int, int]:
    owned = [count for name, count in topics.items() if name.startswith(prefix)]
    return len(owned), sum(owned)


def check_configs(limits: PlanLimits, configs: Mapping[str, str | None], *, subject: str) -> None:
    """``retention.ms`` and ``max.message.bytes`` within the plan (``-1`` retention,
    infinite, exceeds any maximum). ``configs``: the values the topic will have."""
    retention = configs.get("retention.ms")
    if limits.max_retention_ms is not None and retention is not None:
        value = int(retention)
        if value < 0 or value > limits.max_retention_ms:
            shown = "infinite (-1)" if value < 0 else f"{value:,}"
            raise PlanViolation(
                f"{subject}: retention.ms {shown} exceeds the plan's maximum of "
                f"{limits.max_retention_ms:,} ms."
            )
    size = configs.get("max.message.bytes")
    if (
        limits.max_message_bytes is not None
        and size is not None
        and int(size) > limits.max_message_bytes
    ):
        raise PlanViolation(
            f"{subject}: max.message.bytes {int(size):,} exceeds the plan's maximum of "
            f"{limits.max_message_bytes:,}."
        )


def check_create(
    limits: PlanLimits,
    *,
    prefix: str,
    topics: Mapping[str, int],
    name: str,
    partitions: int,
    configs: Mapping[str, str | None],
) -> None:
    """May a topic ``name`` with ``partitions`` partitions and these effective
    ``configs`` be created, given the ``topics`` that exist (name -> partitions)?"""
    count, _ = _usage(prefix, topics)
    if limits.max_topics is not None and count + 1 > limits.max_topics:
        raise PlanViolation(
            f"Cannot create topic {name}: the plan allows {limits.max_topics:,} topic(s) "
            f"under {prefix} and {count:,} exist."
        )
    check_partitions(limits, prefix=prefix, topics=topics, name=name, adding=partitions)
    check_configs(limits, configs, subject=f"Cannot create topic {name}")


def check_partitions(
    limits: PlanLimits, *, prefix: str, topics: Mapping[str, int], name: str, adding: int
) -> None:
    _, held = _usage(prefix, topics)
    if limits.max_partitions is not None and held + adding > limits.max_partitions:
        raise PlanViolation(
            f"Cannot add {adding:,} partition(s) to {name}: the plan allows "
            f"{limits.max_partitions:,} partitions in total under {prefix}, {held:,} exist "
            f"({max(limits.max_partitions - held, 0):,} more)."
        )
