"""``headwater quotas``: client quotas, as ``kafka-configs.sh --entity-type users|clients|ips``.

    headwater quotas --bootstrap-server HOST:PORT --describe [--user alice] [--client-id etl]
    headwater quotas --alter --user alice --add-config 'producer_byte_rate=1048576'
    headwater quotas --alter --user-defaults --client-id etl --delete-config consumer_byte_rate
    headwater quotas --alter --ip 10.0.0.7 --add-config connection_creation_rate=10

``--user NAME`` / ``--user-defaults`` and ``--client-id NAME`` / ``--client-defaults``
name the entity and may be combined (a user's quota for one client-id). ``--describe``
lists the entities that have exactly those parts (every quota when none is given).
``--ip ADDRESS`` / ``--ip-defaults`` name an ip entity (KIP-612), alone: its one quota is
``connection_creation_rate``, new connections per second from that address.

confluent-kafka has no client-quota admin API, so this tool speaks DescribeClientQuotas
and AlterClientQuotas (KIP-546) through kafka-python's connection and message classes,
which handle SASL and TLS. ``--command-config`` / ``--command-property`` take the same
librdkafka-named settings as the other tools; the ones a kafka-python connection needs
are translated (``security.protocol``, ``sasl.mechanism``, ``sasl.username``,
``sasl.password``, ``ssl.ca.location``, ``ssl.certificate.location``,
``ssl.key.location``, ``ssl.key.password``, ``ssl.endpoint.identification.algorithm``,
``client.id``); any other setting is refused with its name.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from broker.common.client_properties import kafka_python_setting
from broker.common.plan_limits import LIMIT_QUOTA_KEYS
from broker.tools.client_config import ToolError, add_client_args, read_properties
from broker.tools.client_config import parse_assignments as _parse_assignments

NAME = "quotas"
QUOTA_KEYS = (
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
    *LIMIT_QUOTA_KEYS.values(),
)
IP_QUOTA_KEYS = ("connection_creation_rate",)
MATCH_TYPE_EXACT = 0
MATCH_TYPE_DEFAULT = 1


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME,
        help="describe and alter client quotas (kafka-configs.sh --entity-type users|clients|ips)",
    )
    add_client_args(parser)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--describe", action="store_true", help="list quota configs")
    action.add_argument("--alter", action="store_true", help="set or delete quota configs")
    user = parser.add_mutually_exclusive_group()
    user.add_argument("--user", metavar="NAME", help="a user (principal name, e.g. alice)")
    user.add_argument("--user-defaults", action="store_true", help="the default user")
    client = parser.add_mutually_exclusive_group()
    client.add_argument("--client-id", metavar="NAME", help="a client-id")
    client.add_argument("--client-defaults", action="store_true", help="the default client-id")
    ip = parser.add_mutually_exclusive_group()
    ip.add_argument("--ip", metavar="ADDRESS", help="an IP address or host name (KIP-612)")
    ip.add_argument("--ip-defaults", action="store_true", help="the default ip entity")
    parser.add_argument(
        "--add-config",
        metavar="K=V,K=V",
        help=f"quota configs to set: {', '.join(QUOTA_KEYS)}; for an ip entity "
        f"{', '.join(IP_QUOTA_KEYS)}",
    )
    parser.add_argument("--delete-config", metavar="K,K", help="quota configs to remove")
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.set_defaults(tool_main=main, tool_name=NAME)


def _entity(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """``(entity_type, name)`` pairs; a None name is the default entity."""
    entity: list[tuple[str, str | None]] = []
    if args.user is not None or args.user_defaults:
        entity.append(("user", args.user))
    if args.client_id is not None or args.client_defaults:
        entity.append(("client-id", args.client_id))
    if args.ip is not None or args.ip_defaults:
        if entity:
            raise ToolError("--ip/--ip-defaults cannot be combined with a user or client-id")
        entity.append(("ip", args.ip))
    return entity


def _ops(args: argparse.Namespace) -> list[tuple[str, float, bool]]:
    ops: list[tuple[str, float, bool]] = []
    if args.add_config:
        for key, raw in _parse_assignments(args.add_config.split(","), "--add-config").items():
            try:
                value = float(raw)
            except ValueError:
                raise ToolError(f"--add-config: {key} needs a number, got {raw!r}") from None
            ops.append((key, value, False))
    if args.delete_config:
        ops.extend((key.strip(), 0.0, True) for key in args.delete_config.split(",") if key.strip())
    return ops


def connection_settings(args: argparse.Namespace) -> dict[str, Any]:
    """kafka-python settings from the librdkafka-named ones of --command-config/-property."""
    props: dict[str, str] = {}
    if args.client_config_file:
        props.update(read_properties(args.client_config_file))
    props.update(_parse_assignments(args.client_properties or [], "a property"))
    settings: dict[str, Any] = {
        "bootstrap_servers": args.bootstrap_server.split(","),
        "request_timeout_ms": args.timeout_ms,
    }
    for key, value in props.items():
        if key == "ssl.endpoint.identification.algorithm":
            settings["ssl_check_hostname"] = value.lower() == "https"
        elif (translated := kafka_python_setting(key, value)) is not None:
            settings[translated[0]] = translated[1]
        else:
            raise ToolError(f"the client setting {key} is not supported by headwater {NAME}")
    return settings


def entity_label(entity: list[tuple[str, str | None]]) -> str:
    """``user-principal 'alice', the default client-id``: kafka-configs.sh's wording."""
    parts = []
    for entity_type, name in entity:
        label = {"user": "user-principal", "ip": "ip"}.get(entity_type, entity_type)
        parts.append(f"the default {label}" if name is None else f"{label} '{name}'")
    return ", ".join(parts)


