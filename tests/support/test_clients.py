"""The round-trip check itself: it passes a faithful log and catches each way a broker
can break one (lost, duplicated, reordered, misplaced, altered records)."""

from __future__ import annotations

import dataclasses
import zlib
from collections import defaultdict
from collections.abc import Callable

import pytest

from tests.support.clients import Consumed, Record, assert_round_trip, make_records

PARTITIONS = 3


def _faithful_log(records: list[Record]) -> tuple[list[Consumed], list[tuple[int, int]]]:
    """What a correct broker stores for a crc32 partitioner; plus the delivery reports."""
    next_offset: dict[int, int] = defaultdict(int)
    consumed, delivered = [], []
    for record in records:
        partition = zlib.crc32(record.key or b"") % PARTITIONS
        offset = next_offset[partition]
        next_offset[partition] += 1
        consumed.append(Consumed(partition, offset, record))
        delivered.append((partition, offset))
    consumed.sort(key=lambda c: c.partition)
    return consumed, delivered


def test_make_records_mixes_tombstones_empty_values_and_headers() -> None:
    records = make_records(1000)
    assert sum(r.value is None for r in records) == 100
    assert any(r.value == b"" for r in records)
    assert any(len(r.headers) == 3 for r in records) and any(not r.headers for r in records)
    assert len({r.key for r in records}) > 100


def test_assert_round_trip_accepts_a_faithful_log() -> None:
    records = make_records(2000)
    consumed, delivered = _faithful_log(records)
    assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)


def _lose(c: list[Consumed]) -> list[Consumed]:
    return c[:-1]


def _duplicate(c: list[Consumed]) -> list[Consumed]:
    return [*c, c[-1]]


def _swap_within_partition(c: list[Consumed]) -> list[Consumed]:
    a, b = c[10], c[11]
    assert a.partition == b.partition
    swapped = [dataclasses.replace(b, offset=a.offset), dataclasses.replace(a, offset=b.offset)]
    return [*c[:10], *swapped, *c[12:]]


def _null_to_empty(c: list[Consumed]) -> list[Consumed]:
    i = next(i for i, x in enumerate(c) if x.record.value is None)
    return [
        *c[:i],
        dataclasses.replace(c[i], record=dataclasses.replace(c[i].record, value=b"")),
        *c[i + 1 :],
    ]


def _drop_headers(c: list[Consumed]) -> list[Consumed]:
    i = next(i for i, x in enumerate(c) if len(x.record.headers) == 3)
    record = dataclasses.replace(c[i].record, headers=c[i].record.headers[:2])
    return [*c[:i], dataclasses.replace(c[i], record=record), *c[i + 1 :]]


def _all_in_partition_zero(c: list[Consumed]) -> list[Consumed]:
    return [dataclasses.replace(x, partition=0, offset=i) for i, x in enumerate(c)]


@pytest.mark.parametrize(
    "corrupt",
    [
        _lose,
        _duplicate,
        _swap_within_partition,
        _null_to_empty,
        _drop_headers,
        _all_in_partition_zero,
    ],
)
def test_assert_round_trip_rejects_a_broken_log(
    corrupt: Callable[[list[Consumed]], list[Consumed]],
) -> None:
    records = make_records(2000)
    consumed, _ = _faithful_log(records)
    with pytest.raises(AssertionError):
        assert_round_trip(records, corrupt(consumed), partitions=PARTITIONS)


def test_assert_round_trip_rejects_records_away_from_their_acknowledged_offset() -> None:
    records = make_records(2000)
    consumed, delivered = _faithful_log(records)
    delivered[5] = (delivered[5][0], delivered[5][1] + 1)
    with pytest.raises(AssertionError, match="acknowledged at"):
        assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)
