"""DescribeClientQuotas / AlterClientQuotas semantics, as Kafka's controller has them.

Entities arrive on the wire as ``(entity_type, entity_name)`` pairs: ``user`` and
``client-id``, a null name meaning the default entity, or (KIP-612) ``ip`` alone, whose
one quota key is ``connection_creation_rate``. An ip entity names an IP address or a
host name that resolves (Kafka's ``InetAddress.getByName``); resolving is IO, so
:func:`needs_resolution` tells the caller which names it must resolve before accepting
them (``not_resolvable`` is the refusal).

Validation and messages follow Kafka's ``ClientQuotaControlManager`` (alter) and
``ClientQuotasImage.describe`` (describe filters). Pure: no IO, no clock.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from broker.cluster.quotas import QuotaEntity, entity
from broker.common.plan_limits import LIMIT_QUOTA_KEYS
from broker.errors import BrokerError, ErrorCode

USER = "user"
CLIENT_ID = "client-id"
IP = "ip"
ENTITY_TYPES = (USER, CLIENT_ID, IP)

MATCH_TYPE_EXACT = 0
MATCH_TYPE_DEFAULT = 1
MATCH_TYPE_SPECIFIED = 2

# Kafka's QuotaConfig types: byte rates are LONG, the others DOUBLE.
QUOTA_KEY_TYPES = {
    "producer_byte_rate": "LONG",
    "consumer_byte_rate": "LONG",
    "request_percentage": "DOUBLE",
    "controller_mutation_rate": "DOUBLE",
}
IP_QUOTA_KEY_TYPES = {"connection_creation_rate": "INT"}
# Headwater's plan limits (broker.common.plan_limits): LONGs >= 0 on a user entity only,
# read by the plan policy, never by the quota manager.
PLAN_KEY_TYPES = {key: "LONG" for key in LIMIT_QUOTA_KEYS.values()}
LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


def _invalid(message: str) -> BrokerError:
    return BrokerError(ErrorCode.invalid_request, message)


def entity_entries(quota_entity: QuotaEntity) -> list[tuple[str, str | None]]:
    """``(entity_type, entity_name)`` pairs of an entity, user first, as Kafka lists them."""
    entries: list[tuple[str, str | None]] = []
    if quota_entity.has_user:
        entries.append((USER, quota_entity.user))
    if quota_entity.has_client_id:
        entries.append((CLIENT_ID, quota_entity.client_id))
    if quota_entity.has_ip:
        entries.append((IP, quota_entity.ip))
    return entries


def parse_entity(entries: Iterable[tuple[str, str | None]]) -> QuotaEntity:
    """The entity an AlterClientQuotas entry names (INVALID_REQUEST when malformed)."""
    names: dict[str, str | None] = {}
    for entity_type, name in entries:
        if entity_type in names:
            raise _invalid(
                f"Invalid empty client quota entity, duplicate entity entry {entity_type}"
            )
        if entity_type not in ENTITY_TYPES:
            raise _invalid(f"Unhandled client quota entity type: {entity_type}")
        if name is not None and not name:
            raise _invalid(f"Empty {entity_type} not supported")
        names[entity_type] = name
    if not names:
        raise _invalid("Invalid empty client quota entity")
    if IP in names:
        if len(names) > 1:
            raise _invalid(
                "Invalid quota entity combination, IP entity should not be combined with "
                "User or ClientId"
            )
        ip = names[IP]
        if ip is not None and not is_ip_address(ip) and not _HOST_NAME.fullmatch(ip):
            raise not_resolvable(ip)  # not even a host name: no lookup needed to say so
        return entity(ip=ip)
    kwargs = {"user" if t == USER else "client_id": n for t, n in names.items()}
    return entity(**kwargs)  # type: ignore[arg-type]


# RFC 1123 host names, whose last label is not all digits (RFC 3696 section 2), so that
# "300.1.1.1" is a bad address rather than a name to look up
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"(?![0-9]+\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?"
)


def is_ip_address(name: str) -> bool:
    """An IPv4 or IPv6 address literal (no resolution needed)."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def needs_resolution(quota_entity: QuotaEntity) -> str | None:
    """The host name of an ip entity that is not an address literal, which the caller
    must resolve before the entity is valid; None when there is nothing to resolve."""
    if quota_entity.has_ip and quota_entity.ip is not None and not is_ip_address(quota_entity.ip):
        return quota_entity.ip
    return None


