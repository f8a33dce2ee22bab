"""``headwater consume``: kafka-console-consumer.sh, records to stdout one per line.

Without ``--group`` the consumer assigns itself the topic's partitions (all, or
``--partition P``) at an explicit position: the end (default), the beginning
(``--from-beginning``), ``--offset N|earliest|latest`` (with ``--partition``), or the
first record at or after ``--from-timestamp`` (epoch ms or ISO 8601; a time without a
zone is local time). It commits nothing and needs no group coordinator.

With ``--group G`` it subscribes as member of consumer group G and commits offsets, as
Kafka's tool does; that needs a broker with a group coordinator (Headwater has one;
a cluster without one never assigns partitions, and the tool warns after 10 s).

Output is Kafka's DefaultMessageFormatter: optional ``CreateTime:ms``, ``Partition:p``,
``Offset:o``, headers (``k:v,k2:v2`` or ``NO_HEADERS``) and key, then the value, joined
by ``key.separator`` (TAB); ``null.literal`` stands for a null key or value. Choose the
fields with ``--print-key`` ... or Kafka's ``--property print.key=true``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    TIMESTAMP_LOG_APPEND_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    make_client,
    parse_assignments,
    unescape,
    warn,
)

NAME = "consume"
GROUP_WARNING_S = 10
PRINT_FIELDS = ("timestamp", "partition", "offset", "headers", "key", "value")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(NAME, help="print a topic's records (kafka-console-consumer.sh)")
    add_client_args(parser, config_flag="--consumer.config", property_flag="--consumer-property")
    parser.add_argument("--topic", required=True)
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--from-beginning", action="store_true", help="start at the earliest")
    start.add_argument("--offset", help="with --partition: N, earliest or latest")
    start.add_argument(
        "--from-timestamp",
        metavar="MS|ISO8601",
        help="start at the first record at/after this time (epoch ms or ISO 8601)",
    )
    parser.add_argument("--partition", type=int, help="read only this partition")
    parser.add_argument("--group", help="subscribe as a member of this consumer group")
    parser.add_argument("--max-messages", type=int, help="exit after this many records")
    parser.add_argument("--timeout-ms", type=int, help="exit when no record arrives for this long")
    for field in PRINT_FIELDS[:-1]:
        parser.add_argument(f"--print-{field}", action="store_true", help=f"print the {field}")
    parser.add_argument(
        "--property",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="formatter setting: print.key, print.value, key.separator, null.literal, ...",
    )
    parser.set_defaults(tool_main=main, tool_name=NAME)


@dataclass
class Formatter:
    """Kafka's DefaultMessageFormatter, writing bytes."""

    fields: tuple[str, ...] = ("value",)
    key_separator: bytes = b"\t"
    line_separator: bytes = b"\n"
    headers_separator: bytes = b","
    null_literal: bytes = b"null"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Formatter:
        props = parse_assignments(args.property, "--property")
        wanted = {f for f in PRINT_FIELDS if getattr(args, f"print_{f}", False)} | {"value"}
        settings: dict[str, bytes] = {}
        for name, raw in props.items():
            if name.startswith("print.") and name[6:] in PRINT_FIELDS:
                (wanted.add if raw.strip().lower() == "true" else wanted.discard)(name[6:])
            elif name in ("key.separator", "line.separator", "headers.separator", "null.literal"):
                settings[name.replace(".", "_")] = unescape(raw).encode()
            elif not name.endswith((".deserializer", ".encoding")):
                raise ToolError(f"unknown --property {name!r}")
        return cls(fields=tuple(f for f in PRINT_FIELDS if f in wanted), **settings)

    def format(self, message: Message) -> bytes:
        parts: list[bytes] = []
        for field in self.fields:
            if field == "timestamp":
                kind, stamp = message.timestamp()
                parts.append(
                    b"NO_TIMESTAMP"
                    if kind == TIMESTAMP_NOT_AVAILABLE
                    else (
                        b"LogAppendTime:" if kind == TIMESTAMP_LOG_APPEND_TIME else b"CreateTime:"
                    )
                    + str(stamp).encode()
                )
            elif field == "partition":
                parts.append(b"Partition:%d" % message.partition())
            elif field == "offset":
                parts.append(b"Offset:%d" % message.offset())
            elif field == "headers":
                headers = message.headers() or []
                parts.append(
                    self.headers_separator.join(
                        k.encode() + b":" + (self.null_literal if v is None else v)
                        for k, v in headers
                    )
                    if headers
                    else b"NO_HEADERS"
                )
            else:
                data = message.key() if field == "key" else message.value()
                parts.append(self.null_literal if data is None else data)
        return self.key_separator.join(parts) + self.line_separator


