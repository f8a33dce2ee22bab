"""What every tool shares: the connection options, client properties and user errors.

Client properties use librdkafka's names, which for common settings are Kafka's own
(``acks``, ``compression.type``, ``linger.ms``, ``security.protocol``...). They come
from a properties file (``--command-config``, ``--producer.config``...) and repeatable
``KEY=VALUE`` options, the options winning, as in Kafka's tools. A bad name or value is
a :class:`ToolError` naming it, not a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"

ClientConfig = dict[str, Any]


class ToolError(Exception):
    """A user-facing failure: printed as ``headwater <tool>: error: <message>``, exit 1."""


def add_bootstrap_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap-server",
        default=DEFAULT_BOOTSTRAP,
        metavar="HOST:PORT",
        help=f"the Kafka cluster to connect to (default {DEFAULT_BOOTSTRAP}); a comma list",
    )


def add_client_args(
    parser: argparse.ArgumentParser,
    *,
    config_flag: str = "--command-config",
    property_flag: str | None = "--command-property",
) -> None:
    """``--bootstrap-server``, a client properties file and (optionally) KEY=VALUE props."""
    add_bootstrap_arg(parser)
    parser.add_argument(
        config_flag,
        dest="client_config_file",
        type=Path,
        metavar="FILE",
        help="a properties file of client settings (librdkafka/Kafka names)",
    )
    if property_flag:
        parser.add_argument(
            property_flag,
            dest="client_properties",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="one client setting; repeatable, wins over the properties file",
        )


def parse_assignment(item: str, what: str) -> tuple[str, str]:
    """``"k=v"`` -> ``("k", "v")``; the value may be empty or contain ``=``."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ToolError(f"{what} must look like KEY=VALUE, got {item!r}")
    return key.strip(), value


def parse_assignments(items: Iterable[str], what: str) -> dict[str, str]:
    return dict(parse_assignment(item, what) for item in items)


def unescape(text: str) -> str:
    r"""The escapes people type for separators on a shell: ``\t``, ``\n``, ``\\``."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def read_properties(path: Path) -> dict[str, str]:
    """A Java-style properties file: ``k=v`` or ``k: v`` lines, ``#``/``!`` comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror or exc}") from exc
    props: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise ToolError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        props[line[:cut].strip()] = line[cut + 1 :].strip()
    return props


class ClientErrors:
    """Remembers the client's last global error (e.g. broker unreachable) for messages."""

    def __init__(self) -> None:
        self.last: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        self.last = error

    def hint(self) -> str:
        return f" (last client error: {self.last.str()})" if self.last is not None else ""


def client_config(args: argparse.Namespace, errors: ClientErrors, **defaults: Any) -> ClientConfig:
    """Defaults < properties file < KEY=VALUE options; bootstrap from the command line."""
    config: ClientConfig = dict(defaults)
    if getattr(args, "client_config_file", None):
        config.update(read_properties(args.client_config_file))
    config.update(parse_assignments(getattr(args, "client_properties", None) or [], "a property"))
    config["bootstrap.servers"] = args.bootstrap_server
    config["error_cb"] = errors
    # librdkafka's own log lines (connection refused, retries...) only with --log-level DEBUG;
    # a tool reports what failed itself, with the last client error as a hint.
    config["logger"] = _librdkafka_logger()
    return config


def _librdkafka_logger() -> logging.Logger:
    logger = logging.getLogger("librdkafka")
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.CRITICAL + 1)
    return logger


def make_client(factory: Callable[[ClientConfig], Any], config: ClientConfig) -> Any:
    """Create a Producer/Consumer/AdminClient, turning a bad setting into a ToolError."""
    try:
        return factory(config)
    except (KafkaException, ValueError, TypeError) as exc:
        raise ToolError(f"invalid client configuration: {describe_error(exc)}") from exc


def describe_error(exc: BaseException) -> str:
    """The human part of a confluent-kafka exception (its KafkaError's text)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0].str()
    return str(exc)


def error_code_name(exc: BaseException) -> str | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return str(exc.args[0].name())
    return None


def warn(tool: str, message: str) -> None:
    print(f"headwater {tool}: warning: {message}", file=sys.stderr)
