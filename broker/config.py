"""Broker settings under Apache Kafka's own names.

Read the way ``kafka-server-start.sh`` reads them: a Java-style properties file
(``--config FILE``) and then ``--override KEY=VALUE`` pairs, later ones winning.
Unknown keys are kept (and logged by the caller) so a Kafka ``server.properties``
loads without edits; known keys are parsed and validated into :class:`BrokerConfig`.
The ``log.*`` defaults of topic configs (``log.retention.hours``, ``log.cleanup.policy``
...) are validated against their definitions in :mod:`broker.cluster.config_catalog`
and kept as given in ``properties``, from which every topic's settings are resolved.
Security settings (``ssl.*``, ``sasl.*`` and their ``listener.name.<listener>.``
prefixed forms) are kept apart in ``security``, out of reprs and DescribeConfigs,
because some are secrets (docs/security.md). A listener's connection limits
(``listener.name.<listener>.max.connections``, ``...max.connection.creation.rate``)
are ordinary configs, validated like the broker-wide ones.

``http.listeners`` (``http://127.0.0.1:9644``; empty, the default, for none) turns on
the HTTP endpoint of :mod:`broker.server.http_endpoint` (Prometheus ``/metrics`` and
the ``/v1/`` admin API); ``http.admin.token``, a secret kept out of ``properties``,
is the ``Authorization: Bearer`` token it requires, and must be set to bind an address
other than loopback (docs/streams.md "Broker metrics and admin endpoint").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from broker.cluster import connection_limits
from broker.cluster.config_def import InvalidConfigError
from broker.cluster.configs import BrokerConfigLayers, broker_definition
from broker.security.sasl import SECURITY_PROTOCOLS, SUPPORTED_MECHANISMS
from broker.security.tls import TlsSettings


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


_HTTP_LISTENER = re.compile(
    r"^(?P<scheme>https?)://(?P<host>\[[^\]]*\]|[^:/\[\]]*):(?P<port>\d+)/?$"
)
HTTP_LISTENERS_KEY = "http.listeners"
HTTP_TOKEN_KEY = "http.admin.token"
HTTP_TLS_LISTENER = "HTTP"
"""The name whose ``listener.name.http.ssl.*`` settings (else ``ssl.*``) an ``https://``
entry of ``http.listeners`` uses, as a Kafka listener's TLS settings are named."""


@dataclass(frozen=True, slots=True)
class HttpListener:
    """One ``http://host:port`` entry of ``http.listeners``."""

    host: str
    port: int
    tls: bool = False

    @property
    def loopback(self) -> bool:
        return self.host == "localhost" or self.host.startswith("127.") or self.host == "::1"

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port if port is None else port}"

    def __str__(self) -> str:
        return self.url()


def parse_http_listeners(key: str, value: str) -> tuple[HttpListener, ...]:
    listeners = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        m = _HTTP_LISTENER.match(item)
        if m is None:
            raise ConfigError(f"{key}: {item!r} is not http://host:port or https://host:port")
        port = int(m["port"])
        if not 0 <= port <= 65535:
            raise ConfigError(f"{key}: port {port} out of range")
        host = m["host"].strip("[]") or "0.0.0.0"
        listeners.append(HttpListener(host, port, tls=m["scheme"] == "https"))
    return tuple(listeners)


DEFAULT_PROTOCOL_MAP = {name: name for name in SECURITY_PROTOCOLS}
DEFAULT_SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SECURITY_PREFIXES = ("ssl.", "sasl.", "listener.name.")
PROTOCOL_MAP_KEY = "listener.security.protocol.map"


