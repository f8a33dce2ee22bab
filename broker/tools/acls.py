"""``headwater acls``: add, list and remove ACLs, as ``kafka-acls.sh`` does.

Through the Kafka admin APIs (CreateAcls, DescribeAcls, DeleteAcls), so it manages any
Kafka cluster with an authorizer:

    headwater acls --bootstrap-server HOST:PORT --add --allow-principal User:acme-app \\
        --operation All --topic acme. --resource-pattern-type prefixed
    headwater acls --bootstrap-server HOST:PORT --list --topic acme.orders \\
        --resource-pattern-type match
    headwater acls --bootstrap-server HOST:PORT --remove --topic acme. \\
        --resource-pattern-type prefixed --force

Resources: ``--topic``, ``--group``, ``--transactional-id`` (each repeatable) and
``--cluster``. ``--add`` binds every principal x host x operation to every resource
(hosts default to ``*``, operations to All); ``--producer`` and ``--consumer`` stand
for Kafka's sets (WRITE, DESCRIBE, CREATE on topics, plus WRITE and DESCRIBE on
transactional IDs and IDEMPOTENT_WRITE on the cluster with ``--idempotent``; READ and
DESCRIBE on topics and READ on groups). ``--list`` without resources lists every ACL;
``--principal`` narrows it. ``--remove`` without principals removes every ACL of the
resources; on a terminal it asks first unless ``--force``. Output uses kafka-acls.sh's
wording.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from itertools import product
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_client_args,
    client_config,
    describe_error,
    make_client,
)

NAME = "acls"
CLUSTER_NAME = "kafka-cluster"
PATTERN_TYPES = {
    "literal": ResourcePatternType.LITERAL,
    "prefixed": ResourcePatternType.PREFIXED,
    "match": ResourcePatternType.MATCH,
    "any": ResourcePatternType.ANY,
}
# Operations by the names kafka-acls.sh accepts (Read, IdempotentWrite...), case-blind.
OPERATIONS = {
    op.name.replace("_", "").lower(): op
    for op in AclOperation
    if op not in (AclOperation.UNKNOWN, AclOperation.ANY)
}
VALID = {
    ResourceType.TOPIC: {"read", "write", "create", "delete", "alter", "describe",
                         "describeconfigs", "alterconfigs", "all"},
    ResourceType.GROUP: {"read", "describe", "delete", "all"},
    ResourceType.BROKER: {"create", "clusteraction", "describeconfigs", "alterconfigs",
                          "idempotentwrite", "alter", "describe", "all"},
    ResourceType.TRANSACTIONAL_ID: {"describe", "write", "all"},
}  # fmt: skip
KAFKA_TYPE = {ResourceType.BROKER: "CLUSTER"}

Resource = tuple[ResourceType, str]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(NAME, help="add, list and remove ACLs (kafka-acls.sh)")
    add_client_args(parser)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--add", action="store_true", help="add ACLs")
    action.add_argument("--remove", action="store_true", help="remove ACLs")
    action.add_argument("--list", action="store_true", help="list ACLs")
    many = {"action": "append", "default": []}
    parser.add_argument("--topic", **many, help="a topic (repeatable); * for all")
    parser.add_argument("--group", **many, help="a consumer group (repeatable); * for all")
    parser.add_argument("--transactional-id", **many, help="a transactional ID (repeatable)")
    parser.add_argument("--cluster", action="store_true", help="the cluster resource")
    parser.add_argument(
        "--resource-pattern-type",
        choices=sorted(PATTERN_TYPES),
        default="literal",
        type=str.lower,
        help="literal or prefixed for --add; also match or any for --list and --remove",
    )
    parser.add_argument("--allow-principal", **many, metavar="PRINCIPAL", help="User:name")
    parser.add_argument("--deny-principal", **many, metavar="PRINCIPAL", help="User:name")
    parser.add_argument("--allow-host", **many, metavar="HOST", help="default: * (any)")
    parser.add_argument("--deny-host", **many, metavar="HOST", help="default: * (any)")
    parser.add_argument("--principal", **many, help="--list: only ACLs of this principal")
    parser.add_argument(
        "--operation", **many, help=f"repeatable, default All; one of {', '.join(OPERATIONS)}"
    )
    parser.add_argument("--producer", action="store_true", help="a producer's ACLs")
    parser.add_argument("--consumer", action="store_true", help="a consumer's ACLs")
    parser.add_argument("--idempotent", action="store_true", help="--producer: IdempotentWrite")
    parser.add_argument("--force", action="store_true", help="--remove: do not ask")
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.set_defaults(tool_main=main, tool_name=NAME)


def _resources(args: argparse.Namespace) -> list[Resource]:
    resources = [(ResourceType.TOPIC, name) for name in args.topic]
    resources += [(ResourceType.GROUP, name) for name in args.group]
    resources += [(ResourceType.TRANSACTIONAL_ID, name) for name in args.transactional_id]
    if args.cluster:
        resources.append((ResourceType.BROKER, CLUSTER_NAME))
    return resources


def _operations(names: Iterable[str]) -> list[str]:
    operations = []
    for name in names:
        key = name.replace("_", "").replace("-", "").lower()
        if key not in OPERATIONS:
            raise ToolError(f"unknown operation {name!r} (one of {', '.join(OPERATIONS)})")
        operations.append(key)
    return operations or ["all"]


def _operations_by_resource(args: argparse.Namespace) -> dict[Resource, list[str]]:
    """Each resource's operations: --operation, or the --producer/--consumer sets."""
    resources = _resources(args)
    if args.producer or args.consumer:
        if args.operation:
            raise ToolError("--operation cannot be combined with --producer or --consumer")
        if not args.topic:
            raise ToolError("--producer and --consumer need --topic")
        if args.consumer and not args.group:
            raise ToolError("--consumer needs --group")
        wanted: dict[Resource, list[str]] = {}
        for kind, name in resources:
            ops: list[str] = []
            if kind is ResourceType.TOPIC:
                ops += ["write", "describe", "create"] if args.producer else []
                ops += ["read", "describe"] if args.consumer else []
            elif kind is ResourceType.GROUP and args.consumer:
                ops = ["read"]
            elif kind is ResourceType.TRANSACTIONAL_ID and args.producer:
                ops = ["write", "describe"]
            wanted[(kind, name)] = list(dict.fromkeys(ops))
        if args.producer and args.idempotent:
            wanted[(ResourceType.BROKER, CLUSTER_NAME)] = ["idempotentwrite"]
        return {resource: ops for resource, ops in wanted.items() if ops}
    operations = _operations(args.operation)
    for kind, _name in resources:
        invalid = [op for op in operations if op not in VALID[kind]]
        if invalid:
            raise ToolError(
                f"ResourceType {KAFKA_TYPE.get(kind, kind.name)} only supports operations "
                f"{', '.join(sorted(VALID[kind]))} (not {', '.join(invalid)})"
            )
    return {resource: operations for resource in resources}


