"""A minimal Kafka client for raw protocol tests, built on kio's schemas (sans magic).

``KafkaWire.request(body)`` sends any kio request entity with the right header version
and returns the decoded response entity. For tests that must reach below what real
client libraries let you do (exact versions, long-poll timing, malformed frames).
"""

from __future__ import annotations

import datetime
import io
import socket
import struct
from typing import Any

from kio.index import load_response_schema
from kio.records.schema import NewRecordBatch, Record, RecordHeader
from kio.records.writers import write_new_batch
from kio.schema.create_topics.v7 import request as create_v7
from kio.schema.produce.v9 import request as produce_v9
from kio.serial import entity_reader

from broker.protocol.connection import skip_tagged_fields
from tests.support.raw_wire import CLIENT_ID, encode_request

API_VERSIONS_KEY = 18


class KafkaWire:
    def __init__(
        self, host: str, port: int, timeout: float = 30.0, *, client_id: str = CLIENT_ID
    ) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.client_id = client_id
        self._correlation = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> KafkaWire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_frame(self) -> bytes:
        size = struct.unpack(">i", self._read_exactly(4))[0]
        return self._read_exactly(size)

    def _read_exactly(self, count: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < count:
            chunk = self.sock.recv(count - len(chunks))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            chunks += chunk
        return bytes(chunks)

    def request(self, body: Any, *, response_version: int | None = None) -> Any:
        self._correlation += 1
        self.send_raw(
            encode_request(body, correlation_id=self._correlation, client_id=self.client_id)
        )
        frame = self.read_frame()
        correlation_id = struct.unpack_from(">i", frame, 0)[0]
        assert correlation_id == self._correlation, "responses out of order"
        version = body.__version__ if response_version is None else response_version
        response_type = load_response_schema(body.__api_key__, version)
        offset = 4
        if response_type.__flexible__ and body.__api_key__ != API_VERSIONS_KEY:
            offset = skip_tagged_fields(frame, offset)
        entity, _size = entity_reader(response_type)(frame, offset)
        return entity

    def produce(self, topic: str, batch: bytes, *, partition: int = 0, acks: int = 1) -> Any:
        """Produce v9 of one batch to one partition; returns that partition's response."""
        response = self.request(produce_request(topic, batch, partition=partition, acks=acks))
        return response.responses[0].partition_responses[0]

    def is_closed_by_peer(self, timeout: float = 10.0) -> bool:
        """True once the broker has closed this connection (EOF or reset)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


def create_topics(
    wire: KafkaWire,
    name: str,
    partitions: int = 3,
    *,
    replication: int = -1,
    configs: dict[str, str] | None = None,
    validate_only: bool = False,
) -> Any:
    """A CreateTopics v7 request for one topic; the whole response."""
    return wire.request(
        create_v7.CreateTopicsRequest(
            topics=(
                create_v7.CreatableTopic(
                    name=name,
                    num_partitions=partitions,
                    replication_factor=replication,
                    assignments=(),
                    configs=tuple(
                        create_v7.CreatableTopicConfig(name=k, value=v)
                        for k, v in (configs or {}).items()
                    ),
                ),
            ),
            timeout=datetime.timedelta(seconds=10),
            validate_only=validate_only,
        )
    )


def produce_request(
    topic: str, batch: bytes, *, partition: int = 0, acks: int = 1
) -> produce_v9.ProduceRequest:
    """A Produce v9 request of one batch to one partition."""
    return produce_v9.ProduceRequest(
        transactional_id=None,
        acks=acks,
        timeout=datetime.timedelta(seconds=5),
        topic_data=(
            produce_v9.TopicProduceData(
                name=topic,
                partition_data=(produce_v9.PartitionProduceData(index=partition, records=batch),),
            ),
        ),
    )


def record_batch(
    values: list[tuple[bytes | None, bytes | None]],
    *,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    timestamp: datetime.datetime | None = None,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    timestamps: list[datetime.datetime] | None = None,
) -> bytes:
    """An uncompressed RecordBatch v2 of (key, value) records, offsets from 0; pass a
    producer ID, epoch and base sequence for an idempotent batch."""
    when = timestamp or datetime.datetime.now(datetime.UTC)
    records = tuple(
        Record(
            attributes=0,
            timestamp=timestamps[index] if timestamps else when,
            offset=index,
            key=key,
            value=value,
            headers=tuple(RecordHeader(key=k, value=v) for k, v in headers),
        )
        for index, (key, value) in enumerate(values)
    )
    buffer = io.BytesIO()
    write_new_batch(
        buffer,
        NewRecordBatch(
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=base_sequence,
            records=records,
            attributes=0,
        ),
    )
    return buffer.getvalue()
