"""Numeric limits of Kafka's requests, as constants both the broker and the console use.

Kafka's wire fields are fixed-width: partition counts and partition indexes are INT32,
replication factors INT16; a value outside them cannot even be encoded. Kafka's
controller also refuses more than :data:`MAX_PARTITIONS_PER_REQUEST` partitions in one
CreateTopics or CreatePartitions request (POLICY_VIOLATION,
:data:`EXCESSIVE_PARTITIONS_MESSAGE`), whatever the broker could hold.
"""

from __future__ import annotations

from broker.errors import BrokerError, ErrorCode

INT16_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1

MAX_PARTITIONS_PER_REQUEST = 10_000
"""Kafka's ``ReplicationControlManager.MAX_PARTITIONS_PER_BATCH``."""

EXCESSIVE_PARTITIONS_MESSAGE = "Excessively large number of partitions per request."
"""Kafka's POLICY_VIOLATION message when a request exceeds the cap above."""


def check_partitions_to_add(
    *,
    adding: int,
    held: int,
    max_broker_partitions: int,
    in_request: int = 0,
    cluster_held: int | None = None,
    max_partitions: int = INT32_MAX,
) -> None:
    """Raise POLICY_VIOLATION unless a broker holding ``held`` partitions may add
    ``adding`` more, after ``in_request`` partitions that earlier topics of the same
    request added: Kafka's cap of :data:`MAX_PARTITIONS_PER_REQUEST` per request, then
    the broker's own ``max.broker.partitions``, then the cluster's ``max.partitions``
    over ``cluster_held`` partitions (default ``held``: one broker); both KIP-578's names.

    Both are checked before anything is created, so a refused topic leaves nothing.
    """
    if in_request + adding > MAX_PARTITIONS_PER_REQUEST:
        raise BrokerError(
            ErrorCode.policy_violation,
            f"{EXCESSIVE_PARTITIONS_MESSAGE} {in_request + adding:,} partitions were "
            f"requested; at most {MAX_PARTITIONS_PER_REQUEST:,} may be created in one request.",
        )
    if held + adding > max_broker_partitions:
        raise BrokerError(
            ErrorCode.policy_violation,
            f"Cannot add {adding:,} partition(s): the broker holds {held:,} and "
            f"max.broker.partitions allows {max_broker_partitions:,} "
            f"({max(max_broker_partitions - held, 0):,} more).",
        )
    total = held if cluster_held is None else cluster_held
    if total + adding > max_partitions:
        raise BrokerError(
            ErrorCode.policy_violation,
            f"Cannot add {adding:,} partition(s): the cluster holds {total:,} and "
            f"max.partitions allows {max_partitions:,} ({max(max_partitions - total, 0):,} more).",
        )
