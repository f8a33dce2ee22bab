"""``headwater produce``: kafka-console-producer.sh, one record per stdin line.

Lines are bytes (any encoding; the trailing ``\\n`` or ``\\r\\n`` is dropped). Kafka's
LineMessageReader properties are understood: ``parse.key`` with ``key.separator``
(default TAB), ``parse.headers`` with ``headers.delimiter`` (TAB), ``headers.separator``
(``,``) and ``headers.key.separator`` (``:``), ``null.marker`` and ``ignore.error``.
A line in that format is ``h1:v1,h2:v2<TAB>key<TAB>value``. ``--header k=v`` adds a
header to every record. Every failed delivery is printed and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    make_client,
    parse_assignment,
    parse_assignments,
    unescape,
)

NAME = "produce"
COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
Headers = list[tuple[str, bytes]]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME, help="produce stdin lines to a topic (kafka-console-producer.sh)"
    )
    add_client_args(parser, config_flag="--producer.config", property_flag="--producer-property")
    parser.add_argument("--topic", required=True)
    parser.add_argument(
        "--property",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="line reader setting: parse.key, key.separator, parse.headers, null.marker, ...",
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a header added to every record; repeatable",
    )
    parser.add_argument(
        "--acks",
        "--request-required-acks",
        dest="acks",
        choices=("all", "-1", "1", "0"),
        help="acknowledgements to wait for (default: the client's, all)",
    )
    parser.add_argument("--compression-type", choices=COMPRESSION, help="batch codec")
    parser.add_argument("--sync", action="store_true", help="wait for each record's delivery")
    parser.add_argument(
        "--delivery-timeout-ms",
        type=int,
        default=120000,
        help="give up on a record after this long (Kafka's default 120000)",
    )
    parser.set_defaults(tool_main=main, tool_name=NAME)


@dataclass
class LineReader:
    """Kafka's LineMessageReader: turns one input line into (key, value, headers)."""

    parse_key: bool = False
    key_separator: bytes = b"\t"
    parse_headers: bool = False
    headers_delimiter: bytes = b"\t"
    headers_separator: bytes = b","
    headers_key_separator: bytes = b":"
    null_marker: bytes | None = None
    ignore_error: bool = False
    extra_headers: Headers = field(default_factory=list)

    @classmethod
    def from_properties(cls, props: dict[str, str], headers: Headers) -> LineReader:
        known = {f for f in cls.__dataclass_fields__ if f != "extra_headers"}
        values: dict[str, Any] = {}
        for name, raw in props.items():
            attr = name.replace(".", "_")
            if attr not in known:
                raise ToolError(
                    f"unknown --property {name!r} (known: "
                    f"{', '.join(sorted(k.replace('_', '.') for k in known))})"
                )
            if attr in ("parse_key", "parse_headers", "ignore_error"):
                values[attr] = raw.strip().lower() == "true"
            else:
                values[attr] = unescape(raw).encode()
        for attr in (
            "key_separator",
            "headers_delimiter",
            "headers_separator",
            "headers_key_separator",
        ):
            if values.get(attr) == b"":
                raise ToolError(f"--property {attr.replace('_', '.')} must not be empty")
        return cls(**values, extra_headers=headers)

    def parse(self, line: bytes, number: int) -> tuple[bytes | None, bytes | None, Headers]:
        headers = list(self.extra_headers)
        rest = line
        if self.parse_headers:
            head, sep, rest = line.partition(self.headers_delimiter)
            if not sep:
                return self._bad(line, number, "headers delimiter", headers)
            headers += self._headers(head, number)
        key: bytes | None = None
        if self.parse_key:
            key, sep, rest = rest.partition(self.key_separator)
            if not sep:
                return self._bad(line, number, "key separator", headers)
            key = self._null(key)
        return key, self._null(rest), headers

    def _headers(self, text: bytes, number: int) -> Headers:
        if text == b"" or text == self.null_marker:
            return []
        parsed: Headers = []
        for item in text.split(self.headers_separator):
            name, sep, value = item.partition(self.headers_key_separator)
            if not sep and not self.ignore_error:
                raise ToolError(
                    f"line {number}: header {item!r} has no {self.headers_key_separator.decode()!r}"
                )
            parsed.append((name.decode("utf-8", "replace"), value))
        return parsed

    def _bad(
        self, line: bytes, number: int, what: str, headers: Headers
    ) -> tuple[bytes | None, bytes | None, Headers]:
        if self.ignore_error:
            return None, self._null(line), headers
        raise ToolError(f"no {what} found on line number {number}: {line!r}")

    def _null(self, value: bytes) -> bytes | None:
        return None if self.null_marker is not None and value == self.null_marker else value


class Deliveries:
    """Delivery reports: counts, and every failure printed as it arrives."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.delivered = 0
        self.failed = 0

    def __call__(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
            return
        self.report(error.str())

    def refused(self, line: int, exc: KafkaException) -> None:
        self.report(f"{describe_error(exc)} (line {line})")

    def report(self, reason: str) -> None:
        self.failed += 1
        print(
            f"headwater {NAME}: error: delivery to {self.topic} failed: {reason}", file=sys.stderr
        )


def main(args: argparse.Namespace) -> int:
    headers = [(k, v.encode()) for k, v in (parse_assignment(h, "--header") for h in args.header)]
    reader = LineReader.from_properties(parse_assignments(args.property, "--property"), headers)
    errors = ClientErrors()
    extra: dict[str, Any] = {"delivery.timeout.ms": args.delivery_timeout_ms}
    if args.acks is not None:
        extra["acks"] = args.acks
    if args.compression_type is not None:
        extra["compression.type"] = args.compression_type
    config = client_config(args, errors, **{"linger.ms": 5})
    config.update(extra)
    producer: Producer = make_client(Producer, config)
    deliveries = Deliveries(args.topic)
    sent = 0
    try:
        sent = _send_lines(producer, args, reader, deliveries, sys.stdin.buffer)
    finally:  # a bad line or Ctrl-C still delivers what was read before it
        remaining = producer.flush(args.delivery_timeout_ms / 1000 + 5)
    if remaining:
        raise ToolError(f"{remaining} of {sent} records not delivered{errors.hint()}")
    return 1 if deliveries.failed else 0


def _send_lines(
    producer: Producer,
    args: argparse.Namespace,
    reader: LineReader,
    deliveries: Deliveries,
    stream: BinaryIO,
) -> int:
    sent = 0
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\n").removesuffix(b"\r")
        key, value, headers = reader.parse(line, number)
        while True:
            try:
                producer.produce(
                    args.topic,
                    value=value,
                    key=key,
                    headers=headers or None,
                    on_delivery=deliveries,
                )
                break
            except BufferError:  # local queue full: let deliveries drain it
                producer.poll(0.1)
            except KafkaException as exc:  # refused before sending, e.g. too large
                deliveries.refused(number, exc)
                break
        sent += 1
        if args.sync:
            producer.flush()
        else:
            producer.poll(0)
    return sent
