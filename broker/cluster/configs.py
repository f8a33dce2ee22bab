"""Kafka's configuration model: validation, resolution, alteration and description.

A topic's effective settings are its overrides (stored in the cluster metadata), then
the broker's defaults, which themselves come in layers, highest first (Kafka's order):

    DYNAMIC_BROKER_CONFIG          AlterConfigs on broker resource "<node.id>"
    DYNAMIC_DEFAULT_BROKER_CONFIG  AlterConfigs on broker resource "" (cluster default)
    STATIC_BROKER_CONFIG           server.properties / --override
    DEFAULT_CONFIG                 the definition's default

Layers merge key by key, and only then do Kafka's name precedences apply:
``log.retention.ms`` beats ``log.retention.minutes`` beats ``log.retention.hours`` in
whatever layer each is set (likewise ``log.roll.*``, ``log.roll.jitter.*`` and
``log.flush.interval.ms`` over ``log.flush.scheduler.interval.ms``).

Two deliberate differences from Kafka's DescribeConfigs, both about synonyms only:
synonyms are listed name-major (the name that determines the value first, then lower-
precedence names), so the head synonym and ``config_source`` always name where the value
really comes from; and a topic config falling back to ``log.retention.hours`` lists that
synonym (Kafka drops synonyms that precede the exact broker name, so it reports
``retention.ms`` as DEFAULT_CONFIG even when ``log.retention.hours`` is set statically).
APPEND/SUBTRACT on a topic list without an override start from the effective value (the
broker default), where Kafka starts from the static default.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from broker.cluster import connection_limits
from broker.cluster.config_catalog import (
    BROKER_CONFIGS,
    DYNAMIC_BROKER_CONFIGS,
    TOPIC_CONFIGS,
    TOPIC_SYNONYMS,
    broker_synonyms,
)
from broker.cluster.config_def import (
    LONG_MAX,
    ConfigDef,
    ConfigSource,
    ConfigType,
    InvalidConfigError,
    ordered,
    split_list,
)
from broker.errors import BrokerError, ErrorCode

log = logging.getLogger(__name__)

__all__ = [
    "AlterOp",
    "BrokerConfigLayers",
    "ConfigEntry",
    "ConfigSource",
    "ConfigType",
    "InvalidConfigError",
    "ResourceType",
    "Synonym",
    "apply_incremental",
    "broker_definition",
    "describe_broker",
    "describe_topic",
    "effective_topic_values",
    "log_config_fields",
    "validate_broker_alteration",
    "validate_topic_configs",
]


class ResourceType(IntEnum):
    """Kafka's ``ConfigResource.Type`` numbers."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8


class AlterOp(IntEnum):
    """IncrementalAlterConfigs operations (Kafka's ``AlterConfigOp.OpType``)."""

    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


@dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One DescribeConfigs result entry, independent of the wire version."""

    name: str
    value: str | None
    source: ConfigSource
    read_only: bool
    synonyms: tuple[Synonym, ...]
    config_type: ConfigType
    documentation: str
    is_sensitive: bool = False


def _parse_stored(definition: ConfigDef, raw: str) -> object:
    """A value that was validated when stored; a bad one (older version, hand edit) is
    logged and replaced by the default rather than making the topic unusable."""
    try:
        return definition.parse(raw)
    except InvalidConfigError as exc:
        log.warning("ignoring stored config: %s", exc.message)
        return definition.default


@dataclass(frozen=True, slots=True)
class BrokerConfigLayers:
    """The broker's config values by source; every mapping holds Kafka-style strings."""

    static: Mapping[str, str] = field(default_factory=dict)
    dynamic_default: Mapping[str, str] = field(default_factory=dict)
    dynamic_broker: Mapping[str, str] = field(default_factory=dict)

    def _layers(self) -> Iterator[tuple[ConfigSource, Mapping[str, str]]]:
        yield ConfigSource.DYNAMIC_BROKER_CONFIG, self.dynamic_broker
        yield ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, self.dynamic_default
        yield ConfigSource.STATIC_BROKER_CONFIG, self.static

    def raw(self, name: str) -> tuple[str | None, ConfigSource]:
        """The string value of a broker config and where it comes from."""
        for source, layer in self._layers():
            if name in layer:
                return layer[name], source
        definition = BROKER_CONFIGS.get(name)
        return (definition.default_string if definition else None), ConfigSource.DEFAULT_CONFIG

    def value(self, name: str) -> object:
        """The parsed value of one broker config name (None: unset and no default)."""
        definition = BROKER_CONFIGS[name]
        raw, source = self.raw(name)
        if source == ConfigSource.DEFAULT_CONFIG or raw is None:
            return definition.default
        return _parse_stored(definition, raw)

    def listener_keys(self, *, default_only: bool = False) -> list[str]:
        """The listener-prefixed connection limits set in any layer (the cluster-default
        layer only, with ``default_only``), sorted."""
        layers = (self.dynamic_default,) if default_only else [lyr for _, lyr in self._layers()]
        return sorted(
            {k for layer in layers for k in layer if connection_limits.listener_config(k)}
        )

    def listener_value(self, listener_name: str, name: str) -> object:
        """A listener's value of ``name``: ``listener.name.<listener>.<name>`` where it is
        set (the listener name in any case), else the broker-wide value, as Kafka's
        ``valuesWithPrefixOverride``."""
        wanted = connection_limits.listener_key(listener_name, name)
        for _source, layer in self._layers():
            for key, raw in layer.items():
                if key.lower() == wanted:
                    return _parse_stored(BROKER_CONFIGS[name], raw)
        return self.value(name)

    def synonyms(self, names: Sequence[str]) -> list[Synonym]:
        """Every value of ``names`` in every layer, highest precedence first."""
        found = []
        for name in names:
            for source, layer in self._layers():
                if name in layer:
                    found.append(Synonym(name, layer[name], source))
            definition = BROKER_CONFIGS.get(name)
            if definition is not None and definition.default is not None:
                found.append(Synonym(name, definition.default_string, ConfigSource.DEFAULT_CONFIG))
        return found

    def topic_default(self, topic_config: str) -> object:
        """The broker's default for a topic config, after Kafka's name precedence."""
        for broker_name, factor in TOPIC_SYNONYMS[topic_config]:
            value = self.value(broker_name)
            if value is None:
                continue
            if factor != 1:
                assert isinstance(value, int)
                value *= factor
            if topic_config == "retention.ms" and isinstance(value, int) and value < 0:
                return -1  # Kafka: any negative broker retention means "forever"
            return value
        return TOPIC_CONFIGS[topic_config].default


# -- topics -------------------------------------------------------------------------


def effective_topic_values(
    overrides: Mapping[str, str], layers: BrokerConfigLayers
) -> dict[str, object]:
    """Every topic config's parsed value: the override, else the broker's default."""
    return {
        name: (
            _parse_stored(definition, overrides[name])
            if name in overrides
            else layers.topic_default(name)
        )
        for name, definition in TOPIC_CONFIGS.items()
    }


def log_config_fields(values: Mapping[str, object]) -> dict[str, object]:
    """Effective topic values as keyword arguments of ``broker.storage.log_config.LogConfig``
    (enum-typed fields still as their string values; the caller converts them)."""
    fields = {
        name.replace(".", "_"): value
        for name, value in values.items()
        if name != "message.timestamp.difference.max.ms"
    }
    # Kafka 3.x: before/after fall back to the deprecated difference setting.
    difference = values["message.timestamp.difference.max.ms"]
    for key in ("message_timestamp_before_max_ms", "message_timestamp_after_max_ms"):
        if fields[key] == LONG_MAX:
            fields[key] = difference
    policies = values["cleanup.policy"]
    assert isinstance(policies, tuple)
    fields["cleanup_policy"] = frozenset(p.lower() for p in policies)
    fields["compression_type"] = str(values["compression.type"]).lower()
    return fields