def parse_protocol_map(key: str, value: str) -> dict[str, str]:
    """``NAME:PROTOCOL,...`` (Kafka's listener.security.protocol.map)."""
    mapping: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, sep, protocol = item.partition(":")
        protocol = protocol.strip().upper()
        if not sep or not name.strip():
            raise ConfigError(f"{key}: {item!r} is not LISTENER_NAME:SECURITY_PROTOCOL")
        if protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                f"{key}: unknown security protocol {protocol} "
                f"(one of {', '.join(SECURITY_PROTOCOLS)})"
            )
        mapping[name.strip().upper()] = protocol
    return mapping


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
    queued_max_request_bytes: int = 268435456
    """Bytes of requests being received or handled at once, broker-wide (-1: no bound)."""
    connection_failed_authentication_delay_ms: int = 100
    listener_security_protocol_map: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_PROTOCOL_MAP)
    )
    http_listeners: tuple[HttpListener, ...] = ()
    """``http.listeners``: where the metrics and admin endpoint listens (none: off)."""
    http_admin_token: str | None = field(default=None, repr=False)
    """``http.admin.token``: the endpoint's ``Authorization: Bearer`` token (a secret)."""
    extra: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    """Every known key as given (file, then overrides): the STATIC_BROKER_CONFIG layer."""
    security: Mapping[str, str] = field(default_factory=dict, repr=False)
    """``ssl.*``, ``sasl.*`` and ``listener.name.*`` keys as given (may hold secrets)."""

    @property
    def effective_advertised_listeners(self) -> tuple[Listener, ...]:
        """Kafka falls back to ``listeners``; a wildcard host advertises 127.0.0.1."""
        chosen = self.advertised_listeners or self.listeners
        return tuple(
            dataclasses.replace(lsn, host="127.0.0.1") if lsn.host in ("", "0.0.0.0") else lsn
            for lsn in chosen
        )

    def advertised_listener(self, name: str | None) -> Listener:
        """The address clients of listener ``name`` are told (Metadata, FindCoordinator).

        ``None`` (no connection context) is the first advertised listener. A listener
        missing from ``advertised.listeners`` advertises its own bound address.
        """
        advertised = self.effective_advertised_listeners
        if name is None:
            return advertised[0]
        for listener in advertised:
            if listener.name == name:
                return listener
        bound = next((lsn for lsn in self.listeners if lsn.name == name), advertised[0])
        return (
            dataclasses.replace(bound, host="127.0.0.1") if bound.host in ("", "0.0.0.0") else bound
        )

    def security_protocol(self, listener_name: str) -> str:
        return self.listener_security_protocol_map[listener_name]

    def listener_setting(self, listener_name: str, key: str) -> str | None:
        """``listener.name.<listener>.<key>`` if set, else the global ``<key>``."""
        prefixed = f"listener.name.{listener_name.lower()}.{key}"
        for name, value in self.security.items():
            if name.lower() == prefixed:
                return value
        return self.security.get(key)

    def sasl_mechanisms(self, listener_name: str) -> tuple[str, ...]:
        value = self.listener_setting(listener_name, "sasl.enabled.mechanisms")
        if value is None:
            return DEFAULT_SASL_MECHANISMS
        return tuple(m.strip().upper() for m in value.split(",") if m.strip())

    @property
    def sasl_server_max_receive_size(self) -> int:
        """Largest frame accepted before a SASL client has authenticated (Kafka's default)."""
        value = self.security.get("sasl.server.max.receive.size")
        return 524288 if value is None else _int("sasl.server.max.receive.size", value, minimum=1)

    def tls_settings(self, listener_name: str) -> TlsSettings:
        """The ``ssl.*`` settings of one listener. As Kafka (KIP-684), the global
        ``ssl.client.auth`` does not apply to SASL_SSL listeners, only a prefixed one."""
        get = lambda key: self.listener_setting(listener_name, key)  # noqa: E731
        sasl_ssl = listener_name in self.listener_security_protocol_map and (
            self.security_protocol(listener_name) == "SASL_SSL"
        )
        if sasl_ssl:
            prefixed = f"listener.name.{listener_name.lower()}.ssl.client.auth"
            client_auth = next(
                (v for k, v in self.security.items() if k.lower() == prefixed), "none"
            )
        else:
            client_auth = get("ssl.client.auth") or "none"
        protocols = get("ssl.enabled.protocols") or "TLSv1.2,TLSv1.3"
        return TlsSettings(
            listener_name=listener_name,
            keystore_type=(get("ssl.keystore.type") or "PEM").upper(),
            keystore_location=get("ssl.keystore.location"),
            keystore_password=get("ssl.keystore.password"),
            keystore_key=get("ssl.keystore.key"),
            keystore_certificate_chain=get("ssl.keystore.certificate.chain"),
            key_password=get("ssl.key.password"),
            truststore_type=(get("ssl.truststore.type") or "PEM").upper(),
            truststore_location=get("ssl.truststore.location"),
            truststore_password=get("ssl.truststore.password"),
            truststore_certificates=get("ssl.truststore.certificates"),
            client_auth=client_auth.strip().lower(),
            enabled_protocols=tuple(p.strip() for p in protocols.split(",") if p.strip()),
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
    "queued.max.request.bytes": lambda k, v: (
        "queued_max_request_bytes",
        _int(k, v, minimum=-1),
    ),
    "connection.failed.authentication.delay.ms": lambda k, v: (
        "connection_failed_authentication_delay_ms",
        _int(k, v, minimum=0),
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
    security: dict[str, str] = {}
    for key, value in props.items():
        parser = _PARSERS.get(key)
        definition = broker_definition(key)
        if key == PROTOCOL_MAP_KEY:
            values["listener_security_protocol_map"] = parse_protocol_map(key, value)
            continue
        if key == HTTP_LISTENERS_KEY:
            values["http_listeners"] = parse_http_listeners(key, value)
            continue
        if key == HTTP_TOKEN_KEY:  # a secret: not in properties, reprs or DescribeConfigs
            values["http_admin_token"] = value or None
            continue
        if parser is None and definition is None and key.startswith(SECURITY_PREFIXES):
            security[key] = value
            continue
        if parser is None and definition is None:
            extra[key] = value
            continue
        known[key] = value
        if parser is not None:
            attr, parsed = parser(key, value)
            values[attr] = parsed
        else:
            try:
                parsed = definition.parse(value)  # type: ignore[union-attr]
                if connection_limits.listener_config(key) is not None:
                    connection_limits.check_listener_value(key, parsed)  # type: ignore[arg-type]
            except InvalidConfigError as exc:
                raise ConfigError(exc.message) from None
    if values.get("log_dirs") == ():
        raise ConfigError("log.dirs: at least one directory is required")
    try:
        connection_limits.check_per_ip(BrokerConfigLayers(static=known).value)
    except InvalidConfigError as exc:
        raise ConfigError(exc.message) from None
    config = BrokerConfig(**values, extra=extra, properties=known, security=security)  # type: ignore[arg-type]
    _check_listeners(config)
    _check_request_memory(config)
    _check_http(config)
    return config


def _check_http(config: BrokerConfig) -> None:
    """The admin endpoint names clients and principals: off loopback, only behind the
    broker's authentication: a token, or TLS that requires client certificates."""
    for listener in config.http_listeners:
        if listener.loopback or config.http_admin_token:
            continue
        if listener.tls and config.tls_settings(HTTP_TLS_LISTENER).client_auth == "required":
            continue
        raise ConfigError(
            f"{HTTP_LISTENERS_KEY}: {listener} is not a loopback address; set "
            f"{HTTP_TOKEN_KEY}, or use https:// with "
            f"listener.name.http.ssl.client.auth=required, to expose the metrics and "
            "admin endpoint"
        )


def _check_request_memory(config: BrokerConfig) -> None:
    """Every request must fit the pool, or a large one would wait for ever."""
    pool = config.queued_max_request_bytes
    if pool == 0 or 0 < pool < config.socket_request_max_bytes:
        raise ConfigError(
            f"queued.max.request.bytes: {pool} is smaller than socket.request.max.bytes "
            f"({config.socket_request_max_bytes}); it must hold the largest request (or be -1)"
        )


def _check_listeners(config: BrokerConfig) -> None:
    """Kafka's cross-checks of listeners, their protocols and SASL mechanisms."""
    names = [listener.name for listener in config.listeners]
    for name in names:
        if name not in config.listener_security_protocol_map:
            raise ConfigError(
                f"listeners: no security protocol for listener {name} in "
                "listener.security.protocol.map"
            )
        mechanisms = config.sasl_mechanisms(name)
        unsupported = [m for m in mechanisms if m not in SUPPORTED_MECHANISMS]
        if unsupported:
            raise ConfigError(
                f"sasl.enabled.mechanisms: {', '.join(unsupported)} not supported "
                f"(supported: {', '.join(SUPPORTED_MECHANISMS)})"
            )
        if config.security_protocol(name).startswith("SASL_") and not mechanisms:
            raise ConfigError(f"sasl.enabled.mechanisms: listener {name} needs a mechanism")
    for listener in config.advertised_listeners or ():
        if listener.name not in names:
            raise ConfigError(
                "advertised.listeners listener names must be equal to or a subset of the "
                f"ones defined in listeners. Found {listener.name}. The valid options "
                f"based on the current configuration are {','.join(names)}"
            )
