"""Kafka's ACL model and authorizer semantics, as pure data and functions.

An ACL binding says: ``principal`` from ``host`` is ALLOWed or DENYed ``operation`` on
resources of ``resource_type`` whose name matches ``resource_name`` under
``pattern_type`` (LITERAL: equal, or the wildcard ``*``; PREFIXED: starts with).

Authorization of (principal, host, operation, resource) follows Kafka's
StandardAuthorizer:

1. ``super.users`` are allowed everything.
2. The ACLs that match the resource are collected; a principal matches itself or
   ``User:*``, a host matches itself or ``*``.
3. Any matching DENY for the operation (or ALL) denies: deny wins.
4. Any matching ALLOW for the operation, for ALL, or for an operation that implies it
   allows: READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
   DESCRIBE_CONFIGS.
5. With no ACL at all on the resource (for anyone), ``allow.everyone.if.no.acl.found``
   decides; otherwise the answer is deny.

Numbers are Kafka's (the wire protocol's ``resource_type``, ``pattern_type``,
``operation`` and ``permission_type`` fields).

Pure (no IO), in ``broker.common`` so that the broker's authorizer and the console's
effective-permission checker (which feeds it the bindings DescribeAcls returns) apply
the same rules: :meth:`Authorizer.explain` also says which rule decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TypeVar

WILDCARD_RESOURCE = "*"
WILDCARD_PRINCIPAL = "User:*"
WILDCARD_HOST = "*"


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class AclOperation(IntEnum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


class PermissionType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


CLUSTER_RESOURCE_NAME = "kafka-cluster"

# Operations an ALLOW of the key also grants (Kafka's implied operations).
_IMPLIED_BY: dict[AclOperation, frozenset[AclOperation]] = {
    AclOperation.DESCRIBE: frozenset(
        {AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER}
    ),
    AclOperation.DESCRIBE_CONFIGS: frozenset({AclOperation.ALTER_CONFIGS}),
}

# Operations that make sense per resource type (Kafka rejects other bindings).
VALID_OPERATIONS: dict[ResourceType, frozenset[AclOperation]] = {
    ResourceType.TOPIC: frozenset(
        {
            AclOperation.READ,
            AclOperation.WRITE,
            AclOperation.CREATE,
            AclOperation.DELETE,
            AclOperation.ALTER,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS,
            AclOperation.ALL,
        }
    ),
    ResourceType.GROUP: frozenset(
        {AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALL}
    ),
    ResourceType.CLUSTER: frozenset(
        {
            AclOperation.CREATE,
            AclOperation.CLUSTER_ACTION,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS,
            AclOperation.IDEMPOTENT_WRITE,
            AclOperation.ALTER,
            AclOperation.DESCRIBE,
            AclOperation.ALL,
        }
    ),
    ResourceType.TRANSACTIONAL_ID: frozenset(
        {AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.ALL}
    ),
    ResourceType.DELEGATION_TOKEN: frozenset({AclOperation.DESCRIBE, AclOperation.ALL}),
    ResourceType.USER: frozenset(
        {AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS, AclOperation.ALL}
    ),
}


SUPPORTED_OPERATIONS: dict[ResourceType, tuple[AclOperation, ...]] = {
    kind: tuple(sorted(ops - {AclOperation.ALL})) for kind, ops in VALID_OPERATIONS.items()
}
"""What ``authorized_operations`` bitfields report per resource type (Kafka's
``AclEntry.supportedOperations``: the valid operations but ALL)."""


E = TypeVar("E", ResourceType, PatternType, AclOperation, PermissionType)


def from_wire(kind: type[E], code: int) -> E:
    """A wire protocol code as its enum; a code Kafka does not know is UNKNOWN, which
    validation then refuses."""
    try:
        return kind(code)
    except ValueError:
        return kind.UNKNOWN


class InvalidAcl(ValueError):
    """A binding Kafka would refuse (INVALID_REQUEST with this message)."""


@dataclass(frozen=True, slots=True)
class AclBinding:
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission_type: PermissionType

    def validate(self) -> None:
        """Kafka's checks of a new binding (KafkaApis, then the controller's
        AclControlManager), with Kafka's messages; plus kafka-acls.sh's rule that the
        operation must be one the resource type supports."""
        if self.resource_type not in VALID_OPERATIONS:
            raise InvalidAcl(f"Invalid resourceType {self.resource_type.name}")
        if (
            self.resource_type is ResourceType.CLUSTER
            and self.resource_name != CLUSTER_RESOURCE_NAME
        ):
            raise InvalidAcl(
                f"The only valid name for the CLUSTER resource is {CLUSTER_RESOURCE_NAME}"
            )
        if not self.resource_name:
            raise InvalidAcl("Invalid empty resource name")
        if self.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
            raise InvalidAcl(f"Invalid patternType {self.pattern_type.name}")
        if self.operation in (AclOperation.UNKNOWN, AclOperation.ANY):
            raise InvalidAcl(f"Invalid operation {self.operation.name}")
        if self.operation not in VALID_OPERATIONS[self.resource_type]:
            raise InvalidAcl(
                f"ACL operation {self.operation.name} is not valid for resource type "
                f"{self.resource_type.name}"
            )
        if self.permission_type not in (PermissionType.ALLOW, PermissionType.DENY):
            raise InvalidAcl(f"Invalid permissionType {self.permission_type.name}")
        if self.pattern_type is PatternType.PREFIXED and self.resource_name == WILDCARD_RESOURCE:
            raise InvalidAcl("A PREFIXED pattern cannot use the wildcard resource name")
        if ":" not in self.principal:
            raise InvalidAcl(
                f"Could not parse principal from `{self.principal}` (no colon is present "
                "separating the principal type from the principal name)"
            )

    def __str__(self) -> str:  # Kafka's wording, for log lines
        return (
            f"(principal={self.principal}, host={self.host}, operation={self.operation.name}, "
            f"permissionType={self.permission_type.name}) on ResourcePattern(resourceType="
            f"{self.resource_type.name}, name={self.resource_name}, "
            f"patternType={self.pattern_type.name})"
        )

    def to_json(self) -> dict[str, str]:
        """The metadata snapshot's form: Kafka's enum names, readable in the file."""
        return {
            "resource_type": self.resource_type.name,
            "resource_name": self.resource_name,
            "pattern_type": self.pattern_type.name,
            "principal": self.principal,
            "host": self.host,
            "operation": self.operation.name,
            "permission_type": self.permission_type.name,
        }

    @classmethod
    def from_codes(
        cls,
        resource_type: int,
        resource_name: str,
        pattern_type: int,
        principal: str,
        host: str,
        operation: int,
        permission_type: int,
    ) -> AclBinding:
        """A binding from the wire's numbers (a client library's enums' ``.value``, e.g.
        confluent-kafka's DescribeAcls results)."""
        return cls(
            from_wire(ResourceType, resource_type),
            resource_name,
            from_wire(PatternType, pattern_type),
            principal,
            host,
            from_wire(AclOperation, operation),
            from_wire(PermissionType, permission_type),
        )

    @classmethod
    def from_json(cls, item: dict[str, str]) -> AclBinding:
        return cls(
            resource_type=ResourceType[item["resource_type"]],
            resource_name=item["resource_name"],
            pattern_type=PatternType[item["pattern_type"]],
            principal=item["principal"],
            host=item["host"],
            operation=AclOperation[item["operation"]],
            permission_type=PermissionType[item["permission_type"]],
        )

    def matches_resource(self, resource_type: ResourceType, name: str) -> bool:
        if self.resource_type is not resource_type:
            return False
        if self.pattern_type is PatternType.LITERAL:
            return self.resource_name in (name, WILDCARD_RESOURCE)
        return name.startswith(self.resource_name)


