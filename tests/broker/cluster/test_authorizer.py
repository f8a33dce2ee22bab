"""The broker's StandardAuthorizer over a real metadata store: changes apply at once,
bitfields, deletes per filter, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.cluster.authorizer import StandardAuthorizer, build_authorizer
from broker.cluster.metadata import FileMetadataStore
from broker.common.acls import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    InvalidAcl,
    PatternType,
    PermissionType,
    ResourceType,
    from_wire,
)
from broker.config import ConfigError, config_from_properties
from broker.server.config_manager import ConfigManager
from broker.storage.log_manager import LogManager

Op = AclOperation
TOPIC, CLUSTER = ResourceType.TOPIC, ResourceType.CLUSTER


def allow(kind: ResourceType, name: str, principal: str, op: AclOperation,
          pattern: PatternType = PatternType.LITERAL) -> AclBinding:  # fmt: skip
    return AclBinding(kind, name, pattern, principal, "*", op, PermissionType.ALLOW)


@pytest.fixture
def authorizer(tmp_path: Path) -> StandardAuthorizer:
    store = FileMetadataStore(tmp_path, node_id=1)
    return StandardAuthorizer(store, super_users=frozenset({"User:admin"}))


def test_created_and_deleted_acls_apply_to_the_next_decision(
    authorizer: StandardAuthorizer,
) -> None:
    assert not authorizer.authorize("User:a", "h", Op.READ, TOPIC, "t")
    authorizer.create_acls([allow(TOPIC, "t", "User:a", Op.READ)])
    assert authorizer.authorize("User:a", "h", Op.READ, TOPIC, "t")
    assert authorizer.authorize("User:admin", "h", Op.DELETE, TOPIC, "anything")
    authorizer.delete_acls([AclBindingFilter(principal="User:a")])
    assert not authorizer.authorize("User:a", "h", Op.READ, TOPIC, "t")


def test_authorized_operations_is_kafkas_bitfield(authorizer: StandardAuthorizer) -> None:
    authorizer.create_acls([allow(TOPIC, "t", "User:a", Op.WRITE)])
    bits = authorizer.authorized_operations("User:a", "h", TOPIC, "t")
    assert bits == (1 << Op.WRITE) | (1 << Op.DESCRIBE)  # WRITE implies DESCRIBE
    assert authorizer.authorized_operations("User:admin", "h", CLUSTER, "kafka-cluster") == sum(
        1 << op for op in (Op.CREATE, Op.ALTER, Op.DESCRIBE, Op.CLUSTER_ACTION,
                           Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE)
    )  # fmt: skip


def test_delete_acls_answers_what_each_filter_matched(authorizer: StandardAuthorizer) -> None:
    read = allow(TOPIC, "t", "User:a", Op.READ)
    prefixed = allow(TOPIC, "t", "User:b", Op.ALL, PatternType.PREFIXED)
    authorizer.create_acls([read, prefixed])
    by_a = AclBindingFilter(principal="User:a")
    matching_t = AclBindingFilter(TOPIC, "t", PatternType.MATCH)
    nothing = AclBindingFilter(principal="User:nobody")
    assert authorizer.delete_acls([by_a, matching_t, nothing]) == [[read], [read, prefixed], []]
    assert authorizer.acls(AclBindingFilter()) == []


def test_wire_codes_and_filters_refuse_unknown_parts() -> None:
    assert from_wire(ResourceType, 2) is TOPIC
    assert from_wire(ResourceType, 99) is ResourceType.UNKNOWN
    with pytest.raises(InvalidAcl, match="Unknown patternFilter"):
        AclBindingFilter(pattern_type=PatternType.UNKNOWN).validate()
    with pytest.raises(InvalidAcl, match="Unknown entryFilter"):
        AclBindingFilter(operation=Op.UNKNOWN).validate()
    with pytest.raises(InvalidAcl, match="Invalid patternType MATCH"):
        allow(TOPIC, "t", "User:a", Op.READ, PatternType.MATCH).validate()
    with pytest.raises(InvalidAcl, match="Invalid empty resource name"):
        allow(TOPIC, "", "User:a", Op.READ).validate()
    binding = allow(TOPIC, "acme.", "User:a", Op.ALL, PatternType.PREFIXED)
    assert AclBinding.from_json(binding.to_json()) == binding


def test_settings_choose_the_authorizer(tmp_path: Path) -> None:
    def authorizer_for(**props: str) -> StandardAuthorizer | None:
        config = config_from_properties({"log.dirs": str(tmp_path), **props})
        store = FileMetadataStore(tmp_path, node_id=1)
        layers = ConfigManager(config, store, LogManager(tmp_path)).layers
        return build_authorizer(layers.value, store)

    assert authorizer_for() is None
    on = authorizer_for(**{
        "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
        "super.users": "User:admin; User:CN=ops,O=acme",
        "allow.everyone.if.no.acl.found": "true",
    })  # fmt: skip
    assert on is not None
    assert on.authorize("User:CN=ops,O=acme", "h", Op.ALTER, CLUSTER, "kafka-cluster")
    assert on.authorize("User:someone", "h", Op.READ, TOPIC, "no-acls-here")
    with pytest.raises(ConfigError, match=r"authorizer\.class\.name"):
        config_from_properties({"authorizer.class.name": "com.example.Custom"})
    with pytest.raises(ConfigError, match=r"super\.users"):
        config_from_properties({"super.users": "admin"})
