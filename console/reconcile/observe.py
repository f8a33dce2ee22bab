"""One look at the cluster: ACLs, SCRAM users, user quotas, topics (and groups)."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.common import acls
from console import broker_admin


@dataclass
class Observed:
    acls: list[acls.AclBinding] | None
    """None: the cluster has no authorizer (SECURITY_DISABLED)."""
    users: dict[str, broker_admin.ScramUser]
    quotas: dict[str, dict[str, float]]
    topics: dict[str, int]
    """topic name -> partition count"""
    groups: list[str] = field(default_factory=list)

    def tenant_acls(self, slug: str) -> list[acls.AclBinding]:
        """ACLs whose principal is one of the tenant's users (``User:<slug>-...``)."""
        return [b for b in self.acls or () if b.principal.startswith(f"User:{slug}-")]

    def tenant_users(self, slug: str) -> dict[str, broker_admin.ScramUser]:
        return {name: u for name, u in self.users.items() if name.startswith(f"{slug}-")}

    def usage(self, prefix: str) -> dict[str, int]:
        owned = [count for name, count in self.topics.items() if name.startswith(prefix)]
        return {"topics": len(owned), "partitions": sum(owned)}


def observe(*, with_groups: bool = False) -> Observed:
    """Read what the reconciler compares against; BrokerUnavailable when it cannot."""
    topics = {name: len(t.partitions) for name, t in broker_admin.describe_topics().items()}
    try:
        bindings: list[acls.AclBinding] | None = broker_admin.describe_acls()
        broker_admin.authorizer_configs()  # librdkafka reads SECURITY_DISABLED as "none"
    except broker_admin.SecurityDisabled:
        bindings = None
    return Observed(
        acls=bindings,
        users={u.name: u for u in broker_admin.describe_scram_users()},
        quotas=broker_admin.describe_user_quotas(),
        topics=topics,
        groups=broker_admin.list_group_ids() if with_groups else [],
    )