def _entries(args: argparse.Namespace) -> list[tuple[str, str, AclPermissionType]]:
    """(principal, host, permission) for every principal given, hosts defaulting to *."""
    entries = []
    for principals, hosts, permission in (
        (args.allow_principal, args.allow_host, AclPermissionType.ALLOW),
        (args.deny_principal, args.deny_host, AclPermissionType.DENY),
    ):
        for principal in principals:
            if ":" not in principal:
                raise ToolError(f"principal {principal!r} is not of the form User:name")
            entries += [(principal, host, permission) for host in hosts or ["*"]]
    return entries


def _pattern(kind: ResourceType, name: str, pattern: ResourcePatternType) -> str:
    kafka_type = KAFKA_TYPE.get(kind, kind.name)
    return f"ResourcePattern(resourceType={kafka_type}, name={name}, patternType={pattern.name})"


def _entry(binding: AclBinding) -> str:
    return (
        f"(principal={binding.principal}, host={binding.host}, "
        f"operation={binding.operation.name}, permissionType={binding.permission_type.name})"
    )


def _print_grouped(heading: str, bindings: Iterable[AclBinding]) -> None:
    """kafka-acls.sh's layout: one heading per resource pattern, one line per entry."""
    grouped: dict[tuple[ResourceType, str, ResourcePatternType], list[AclBinding]] = {}
    for b in bindings:
        grouped.setdefault((b.restype, b.name, b.resource_pattern_type), []).append(b)
    for (kind, name, pattern), group in sorted(
        grouped.items(), key=lambda item: (item[0][0].value, item[0][1], item[0][2].value)
    ):
        print(f"{heading} `{_pattern(kind, name, pattern)}`: ")
        for binding in group:
            print(f" \t{_entry(binding)} ")
        print()


