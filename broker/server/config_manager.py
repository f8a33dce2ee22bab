"""The running broker's configuration: resolved LogConfigs and dynamic config changes.

Topic overrides and dynamic broker configs live in the metadata store;
:mod:`broker.cluster.configs` validates and resolves them. This module joins that model
to storage (``broker.cluster`` may not import ``broker.storage``): it builds each
topic's :class:`LogConfig`, caches it (Produce asks for it on every append), and when a
config changes, persists it, drops the cached values and pushes the new LogConfig into
the topic's open partition logs, so a change applies without a restart.

Not thread-safe: owned by the event loop, like the rest of :class:`BrokerState`.
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Callable, Collection, Mapping
from enum import Enum

from broker.cluster import configs, connection_limits
from broker.cluster.config_catalog import TOPIC_CONFIGS
from broker.cluster.metadata import MetadataStore
from broker.config import BrokerConfig
from broker.errors import BrokerError, ErrorCode
from broker.storage.log_config import LogConfig
from broker.storage.log_manager import LogManager

log = logging.getLogger(__name__)

_LOG_CONFIG_TYPES = typing.get_type_hints(LogConfig)


def to_log_config(fields: Mapping[str, object]) -> LogConfig:
    """``LogConfig`` from :func:`broker.cluster.configs.log_config_fields` output (enum
    fields arrive as their string values); fields LogConfig lacks are left out."""
    values = {}
    for name, value in fields.items():
        kind = _LOG_CONFIG_TYPES.get(name)
        if kind is None:
            continue
        values[name] = kind(value) if isinstance(kind, type) and issubclass(kind, Enum) else value
    return LogConfig(**values)  # type: ignore[arg-type]


class ConfigManager:
    def __init__(self, config: BrokerConfig, metadata: MetadataStore, logs: LogManager) -> None:
        self._static = dict(config.properties)
        self._node_id = config.node_id
        self._metadata = metadata
        self._logs = logs
        self._log_configs: dict[str, LogConfig] = {}
        self._broker_subscribers: list[Callable[[configs.BrokerConfigLayers], None]] = []

    @property
    def layers(self) -> configs.BrokerConfigLayers:
        """The broker's config values by source (static, dynamic default, dynamic broker)."""
        return configs.BrokerConfigLayers(
            static=self._static,
            dynamic_default=self._metadata.broker_configs(""),
            dynamic_broker=self._metadata.broker_configs(str(self._node_id)),
        )

    def _overrides(self, topic: str) -> dict[str, str]:
        record = self._metadata.topic(topic)
        if record is None:
            raise BrokerError(
                ErrorCode.unknown_topic_or_partition, f"The topic '{topic}' does not exist."
            )
        return record.configs

    def on_broker_change(self, callback: Callable[[configs.BrokerConfigLayers], None]) -> None:
        """Call ``callback`` with the new layers after every dynamic broker change."""
        self._broker_subscribers.append(callback)

    # -- resolution ---------------------------------------------------------------
    def log_config_for(self, overrides: Mapping[str, str]) -> LogConfig:
        """The effective settings of a topic with these overrides (not cached: for a
        topic being created, whose partitions exist before its metadata does)."""
        values = configs.effective_topic_values(overrides, self.layers)
        return to_log_config(configs.log_config_fields(values))

    def log_config(self, topic: str) -> LogConfig:
        """The topic's effective settings (broker defaults for an unknown topic)."""
        cached = self._log_configs.get(topic)
        if cached is None:
            record = self._metadata.topic(topic)
            cached = self.log_config_for(record.configs if record is not None else {})
            if record is not None:
                self._log_configs[topic] = cached
        return cached

    def forget(self, topic: str) -> None:
        """Drop a deleted topic's cached settings."""
        self._log_configs.pop(topic, None)

    def _reapply(self, topics: Collection[str]) -> None:
        """Recompute the settings of ``topics`` and hand changed ones to their open logs."""
        for topic in topics:
            old = self._log_configs.pop(topic, None)
            new = self.log_config(topic)
            if new == old:
                continue
            record = self._metadata.topic(topic)
            for partition in record.partitions if record is not None else ():
                partition_log = self._logs.get(topic, partition.partition_index)
                if partition_log is not None:
                    partition_log.update_config(new)
            log.info("topic %s: log settings changed", topic)

    # -- describe -----------------------------------------------------------------
    def describe_topic(
        self, topic: str, keys: Collection[str] | None = None
    ) -> list[configs.ConfigEntry]:
        return configs.describe_topic(self._overrides(topic), self.layers, keys)

    def describe_new_topic(self, overrides: Mapping[str, str]) -> list[configs.ConfigEntry]:
        """The configs a topic created with ``overrides`` has (CreateTopics v5+)."""
        return configs.describe_topic(overrides, self.layers)

    def describe_broker(
        self, resource_name: str, keys: Collection[str] | None = None
    ) -> list[configs.ConfigEntry]:
        default = configs.broker_resource_is_default(resource_name, self._node_id)
        return configs.describe_broker(self.layers, per_broker=not default, keys=keys)

    # -- changes ------------------------------------------------------------------
    def validate_new_topic(self, overrides: Mapping[str, str | None]) -> None:
        configs.validate_topic_configs(overrides, self.layers)

    def topic_overrides(self, topic: str) -> dict[str, str]:
        """A topic's stored overrides (UNKNOWN_TOPIC_OR_PARTITION if it does not exist)."""
        return dict(self._overrides(topic))

    def broker_overrides(self, resource_name: str) -> dict[str, str]:
        """The dynamic configs of a broker resource ("" or this broker's id)."""
        configs.broker_resource_is_default(resource_name, self._node_id)
        return self._metadata.broker_configs(resource_name)

    def effective_topic_value(self, topic: str, name: str) -> str | None:
        """A topic config's effective value as a string (APPEND/SUBTRACT start here)."""
        definition = TOPIC_CONFIGS.get(name)
        if definition is None:
            return None
        values = configs.effective_topic_values(self._overrides(topic), self.layers)
        return definition.format(values[name])

    def effective_broker_value(self, name: str) -> str | None:
        raw, _source = self.layers.raw(name)
        return raw

    def alter_topic(
        self, topic: str, new_configs: Mapping[str, str | None], *, validate_only: bool
    ) -> None:
        """Replace all of a topic's overrides; a null value means "no override"."""
        self._overrides(topic)
        kept = {name: value for name, value in new_configs.items() if value is not None}
        configs.validate_topic_configs(kept, self.layers)
        if validate_only:
            return
        self._metadata.alter_topic_configs(topic, kept)
        log.info("topic %s: configs now %s", topic, kept)
        self._reapply([topic])

    def alter_broker(
        self, resource_name: str, new_configs: Mapping[str, str | None], *, validate_only: bool
    ) -> None:
        """Replace the dynamic configs of broker resource "" (cluster default) or
        "<node.id>"; every topic without its own override picks up the change."""
        default = configs.broker_resource_is_default(resource_name, self._node_id)
        kept = configs.validate_broker_alteration(new_configs)
        layer = "dynamic_default" if default else "dynamic_broker"
        connection_limits.check_per_ip(dataclasses.replace(self.layers, **{layer: kept}).value)
        if validate_only:
            return
        self._metadata.alter_broker_configs(resource_name, kept)
        log.info("broker resource %r: dynamic configs now %s", resource_name, kept)
        self._reapply([record.name for record in self._metadata.topics()])
        layers = self.layers
        for callback in self._broker_subscribers:
            callback(layers)
