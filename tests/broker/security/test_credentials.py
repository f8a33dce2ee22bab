"""Kafka's rules for AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554)."""

from __future__ import annotations

from broker.errors import ErrorCode
from broker.security.credentials import Deletion, Upsertion, describe, plan_alterations
from broker.security.scram import SCRAM_SHA_256, new_credential, salted_password

SALT = b"0123456789abcdef"


def upsert(name: str, mechanism: int = 1, iterations: int = 4096) -> Upsertion:
    salted = salted_password(SCRAM_SHA_256, "pw", SALT, max(iterations, 1))
    return Upsertion(name, mechanism, iterations, SALT, salted)


def results(plan) -> dict[str, tuple[ErrorCode, str | None]]:  # type: ignore[no-untyped-def]
    return {r.user: (r.error_code, r.error_message) for r in plan.results}


def test_upsertion_stores_keys_derived_from_the_salted_password_not_the_password() -> None:
    plan = plan_alterations([], [upsert("alice")], lambda _u, _m: False)
    assert results(plan) == {"alice": (ErrorCode.none, None)}
    [(user, mechanism, credential)] = plan.upsertions
    assert (user, mechanism) == ("alice", "SCRAM-SHA-256")
    assert credential == new_credential(SCRAM_SHA_256, "pw", iterations=4096, salt=SALT)
    assert "salted" not in repr(upsert("alice"))


def test_kafkas_validation_errors() -> None:
    plan = plan_alterations(
        [Deletion("ghost", 1), Deletion("", 1)],
        [
            upsert("few", iterations=4095),
            upsert("many", iterations=16385),
            upsert("odd", mechanism=3),
            Upsertion("nosalt", 1, 4096, b"", b""),
        ],
        lambda _u, _m: False,
    )
    assert results(plan) == {
        "ghost": (
            ErrorCode.resource_not_found,
            "Attempt to delete a user credential that does not exist",
        ),
        "": (ErrorCode.unacceptable_credential, "Username must not be empty"),
        "few": (ErrorCode.unacceptable_credential, "Too few iterations"),
        "many": (ErrorCode.unacceptable_credential, "Too many iterations"),
        "odd": (ErrorCode.unsupported_sasl_mechanism, "Unknown SCRAM mechanism"),
        "nosalt": (ErrorCode.unacceptable_credential, "Salt and salted password are required"),
    }
    assert plan.deletions == [] and plan.upsertions == []


def test_a_user_altered_twice_in_one_request_fails_entirely() -> None:
    plan = plan_alterations(
        [Deletion("alice", 1)],
        [upsert("alice", mechanism=2), upsert("bob"), upsert("bob", mechanism=2), upsert("carol")],
        lambda _u, _m: True,
    )
    twice = (
        ErrorCode.duplicate_resource,
        "A user credential cannot be altered twice in the same request",
    )
    assert results(plan) == {"alice": twice, "bob": twice, "carol": (ErrorCode.none, None)}
    assert [u for u, _m, _c in plan.upsertions] == ["carol"]
    assert plan.deletions == []


def test_deletion_of_an_existing_credential() -> None:
    plan = plan_alterations(
        [Deletion("alice", 2)], [], lambda u, m: (u, m) == ("alice", "SCRAM-SHA-512")
    )
    assert plan.deletions == [("alice", "SCRAM-SHA-512")]
    assert results(plan) == {"alice": (ErrorCode.none, None)}


def test_describe_all_named_missing_and_duplicate_users() -> None:
    stored = {
        "bob": {"SCRAM-SHA-512": new_credential(SCRAM_SHA_256, "x", iterations=4096)},
        "alice": {
            "SCRAM-SHA-512": new_credential(SCRAM_SHA_256, "x", iterations=8192),
            "SCRAM-SHA-256": new_credential(SCRAM_SHA_256, "x", iterations=4096),
        },
    }
    everyone = describe(None, stored)
    assert [(d.user, d.credentials) for d in everyone] == [
        ("alice", ((1, 4096), (2, 8192))),
        ("bob", ((2, 4096),)),
    ]
    assert describe([], stored) == everyone
    named = {d.user: d for d in describe(["bob", "ghost", "alice", "alice"], stored)}
    assert named["bob"].error_code == ErrorCode.none
    assert named["ghost"].error_code == ErrorCode.resource_not_found
    assert named["ghost"].error_message == (
        "Attempt to describe a user credential that does not exist: ghost"
    )
    assert named["alice"].error_code == ErrorCode.duplicate_resource
    assert named["alice"].error_message == (
        "Cannot describe SCRAM credentials for the same user twice in a single request: alice"
    )