def main(args: argparse.Namespace) -> int:
    formatter = Formatter.from_args(args)
    if args.offset is not None and args.partition is None:
        raise ToolError("--offset needs --partition")
    if args.group and (args.partition is not None or args.offset or args.from_timestamp):
        raise ToolError(
            "--group cannot be combined with --partition, --offset or "
            "--from-timestamp (a group decides where its members start)"
        )
    start_ms = _parse_timestamp(args.from_timestamp) if args.from_timestamp else None
    errors = ClientErrors()
    defaults: dict[str, Any] = {
        "group.id": args.group or f"headwater-console-consumer-{os.getpid()}",
        "enable.auto.commit": bool(args.group),
        "enable.auto.offset.store": bool(args.group),
        "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        "allow.auto.create.topics": False,
    }
    consumer: Consumer = make_client(Consumer, client_config(args, errors, **defaults))
    counter = [0]
    try:
        if args.group:
            consumer.subscribe([args.topic])
        else:
            consumer.assign(_positions(consumer, args, start_ms, errors))
        try:
            _print_records(consumer, args, formatter, sys.stdout.buffer, errors, counter)
        finally:
            print(f"Processed a total of {counter[0]} messages", file=sys.stderr)
    finally:
        consumer.close()
    return 0


def _parse_timestamp(text: str) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ToolError(f"--from-timestamp {text!r} is neither epoch ms nor ISO 8601") from exc
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as Kafka's tools read zone-less times
    return int(moment.timestamp() * 1000)


def _positions(
    consumer: Consumer, args: argparse.Namespace, start_ms: int | None, errors: ClientErrors
) -> list[TopicPartition]:
    try:
        metadata = consumer.list_topics(args.topic, timeout=30)
    except KafkaException as exc:
        raise ToolError(f"cannot read metadata: {describe_error(exc)}{errors.hint()}") from exc
    topic = metadata.topics.get(args.topic)
    if topic is None or topic.error is not None:
        reason = topic.error.str() if topic is not None and topic.error else "unknown topic"
        raise ToolError(f"topic {args.topic}: {reason}")
    partitions = sorted(topic.partitions)
    if args.partition is not None:
        if args.partition not in partitions:
            raise ToolError(
                f"topic {args.topic} has no partition {args.partition} "
                f"(partitions 0-{len(partitions) - 1})"
            )
        partitions = [args.partition]
    if start_ms is not None:
        wanted = [TopicPartition(args.topic, p, start_ms) for p in partitions]
        try:
            found = consumer.offsets_for_times(wanted, timeout=30)
        except KafkaException as exc:
            raise ToolError(f"cannot look up offsets by time: {describe_error(exc)}") from exc
        # -1: no record that late yet, so wait at the end for the next one.
        return [
            TopicPartition(args.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
            for tp in found
        ]
    return [TopicPartition(args.topic, p, _start_offset(args)) for p in partitions]


def _start_offset(args: argparse.Namespace) -> int:
    if args.from_beginning:
        return OFFSET_BEGINNING
    if args.offset is None or args.offset == "latest":
        return OFFSET_END
    if args.offset == "earliest":
        return OFFSET_BEGINNING
    try:
        offset = int(args.offset)
    except ValueError as exc:
        raise ToolError(f"--offset must be a number, earliest or latest: {args.offset!r}") from exc
    if offset < 0:
        raise ToolError(f"--offset must not be negative: {offset}")
    return offset


def _print_records(
    consumer: Consumer,
    args: argparse.Namespace,
    formatter: Formatter,
    out: BinaryIO,
    errors: ClientErrors,
    counter: list[int],
) -> None:
    """Write records until --max-messages or --timeout-ms; ``counter[0]`` counts them
    (a list, so the caller can report the count when Ctrl-C interrupts)."""
    idle_since = started = time.monotonic()
    unassigned_warning = bool(args.group)
    while args.max_messages is None or counter[0] < args.max_messages:
        message = consumer.poll(0.2)
        now = time.monotonic()
        if unassigned_warning and now - started >= GROUP_WARNING_S:
            unassigned_warning = False
            if not consumer.assignment():
                warn(
                    NAME,
                    f"group {args.group} got no partitions in {GROUP_WARNING_S} s: the "
                    "cluster may have no group coordinator; "
                    "without --group the consumer assigns partitions itself",
                )
        if message is None:
            if args.timeout_ms is not None and (now - idle_since) * 1000 >= args.timeout_ms:
                break
            continue
        idle_since = now
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                continue
            if error.fatal() or not error.retriable():
                raise ToolError(f"{error.str()}{errors.hint()}")
            continue
        line = formatter.format(message)
        counter[0] += 1  # before writing: a reader never sees an uncounted record
        out.write(line)
        out.flush()
