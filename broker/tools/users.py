"""``headwater users``: SCRAM users, as ``kafka-configs.sh --entity-type users`` manages them.

Against a running cluster (``--bootstrap-server``, plus ``--command-config`` for a SASL
or TLS listener), through the Kafka protocol (KIP-554):

    headwater users --bootstrap-server HOST:PORT --add alice --password-stdin
    headwater users --bootstrap-server HOST:PORT --list
    headwater users --bootstrap-server HOST:PORT --delete alice

``--add`` sets a credential per ``--mechanism`` (default: SCRAM-SHA-256 and
SCRAM-SHA-512), one AlterUserScramCredentials request each (Kafka refuses a user twice
in one request); the client salts and hashes the password, so it never crosses the
wire. ``--delete`` removes the named mechanisms, or all the user has.

Before the first start of a broker whose listeners all require SASL (the bootstrap
problem), ``--config server.properties`` instead of ``--bootstrap-server`` writes the
credential into the stopped broker's metadata, as Kafka's ``kafka-storage format
--add-scram`` does; it refuses while a broker holds the log directory's lock.

The password comes from the first line of stdin (``--password-stdin``) or, on a
terminal, from a prompt; never from the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    make_client,
)

NAME = "users"
MECHANISMS = {
    "SCRAM-SHA-256": ScramMechanism.SCRAM_SHA_256,
    "SCRAM-SHA-512": ScramMechanism.SCRAM_SHA_512,
}
NAMES = {mechanism: name for name, mechanism in MECHANISMS.items()}
DEFAULT_ITERATIONS = 8192


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        NAME, help="add, list and delete SCRAM users (kafka-configs.sh --entity-type users)"
    )
    add_client_args(parser)
    parser.add_argument(
        "--config",
        dest="broker_config",
        type=Path,
        metavar="SERVER_PROPERTIES",
        help="offline: edit the stopped broker's metadata (kafka-storage format --add-scram)",
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="offline: a broker property, as for headwater broker",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--add", metavar="USER", help="create or change a user's credentials")
    action.add_argument("--delete", metavar="USER", help="delete a user's credentials")
    action.add_argument("--list", action="store_true", help="list users and their mechanisms")
    parser.add_argument(
        "--mechanism",
        action="append",
        choices=sorted(MECHANISMS),
        help="SCRAM mechanism; repeatable (default: both for --add, all for --delete)",
    )
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.set_defaults(tool_main=main, tool_name=NAME)


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.add}: ")
        if getpass.getpass("Again: ") != password:
            raise ToolError("the passwords differ")
    else:
        raise ToolError("--add needs --password-stdin when stdin is not a terminal")
    if not password:
        raise ToolError("the password is empty")
    return password


def describe_line(user: str, credentials: list[tuple[str, int]]) -> str:
    """Kafka's kafka-configs.sh wording."""
    configs = ", ".join(f"{name}=iterations={n}" for name, n in sorted(credentials))
    return f"SCRAM credential configs for user-principal '{user}' are {configs}"


def main(args: argparse.Namespace) -> int:
    if args.broker_config is not None or args.override:
        return _offline(args)
    errors = ClientErrors()
    admin = make_client(AdminClient, client_config(args, errors))
    timeout = args.timeout_ms / 1000
    try:
        if args.list:
            described = admin.describe_user_scram_credentials(request_timeout=timeout)
            for user, description in sorted(described.result(timeout).items()):
                infos = [
                    (NAMES[i.mechanism], i.iterations) for i in description.scram_credential_infos
                ]
                print(describe_line(user, infos))
            return 0
        if args.add is not None:
            password = read_password(args).encode()
            for name in args.mechanism or sorted(MECHANISMS):
                info = ScramCredentialInfo(MECHANISMS[name], args.iterations)
                upsert = UserScramCredentialUpsertion(args.add, info, password)
                admin.alter_user_scram_credentials([upsert], request_timeout=timeout)[
                    args.add
                ].result(timeout)
                print(f"set the {name} credential of user {args.add!r}")
            return 0
        names = args.mechanism
        if not names:
            future = admin.describe_user_scram_credentials([args.delete], request_timeout=timeout)
            description = future[args.delete].result(timeout)
            names = [NAMES[i.mechanism] for i in description.scram_credential_infos]
        for name in names:
            delete = UserScramCredentialDeletion(args.delete, MECHANISMS[name])
            admin.alter_user_scram_credentials([delete], request_timeout=timeout)[
                args.delete
            ].result(timeout)
            print(f"deleted the {name} credential of user {args.delete!r}")
        return 0
    except KafkaException as exc:
        raise ToolError(describe_error(exc) + errors.hint()) from exc


def _offline(args: argparse.Namespace) -> int:
    # The broker's own modules, only for this mode: the online tool stays a pure client.
    from broker.cluster.lock import lock_log_dir
    from broker.cluster.metadata import FileMetadataStore
    from broker.config import ConfigError, load_config
    from broker.security.scram import MAX_ITERATIONS, MIN_ITERATIONS

    try:
        config = load_config(args.broker_config, args.override)
    except ConfigError as exc:
        raise ToolError(str(exc)) from exc
    if not MIN_ITERATIONS <= args.iterations <= MAX_ITERATIONS:
        raise ToolError(f"--iterations must be within {MIN_ITERATIONS}..{MAX_ITERATIONS}")
    try:
        lock = lock_log_dir(config.log_dir)
    except OSError as exc:
        raise ToolError(f"{exc} Use --bootstrap-server while the broker runs.") from exc
    with lock:
        store = FileMetadataStore(config.log_dir, node_id=config.node_id)
        if args.list:
            for user, creds in sorted(store.scram_users().items()):
                print(describe_line(user, [(m, c.iterations) for m, c in creds.items()]))
            return 0
        if args.add is not None:
            password = read_password(args)
            names = args.mechanism or sorted(MECHANISMS)
            add_offline(store, args.add, password, names, iterations=args.iterations)
            for name in names:
                print(f"set the {name} credential of user {args.add!r} in {config.log_dir}")
            return 0
        existing = store.scram_credentials(args.delete)
        names = args.mechanism or sorted(existing)
        missing = [name for name in names if name not in existing]
        if missing or not names:
            raise ToolError(
                f"user {args.delete!r} has no {', '.join(missing) or 'SCRAM'} credential"
            )
        store.alter_scram_credentials([(args.delete, name) for name in names], [])
        for name in names:
            print(f"deleted the {name} credential of user {args.delete!r} in {config.log_dir}")
        return 0


def add_offline(
    store: Any,
    user: str,
    password: str,
    names: list[str] | None = None,
    *,
    iterations: int = DEFAULT_ITERATIONS,
) -> None:
    """Set ``user``'s SCRAM credentials (all mechanisms by default) in a stopped broker's
    metadata store (a ``FileMetadataStore`` under the log directory's lock); also what
    ``headwater up`` uses to create the console's own credential before the broker starts."""
    from broker.cluster.metadata import ScramCredentialRecord
    from broker.security.scram import MECHANISMS as SCRAM
    from broker.security.scram import new_credential

    upserts = []
    for name in names or sorted(MECHANISMS):
        c = new_credential(SCRAM[name], password, iterations=iterations)
        record = ScramCredentialRecord(c.salt, c.stored_key, c.server_key, c.iterations)
        upserts.append((user, name, record))
    store.alter_scram_credentials([], upserts)