@dataclass(frozen=True, slots=True)
class AclBindingFilter:
    """DescribeAcls/DeleteAcls filters: None (or ANY) fields match everything; pattern
    MATCH selects every binding that would apply to the named resource."""

    resource_type: ResourceType = ResourceType.ANY
    resource_name: str | None = None
    pattern_type: PatternType = PatternType.ANY
    principal: str | None = None
    host: str | None = None
    operation: AclOperation = AclOperation.ANY
    permission_type: PermissionType = PermissionType.ANY

    def validate(self) -> None:
        """Kafka's refusal of filters with UNKNOWN parts (the controller's messages)."""
        if self.resource_type is ResourceType.UNKNOWN or self.pattern_type is PatternType.UNKNOWN:
            raise InvalidAcl("Unknown patternFilter.")
        if self.operation is AclOperation.UNKNOWN or self.permission_type is PermissionType.UNKNOWN:
            raise InvalidAcl("Unknown entryFilter.")

    def matches(self, binding: AclBinding) -> bool:
        if (
            self.resource_type is not ResourceType.ANY
            and binding.resource_type is not self.resource_type
        ):
            return False
        if self.pattern_type is PatternType.MATCH:
            if self.resource_name is not None and not binding.matches_resource(
                binding.resource_type, self.resource_name
            ):
                return False
        else:
            if (
                self.pattern_type is not PatternType.ANY
                and binding.pattern_type is not self.pattern_type
            ):
                return False
            if self.resource_name is not None and binding.resource_name != self.resource_name:
                return False
        return (
            (self.principal is None or binding.principal == self.principal)
            and (self.host is None or binding.host == self.host)
            and (self.operation is AclOperation.ANY or binding.operation is self.operation)
            and (
                self.permission_type is PermissionType.ANY
                or binding.permission_type is self.permission_type
            )
        )