def validate_topic_configs(
    configs: Mapping[str, str | None], layers: BrokerConfigLayers
) -> dict[str, object]:
    """Check a topic's complete set of overrides as Kafka does; returns them parsed.

    Raises :class:`InvalidConfigError` (INVALID_CONFIG) naming the first problem: null
    values, unknown names, unparsable or out-of-range values (in definition order), then
    cross-config rules on the effective values.
    """
    nulls = sorted(name for name, value in configs.items() if value is None)
    if nulls:
        raise InvalidConfigError(f"Null value not supported for topic configs: {','.join(nulls)}")
    for name in configs:
        if name not in TOPIC_CONFIGS:
            raise InvalidConfigError(f"Unknown topic config name: {name}")
    parsed = {
        name: TOPIC_CONFIGS[name].parse(configs[name])  # type: ignore[arg-type]
        for name in ordered(list(configs), TOPIC_CONFIGS)
    }
    min_lag = parsed.get("min.compaction.lag.ms", layers.topic_default("min.compaction.lag.ms"))
    max_lag = parsed.get("max.compaction.lag.ms", layers.topic_default("max.compaction.lag.ms"))
    assert isinstance(min_lag, int) and isinstance(max_lag, int)
    if min_lag > max_lag:
        raise InvalidConfigError(
            f"conflict topic config setting min.compaction.lag.ms ({min_lag}) > "
            f"max.compaction.lag.ms ({max_lag})"
        )
    return parsed


def describe_topic(
    overrides: Mapping[str, str],
    layers: BrokerConfigLayers,
    keys: Collection[str] | None = None,
) -> list[ConfigEntry]:
    """Every topic config (or those in ``keys``), sorted by name, as DescribeConfigs
    lists them: effective value, source, and the synonyms it was resolved from."""
    values = effective_topic_values(overrides, layers)
    entries = []
    for name in sorted(TOPIC_CONFIGS):
        if keys is not None and name not in keys:
            continue
        definition = TOPIC_CONFIGS[name]
        value = definition.format(values[name])
        synonyms = layers.synonyms([broker for broker, _factor in TOPIC_SYNONYMS[name]])
        if name in overrides:
            synonyms.insert(0, Synonym(name, value, ConfigSource.DYNAMIC_TOPIC_CONFIG))
        entries.append(
            ConfigEntry(
                name=name,
                value=value,
                source=synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG,
                read_only=False,
                synonyms=tuple(synonyms),
                config_type=definition.type,
                documentation=definition.doc,
            )
        )
    return entries


# -- brokers ------------------------------------------------------------------------


def describe_broker(
    layers: BrokerConfigLayers,
    *,
    per_broker: bool,
    keys: Collection[str] | None = None,
) -> list[ConfigEntry]:
    """Broker configs as DescribeConfigs lists them, sorted by name.

    ``per_broker``: the resource named by this broker's id (every config, its effective
    value). Otherwise the cluster-default resource "": only configs set dynamically at
    that level, with synonyms from that level only (as Kafka).
    """
    entries = []
    names = sorted(BROKER_CONFIGS) + layers.listener_keys(default_only=not per_broker)
    for name in names:
        if keys is not None and name not in keys:
            continue
        if not per_broker and name not in layers.dynamic_default:
            continue
        definition = broker_definition(name)
        assert definition is not None
        listener = connection_limits.listener_config(name)
        # Kafka's brokerConfigSynonyms: a listener's config, then the broker-wide one
        synonyms = layers.synonyms(
            (name, listener[1]) if listener is not None else broker_synonyms(name)
        )
        if synonyms and synonyms[0].name != name:
            synonyms = []  # as Kafka: a name unset everywhere is DEFAULT_CONFIG, value null
        if per_broker:
            value, _source = layers.raw(name)
        else:
            value = layers.dynamic_default[name]
            synonyms = [
                s for s in synonyms if s.source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
            ]
        entries.append(
            ConfigEntry(
                name=name,
                value=value,
                source=synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG,
                read_only=name not in DYNAMIC_BROKER_CONFIGS and listener is None,
                synonyms=tuple(synonyms),
                config_type=definition.type,
                documentation=definition.doc,
            )
        )
    return entries


