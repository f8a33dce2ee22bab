"""``__consumer_offsets`` on this broker's logs: the group coordinator's storage.

Created on the coordinator's first write (as Kafka does), compacted
(``cleanup.policy=compact``: the log cleaner keeps the latest record per group and
partition, and drops tombstones after ``delete.retention.ms``), with
``offsets.topic.num.partitions`` partitions and ``offsets.topic.segment.bytes``
segments. Records are appended as uncompressed batches, bypassing Produce validation
(the coordinator builds them), and read back in offset order at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from broker.coordinator.results import OffsetsRecord
from broker.errors import BrokerError, ErrorCode
from broker.protocol import record_codec, records

if TYPE_CHECKING:
    from broker.server.state import BrokerState

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"
READ_CHUNK_BYTES = 1 << 20


class ConsumerOffsetsLog:
    """:class:`broker.coordinator.service.OffsetsLog` over a :class:`BrokerState`."""

    def __init__(self, state: BrokerState, *, partitions: int, segment_bytes: int) -> None:
        self.state = state
        self.partitions = partitions
        self.segment_bytes = segment_bytes

    def partition_count(self) -> int | None:
        topic = self.state.metadata.topic(OFFSETS_TOPIC)
        return None if topic is None else len(topic.partitions)

    def ensure(self) -> int:
        count = self.partition_count()
        if count is not None:
            return count
        self.state.create_topic(
            OFFSETS_TOPIC,
            num_partitions=self.partitions,
            replication_factor=1,
            configs={
                "cleanup.policy": "compact",
                "segment.bytes": str(self.segment_bytes),
                "compression.type": "producer",
            },
        )
        return self.partitions

    def append(self, partition: int, batch: Sequence[OffsetsRecord], now_ms: int) -> None:
        data = record_codec.encode_batch(
            [
                record_codec.Record(index, 0, record.key, record.value)
                for index, record in enumerate(batch)
            ],
            base_timestamp=now_ms,
        )
        topic = self.state.metadata.topic(OFFSETS_TOPIC)
        if topic is None:
            raise BrokerError(ErrorCode.unknown_topic_or_partition, f"{OFFSETS_TOPIC} is gone")
        partition_log = self.state.partition_log(OFFSETS_TOPIC, partition)
        partition_log.append(
            data,
            list(records.iter_batches(data)),
            leader_epoch=topic.partitions[partition].leader_epoch,
        )
        self.state.appends.notify()

    def read(self) -> Iterator[OffsetsRecord]:
        for partition in range(self.partition_count() or 0):
            partition_log = self.state.logs.get(OFFSETS_TOPIC, partition)
            if partition_log is None:
                continue
            offset = partition_log.log_start_offset
            while offset < partition_log.log_end_offset:
                data = partition_log.read(offset, READ_CHUNK_BYTES)
                if not data:
                    break
                for batch in record_codec.decode_batches(data):
                    offset = batch.header.last_offset + 1
                    if batch.header.is_control:
                        continue
                    for record in batch.records:
                        if record.key is not None:
                            yield OffsetsRecord(record.key, record.value)
