from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.common.acls import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    Authorizer,
    InvalidAcl,
    PatternType,
    PermissionType,
    ResourceType,
    matching,
)

A, D = PermissionType.ALLOW, PermissionType.DENY
TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
Op = AclOperation


def acl(
    rtype: ResourceType,
    name: str,
    principal: str,
    op: AclOperation,
    perm: PermissionType = A,
    pattern: PatternType = LIT,
    host: str = "*",
) -> AclBinding:
    return AclBinding(rtype, name, pattern, principal, host, op, perm)


TENANTS = Authorizer(
    bindings=(
        acl(TOPIC, "acme.", "User:acme-app", Op.ALL, pattern=PRE),
        acl(GROUP, "acme.", "User:acme-app", Op.READ, pattern=PRE),
        acl(TOPIC, "globex.", "User:globex-app", Op.READ, pattern=PRE),
        acl(TOPIC, "globex.", "User:globex-app", Op.WRITE, pattern=PRE),
        acl(TOPIC, "globex.secret", "User:globex-app", Op.READ, D),
        acl(TOPIC, "public", "User:*", Op.READ),
    ),
    super_users=frozenset({"User:admin"}),
)


@pytest.mark.parametrize(
    ("principal", "op", "rtype", "name", "allowed"),
    [
        ("User:acme-app", Op.WRITE, TOPIC, "acme.orders", True),
        ("User:acme-app", Op.DELETE, TOPIC, "acme.orders", True),  # ALL covers it
        ("User:acme-app", Op.WRITE, TOPIC, "globex.orders", False),
        ("User:acme-app", Op.READ, GROUP, "acme.billing", True),
        ("User:acme-app", Op.READ, GROUP, "globex.billing", False),
        ("User:globex-app", Op.DESCRIBE, TOPIC, "globex.orders", True),  # implied by READ/WRITE
        ("User:globex-app", Op.DELETE, TOPIC, "globex.orders", False),
        (
            "User:globex-app",
            Op.READ,
            TOPIC,
            "globex.secret",
            False,
        ),  # deny wins over prefixed allow
        ("User:globex-app", Op.WRITE, TOPIC, "globex.secret", True),  # the deny is for READ only
        ("User:anyone", Op.READ, TOPIC, "public", True),  # User:* wildcard principal
        ("User:anyone", Op.WRITE, TOPIC, "public", False),
        ("User:admin", Op.DELETE, TOPIC, "globex.secret", True),  # super user
        ("User:acme-app", Op.READ, TOPIC, "no-acls-here", False),  # default deny
    ],
)
def test_authorizer_applies_kafkas_rules(
    principal: str, op: AclOperation, rtype: ResourceType, name: str, allowed: bool
) -> None:
    assert TENANTS.authorize(principal, "10.0.0.1", op, rtype, name) is allowed


def test_allow_everyone_if_no_acl_found_only_applies_to_resources_without_acls() -> None:
    open_cluster = Authorizer(bindings=TENANTS.bindings, allow_everyone_if_no_acl_found=True)
    assert open_cluster.authorize("User:x", "h", Op.WRITE, TOPIC, "no-acls-here")
    assert not open_cluster.authorize("User:x", "h", Op.WRITE, TOPIC, "acme.orders")


def test_host_restricts_the_binding() -> None:
    authorizer = Authorizer(bindings=(acl(TOPIC, "t", "User:a", Op.READ, host="10.0.0.5"),))
    assert authorizer.authorize("User:a", "10.0.0.5", Op.READ, TOPIC, "t")
    assert not authorizer.authorize("User:a", "10.0.0.6", Op.READ, TOPIC, "t")


def test_alter_configs_implies_describe_configs_but_not_the_reverse() -> None:
    authorizer = Authorizer(bindings=(acl(TOPIC, "t", "User:a", Op.ALTER_CONFIGS),))
    assert authorizer.authorize("User:a", "h", Op.DESCRIBE_CONFIGS, TOPIC, "t")
    assert not Authorizer(bindings=(acl(TOPIC, "t", "User:a", Op.DESCRIBE_CONFIGS),)).authorize(
        "User:a", "h", Op.ALTER_CONFIGS, TOPIC, "t"
    )


def test_write_on_any_topic_grants_idempotent_write() -> None:
    assert TENANTS.authorize_any("User:acme-app", "h", Op.WRITE, TOPIC)
    assert not TENANTS.authorize_any("User:nobody", "h", Op.WRITE, TOPIC)


@given(
    st.sampled_from([Op.READ, Op.WRITE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.ALL]),
    st.sampled_from([Op.READ, Op.WRITE, Op.DESCRIBE, Op.DELETE]),
)
def test_a_deny_for_the_operation_always_beats_any_allow(
    allowed_op: AclOperation, asked: AclOperation
) -> None:
    authorizer = Authorizer(
        bindings=(
            acl(TOPIC, "", "User:*", allowed_op, pattern=PRE),
            acl(TOPIC, "t", "User:a", asked, D),
        )
    )
    assert not authorizer.authorize("User:a", "h", asked, TOPIC, "t")


def test_invalid_bindings_are_refused_with_a_reason() -> None:
    with pytest.raises(InvalidAcl, match="not valid for resource type GROUP"):
        acl(GROUP, "g", "User:a", Op.WRITE).validate()
    with pytest.raises(InvalidAcl, match="kafka-cluster"):
        acl(CLUSTER, "other", "User:a", Op.ALTER).validate()
    with pytest.raises(InvalidAcl, match="no colon is present"):
        acl(TOPIC, "t", "alice", Op.READ).validate()


def test_filters_select_bindings_like_describe_and_delete_acls() -> None:
    bindings = TENANTS.bindings
    assert len(matching(bindings, AclBindingFilter())) == len(bindings)
    assert {
        b.resource_name for b in matching(bindings, AclBindingFilter(principal="User:acme-app"))
    } == {"acme."}
    applying = matching(
        bindings,
        AclBindingFilter(
            resource_type=TOPIC, resource_name="globex.secret", pattern_type=PatternType.MATCH
        ),
    )
    assert {(b.resource_name, b.pattern_type) for b in applying} == {
        ("globex.", PRE),
        ("globex.secret", LIT),
    }
