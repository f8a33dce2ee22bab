"""Raw DescribeClientQuotas / AlterClientQuotas requests (v1) over a KafkaWire."""

from __future__ import annotations

from typing import Any

from kio.schema.alter_client_quotas.v1 import request as alter
from kio.schema.describe_client_quotas.v1 import request as describe
from kio.static.primitive import f64, i8

from tests.support.wire import KafkaWire

Entity = dict[str, str | None]  # {"user": "alice", "client-id": None (the default)}


def alter_quotas(
    wire: KafkaWire,
    entity: Entity,
    ops: dict[str, float | None],
    *,
    validate_only: bool = False,
) -> Any:
    """Set (value) or remove (None) quota keys of one entity; returns its result entry."""
    response = wire.request(
        alter.AlterClientQuotasRequest(
            entries=(
                alter.EntryData(
                    entity=tuple(
                        alter.EntityData(entity_type=t, entity_name=n) for t, n in entity.items()
                    ),
                    ops=tuple(
                        alter.OpData(key=k, value=f64(float(v or 0.0)), remove=v is None)
                        for k, v in ops.items()
                    ),
                ),
            ),
            validate_only=validate_only,
        )
    )
    return response.entries[0]


def describe_quotas(
    wire: KafkaWire, components: list[tuple[str, int, str | None]], *, strict: bool = False
) -> Any:
    """DescribeClientQuotas with (entity_type, match_type, match) components."""
    return wire.request(
        describe.DescribeClientQuotasRequest(
            components=tuple(
                describe.ComponentData(entity_type=t, match_type=i8(m), match=n)
                for t, m, n in components
            ),
            strict=strict,
        )
    )


def described(response: Any) -> dict[tuple[tuple[str, str | None], ...], dict[str, float]]:
    """{((entity_type, name), ...): {key: value}} of a DescribeClientQuotas response."""
    return {
        tuple((e.entity_type, e.entity_name) for e in entry.entity): {
            v.key: v.value for v in entry.values
        }
        for entry in response.entries
    }
