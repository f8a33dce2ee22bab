"""Kafka's config model: parsing messages, resolution precedence, alteration, description."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.cluster.config_catalog import BROKER_CONFIGS, DYNAMIC_BROKER_CONFIGS, TOPIC_CONFIGS
from broker.cluster.config_def import (
    INT_MAX,
    LONG_MAX,
    ConfigSource,
    ConfigType,
    InvalidConfigError,
    java_double,
    parse_value,
)
from broker.cluster.configs import (
    AlterOp,
    BrokerConfigLayers,
    apply_incremental,
    broker_resource_is_default,
    describe_broker,
    describe_topic,
    effective_topic_values,
    log_config_fields,
    validate_broker_alteration,
    validate_topic_configs,
)
from broker.errors import BrokerError, ErrorCode

NO_LAYERS = BrokerConfigLayers()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("retention.ms", "abc", "Invalid value abc for configuration retention.ms: "
            "Not a number of type LONG"),
        ("retention.ms", "-2", "Invalid value -2 for configuration retention.ms: "
            "Value must be at least -1"),
        ("segment.bytes", "3000000000", "Invalid value 3000000000 for configuration "
            "segment.bytes: Not a number of type INT"),
        ("segment.bytes", "13", "Invalid value 13 for configuration segment.bytes: "
            "Value must be at least 14"),
        ("cleanup.policy", "compact,forever", "Invalid value forever for configuration "
            "cleanup.policy: String must be one of: compact, delete"),
        ("compression.type", "brotli", "Invalid value brotli for configuration "
            "compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, "
            "producer"),
        ("min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration "
            "min.cleanable.dirty.ratio: Value must be no more than 1"),
        ("min.cleanable.dirty.ratio", "half", "Invalid value half for configuration "
            "min.cleanable.dirty.ratio: Not a number of type DOUBLE"),
        ("preallocate", "yes", "Invalid value yes for configuration preallocate: "
            "Expected value to be either true or false"),
        ("message.timestamp.type", "createtime", "Invalid value createtime for configuration "
            "message.timestamp.type: String must be one of: CreateTime, LogAppendTime"),
        ("flush.mode", "sometimes", "Invalid value sometimes for configuration flush.mode: "
            "String must be one of: async, durable"),
        ("flush.messages", "0", "Invalid value 0 for configuration flush.messages: "
            "Value must be at least 1"),
    ],
)  # fmt: skip
def test_topic_config_values_are_refused_with_kafkas_message(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidConfigError) as info:
        validate_topic_configs({name: value}, NO_LAYERS)
    assert info.value.code == ErrorCode.invalid_config
    assert info.value.message == message


def test_unknown_and_null_topic_configs_are_invalid_config() -> None:
    with pytest.raises(InvalidConfigError, match=r"^Unknown topic config name: retention\.hours$"):
        validate_topic_configs({"retention.hours": "1"}, NO_LAYERS)
    with pytest.raises(
        InvalidConfigError, match=r"^Null value not supported for topic configs: a,b$"
    ):
        validate_topic_configs({"b": None, "a": None}, NO_LAYERS)


def test_compaction_lags_must_not_conflict_with_the_effective_other_bound() -> None:
    layers = BrokerConfigLayers(static={"log.cleaner.max.compaction.lag.ms": "1000"})
    with pytest.raises(InvalidConfigError) as info:
        validate_topic_configs({"min.compaction.lag.ms": "2000"}, layers)
    assert info.value.message == (
        "conflict topic config setting min.compaction.lag.ms (2000) > max.compaction.lag.ms (1000)"
    )
    assert validate_topic_configs({"min.compaction.lag.ms": "500"}, layers) == {
        "min.compaction.lag.ms": 500
    }


def test_values_parse_with_kafkas_lenience() -> None:
    parsed = validate_topic_configs(
        {"retention.ms": " +60000 ", "cleanup.policy": "compact , delete", "preallocate": "TRUE"},
        NO_LAYERS,
    )
    assert parsed == {
        "cleanup.policy": ("compact", "delete"),
        "preallocate": True,
        "retention.ms": 60000,
    }
    assert parse_value("cleanup.policy", ConfigType.LIST, "  ") == ()


@given(st.integers(min_value=-(2**63), max_value=LONG_MAX))
def test_long_values_round_trip_through_their_kafka_string(value: int) -> None:
    definition = TOPIC_CONFIGS["retention.bytes"]
    assert definition.parse(definition.format(value)) == value  # type: ignore[arg-type]


@given(st.integers().filter(lambda n: not -(2**31) <= n <= INT_MAX))
def test_int_values_outside_32_bits_are_not_ints(value: int) -> None:
    with pytest.raises(InvalidConfigError, match="Not a number of type INT"):
        TOPIC_CONFIGS["max.message.bytes"].parse(str(value))


@given(st.floats(min_value=0, max_value=1))
def test_double_values_round_trip_through_javas_double_format(value: float) -> None:
    definition = TOPIC_CONFIGS["min.cleanable.dirty.ratio"]
    assert definition.parse(definition.format(value)) == value  # type: ignore[arg-type]


def test_doubles_print_like_java() -> None:
    assert [java_double(v) for v in (0.5, 1.0, 0.0, 1e-4, 12345678.0)] == [
        "0.5", "1.0", "0.0", "1.0E-4", "1.2345678E7"
    ]  # fmt: skip


# -- resolution ----------------------------------------------------------------------

layer_values = st.dictionaries(
    st.sampled_from(["log.retention.ms", "log.retention.minutes", "log.retention.hours"]),
    st.integers(min_value=-3, max_value=10_000).map(str),
)


@given(
    static=layer_values,
    dynamic_default=layer_values,
    dynamic_broker=layer_values,
    override=st.none() | st.integers(min_value=-1, max_value=10**12),
)
def test_retention_resolves_with_kafkas_layer_and_name_precedence(
    static: dict[str, str],
    dynamic_default: dict[str, str],
    dynamic_broker: dict[str, str],
    override: int | None,
) -> None:
    layers = BrokerConfigLayers(static, dynamic_default, dynamic_broker)
    overrides = {} if override is None else {"retention.ms": str(override)}

    merged = {**static, **dynamic_default, **dynamic_broker}  # higher layers win per key
    if "log.retention.ms" in merged:
        broker_ms = int(merged["log.retention.ms"])
    elif "log.retention.minutes" in merged:
        broker_ms = int(merged["log.retention.minutes"]) * 60_000
    else:
        broker_ms = int(merged.get("log.retention.hours", "168")) * 3_600_000
    expected = override if override is not None else (broker_ms if broker_ms >= 0 else -1)

    values = effective_topic_values(overrides, layers)
    assert values["retention.ms"] == expected
    (entry,) = describe_topic(overrides, layers, keys={"retention.ms"})
    assert entry.value == str(expected)
    # the head synonym names where the value really comes from
    head = entry.synonyms[0]
    assert entry.source == head.source
    if override is None:
        winner = next(
            n
            for n in ("log.retention.ms", "log.retention.minutes", "log.retention.hours")
            if n in merged or n == "log.retention.hours"
        )
        assert head.name == winner
        assert head.value == merged.get(winner, "168")


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "static": st.integers(min_value=14, max_value=INT_MAX).map(str),
            "dynamic_default": st.integers(min_value=14, max_value=INT_MAX).map(str),
            "dynamic_broker": st.integers(min_value=14, max_value=INT_MAX).map(str),
        },
    )
)
def test_each_broker_layer_overrides_the_ones_below(set_in: dict[str, str]) -> None:
    layers = BrokerConfigLayers(
        **{layer: {"log.segment.bytes": value} for layer, value in set_in.items()}
    )
    expected = next(
        (
            set_in[layer]
            for layer in ("dynamic_broker", "dynamic_default", "static")
            if layer in set_in
        ),
        "1073741824",
    )
    assert effective_topic_values({}, layers)["segment.bytes"] == int(expected)


def test_log_config_fields_apply_kafkas_fallbacks() -> None:
    layers = BrokerConfigLayers(
        static={"log.roll.hours": "2", "log.retention.hours": "-1", "log.cleanup.policy": "compact"}
    )
    values = effective_topic_values({"message.timestamp.difference.max.ms": "5000"}, layers)
    fields = log_config_fields(values)
    assert fields["segment_ms"] == 2 * 3_600_000
    assert fields["retention_ms"] == -1
    assert fields["cleanup_policy"] == frozenset({"compact"})
    assert fields["message_timestamp_before_max_ms"] == 5000
    assert fields["message_timestamp_after_max_ms"] == 5000
    assert "message_timestamp_difference_max_ms" not in fields


def test_a_corrupt_stored_override_falls_back_to_the_default() -> None:
    assert effective_topic_values({"segment.bytes": "lots"}, NO_LAYERS)["segment.bytes"] == (
        TOPIC_CONFIGS["segment.bytes"].default
    )


# -- description ---------------------------------------------------------------------


def test_describe_topic_lists_every_config_with_override_first_in_synonyms() -> None:
    layers = BrokerConfigLayers(static={"log.segment.bytes": "2000000"})
    entries = {e.name: e for e in describe_topic({"segment.bytes": "3000000"}, layers)}
    assert list(entries) == sorted(TOPIC_CONFIGS)
    segment = entries["segment.bytes"]
    assert (segment.value, segment.source, segment.read_only) == (
        "3000000",
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
        False,
    )
    assert [(s.name, s.value, s.source) for s in segment.synonyms] == [
        ("segment.bytes", "3000000", ConfigSource.DYNAMIC_TOPIC_CONFIG),
        ("log.segment.bytes", "2000000", ConfigSource.STATIC_BROKER_CONFIG),
        ("log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG),
    ]
    assert entries["cleanup.policy"].config_type == ConfigType.LIST
    assert entries["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG


def test_describe_broker_marks_only_runtime_changeable_configs_writable() -> None:
    layers = BrokerConfigLayers(
        static={"log.retention.hours": "24", "num.partitions": "3"},
        dynamic_default={"log.segment.bytes": "5000000"},
    )
    entries = {e.name: e for e in describe_broker(layers, per_broker=True)}
    assert set(entries) == set(BROKER_CONFIGS)
    assert entries["num.partitions"].read_only and not entries["log.retention.hours"].read_only
    assert (entries["log.retention.hours"].value, entries["log.retention.hours"].source) == (
        "24",
        ConfigSource.STATIC_BROKER_CONFIG,
    )
    assert (entries["log.retention.ms"].value, entries["log.retention.ms"].source) == (
        None,
        ConfigSource.DEFAULT_CONFIG,
    )
    assert entries["log.segment.bytes"].source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
    defaults = describe_broker(layers, per_broker=False)
    assert [(e.name, e.value) for e in defaults] == [("log.segment.bytes", "5000000")]
    assert [s.source for s in defaults[0].synonyms] == [ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]


def test_broker_resources_are_the_default_or_this_broker() -> None:
    assert broker_resource_is_default("", 1) is True
    assert broker_resource_is_default("1", 1) is False
    for name, message in [
        ("2", "Unexpected broker id, expected 1 or empty string, but received 2"),
        ("one", "Invalid broker name one"),
    ]:
        with pytest.raises(BrokerError) as info:
            broker_resource_is_default(name, 1)
        assert (info.value.code, info.value.message) == (ErrorCode.invalid_request, message)


def test_only_topic_defaults_can_change_dynamically() -> None:
    assert DYNAMIC_BROKER_CONFIGS.issubset(BROKER_CONFIGS)
    assert {"log.retention.ms", "log.retention.hours", "message.max.bytes"} <= (
        DYNAMIC_BROKER_CONFIGS
    )
    # read once at startup, so a runtime change would be accepted and silently ignored
    assert "num.partitions" not in DYNAMIC_BROKER_CONFIGS
    assert "log.retention.check.interval.ms" not in DYNAMIC_BROKER_CONFIGS
    with pytest.raises(BrokerError) as info:
        validate_broker_alteration({"log.dirs": "/x", "node.id": "2", "log.retention.ms": "1"})
    assert info.value.code == ErrorCode.invalid_request
    assert info.value.message == "Cannot update these configs dynamically: Set(log.dirs, node.id)"
    with pytest.raises(InvalidConfigError, match=r"log\.retention\.ms: Not a number of type LONG"):
        validate_broker_alteration({"log.retention.ms": "soon"})
    assert validate_broker_alteration({"log.retention.ms": "1", "log.roll.ms": None}) == {
        "log.retention.ms": "1"
    }


# -- incremental alteration ----------------------------------------------------------


def _apply(current: dict[str, str], *ops: tuple[str, int, str | None]) -> dict[str, str]:
    return apply_incremental(current, ops, TOPIC_CONFIGS, lambda name: "delete")


def test_incremental_operations_follow_kafka() -> None:
    assert _apply({}, ("cleanup.policy", AlterOp.APPEND, "compact")) == {
        "cleanup.policy": "delete,compact"
    }
    assert _apply(
        {"cleanup.policy": "delete,compact"}, ("cleanup.policy", AlterOp.APPEND, "compact")
    ) == {"cleanup.policy": "delete,compact"}
    assert _apply(
        {"cleanup.policy": "delete,compact"}, ("cleanup.policy", AlterOp.SUBTRACT, "delete")
    ) == {"cleanup.policy": "compact"}
    assert _apply({"retention.ms": "1"}, ("retention.ms", AlterOp.DELETE, None)) == {}
    assert _apply({"retention.ms": "1"}, ("retention.ms", AlterOp.SET, None)) == {}
    assert _apply({}, ("retention.ms", AlterOp.SET, "5"), ("segment.ms", AlterOp.SET, "6")) == {
        "retention.ms": "5",
        "segment.ms": "6",
    }


def test_list_operations_on_other_types_and_unknown_operations_are_refused() -> None:
    with pytest.raises(InvalidConfigError) as info:
        _apply({}, ("retention.ms", AlterOp.APPEND, "5"))
    assert info.value.message == "Can't APPEND to key retention.ms because its type is not LIST."
    with pytest.raises(BrokerError) as unknown:
        _apply({}, ("retention.ms", 7, "5"))
    assert (unknown.value.code, unknown.value.message) == (
        ErrorCode.invalid_request,
        "Unknown operations type 7",
    )
