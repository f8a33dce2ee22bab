"""``headwater topics``: kafka-topics.sh (create, list, describe, alter, delete).

Output follows kafka-topics.sh: ``Created topic T.``; ``--describe`` prints one summary
line per topic (``Topic: ... TopicId: ... PartitionCount: ... ReplicationFactor: ...
Configs: k=v,...`` with only non-default configs) and one line per partition
(``Partition: 0 Leader: 1 Replicas: 1 Isr: 1``). ``--topic`` is a regular expression
(whole-name match) for ``--list`` and ``--describe``; an exact name elsewhere.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    error_code_name,
    make_client,
    parse_assignments,
    warn,
)

NAME = "topics"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME, help="create, list, describe, alter and delete topics (kafka-topics.sh)"
    )
    add_client_args(parser)
    action = parser.add_mutually_exclusive_group(required=True)
    for flag, text in (
        ("--create", "create a topic"),
        ("--list", "list topic names"),
        ("--describe", "describe topics: partitions, leader, replicas, isr, configs"),
        ("--alter", "increase a topic's partition count"),
        ("--delete", "delete a topic"),
    ):
        action.add_argument(flag, action="store_true", help=text)
    parser.add_argument("--topic", help="topic name (a regex for --list and --describe)")
    parser.add_argument("--partitions", type=int, help="partition count (default: broker's)")
    parser.add_argument(
        "--replication-factor", type=int, help="replication factor (default: broker's)"
    )
    parser.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help="topic config"
    )
    parser.add_argument("--if-not-exists", action="store_true", help="--create: ok if it exists")
    parser.add_argument("--if-exists", action="store_true", help="--alter/--delete: ok if absent")
    parser.add_argument(
        "--exclude-internal", action="store_true", help="skip topics whose name starts with __"
    )
    parser.add_argument(
        "--timeout-ms", type=int, default=30000, help="how long to wait for the cluster"
    )
    parser.set_defaults(tool_main=main, tool_name=NAME)


def main(args: argparse.Namespace) -> int:
    errors = ClientErrors()
    admin: AdminClient = make_client(AdminClient, client_config(args, errors))
    timeout = args.timeout_ms / 1000
    if args.create:
        return _create(admin, args, timeout, errors)
    if args.list:
        for name in _matching(admin, args, timeout, errors):
            print(name)
        return 0
    if args.describe:
        return _describe(admin, args, timeout, errors)
    if args.alter:
        return _alter(admin, args, timeout, errors)
    return _delete(admin, args, timeout, errors)


def _need_topic(args: argparse.Namespace, what: str) -> str:
    if not args.topic:
        raise ToolError(f"{what} needs --topic")
    return str(args.topic)


def _wait(future: Any, timeout: float, errors: ClientErrors) -> Any:
    try:
        return future.result(timeout=timeout)
    except KafkaException as exc:
        raise ToolError(describe_error(exc) + errors.hint()) from exc
    except TimeoutError as exc:
        raise ToolError(f"no answer from the cluster in {timeout:g}s{errors.hint()}") from exc


def _topic_names(admin: AdminClient, timeout: float, errors: ClientErrors) -> list[str]:
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ToolError(f"cannot list topics: {describe_error(exc)}{errors.hint()}") from exc
    return sorted(metadata.topics)


def _matching(
    admin: AdminClient, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> list[str]:
    names = _topic_names(admin, timeout, errors)
    if args.exclude_internal:
        names = [n for n in names if not n.startswith("__")]
    if args.topic is None:
        return names
    try:
        pattern = re.compile(args.topic)
    except re.error as exc:
        raise ToolError(f"--topic {args.topic!r} is not a valid regular expression: {exc}") from exc
    return [n for n in names if n == args.topic or pattern.fullmatch(n)]


def _create(
    admin: AdminClient, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> int:
    topic = _need_topic(args, "--create")
    for flag, value in (
        ("--partitions", args.partitions),
        ("--replication-factor", args.replication_factor),
    ):
        if value is not None and value < 1:
            raise ToolError(f"{flag} must be at least 1, got {value}")
    new = NewTopic(
        topic,
        num_partitions=args.partitions if args.partitions is not None else -1,
        replication_factor=args.replication_factor if args.replication_factor is not None else -1,
        config=parse_assignments(args.config, "--config"),
    )
    future = admin.create_topics([new], request_timeout=timeout)[topic]
    try:
        future.result(timeout=timeout)
    except KafkaException as exc:
        if args.if_not_exists and error_code_name(exc) == "TOPIC_ALREADY_EXISTS":
            return 0
        raise ToolError(describe_error(exc) + errors.hint()) from exc
    print(f"Created topic {topic}.")
    return 0


def _describe(
    admin: AdminClient, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> int:
    names = _matching(admin, args, timeout, errors)
    if args.topic is not None and not names:
        raise ToolError(f"Topic '{args.topic}' does not exist as expected")
    if not names:
        return 0
    futures = admin.describe_topics(TopicCollection(names), request_timeout=timeout)
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    config_futures = admin.describe_configs(resources, request_timeout=timeout)
    for name, resource in zip(names, resources, strict=True):
        description = _wait(futures[name], timeout, errors)
        configs = _non_default_configs(config_futures[resource], timeout, name)
        partitions = sorted(description.partitions, key=lambda p: p.id)
        replication = len(partitions[0].replicas) if partitions else 0
        print(
            f"Topic: {name}\tTopicId: {_kafka_uuid(description.topic_id)}\t"
            f"PartitionCount: {len(partitions)}\tReplicationFactor: {replication}\t"
            f"Configs: {configs}"
        )
        for p in partitions:
            leader = p.leader.id if p.leader is not None else "none"
            replicas = ",".join(str(node.id) for node in p.replicas)
            isr = ",".join(str(node.id) for node in p.isr)
            print(
                f"\tTopic: {name}\tPartition: {p.id}\tLeader: {leader}\t"
                f"Replicas: {replicas}\tIsr: {isr}"
            )
    return 0


def _kafka_uuid(topic_id: object) -> str:
    """Kafka prints topic IDs in URL-safe base64 (confluent-kafka's str() is standard)."""
    return str(topic_id).replace("+", "-").replace("/", "_")


def _non_default_configs(future: Any, timeout: float, topic: str) -> str:
    """``k=v,...`` of the configs not at their default; a cluster without DescribeConfigs
    still gets its partitions described (with a warning)."""
    try:
        entries = future.result(timeout=timeout)
    except (KafkaException, TimeoutError) as exc:
        warn(NAME, f"configs of {topic} unavailable: {describe_error(exc)}")
        return ""
    return ",".join(
        f"{e.name}={'<sensitive>' if e.is_sensitive else e.value}"
        for e in sorted(entries.values(), key=lambda e: e.name)
        if not e.is_default
    )


def _alter(
    admin: AdminClient, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> int:
    topic = _need_topic(args, "--alter")
    if args.partitions is None:
        raise ToolError("--alter needs --partitions (change configs with `headwater configs`)")
    if args.replication_factor is not None or args.config:
        raise ToolError("--alter only changes --partitions")
    futures = admin.create_partitions(
        [NewPartitions(topic, args.partitions)], request_timeout=timeout
    )
    if _existing(futures[topic], topic, args, timeout, errors):
        print(f"Topic {topic} now has {args.partitions} partitions.")
    return 0


def _delete(
    admin: AdminClient, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> int:
    topic = _need_topic(args, "--delete")
    futures = admin.delete_topics([topic], request_timeout=timeout)
    if _existing(futures[topic], topic, args, timeout, errors):
        print(f"Deleted topic {topic}.")
    return 0


def _existing(
    future: Any, topic: str, args: argparse.Namespace, timeout: float, errors: ClientErrors
) -> bool:
    """Wait for an alter/delete: False if the topic is absent and --if-exists allows it."""
    try:
        future.result(timeout=timeout)
    except KafkaException as exc:
        if error_code_name(exc) != "UNKNOWN_TOPIC_OR_PART":
            raise ToolError(describe_error(exc) + errors.hint()) from exc
        if args.if_exists:
            return False
        raise ToolError(f"Topic '{topic}' does not exist as expected") from exc
    except TimeoutError as exc:
        raise ToolError(f"no answer from the cluster in {timeout:g}s{errors.hint()}") from exc
    return True
