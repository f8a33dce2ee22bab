"""Broker settings under Apache Kafka's own names.

Read the way ``kafka-server-start.sh`` reads them: a Java-style properties file
(``--config FILE``) and then ``--override KEY=VALUE`` pairs, later ones winning.
Unknown keys are kept (and logged by the caller) so a Kafka ``server.properties``
loads without edits; known keys are parsed and validated into :class:`BrokerConfig`.
The ``log.*`` defaults of topic configs (``log.retention.hours``, ``log.cleanup.policy``
...) are validated against their definitions in :mod:`broker.cluster.config_catalog`
and kept as given in ``properties``, from which every topic's settings are resolved.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from broker.cluster.config_catalog import BROKER_CONFIGS
from broker.cluster.config_def import InvalidConfigError


class ConfigError(ValueError):
    """A setting has a value the broker cannot use; the message names the key."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One ``NAME://host:port`` entry of ``listeners`` / ``advertised.listeners``."""

    name: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.name}://{self.host}:{self.port}"


_LISTENER = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)://(?P<host>\[[^\]]*\]|[^:]*):(?P<port>\d+)$"
)


def parse_listeners(key: str, value: str) -> tuple[Listener, ...]:
    listeners = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        m = _LISTENER.match(item)
        if m is None:
            raise ConfigError(f"{key}: {item!r} is not NAME://host:port")
        port = int(m["port"])
        if not 0 <= port <= 65535:
            raise ConfigError(f"{key}: port {port} out of range")
        listeners.append(Listener(m["name"].upper(), m["host"].strip("[]"), port))
    if not listeners:
        raise ConfigError(f"{key}: at least one listener is required")
    names = [listener.name for listener in listeners]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: listener names must be unique")
    return tuple(listeners)


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _int(key: str, value: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{key}: must be at least {minimum}, got {number}")
    return number


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Parsed broker settings; field names are Kafka keys with dots as underscores."""

    node_id: int = 1
    listeners: tuple[Listener, ...] = (Listener("PLAINTEXT", "127.0.0.1", 9092),)
    advertised_listeners: tuple[Listener, ...] | None = None
    log_dirs: tuple[Path, ...] = (Path("data/kafka-logs"),)
    num_partitions: int = 1
    default_replication_factor: int = 1
    auto_create_topics_enable: bool = True
    delete_topic_enable: bool = True
    socket_request_max_bytes: int = 104857600
    extra: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    """Every known key as given (file, then overrides): the STATIC_BROKER_CONFIG layer."""

    @property
    def effective_advertised_listeners(self) -> tuple[Listener, ...]:
        """Kafka falls back to ``listeners``; a wildcard host advertises 127.0.0.1."""
        chosen = self.advertised_listeners or self.listeners
        return tuple(
            dataclasses.replace(lsn, host="127.0.0.1") if lsn.host in ("", "0.0.0.0") else lsn
            for lsn in chosen
        )

    @property
    def log_dir(self) -> Path:
        """The single data directory used by this broker (JBOD comes later)."""
        return self.log_dirs[0]


_PARSERS = {
    "node.id": lambda k, v: ("node_id", _int(k, v, minimum=0)),
    "broker.id": lambda k, v: ("node_id", _int(k, v, minimum=0)),
    "listeners": lambda k, v: ("listeners", parse_listeners(k, v)),
    "advertised.listeners": lambda k, v: ("advertised_listeners", parse_listeners(k, v)),
    "log.dirs": lambda k, v: (
        "log_dirs",
        tuple(Path(p.strip()) for p in v.split(",") if p.strip()),
    ),
    "log.dir": lambda k, v: ("log_dirs", (Path(v.strip()),)),
    "num.partitions": lambda k, v: ("num_partitions", _int(k, v, minimum=1)),
    "default.replication.factor": lambda k, v: (
        "default_replication_factor",
        _int(k, v, minimum=1),
    ),
    "auto.create.topics.enable": lambda k, v: ("auto_create_topics_enable", _bool(k, v)),
    "delete.topic.enable": lambda k, v: ("delete_topic_enable", _bool(k, v)),
    "socket.request.max.bytes": lambda k, v: (
        "socket_request_max_bytes",
        _int(k, v, minimum=1),
    ),
}


def read_properties(text: str) -> dict[str, str]:
    """Parse Java properties: ``key=value`` or ``key: value``, ``#``/``!`` comments."""
    props: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        logical += line
        key, sep, value = logical.partition("=")
        if not sep:
            key, _, value = logical.partition(":")
        props[key.strip()] = value.strip()
        logical = ""
    return props


def parse_override(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--override expects KEY=VALUE, got {item!r}")
    return key.strip(), value.strip()


def load_config(config_file: Path | None = None, overrides: Iterable[str] = ()) -> BrokerConfig:
    """Build a :class:`BrokerConfig` from a properties file and ``KEY=VALUE`` overrides."""
    props: dict[str, str] = {}
    if config_file is not None:
        try:
            props.update(read_properties(config_file.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"--config {config_file}: {exc.strerror}") from None
    props.update(parse_override(item) for item in overrides)
    return config_from_properties(props)


def config_from_properties(props: Mapping[str, str]) -> BrokerConfig:
    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    known: dict[str, str] = {}
    for key, value in props.items():
        parser = _PARSERS.get(key)
        definition = BROKER_CONFIGS.get(key)
        if parser is None and definition is None:
            extra[key] = value
            continue
        known[key] = value
        if parser is not None:
            attr, parsed = parser(key, value)
            values[attr] = parsed
        else:
            try:
                definition.parse(value)  # type: ignore[union-attr]
            except InvalidConfigError as exc:
                raise ConfigError(exc.message) from None
    if values.get("log_dirs") == ():
        raise ConfigError("log.dirs: at least one directory is required")
    return BrokerConfig(**values, extra=extra, properties=known)  # type: ignore[arg-type]
