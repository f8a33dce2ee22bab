"""Kafka's command-line tools as ``headwater`` subcommands: Kafka clients, not the broker.

| subcommand | Kafka tool |
|---|---|
| ``headwater topics`` | kafka-topics.sh |
| ``headwater produce`` | kafka-console-producer.sh |
| ``headwater consume`` | kafka-console-consumer.sh |
| ``headwater configs`` | kafka-configs.sh |
| ``headwater acls`` | kafka-acls.sh |
| ``headwater perf produce`` / ``perf consume`` | kafka-producer/consumer-perf-test.sh |
| ``headwater quotas`` | kafka-configs.sh --entity-type users/clients (quotas) |

Each talks to any Kafka-compatible cluster through confluent-kafka
(``--bootstrap-server``, default 127.0.0.1:9092) and never imports the broker's own
modules. A user error (bad option, topic exists, broker unreachable) prints one line
``headwater <tool>: error: ...`` and exits 1; Ctrl-C exits 130. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from confluent_kafka import KafkaException

from broker.tools import acls, configs, consume, perf, produce, quotas, topics
from broker.tools.client_config import ToolError, describe_error

TOOLS = (topics, produce, consume, configs, acls, quotas, perf)


def add_subcommands(commands: Any) -> None:
    """Register every tool on the ``headwater`` subparsers (``commands.add_parser``)."""
    for tool in TOOLS:
        tool.add_parser(commands)


def is_tool(args: argparse.Namespace) -> bool:
    return callable(getattr(args, "tool_main", None))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Run the tool the parsed command line names; user errors become exit code 1.

    SIGTERM stops a tool the way Ctrl-C does (the consumer reports its count and closes,
    the producer delivers what it read), exiting 130.
    """
    name = args.tool_name
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.tool_main(args))
    except ToolError as exc:
        print(f"headwater {name}: error: {exc}", file=sys.stderr)
        return 1
    except KafkaException as exc:  # a client failure no tool anticipated: still one line
        print(f"headwater {name}: error: {describe_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `headwater consume ... | head`: the reader went away, which is not an error.
        # Point stdout at /dev/null so the interpreter's final flush does not fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
