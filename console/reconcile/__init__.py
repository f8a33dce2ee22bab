"""The reconciler: make the cluster match what the console's database wants.

Level-triggered and idempotent (docs/console.md, "Reconciliation"): each run reads the
desired state of one tenant, observes the cluster once (:mod:`.observe`), computes the
difference per resource kind (:mod:`.users`, :mod:`.acls`, :mod:`.quotas`; a deleting
tenant goes through :mod:`.deletion`), applies it and records each resource's Ready
condition. A tenant is reconciled by one worker at a time (a lease taken by
compare-and-set on the tenant row, the same on PostgreSQL and SQLite); a run that finds
the lease held returns at once, and the holder runs again when the tenant's
``generation`` moved while it worked, so no change is missed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from console import broker_admin
from console.models import ReadyState, Tenant, TenantState
from console.reconcile import acls, deletion, quotas, users
from console.reconcile.observe import Observed, observe
from console.reconcile.status import combine, set_status

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
MAX_PASSES = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one call did: ``reconciled``, ``busy`` (another worker holds the lease),
    ``deleted`` (the tenant is gone), ``missing`` (no such tenant) or ``error``."""

    tenant_id: int
    result: str
    message: str = ""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def _acquire(tenant_id: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    taken = Tenant.objects.filter(free, pk=tenant_id).update(
        lease_owner=owner, lease_until=now + LEASE
    )
    return taken == 1


def _release(tenant_id: int, owner: str) -> None:
    Tenant.objects.filter(pk=tenant_id, lease_owner=owner).update(lease_owner="", lease_until=None)


def reconcile_tenant(*, tenant_id: int, observed: Observed | None = None) -> Outcome:
    """Reconcile one tenant; safe to call twice at once and again at any time."""
    owner = _owner()
    if not Tenant.objects.filter(pk=tenant_id).exists():
        return Outcome(tenant_id, "missing")
    if not _acquire(tenant_id, owner):
        return Outcome(tenant_id, "busy")
    try:
        for _ in range(MAX_PASSES):
            tenant = Tenant.objects.select_related("plan").filter(pk=tenant_id).first()
            if tenant is None:
                return Outcome(tenant_id, "deleted")
            generation = tenant.generation
            outcome = _one_pass(tenant, observed)
            observed = None  # a second pass observes again: the first one changed things
            if outcome.result != "reconciled":
                return outcome
            fresh = Tenant.objects.filter(pk=tenant_id).values_list("generation", flat=True)
            if not fresh or fresh[0] == generation:
                return outcome
        return outcome
    finally:
        _release(tenant_id, owner)


def _one_pass(tenant: Tenant, observed: Observed | None) -> Outcome:
    generation = tenant.generation
    try:
        seen = observed or observe(with_groups=tenant.state == TenantState.DELETING)
        if tenant.state == TenantState.DELETING:
            if deletion.run(tenant, seen):
                return Outcome(tenant.pk, "deleted")
            return Outcome(tenant.pk, "reconciled")
        problems = [
            *users.reconcile(tenant, seen),
            *acls.reconcile(tenant, seen),
            *quotas.reconcile(tenant, seen),
        ]
    except broker_admin.BrokerUnavailable as exc:
        set_status(tenant, ReadyState.ERROR, "BrokerUnavailable", str(exc))
        log.warning("reconcile of tenant %s: %s", tenant.slug, exc)
        return Outcome(tenant.pk, "error", str(exc))
    except broker_admin.BrokerAdminError as exc:
        set_status(tenant, ReadyState.ERROR, "RequestRejected", str(exc))
        log.warning("reconcile of tenant %s: %s", tenant.slug, exc)
        return Outcome(tenant.pk, "error", str(exc))
    tenant.refresh_from_db()
    tenant.usage = seen.usage(tenant.prefix)
    tenant.observed_generation = generation
    tenant.observed_at = timezone.now()
    tenant.save(update_fields=["usage", "observed_generation", "observed_at"])
    state, reason, message = combine(tenant, problems)
    set_status(tenant, state, reason, message, drift=tenant.drift)
    return Outcome(tenant.pk, "reconciled")


def reconcile_all() -> list[Outcome]:
    """Every tenant, observing the cluster once for all of them (their resources are
    disjoint: what one tenant's run changes, another's does not look at)."""
    outcomes = []
    tenants = list(Tenant.objects.values_list("pk", "state"))
    try:
        shared = observe(with_groups=any(s == TenantState.DELETING for _, s in tenants))
    except broker_admin.BrokerAdminError:
        shared = None  # each tenant's run records the error in its own status
    for tenant_id, _ in tenants:
        outcomes.append(reconcile_tenant(tenant_id=tenant_id, observed=shared))
    return outcomes