def describe_line(entity: list[tuple[str, str | None]], values: dict[str, float]) -> str:
    configs = ",".join(f"{key}={value}" for key, value in sorted(values.items()))
    return f"Quota configs for {entity_label(entity)} are {configs}"


class _Client:
    """One kafka-python connection to the cluster, for the two quota requests."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from kafka.errors import KafkaError
        from kafka.net.compat import KafkaNetClient

        if not logging.getLogger().isEnabledFor(logging.DEBUG):  # kafka-python chats at INFO
            logging.getLogger("kafka").setLevel(logging.WARNING)
        try:
            self._client = KafkaNetClient(**settings)
            self._client.check_version(timeout_ms=settings["request_timeout_ms"])
        except (KafkaError, ValueError, TypeError, OSError) as exc:
            raise ToolError(
                f"cannot reach {','.join(settings['bootstrap_servers'])}: {exc}"
            ) from exc
        self._timeout_ms = settings["request_timeout_ms"]

    def send(self, request: Any) -> Any:
        from kafka.errors import KafkaError

        try:
            node = self._client.least_loaded_node()
            return self._client.send_and_receive(node, request, timeout_ms=self._timeout_ms)
        except KafkaError as exc:
            raise ToolError(str(exc)) from exc

    def close(self) -> None:
        self._client.close()


def _error(code: int, message: str | None) -> str:
    from kafka.errors import for_code

    name = for_code(code).__name__.removesuffix("Error")
    return f"{name}: {message}" if message else name


def main(args: argparse.Namespace) -> int:
    from kafka.protocol.admin import AlterClientQuotasRequest, DescribeClientQuotasRequest

    entity = _entity(args)
    ops = _ops(args)
    if args.alter and not entity:
        raise ToolError(
            "--alter needs --user/--user-defaults and/or --client-id/--client-defaults, "
            "or --ip/--ip-defaults"
        )
    if args.alter and not ops:
        raise ToolError("--alter needs --add-config and/or --delete-config")
    if args.describe and ops:
        raise ToolError("--add-config and --delete-config go with --alter")
    client = _Client(connection_settings(args))
    try:
        if args.describe:
            component = DescribeClientQuotasRequest.ComponentData
            response = client.send(
                DescribeClientQuotasRequest(
                    components=[
                        component(
                            entity_type=entity_type,
                            match_type=MATCH_TYPE_DEFAULT if name is None else MATCH_TYPE_EXACT,
                            match=name,
                        )
                        for entity_type, name in entity
                    ],
                    strict=bool(entity),
                )
            )
            if response.error_code:
                raise ToolError(_error(response.error_code, response.error_message))
            for entry in response.entries or []:
                print(
                    describe_line(
                        [(e.entity_type, e.entity_name) for e in entry.entity],
                        {v.key: v.value for v in entry.values},
                    )
                )
            return 0
        entry_type = AlterClientQuotasRequest.EntryData
        response = client.send(
            AlterClientQuotasRequest(
                entries=[
                    entry_type(
                        entity=[
                            entry_type.EntityData(entity_type=t, entity_name=n) for t, n in entity
                        ],
                        ops=[
                            entry_type.OpData(key=key, value=value, remove=remove)
                            for key, value, remove in ops
                        ],
                    )
                ],
                validate_only=False,
            )
        )
        result = response.entries[0]
        if result.error_code:
            raise ToolError(_error(result.error_code, result.error_message))
        print(f"Completed updating config for {entity_label(entity)}.")
        return 0
    finally:
        client.close()