class Reason(StrEnum):
    """Why :meth:`Authorizer.explain` decided as it did (Kafka's authorizer steps)."""

    SUPER_USER = "the principal is a super user (super.users)"
    DENIED = "a DENY ACL matches"
    ALLOWED = "an ALLOW ACL matches"
    NO_ACL_ALLOW_EVERYONE = (
        "no ACL is set on the resource and allow.everyone.if.no.acl.found is true"
    )
    NO_ACL = "no ACL is set on the resource (allow.everyone.if.no.acl.found is false)"
    NO_MATCHING_ALLOW = "no ALLOW ACL matches the principal, host and operation"


@dataclass(frozen=True, slots=True)
class Decision:
    """An authorization answer: ``allowed``, the ``reason``, and the ``binding`` that
    decided it (the DENY that won, or an ALLOW that granted), if one did."""

    allowed: bool
    reason: Reason
    binding: AclBinding | None = None

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        rule = f": {self.binding}" if self.binding is not None else ""
        return f"{verdict}: {self.reason}{rule}"


@dataclass(frozen=True, slots=True)
class Authorizer:
    """Decides requests against a set of bindings (rebuilt when ACLs change)."""

    bindings: tuple[AclBinding, ...] = ()
    super_users: frozenset[str] = frozenset()
    allow_everyone_if_no_acl_found: bool = False

    def authorize(
        self,
        principal: str,
        host: str,
        operation: AclOperation,
        resource_type: ResourceType,
        resource_name: str,
    ) -> bool:
        return self.explain(principal, host, operation, resource_type, resource_name).allowed

    def explain(
        self,
        principal: str,
        host: str,
        operation: AclOperation,
        resource_type: ResourceType,
        resource_name: str,
    ) -> Decision:
        """The decision and what made it: the steps of the module docstring, in order.
        The broker's checks and the console's permission checker both ask this."""
        if principal in self.super_users:
            return Decision(True, Reason.SUPER_USER)
        on_resource = [b for b in self.bindings if b.matches_resource(resource_type, resource_name)]
        if not on_resource:
            if self.allow_everyone_if_no_acl_found:
                return Decision(True, Reason.NO_ACL_ALLOW_EVERYONE)
            return Decision(False, Reason.NO_ACL)
        applicable = [
            b
            for b in on_resource
            if b.principal in (principal, WILDCARD_PRINCIPAL) and b.host in (host, WILDCARD_HOST)
        ]
        for binding in applicable:
            if binding.permission_type is PermissionType.DENY and binding.operation in (
                operation,
                AclOperation.ALL,
            ):
                return Decision(False, Reason.DENIED, binding)
        granting = {operation, AclOperation.ALL} | _IMPLIED_BY.get(operation, frozenset())
        allowing = [
            b
            for b in applicable
            if b.permission_type is PermissionType.ALLOW and b.operation in granting
        ]
        if allowing:
            # the most specific first: the exact operation, then ALL, then an implying one
            allowing.sort(
                key=lambda b: (b.operation is not operation, b.operation is not AclOperation.ALL)
            )
            return Decision(True, Reason.ALLOWED, allowing[0])
        return Decision(False, Reason.NO_MATCHING_ALLOW)

    def authorize_any(
        self, principal: str, host: str, operation: AclOperation, resource_type: ResourceType
    ) -> bool:
        """Is ``operation`` allowed on at least one resource of the type? (KIP-679: WRITE
        on any topic grants IdempotentWrite for InitProducerId.) Deny bindings on
        specific resources do not take it away; a DENY for every resource does."""
        if principal in self.super_users:
            return True
        applicable = [
            b
            for b in self.bindings
            if b.resource_type is resource_type
            and b.principal in (principal, WILDCARD_PRINCIPAL)
            and b.host in (host, WILDCARD_HOST)
        ]
        granting = {operation, AclOperation.ALL} | _IMPLIED_BY.get(operation, frozenset())
        for binding in applicable:
            if (
                binding.permission_type is PermissionType.DENY
                and binding.operation in (operation, AclOperation.ALL)
                and binding.pattern_type is PatternType.LITERAL
                and binding.resource_name == WILDCARD_RESOURCE
            ):
                return False
        if any(
            b.permission_type is PermissionType.ALLOW and b.operation in granting
            for b in applicable
        ):
            return True
        return self.allow_everyone_if_no_acl_found and not any(
            b.resource_type is resource_type for b in self.bindings
        )


def matching(bindings: Iterable[AclBinding], acl_filter: AclBindingFilter) -> list[AclBinding]:
    return [b for b in bindings if acl_filter.matches(b)]