def main(args: argparse.Namespace) -> int:
    pattern = PATTERN_TYPES[args.resource_pattern_type]
    if args.add and pattern not in (ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED):
        raise ToolError("--add needs --resource-pattern-type literal or prefixed")
    errors = ClientErrors()
    admin = make_client(AdminClient, client_config(args, errors))
    timeout = args.timeout_ms / 1000
    try:
        if args.add:
            return _add(admin, args, pattern, timeout)
        if args.remove:
            return _remove(admin, args, pattern, timeout)
        return _list(admin, args, pattern, timeout)
    except KafkaException as exc:
        raise ToolError(describe_error(exc) + errors.hint()) from exc


def _add(
    admin: AdminClient, args: argparse.Namespace, pattern: ResourcePatternType, timeout: float
) -> int:
    wanted = _operations_by_resource(args)
    entries = _entries(args)
    if not wanted or not entries:
        raise ToolError("--add needs a resource and --allow-principal or --deny-principal")
    bindings = [
        AclBinding(kind, name, pattern, principal, host, OPERATIONS[op], permission)
        for (kind, name), ops in wanted.items()
        for (principal, host, permission), op in product(entries, ops)
    ]
    _print_grouped("Adding ACLs for resource", bindings)
    for future in admin.create_acls(bindings, request_timeout=timeout).values():
        future.result(timeout)
    return 0


def _remove(
    admin: AdminClient, args: argparse.Namespace, pattern: ResourcePatternType, timeout: float
) -> int:
    resources = _resources(args)
    if not resources:
        raise ToolError(
            "--remove needs a resource (--topic, --group, --transactional-id, --cluster)"
        )
    entries = _entries(args)
    filters = []
    for kind, name in resources:
        if not entries:
            filters.append(
                AclBindingFilter(
                    kind, name, pattern, None, None, AclOperation.ANY, AclPermissionType.ANY
                )
            )
            continue
        for (principal, host, permission), op in product(entries, _operations(args.operation)):
            filters.append(
                AclBindingFilter(kind, name, pattern, principal, host, OPERATIONS[op], permission)
            )
    if not args.force and sys.stdin.isatty():
        answer = input(
            f"Are you sure you want to remove ACLs matching {len(filters)} filter(s)? (y/n) "
        )
        if answer.strip().lower() not in ("y", "yes"):
            return 1
    removed: list[AclBinding] = []
    for future in admin.delete_acls(filters, request_timeout=timeout).values():
        removed += future.result(timeout)
    _print_grouped("Removed ACLs for resource", dict.fromkeys(removed))
    return 0


def _list(
    admin: AdminClient, args: argparse.Namespace, pattern: ResourcePatternType, timeout: float
) -> int:
    resources: list[tuple[ResourceType, str | None]] = list(_resources(args))
    if not resources:
        resources, pattern = [(ResourceType.ANY, None)], ResourcePatternType.ANY
    found: list[AclBinding] = []
    for kind, name in resources:
        for principal in args.principal or [None]:
            acl_filter = AclBindingFilter(
                kind, name, pattern, principal, None, AclOperation.ANY, AclPermissionType.ANY
            )
            found += admin.describe_acls(acl_filter, request_timeout=timeout).result(timeout)
    _print_grouped("Current ACLs for resource", dict.fromkeys(found))
    return 0
