"""Numeric limits of Kafka's requests, as constants both the broker and the console use.

Kafka's wire fields are fixed-width: partition counts and partition indexes are INT32,
replication factors INT16; a value outside them cannot even be encoded. Kafka's
controller also refuses more than :data:`MAX_PARTITIONS_PER_REQUEST` partitions in one
CreateTopics or CreatePartitions request (POLICY_VIOLATION,
:data:`EXCESSIVE_PARTITIONS_MESSAGE`), whatever the broker could hold.
"""

from __future__ import annotations

INT16_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1

MAX_PARTITIONS_PER_REQUEST = 10_000
"""Kafka's ``ReplicationControlManager.MAX_PARTITIONS_PER_BATCH``."""

EXCESSIVE_PARTITIONS_MESSAGE = "Excessively large number of partitions per request."
"""Kafka's POLICY_VIOLATION message when a request exceeds the cap above."""
