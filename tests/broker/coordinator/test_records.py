"""The ``__consumer_offsets`` record formats: Kafka's bytes, round trips, partitioning."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.coordinator.group import OffsetAndMetadata
from broker.coordinator.records import (
    GroupMetadataKey,
    GroupMetadataValue,
    MemberMetadata,
    OffsetCommitKey,
    RecordFormatError,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
    encode_group_metadata_key,
    encode_group_metadata_value,
    encode_offset_commit_key,
    encode_offset_commit_value,
    java_string_hash,
    partition_for,
)


def test_offset_commit_key_is_kafkas_version_1_layout() -> None:
    assert encode_offset_commit_key("g", "t", 7) == bytes.fromhex("0001 0001 67 0001 74 00000007")
    assert decode_key(bytes.fromhex("0000 0001 67 0001 74 00000007")) == OffsetCommitKey(
        "g", "t", 7
    )


def test_group_metadata_key_is_version_2() -> None:
    assert encode_group_metadata_key("grp") == bytes.fromhex("0002 0003") + b"grp"
    assert decode_key(encode_group_metadata_key("grp")) == GroupMetadataKey("grp")


def test_other_record_kinds_are_recognised_as_unknown() -> None:
    assert decode_key(bytes.fromhex("0003 0001 67")) is None  # KIP-848 records


def test_offset_commit_value_v3_bytes() -> None:
    value = OffsetAndMetadata(5, 2, "m", 1000)
    assert encode_offset_commit_value(value) == bytes.fromhex(
        "0003 0000000000000005 00000002 0001 6d 00000000000003e8"
    )


def test_offset_commit_value_older_and_flexible_versions_decode() -> None:
    v0 = bytes.fromhex("0000 0000000000000005 0001 6d 00000000000003e8")
    assert decode_offset_commit_value(v0) == OffsetAndMetadata(5, -1, "m", 1000)
    v1 = bytes.fromhex("0001 0000000000000005 0000 00000000000003e8 00000000000007d0")
    assert decode_offset_commit_value(v1) == OffsetAndMetadata(5, -1, "", 1000, 2000)
    # v4: compact string (length + 1) and an empty tagged-field section
    v4 = bytes.fromhex("0004 0000000000000005 00000002 02 6d 00000000000003e8 00")
    assert decode_offset_commit_value(v4) == OffsetAndMetadata(5, 2, "m", 1000)


def test_group_metadata_value_v4_flexible_decodes() -> None:
    member = (
        "02 6d"  # member_id "m"
        " 00"  # group_instance_id null
        " 02 63"  # client_id "c"
        " 02 68"  # client_host "h"
        " 00007530 00002710"  # rebalance 30000, session 10000
        " 02 01 02 aa"  # subscription b"\x01", assignment b"\xaa"
        " 00"  # tagged fields
    )
    data = bytes.fromhex(
        "0004 09 636f6e73756d6572 00000003 06 72616e6765 02 6d 00000000000003e8 02" + member + " 00"
    )
    value = decode_group_metadata_value(data)
    assert (value.protocol_type, value.generation, value.protocol, value.leader) == (
        "consumer",
        3,
        "range",
        "m",
    )
    assert value.members == (MemberMetadata("m", None, "c", "h", 30000, 10000, b"\x01", b"\xaa"),)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x09abc", b"\x00\x03\x00\x00"])
def test_bad_values_raise_record_format_errors(data: bytes) -> None:
    with pytest.raises(RecordFormatError):
        decode_offset_commit_value(data)
    with pytest.raises(RecordFormatError):
        decode_group_metadata_value(data)


text = st.text(max_size=20)
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(0, 2**62)


@given(st.builds(OffsetAndMetadata, int64, int32, text, int64, st.none() | int64))
def test_offset_commit_value_round_trips(value: OffsetAndMetadata) -> None:
    decoded = decode_offset_commit_value(encode_offset_commit_value(value))
    if value.expire_timestamp_ms is not None:  # v1 has no leader epoch
        value = OffsetAndMetadata(
            value.offset, -1, value.metadata, value.commit_timestamp_ms, value.expire_timestamp_ms
        )
    assert decoded == value


members = st.builds(
    MemberMetadata,
    text,
    st.none() | text,
    text,
    text,
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.binary(max_size=40),
    st.binary(max_size=40),
)


@given(
    st.builds(
        GroupMetadataValue,
        text,
        int32,
        st.none() | text,
        st.none() | text,
        int64,
        st.lists(members, max_size=4).map(tuple),
    )
)
def test_group_metadata_value_round_trips(value: GroupMetadataValue) -> None:
    assert decode_group_metadata_value(encode_group_metadata_value(value)) == value


@given(text, text, int32)
def test_offset_commit_key_round_trips(group: str, topic: str, partition: int) -> None:
    key = encode_offset_commit_key(group, topic, partition)
    assert decode_key(key) == OffsetCommitKey(group, topic, partition)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 97),
        ("hello", 99162322),
        ("polygenelubricants", -(2**31)),
        ("😀", 0xD83D * 31 + 0xDE00),
    ],
)
def test_java_string_hash_matches_java(text: str, expected: int) -> None:
    assert java_string_hash(text) == expected


def test_partition_for_is_kafkas() -> None:
    assert partition_for("hello", 50) == 22
    assert partition_for("polygenelubricants", 50) == 0  # abs(MIN_VALUE) is 0, not negative
    assert partition_for("a", 50) == 47


@given(st.text(), st.integers(1, 200))
def test_partition_for_is_always_in_range(group: str, partitions: int) -> None:
    assert 0 <= partition_for(group, partitions) < partitions