def broker_resource_is_default(resource_name: str, node_id: int) -> bool:
    """True for the cluster-default resource "", False for this broker's id; raises
    INVALID_REQUEST for anything else, with Kafka's messages."""
    if resource_name == "":
        return True
    try:
        broker_id = int(resource_name)
    except ValueError:
        raise BrokerError(
            ErrorCode.invalid_request, f"Invalid broker name {resource_name}"
        ) from None
    if broker_id != node_id:
        raise BrokerError(
            ErrorCode.invalid_request,
            f"Unexpected broker id, expected {node_id} or empty string, "
            f"but received {resource_name}",
        )
    return False


def broker_definition(name: str) -> ConfigDef | None:
    """A broker config's definition; a listener-prefixed connection limit
    (``listener.name.internal.max.connections``) has its base config's, under its name."""
    definition = BROKER_CONFIGS.get(name)
    listener = connection_limits.listener_config(name)
    if definition is None and listener is not None:
        return dataclasses.replace(BROKER_CONFIGS[listener[1]], name=name)
    return definition


def validate_broker_alteration(configs: Mapping[str, str | None]) -> dict[str, str]:
    """Check a dynamic broker layer's complete new contents; returns it without nulls.

    Only configs whose effect Headwater applies at runtime may change (INVALID_REQUEST
    "Cannot update these configs dynamically: Set(...)" otherwise, as Kafka words it);
    values are checked against the definitions (INVALID_CONFIG). A listener's
    connection limits (``listener.name.<listener>.max.connections``) may change too,
    and must be positive.
    """
    refused = sorted(
        name
        for name in configs
        if name not in DYNAMIC_BROKER_CONFIGS and connection_limits.listener_config(name) is None
    )
    if refused:
        raise BrokerError(
            ErrorCode.invalid_request,
            f"Cannot update these configs dynamically: Set({', '.join(refused)})",
        )
    kept = {name: value for name, value in configs.items() if value is not None}
    for name in ordered(list(kept), BROKER_CONFIGS):
        BROKER_CONFIGS[name].parse(kept[name])
    for name in sorted(kept):
        if connection_limits.listener_config(name) is not None:
            definition = broker_definition(name)
            assert definition is not None
            value = definition.parse(kept[name])
            assert isinstance(value, int)
            connection_limits.check_listener_value(name, value)
    return kept


# -- incremental alteration ---------------------------------------------------------


def apply_incremental(
    current: Mapping[str, str],
    operations: Sequence[tuple[str, int, str | None]],
    definitions: Mapping[str, ConfigDef],
    effective: Callable[[str], str | None],
) -> dict[str, str]:
    """Apply IncrementalAlterConfigs operations (name, op, value) to stored strings.

    SET replaces (a null value removes, as in Kafka), DELETE removes (back to the
    default), APPEND adds list elements not yet present and SUBTRACT removes them; both
    work on the stored value, else on ``effective(name)``.
    Raises INVALID_REQUEST for an unknown operation and INVALID_CONFIG for
    APPEND/SUBTRACT on a config that is not a list (Kafka's messages).
    """
    result = dict(current)
    for name, op, value in operations:
        if op not in AlterOp.__members__.values():
            raise BrokerError(ErrorCode.invalid_request, f"Unknown operations type {op}")
        operation = AlterOp(op)
        if operation == AlterOp.SET and value is not None:
            result[name] = value
        elif operation in (AlterOp.SET, AlterOp.DELETE):
            result.pop(name, None)
        else:
            definition = definitions.get(name)
            if definition is None or definition.type != ConfigType.LIST:
                raise InvalidConfigError(
                    f"Can't {operation.name} to key {name} because its type is not LIST."
                )
            parts = split_list(result[name] if name in result else effective(name))
            for item in (value or "").split(","):
                if operation == AlterOp.APPEND and item not in parts:
                    parts.append(item)
                elif operation == AlterOp.SUBTRACT and item in parts:
                    parts.remove(item)
            result[name] = ",".join(parts)
    return result
