"""Deleting a tenant: its ACLs, quotas, SCRAM users, consumer groups and topics, in that
order (access goes first, so nothing the tenant runs can write while its data goes),
then the tenant row. Each step observes the cluster again and removes what is left, so
a run that fails half-way (a broker down, a group with members) resumes on the next run
and never leaves orphans. Progress is kept in ``Tenant.deletion_progress``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from broker.common import acls
from console import broker_admin
from console.models import ReadyState, Tenant
from console.reconcile.observe import Observed
from console.reconcile.status import set_status

STEPS = ("acls", "quotas", "users", "groups", "topics")
_TENANT_RESOURCES = {
    acls.ResourceType.TOPIC,
    acls.ResourceType.GROUP,
    acls.ResourceType.TRANSACTIONAL_ID,
}


def _acls(tenant: Tenant, seen: Observed) -> str:
    """The tenant's users' ACLs and any ACL on a resource inside its prefix."""
    doomed = [
        b
        for b in seen.acls or ()
        if b.principal.startswith(f"User:{tenant.slug}-")
        or (b.resource_type in _TENANT_RESOURCES and b.resource_name.startswith(tenant.prefix))
    ]
    broker_admin.delete_acls(doomed)
    return "" if not doomed else f"{len(doomed)}"


def _quotas(tenant: Tenant, seen: Observed) -> str:
    doomed = {
        user: {key: None for key in values}
        for user, values in seen.quotas.items()
        if user.startswith(f"{tenant.slug}-") and values
    }
    refused = broker_admin.alter_user_quotas(doomed)  # type: ignore[arg-type]
    if refused:
        raise broker_admin.RequestRejected("; ".join(f"{u}: {r}" for u, r in refused.items()))
    return f"{len(doomed)}" if doomed else ""


def _users(tenant: Tenant, seen: Observed) -> str:
    doomed = seen.tenant_users(tenant.slug)
    for user in doomed.values():
        broker_admin.delete_scram_user(
            user=user.name, mechanisms=[mechanism for mechanism, _ in user.credentials]
        )
    return f"{len(doomed)}" if doomed else ""


def _groups(tenant: Tenant, seen: Observed) -> str:
    doomed = [g for g in seen.groups if g.startswith(tenant.prefix)]
    refused = broker_admin.delete_groups(doomed)
    if refused:
        raise broker_admin.RequestRejected(
            "; ".join(f"{reason} (stop its consumers)" for reason in refused.values())
        )
    return f"{len(doomed)}" if doomed else ""


def _topics(tenant: Tenant, seen: Observed) -> str:
    doomed = [t for t in seen.topics if t.startswith(tenant.prefix)]
    refused = broker_admin.delete_topics(doomed)
    if refused:
        raise broker_admin.RequestRejected("; ".join(refused.values()))
    return f"{len(doomed)}" if doomed else ""


_RUN: dict[str, Callable[[Tenant, Observed], str]] = {
    "acls": _acls,
    "quotas": _quotas,
    "users": _users,
    "groups": _groups,
    "topics": _topics,
}


def _save(tenant: Tenant, progress: dict[str, dict[str, object]]) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(deletion_progress=progress)
    tenant.deletion_progress = progress


def run(tenant: Tenant, seen: Observed) -> bool:
    """One attempt at the whole deletion; True when the tenant is gone."""
    progress: dict[str, dict[str, object]] = {
        step: dict(tenant.deletion_progress.get(step) or {"state": "pending", "removed": 0})
        for step in STEPS
    }
    for step in STEPS:
        entry = progress[step]
        try:
            removed = _RUN[step](tenant, seen)
        except broker_admin.BrokerAdminError as exc:
            entry.update(state="error", message=str(exc))
            _save(tenant, progress)
            set_status(tenant, ReadyState.ERROR, "DeletionFailed",
                       f"deleting {step}: {exc}; the next run resumes here")  # fmt: skip
            if isinstance(exc, broker_admin.BrokerUnavailable):
                raise
            return False
        entry["state"] = "done"
        entry["removed"] = int(entry.get("removed") or 0) + int(removed or 0)
        entry.pop("message", None)
        _save(tenant, progress)
    with transaction.atomic():
        from console.services._common import audit

        audit(
            actor=_System(),
            action="tenant.deleted",
            resource_type="tenant",
            resource_name=tenant.slug,
            before={"name": tenant.name, "plan": tenant.plan.name},
            after={"removed": {s: progress[s]["removed"] for s in STEPS}},
        )
        Tenant.objects.filter(pk=tenant.pk).delete()
    return True


class _System:
    """The reconciler as an audit actor."""

    is_authenticated = False
    username = "reconciler"
