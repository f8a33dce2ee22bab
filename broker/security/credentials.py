"""Kafka's rules for managing SCRAM credentials (KIP-554), as pure functions.

:func:`plan_alterations` validates an AlterUserScramCredentials request the way Kafka's
``ScramControlManager`` does and says what to delete, what to store and what to answer;
:func:`describe` answers DescribeUserScramCredentials like Kafka's ``ScramImage``. The
client sends a salted password (PBKDF2, computed on its side); only the stored key and
server key derived from it are kept, so the broker never holds anything a client could
log in with directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from broker.errors import ErrorCode
from broker.security.scram import (
    MAX_ITERATIONS,
    MECHANISMS_BY_CODE,
    MIN_ITERATIONS,
    CredentialLike,
    ScramCredential,
    credential_from_salted_password,
)

ALTERED_TWICE = "A user credential cannot be altered twice in the same request"


@dataclass(frozen=True, slots=True)
class UserResult:
    user: str
    error_code: ErrorCode = ErrorCode.none
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Deletion:
    name: str
    mechanism: int


@dataclass(frozen=True, slots=True)
class Upsertion:
    name: str
    mechanism: int
    iterations: int
    salt: bytes
    salted_password: bytes

    def __repr__(self) -> str:  # the salted password is a secret
        return f"Upsertion(name={self.name!r}, mechanism={self.mechanism})"


@dataclass(slots=True)
class AlterationPlan:
    results: list[UserResult]
    deletions: list[tuple[str, str]]
    upsertions: list[tuple[str, str, ScramCredential]]


def _check_name_and_mechanism(name: str, mechanism: int) -> UserResult | None:
    if not name:
        return UserResult(name, ErrorCode.unacceptable_credential, "Username must not be empty")
    if mechanism not in MECHANISMS_BY_CODE:
        return UserResult(name, ErrorCode.unsupported_sasl_mechanism, "Unknown SCRAM mechanism")
    return None


def _check_upsertion(item: Upsertion) -> UserResult | None:
    failure = _check_name_and_mechanism(item.name, item.mechanism)
    if failure is not None:
        return failure
    if item.iterations < MIN_ITERATIONS:
        return UserResult(item.name, ErrorCode.unacceptable_credential, "Too few iterations")
    if item.iterations > MAX_ITERATIONS:
        return UserResult(item.name, ErrorCode.unacceptable_credential, "Too many iterations")
    if not item.salt or not item.salted_password:
        return UserResult(
            item.name, ErrorCode.unacceptable_credential, "Salt and salted password are required"
        )
    return None


def plan_alterations(
    deletions: Iterable[Deletion],
    upsertions: Iterable[Upsertion],
    exists: Callable[[str, str], bool],
) -> AlterationPlan:
    """Validate a request; a user named twice (in either list) fails as a whole."""
    to_delete: dict[str, Deletion] = {}
    to_upsert: dict[str, Upsertion] = {}
    errors: dict[str, UserResult] = {}
    for deletion in deletions:
        if deletion.name in errors:
            continue
        if to_delete.pop(deletion.name, None) is not None:
            errors[deletion.name] = UserResult(
                deletion.name, ErrorCode.duplicate_resource, ALTERED_TWICE
            )
            continue
        failure = _check_name_and_mechanism(deletion.name, deletion.mechanism)
        if failure is None and not exists(
            deletion.name, MECHANISMS_BY_CODE[deletion.mechanism].name
        ):
            failure = UserResult(
                deletion.name,
                ErrorCode.resource_not_found,
                "Attempt to delete a user credential that does not exist",
            )
        if failure is not None:
            errors[deletion.name] = failure
        else:
            to_delete[deletion.name] = deletion
    for upsertion in upsertions:
        if upsertion.name in errors:
            continue
        if (
            to_delete.pop(upsertion.name, None) is not None
            or to_upsert.pop(upsertion.name, None) is not None
        ):
            errors[upsertion.name] = UserResult(
                upsertion.name, ErrorCode.duplicate_resource, ALTERED_TWICE
            )
            continue
        failure = _check_upsertion(upsertion)
        if failure is not None:
            errors[upsertion.name] = failure
        else:
            to_upsert[upsertion.name] = upsertion
    plan = AlterationPlan(results=[], deletions=[], upsertions=[])
    for deletion in to_delete.values():
        plan.deletions.append((deletion.name, MECHANISMS_BY_CODE[deletion.mechanism].name))
        plan.results.append(UserResult(deletion.name))
    for upsertion in to_upsert.values():
        mechanism = MECHANISMS_BY_CODE[upsertion.mechanism]
        credential = credential_from_salted_password(
            mechanism, upsertion.salted_password, upsertion.salt, upsertion.iterations
        )
        plan.upsertions.append((upsertion.name, mechanism.name, credential))
        plan.results.append(UserResult(upsertion.name))
    plan.results.extend(errors.values())
    return plan


@dataclass(frozen=True, slots=True)
class UserDescription:
    user: str
    error_code: ErrorCode = ErrorCode.none
    error_message: str | None = None
    credentials: tuple[tuple[int, int], ...] = ()
    """(mechanism type code, iterations) pairs."""


def describe(
    users: Iterable[str] | None,
    stored: Mapping[str, Mapping[str, CredentialLike]],
) -> list[UserDescription]:
    """Every user with credentials (``users`` None or empty), or the ones asked for."""
    codes = {m.name: m.type_code for m in MECHANISMS_BY_CODE.values()}

    def infos(user: str) -> tuple[tuple[int, int], ...]:
        return tuple(sorted((codes[name], cred.iterations) for name, cred in stored[user].items()))

    requested = list(users or ())
    if not requested:
        return [UserDescription(user, credentials=infos(user)) for user in sorted(stored)]
    seen: dict[str, int] = {}
    for user in requested:
        seen[user] = seen.get(user, 0) + 1
    results = []
    for user in dict.fromkeys(requested):
        if seen[user] > 1:
            results.append(
                UserDescription(
                    user,
                    ErrorCode.duplicate_resource,
                    "Cannot describe SCRAM credentials for the same user twice in a single "
                    f"request: {user}",
                )
            )
        elif not stored.get(user):
            results.append(
                UserDescription(
                    user,
                    ErrorCode.resource_not_found,
                    f"Attempt to describe a user credential that does not exist: {user}",
                )
            )
        else:
            results.append(UserDescription(user, credentials=infos(user)))
    return results
