"""ACLs: each access rule of an active account is an ACL on the cluster; a deleted rule's
ACL is removed; an ACL of one of the tenant's users that no rule asks for is removed
(desired wins) or, once the tenant has been in sync, reported as drift."""

from __future__ import annotations

from typing import Any

from console import broker_admin
from console.models import AccessRule, ReadyState, ServiceAccountState, Tenant, describe_binding
from console.reconcile.observe import Observed
from console.reconcile.status import Problem, set_status

NO_AUTHORIZER = (
    "the cluster has no authorizer (authorizer.class.name is empty), so it keeps no ACLs"
)


def acl_missing(rule: AccessRule) -> dict[str, Any]:
    return {
        "kind": "acl_missing",
        "binding": rule.binding().to_json(),
        "message": f"ACL {describe_binding(rule.binding())} was removed on the cluster",
    }


def reconcile(tenant: Tenant, seen: Observed) -> list[Problem]:
    rules = list(
        AccessRule.objects.filter(service_account__tenant=tenant).select_related(
            "service_account__tenant"
        )
    )
    if seen.acls is None:
        for rule in rules:
            set_status(rule, ReadyState.ERROR, "SecurityDisabled", NO_AUTHORIZER)
        return [Problem(ReadyState.ERROR, "SecurityDisabled", NO_AUTHORIZER)] if rules else []
    on_cluster = set(seen.tenant_acls(tenant.slug))
    gone = [r for r in rules if r.deleting or r.service_account.state != ServiceAccountState.ACTIVE]
    live = [r for r in rules if r not in gone]
    problems: list[Problem] = []

    to_remove = [r.binding() for r in gone if r.binding() in on_cluster]
    broker_admin.delete_acls(to_remove)
    AccessRule.objects.filter(pk__in=[r.pk for r in gone]).delete()

    to_create = []
    for rule in live:
        binding = rule.binding()
        if binding in on_cluster:
            set_status(rule, ReadyState.READY, "InSync", "the ACL is on the cluster")
        elif rule.reached_ready:
            drift = acl_missing(rule)
            set_status(rule, ReadyState.DRIFTED, "AclMissingOnCluster", drift["message"],
                       drift=[drift])  # fmt: skip
            problems.append(Problem(ReadyState.DRIFTED, "AclMissingOnCluster", "", [drift]))
        else:
            to_create.append(rule)
    refused = broker_admin.create_acls(r.binding() for r in to_create)
    for rule in to_create:
        reason = refused.get(rule.binding())
        if reason:
            set_status(rule, ReadyState.ERROR, "AclRefused", reason)
            problems.append(Problem(ReadyState.ERROR, "AclRefused", reason))
        else:
            set_status(rule, ReadyState.READY, "InSync", "the ACL is on the cluster")

    wanted = {r.binding() for r in live}
    extras = sorted(
        (b for b in on_cluster if b not in wanted and b not in set(to_remove)),
        key=describe_binding,
    )
    drift = [d for d in tenant.drift if d.get("kind") != "acl_extra"]
    if tenant.reached_ready:
        drift += [
            {
                "kind": "acl_extra",
                "binding": b.to_json(),
                "message": f"ACL {describe_binding(b)} was added on the cluster, not by "
                "the console",
            }
            for b in extras
        ]
    else:
        broker_admin.delete_acls(extras)
    if drift != tenant.drift:
        Tenant.objects.filter(pk=tenant.pk).update(drift=drift)
        tenant.drift = drift
    return problems
