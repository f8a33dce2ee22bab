from __future__ import annotations

from pathlib import Path

import pytest

from broker.cluster.client_quotas import describe, parse_entity, parse_filter, parse_ops
from broker.cluster.metadata import FileMetadataStore
from broker.cluster.quotas import entity
from broker.errors import BrokerError, ErrorCode


def test_an_entity_of_user_and_default_client_id() -> None:
    assert parse_entity([("user", "alice"), ("client-id", None)]) == entity(
        user="alice", client_id=None
    )


def test_ops_set_and_remove_keys_and_refuse_what_kafka_refuses() -> None:
    assert parse_ops([("producer_byte_rate", 1024.0, False), ("request_percentage", 0, True)]) == {
        "producer_byte_rate": 1024.0,
        "request_percentage": None,
    }
    for ops, message in (
        ([("request_percentage", float("nan"), False)], "must be greater than 0"),
        ([("producer_byte_rate", 2.0**64, False)], "too large for a LONG"),
    ):
        with pytest.raises(BrokerError) as caught:
            parse_ops(ops)
        assert caught.value.code == ErrorCode.invalid_request
        assert message in str(caught.value.message)
    assert parse_ops([("request_percentage", 0.5, False)]) == {"request_percentage": 0.5}


def test_a_strict_filter_leaves_out_entities_with_other_types() -> None:
    configs = {
        entity(user="alice"): {"producer_byte_rate": 1.0},
        entity(user="alice", client_id="etl"): {"producer_byte_rate": 2.0},
        entity(client_id="etl"): {"producer_byte_rate": 3.0},
    }
    loose = parse_filter([("client-id", 0, "etl")], strict=False)
    assert [e for e, _ in describe(configs, loose)] == [
        entity(user="alice", client_id="etl"),
        entity(client_id="etl"),
    ]
    strict = parse_filter([("client-id", 0, "etl")], strict=True)
    assert [e for e, _ in describe(configs, strict)] == [entity(client_id="etl")]


def test_the_metadata_store_keeps_quotas_across_a_reload(tmp_path: Path) -> None:
    store = FileMetadataStore(tmp_path, node_id=1)
    store.alter_client_quotas(
        [
            (entity(user=None, client_id="etl"), {"producer_byte_rate": 1024.0}),
            (entity(user="alice"), {"consumer_byte_rate": 2048.0}),
        ]
    )
    store.alter_client_quotas([(entity(user="alice"), {})])  # no quotas left: gone
    reloaded = FileMetadataStore(tmp_path, node_id=1)
    assert reloaded.client_quotas() == {
        entity(user=None, client_id="etl"): {"producer_byte_rate": 1024.0}
    }
