"""Operators' broker writes: dynamic broker configs (IncrementalAlterConfigs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from console import cluster_admin
from console.roles import Action
from console.services._common import audit
from console.tenancy import Actor, NotFound, authorize


def broker_configs_alter(
    *, actor: Actor, broker_id: int, set: Mapping[str, str], delete: Iterable[str] = ()
) -> None:
    """Change broker ``broker_id``'s dynamic configs: SET each of ``set``, DELETE each
    of ``delete`` (back to the cluster-wide default or the static value). Operators
    only. The broker decides what is valid and dynamic: its refusal propagates as
    :class:`console.cluster_admin.RequestRejected` with Kafka's message, and nothing is
    audited; a change made is audited with the values before and after."""
    authorize(actor=actor, action=Action.CLUSTER_VIEW)
    set, deleting = dict(set), sorted(frozenset(delete))
    cluster = cluster_admin.describe_cluster()
    if broker_id not in {b.broker_id for b in cluster.brokers}:
        raise NotFound("no such broker")
    current = {c.name: c for c in cluster_admin.describe_broker_configs(broker_id=broker_id)}
    changed = [*set, *deleting]
    before = {
        name: (current[name].value if name in current and not current[name].sensitive else None)
        for name in changed
    }
    cluster_admin.alter_broker_configs(broker_id=broker_id, set=set, delete=deleting)
    audit(
        actor=actor, action="broker.alter_configs", resource_type="broker",
        resource_name=str(broker_id), before=before,
        after={**{k: (None if current.get(k) and current[k].sensitive else v)
                  for k, v in set.items()}, **dict.fromkeys(deleting)},
    )  # fmt: skip
