"""Pipelined requests behind a durable Produce: applied at once, answered in order."""

from __future__ import annotations

import datetime
import struct

from kio.schema.errors import ErrorCode
from kio.schema.metadata.v12 import request as metadata_v12
from kio.schema.produce.v9 import request as produce_v9
from kio.schema.produce.v9.response import ProduceResponse
from kio.serial import entity_reader

from broker.protocol.connection import skip_tagged_fields
from tests.broker.handlers.test_topics_admin import create
from tests.support.broker import BrokerProcess
from tests.support.raw_wire import encode_request
from tests.support.wire import KafkaWire, record_batch


def test_requests_behind_a_durable_produce_are_answered_in_order(broker: BrokerProcess) -> None:
    with KafkaWire("127.0.0.1", broker.port) as wire:
        result = create(wire, "durable-topic", partitions=1)
        assert result.error_code == ErrorCode.none
        from kio.schema.incremental_alter_configs.v1 import request as alter_v1

        wire.request(
            alter_v1.IncrementalAlterConfigsRequest(
                resources=(
                    alter_v1.AlterConfigsResource(
                        resource_type=2,
                        resource_name="durable-topic",
                        configs=(
                            alter_v1.AlterableConfig(
                                name="flush.mode", config_operation=0, value="durable"
                            ),
                        ),
                    ),
                ),
                validate_only=False,
            )
        )

        def produce(seq: int) -> bytes:
            return encode_request(
                produce_v9.ProduceRequest(
                    transactional_id=None,
                    acks=-1,
                    timeout=datetime.timedelta(seconds=5),
                    topic_data=(
                        produce_v9.TopicProduceData(
                            name="durable-topic",
                            partition_data=(
                                produce_v9.PartitionProduceData(
                                    index=0, records=record_batch([(b"k", b"%d" % seq)])
                                ),
                            ),
                        ),
                    ),
                ),
                correlation_id=100 + seq,
            )

        metadata = encode_request(
            metadata_v12.MetadataRequest(
                topics=None,
                allow_auto_topic_creation=False,
                include_topic_authorized_operations=False,
            ),
            correlation_id=200,
        )
        # Everything at once, without waiting for any answer.
        wire.send_raw(produce(0) + produce(1) + metadata)
        frames = [wire.read_frame() for _ in range(3)]
        assert [struct.unpack_from(">i", f, 0)[0] for f in frames] == [100, 101, 200]
        offsets = []
        for raw in frames[:2]:
            response, _size = entity_reader(ProduceResponse)(raw, skip_tagged_fields(raw, 4))
            partition = response.responses[0].partition_responses[0]
            assert partition.error_code == ErrorCode.none
            offsets.append(partition.base_offset)
        assert offsets == [0, 1]
