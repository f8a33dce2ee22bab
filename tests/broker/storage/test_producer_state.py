from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog
from broker.storage.producer_state import MAX_SEQUENCE, ProducerStateManager
from tests.support.wire import record_batch

TOPIC_ID = uuid.uuid4()


def open_log(directory: Path, *, clean: bool = True) -> PartitionLog:
    return PartitionLog(
        directory,
        topic="t",
        partition=0,
        topic_id=TOPIC_ID,
        config=LogConfig(segment_bytes=600),
        clean_shutdown=clean,
    )


def send(log: PartitionLog, *, pid: int = 7, epoch: int = 0, seq: int, count: int = 2) -> int:
    data = record_batch(
        [(b"k", b"v%d" % i) for i in range(count)],
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
    )
    return log.append(
        data, records.validate_produce_batches(data, max_message_bytes=1 << 20), leader_epoch=0
    )


def test_a_retried_batch_is_stored_once_and_answered_with_its_original_offset(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path / "t-0")
    assert send(log, seq=0) == 0
    assert send(log, seq=2) == 2
    assert send(log, seq=0) == 0  # retry of the first batch
    assert send(log, seq=2) == 2
    assert log.log_end_offset == 4


def test_a_sequence_gap_is_out_of_order(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    send(log, seq=0)
    with pytest.raises(BrokerError) as info:
        send(log, seq=5)
    assert info.value.code == ErrorCode.out_of_order_sequence_number
    assert log.log_end_offset == 2


def test_an_older_epoch_is_fenced_and_a_new_epoch_restarts_at_zero(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    send(log, epoch=1, seq=0)
    with pytest.raises(BrokerError) as info:
        send(log, epoch=0, seq=2)
    assert info.value.code == ErrorCode.invalid_producer_epoch
    with pytest.raises(BrokerError) as info:
        send(log, epoch=2, seq=2)
    assert info.value.code == ErrorCode.out_of_order_sequence_number
    assert send(log, epoch=2, seq=0) == 2


@pytest.mark.parametrize("clean", [True, False])
def test_producer_state_survives_reopen(tmp_path: Path, clean: bool) -> None:
    log = open_log(tmp_path / "t-0")
    for i in range(20):  # several segments, so a snapshot is written at each roll
        send(log, seq=2 * i)
    assert len(log.segments) > 1
    if clean:
        log.close()
    reopened = open_log(tmp_path / "t-0", clean=clean)
    assert send(reopened, seq=38) == 38  # the last batch again: duplicate
    assert reopened.log_end_offset == 40
    with pytest.raises(BrokerError):
        send(reopened, seq=50)
    assert send(reopened, seq=40) == 40


def test_sequence_numbers_wrap_after_the_maximum(tmp_path: Path) -> None:
    state = ProducerStateManager(tmp_path)
    state.record(1, 0, MAX_SEQUENCE - 1, 1, first_offset=0, timestamp=0)
    assert state.check(1, 0, 0, 0) is None
    with pytest.raises(BrokerError):
        state.check(1, 0, 1, 0)


def test_idle_producers_expire(tmp_path: Path) -> None:
    state = ProducerStateManager(tmp_path)
    state.record(1, 0, 0, 0, first_offset=0, timestamp=1_000)
    state.record(2, 0, 0, 0, first_offset=1, timestamp=90_000)
    assert state.expire(now_ms=100_000, expiration_ms=50_000) == 1
    assert list(state.producers) == [2]
