"""Kafka's connection-limit configs: names, the overrides format, listener prefixes.

Kafka's ``SocketServer`` limits connections with four broker configs (KIP-402, KIP-612),
all dynamic (AlterConfigs on a broker resource changes them at once) and all unlimited
(``Integer.MAX_VALUE``) by default:

================================== ==================================================
``max.connections``                connections open at once, all listeners together;
                                   ``listener.name.<listener>.max.connections`` per
                                   listener. Over it, new connections wait (accepting
                                   stops until one closes).
``max.connections.per.ip``         connections open at once from one address; over it,
                                   a new connection is closed at once.
``max.connections.per.ip.overrides`` ``host:count,host:count``: other limits for some
                                   addresses or host names (``max.connections.per.ip``
                                   may then be 0: only listed hosts may connect).
``max.connection.creation.rate``   new connections per second, all listeners together;
                                   ``listener.name.<listener>.max.connection.creation.rate``
                                   per listener. Over it, accepting waits.
================================== ==================================================

A listener-level value that is not set is the broker-wide one (Kafka resolves listener
configs with ``valuesWithPrefixOverride``), and each listener and the broker are
measured separately. The ``ip`` client-quota entity's ``connection_creation_rate``
(:mod:`broker.cluster.client_quotas`) is the fifth limit; ``broker.server.connection_
quotas`` enforces them all. Pure: no IO.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from broker.cluster.config_def import INT_MAX, InvalidConfigError, invalid_value

MAX_CONNECTIONS = "max.connections"
MAX_CONNECTIONS_PER_IP = "max.connections.per.ip"
MAX_CONNECTIONS_PER_IP_OVERRIDES = "max.connections.per.ip.overrides"
MAX_CONNECTION_CREATION_RATE = "max.connection.creation.rate"

CONNECTION_CONFIGS = frozenset(
    {
        MAX_CONNECTIONS,
        MAX_CONNECTIONS_PER_IP,
        MAX_CONNECTIONS_PER_IP_OVERRIDES,
        MAX_CONNECTION_CREATION_RATE,
    }
)
"""Kafka's ``SocketServer.ReconfigurableConfigs``."""
LISTENER_CONFIGS = frozenset({MAX_CONNECTIONS, MAX_CONNECTION_CREATION_RATE})
"""Kafka's ``SocketServer.ListenerReconfigurableConfigs``: settable per listener."""
UNLIMITED = INT_MAX

_LISTENER_KEY = re.compile(r"listener\.name\.([^.]+)\.(.+)")


def listener_key(listener_name: str, config: str) -> str:
    """``listener.name.<listener in lower case>.<config>``."""
    return f"listener.name.{listener_name.lower()}.{config}"


def listener_config(key: str) -> tuple[str, str] | None:
    """``(listener, config)`` of a listener-prefixed connection config, else None."""
    match = _LISTENER_KEY.fullmatch(key)
    if match is None or match[2] not in LISTENER_CONFIGS:
        return None
    return match[1].lower(), match[2]


def check_listener_value(key: str, value: int) -> None:
    """A listener's limit must be positive (Kafka's ``ListenerConnectionQuota``
    ``validateReconfiguration``; the broker-wide ones may be 0)."""
    if value <= 0:
        raise invalid_value(key, value, "Value must be at least 1")


def parse_overrides(name: str, value: object) -> dict[str, int]:
    """``host:count,...`` (the last ``:`` splits, so IPv6 addresses work) as a dict."""
    text = str(value).strip()
    overrides: dict[str, int] = {}
    if not text:
        return overrides
    for item in (part.strip() for part in text.split(",")):
        host, sep, count = item.rpartition(":")
        host = host.strip().strip("[]")
        if not sep or not host:
            raise invalid_value(name, value, f"{item!r} is not host:count")
        try:
            number = int(count.strip())
        except ValueError:
            raise invalid_value(name, value, f"{count.strip()!r} is not a count") from None
        if not 0 <= number <= INT_MAX:
            raise invalid_value(name, value, f"{number} is not a count from 0 to {INT_MAX}")
        overrides[host] = number
    return overrides


def validate_overrides(name: str, value: object) -> None:
    """The ``max.connections.per.ip.overrides`` validator for the config catalog."""
    parse_overrides(name, value)


def check_per_ip(value: Callable[[str], object]) -> None:
    """Kafka's cross-check: ``max.connections.per.ip`` 0 needs overrides (KafkaConfig)."""
    if value(MAX_CONNECTIONS_PER_IP) == 0 and not parse_overrides(
        MAX_CONNECTIONS_PER_IP_OVERRIDES, value(MAX_CONNECTIONS_PER_IP_OVERRIDES) or ""
    ):
        raise InvalidConfigError(
            f"{MAX_CONNECTIONS_PER_IP} can be set to zero only if "
            f"{MAX_CONNECTIONS_PER_IP_OVERRIDES} property is set."
        )
