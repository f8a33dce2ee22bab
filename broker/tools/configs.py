"""``headwater configs``: kafka-configs.sh for topics and brokers.

``--describe`` uses DescribeConfigs and prints, as Kafka does, the dynamic configs only
(``--all`` for every config) as ``name=value sensitive=false synonyms={SOURCE:name=value,
...}``. ``--alter`` uses IncrementalAlterConfigs: ``--add-config k=v,k2=[a,b]`` sets
(square brackets keep a comma list together), ``--delete-config k,k2`` reverts to the
default. Entities: ``--entity-type topics|brokers`` with ``--entity-name X`` (without
it, ``--describe`` shows every topic or broker), or the shorthands ``--topic`` and
``--broker``. The cluster-wide broker default (Kafka's ``--entity-default``) is the
broker resource named ``""``, which librdkafka refuses to send: those flags exist only
to say so.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    ResourceType,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    make_client,
    read_properties,
)

NAME = "configs"
DYNAMIC_SOURCE = {
    "topic": ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
    "broker": ConfigSource.DYNAMIC_BROKER_CONFIG.value,
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME, help="describe and alter topic and broker configs (kafka-configs.sh)"
    )
    add_client_args(parser)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--describe", action="store_true", help="show configs")
    action.add_argument("--alter", action="store_true", help="change configs")
    parser.add_argument("--entity-type", choices=("topics", "brokers"))
    parser.add_argument("--entity-name", help="topic name or broker id")
    parser.add_argument(
        "--entity-default",
        action="store_true",
        help="brokers: the cluster-wide default (refused: librdkafka cannot send it)",
    )
    parser.add_argument("--topic", help="shorthand for --entity-type topics --entity-name")
    parser.add_argument("--broker", help="shorthand for --entity-type brokers --entity-name")
    parser.add_argument(
        "--broker-defaults",
        action="store_true",
        help="shorthand for brokers --entity-default (refused likewise)",
    )
    parser.add_argument("--all", action="store_true", help="--describe: every config")
    parser.add_argument("--add-config", metavar="K=V,K2=[A,B]", help="configs to set")
    parser.add_argument(
        "--add-config-file", type=Path, metavar="FILE", help="a properties file to set"
    )
    parser.add_argument("--delete-config", metavar="K,K2", help="configs to revert to default")
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.set_defaults(tool_main=main, tool_name=NAME)


@dataclass(frozen=True)
class Entity:
    kind: str  # "topic" or "broker"
    name: str  # topic name or broker id

    @property
    def resource_type(self) -> ResourceType:
        return ResourceType.TOPIC if self.kind == "topic" else ResourceType.BROKER

    def label(self) -> str:
        return f"{self.kind} {self.name}"


def main(args: argparse.Namespace) -> int:
    kind, name = _entity_spec(args)
    errors = ClientErrors()
    admin: AdminClient = make_client(AdminClient, client_config(args, errors))
    timeout = args.timeout_ms / 1000
    if args.alter:
        if name is None:
            raise ToolError("--alter needs --entity-name or --entity-default")
        return _alter(admin, Entity(kind, name), args, timeout, errors)
    entities = [Entity(kind, name)] if name is not None else _all(admin, kind, timeout, errors)
    for entity in entities:
        _describe(admin, entity, args.all, timeout, errors)
    return 0


def _entity_spec(args: argparse.Namespace) -> tuple[str, str | None]:
    """("topic"|"broker", name or None for every entity of the type)."""
    chosen = [
        (kind, name)
        for flag, kind, name in (
            (args.topic, "topic", args.topic),
            (args.broker, "broker", args.broker),
            (args.broker_defaults, "default", ""),
        )
        if flag
    ]
    if args.entity_type:
        kind = "topic" if args.entity_type == "topics" else "broker"
        if args.entity_default:
            if kind == "topic":
                raise ToolError("--entity-default applies to brokers only")
            chosen.append(("default", ""))
        else:
            chosen.append((kind, args.entity_name))
    elif args.entity_name or args.entity_default:
        raise ToolError("--entity-name and --entity-default need --entity-type")
    if len(chosen) != 1:
        raise ToolError(
            "name exactly one entity: --entity-type topics|brokers (with "
            "--entity-name/--entity-default), --topic, --broker or --broker-defaults"
        )
    kind, name = chosen[0]
    if kind == "default":
        # The cluster-wide default is the broker resource named "", which librdkafka
        # refuses to send ("Invalid ConfigResource"): say so instead of failing obscurely.
        raise ToolError(
            "the cluster-wide broker default (--entity-default/--broker-defaults) "
            "cannot be addressed through confluent-kafka; use --entity-name ID "
            "for each broker"
        )
    if kind == "broker" and name is not None and not name.isdigit():
        raise ToolError(f"a broker is named by its numeric id, got {name!r}")
    return kind, name


def _all(admin: AdminClient, kind: str, timeout: float, errors: ClientErrors) -> list[Entity]:
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ToolError(f"cannot read metadata: {describe_error(exc)}{errors.hint()}") from exc
    names = sorted(metadata.topics) if kind == "topic" else sorted(metadata.brokers)
    return [Entity(kind, str(name)) for name in names]


def _describe(
    admin: AdminClient, entity: Entity, every: bool, timeout: float, errors: ClientErrors
) -> None:
    resource = ConfigResource(entity.resource_type, entity.name)
    future = admin.describe_configs([resource], request_timeout=timeout)[resource]
    try:
        entries: dict[str, ConfigEntry] = future.result(timeout=timeout)
    except KafkaException as exc:
        raise ToolError(f"{entity.label()}: {describe_error(exc)}{errors.hint()}") from exc
    shown = [
        e
        for e in sorted(entries.values(), key=lambda e: e.name)
        if every or int(e.source) == DYNAMIC_SOURCE[entity.kind]
    ]
    print(f"{'All' if every else 'Dynamic'} configs for {entity.label()} are:")
    for entry in shown:
        synonyms = ", ".join(
            f"{_source_name(s.source)}:{s.name}={_value(s)}" for s in entry.synonyms.values()
        )
        print(
            f"  {entry.name}={_value(entry)} sensitive={str(entry.is_sensitive).lower()} "
            f"synonyms={{{synonyms}}}"
        )


def _value(entry: ConfigEntry) -> str:
    return "null" if entry.is_sensitive or entry.value is None else str(entry.value)


def _source_name(source: Any) -> str:
    try:
        return ConfigSource(int(source)).name
    except ValueError:
        return f"SOURCE_{int(source)}"


def split_config_list(text: str) -> dict[str, str]:
    """Kafka's ``k1=v1,k2=[v1,v2],k3=v3``: commas inside brackets belong to the value."""
    items: list[str] = []
    depth, current = 0, ""
    for char in text:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current += char
    items.append(current)
    configs: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ToolError(f"--add-config entries look like KEY=VALUE, got {item!r}")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        configs[key.strip()] = value
    return configs


def _alter(
    admin: AdminClient,
    entity: Entity,
    args: argparse.Namespace,
    timeout: float,
    errors: ClientErrors,
) -> int:
    to_set = split_config_list(args.add_config or "")
    if args.add_config_file:
        to_set.update(read_properties(args.add_config_file))
    to_delete = [k.strip() for k in (args.delete_config or "").split(",") if k.strip()]
    if not to_set and not to_delete:
        raise ToolError("--alter needs --add-config, --add-config-file or --delete-config")
    both = sorted(set(to_set) & set(to_delete))
    if both:
        raise ToolError(f"both added and deleted: {', '.join(both)}")
    ops = [
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in to_set.items()
    ]
    ops += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in to_delete]
    resource = ConfigResource(entity.resource_type, entity.name, incremental_configs=ops)
    future = admin.incremental_alter_configs([resource], request_timeout=timeout)[resource]
    try:
        future.result(timeout=timeout)
    except KafkaException as exc:
        raise ToolError(f"{entity.label()}: {describe_error(exc)}{errors.hint()}") from exc
    print(f"Completed updating config for {entity.label()}.")
    return 0
