"""The ``headwater`` command: ``headwater broker``, ``headwater up`` and Kafka's tools.

``headwater broker`` starts the Kafka-protocol broker alone, configured the way
kafka-server-start is (``--config server.properties --override key=value``).
``headwater up`` runs the whole embedded default on a laptop: the broker plus the
console (migrations, a first operator account, the ASGI server) as child processes.
``headwater topics|produce|consume|configs|perf`` are Kafka's command-line tools, as
clients of any Kafka-compatible cluster (``broker/tools/``, docs/cli.md);
``headwater users``, ``headwater acls`` and ``headwater quotas`` manage SCRAM users, ACLs
and client quotas (docs/security.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from broker import log_limit, tools
from broker.tools import users


def _add_broker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a Kafka server.properties file")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set one broker property (Kafka's names); repeatable, wins over --config",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headwater", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="run the Kafka-protocol broker")
    _add_broker_args(broker)

    up = commands.add_parser("up", help="run broker + console on the embedded default")
    _add_broker_args(up)
    up.add_argument("--console", default="127.0.0.1:8000", metavar="HOST:PORT")
    up.add_argument(
        "--plaintext",
        metavar="HOST:PORT",
        help="also listen without authentication here (clients are User:ANONYMOUS, "
        "denied until an ACL allows them); off by default",
    )

    tools.add_subcommands(commands)
    users.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log_limit.install()  # a flood of one identical line is counted, not written
    if tools.is_tool(args):
        return tools.run(args)
    # Imported here: the broker's config pulls in kio (~0.25 s), which the tools never need.
    from broker.config import ConfigError, load_config

    overrides = list(args.override)
    if args.command == "up":
        from broker.supervisor import secure_overrides

        try:
            overrides = secure_overrides(overrides, args.plaintext)
        except ValueError as exc:
            print(f"headwater: --plaintext: {exc}", file=sys.stderr)
            return 2
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"headwater: {exc}", file=sys.stderr)
        return 2
    if args.command == "broker":
        from broker.server.app import run_broker

        return run_broker(config)
    from broker.supervisor import run_up

    broker_args = (["--config", str(args.config)] if args.config else []) + [
        f"--override={item}" for item in overrides
    ]
    return run_up(config, console_address=args.console, broker_args=broker_args)