def not_resolvable(name: str) -> BrokerError:
    """Kafka's refusal of an ip entity that is neither an address nor a resolvable host."""
    return _invalid(f"{name} is not a valid IP or resolvable host.")


def parse_ops(
    ops: Iterable[tuple[str, float, bool]], *, ip: bool = False, user_only: bool = False
) -> dict[str, float | None]:
    """``{key: value}`` to set, ``{key: None}`` to remove (INVALID_REQUEST when bad).
    ``ip``: the ops of an ip entity, whose only key is ``connection_creation_rate``.
    ``user_only``: the entity is a user alone, which may also carry the plan keys."""
    key_types = IP_QUOTA_KEY_TYPES if ip else QUOTA_KEY_TYPES
    if user_only:
        key_types = {**QUOTA_KEY_TYPES, **PLAN_KEY_TYPES}
    changes: dict[str, float | None] = {}
    for key, value, remove in ops:
        kind = key_types.get(key)
        if kind is None:
            raise _invalid(f"Invalid configuration key {key}")
        if remove:
            changes[key] = None
            continue
        if key in PLAN_KEY_TYPES:
            if not value >= 0:  # also refuses NaN
                raise _invalid(f"Plan limit {key} must be 0 or greater")
        elif not value > 0:  # also refuses NaN
            raise _invalid(f"Quota {key} must be greater than 0")
        if kind in ("LONG", "INT"):
            if kind == "LONG" and value > LONG_MAX:
                raise _invalid(f"Proposed value for {key} is too large for a LONG.")
            if kind == "INT" and value > INT_MAX:
                raise _invalid(f"Proposed value for {key} is too large for an INT.")
            if abs(value % 1.0) > 1e-6:
                raise _invalid(f"{key} cannot be a fractional value.")
        changes[key] = float(value)
    return changes


@dataclass(frozen=True, slots=True)
class QuotaFilter:
    """A DescribeClientQuotas filter: entity types matched by name (None: the default
    entity), types that must have a specified (non-default) name, and ``strict``."""

    exact: Mapping[str, str | None]
    specified: frozenset[str]
    strict: bool

    def matches(self, quota_entity: QuotaEntity) -> bool:
        entries = dict(entity_entries(quota_entity))
        if self.strict and len(entries) != len(self.exact) + len(self.specified):
            return False
        for entity_type, name in self.exact.items():
            if entity_type not in entries or entries[entity_type] != name:
                return False
        return all(entries.get(entity_type) is not None for entity_type in self.specified)


def parse_filter(components: Iterable[tuple[str, int, str | None]], strict: bool) -> QuotaFilter:
    """A filter from ``(entity_type, match_type, match)`` components, or BrokerError."""
    exact: dict[str, str | None] = {}
    specified: set[str] = set()
    for entity_type, match_type, match in components:
        if not entity_type:
            raise _invalid("Invalid empty entity type.")
        if entity_type in exact or entity_type in specified:
            raise _invalid(f"Entity type {entity_type} cannot appear more than once in the filter.")
        if entity_type not in ENTITY_TYPES:
            raise BrokerError(
                ErrorCode.unsupported_version, f"Unsupported entity type {entity_type}"
            )
        if match_type == MATCH_TYPE_EXACT:
            if match is None:
                raise _invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.")
            exact[entity_type] = match
        elif match_type == MATCH_TYPE_DEFAULT:
            if match is not None:
                raise _invalid(
                    "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."
                )
            exact[entity_type] = None
        elif match_type == MATCH_TYPE_SPECIFIED:
            if match is not None:
                raise _invalid(
                    "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."
                )
            specified.add(entity_type)
        else:
            raise BrokerError(ErrorCode.unsupported_version, f"Unsupported match type {match_type}")
    if (IP in exact or IP in specified) and len(exact) + len(specified) > 1:
        raise _invalid(
            "Invalid entity filter component combination, IP filter component should not be "
            "used with user or clientId filter component."
        )
    return QuotaFilter(exact, frozenset(specified), strict)


def describe(
    configs: Mapping[QuotaEntity, Mapping[str, float]], quota_filter: QuotaFilter
) -> list[tuple[QuotaEntity, dict[str, float]]]:
    """The configured entities the filter matches, with their quota values."""
    return [
        (quota_entity, dict(values))
        for quota_entity, values in configs.items()
        if values and quota_filter.matches(quota_entity)
    ]


def apply(current: Mapping[str, float], changes: Mapping[str, float | None]) -> dict[str, float]:
    """An entity's quotas after setting and removing keys."""
    result = dict(current)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result
