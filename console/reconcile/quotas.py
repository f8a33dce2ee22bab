"""Client quotas (and, on Headwater, the plan's limits) on each service account's user
entity; and each account's combined Ready condition (its user and its quotas).

Only the keys the console manages are compared: Kafka's four client-quota keys and the
plan-limit keys of :mod:`broker.common.plan_limits`. A value changed on the cluster
since the console last wrote it is drift; a value the console's own change makes
different (a new plan, an override) is simply applied.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from broker.common import plan_limits
from console import broker_admin
from console.models import Plan, ReadyState, ServiceAccount, ServiceAccountState, Tenant
from console.reconcile import users
from console.reconcile.observe import Observed
from console.reconcile.status import Problem, set_status, worst

MANAGED_KEYS = frozenset(Plan.QUOTA_KEYS) | frozenset(plan_limits.LIMIT_QUOTA_KEYS.values())


def desired_quotas(account: ServiceAccount) -> dict[str, float]:
    wanted = dict(account.quotas())
    if settings.HEADWATER_PLAN_POLICY_ON_BROKER:
        limits = plan_limits.PlanLimits(**account.tenant.plan.limits())
        wanted |= {k: v for k, v in limits.to_quotas().items() if v is not None}
    return wanted


def _managed(values: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if k in MANAGED_KEYS}


def _shown(value: float | None) -> str:
    if value is None:
        return "unset"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def quota_drift(
    username: str, key: str, wanted: float | None, cluster: float | None
) -> dict[str, Any]:
    return {
        "kind": "quota",
        "key": key,
        "desired": wanted,
        "cluster": cluster,
        "message": f"quota {key} of {username} is {_shown(cluster)} on the cluster; the "
        f"console set {_shown(wanted)}",
    }


def _changes(current: dict[str, float], wanted: dict[str, float]) -> dict[str, float | None]:
    keys = set(current) | set(wanted)
    return {k: wanted.get(k) for k in sorted(keys) if current.get(k) != wanted.get(k)}


def reconcile(tenant: Tenant, seen: Observed) -> list[Problem]:
    problems: list[Problem] = []
    for account in tenant.service_accounts.select_related("tenant__plan"):
        current = _managed(seen.quotas.get(account.username, {}))
        if account.state == ServiceAccountState.REVOKED:
            if current:
                _alter(account.username, {k: None for k in current})
            if account.ready_reason != "Revoked" and not account.access_rules.exists():
                users.revoked_done(account)
            continue
        parts: list[Problem] = []
        user = users.account_problem(account, seen)
        if user is not None:
            parts.append(user)
        wanted = desired_quotas(account)
        applied = None if account.applied_quotas is None else _managed(account.applied_quotas)
        if current != wanted:
            if account.reached_ready and applied is not None and current != applied:
                drift = [
                    quota_drift(account.username, k, wanted.get(k), current.get(k))
                    for k, v in _changes(current, applied).items()
                ]
                parts.append(Problem(ReadyState.DRIFTED, "QuotaChangedOnCluster", "", drift))
            elif account.username in seen.users or not parts:
                refused = _alter(account.username, _changes(current, wanted))
                if refused:
                    parts.append(Problem(ReadyState.ERROR, "QuotaRefused", refused))
                else:
                    ServiceAccount.objects.filter(pk=account.pk).update(applied_quotas=wanted)
                    account.applied_quotas = wanted
        elif applied != wanted:
            ServiceAccount.objects.filter(pk=account.pk).update(applied_quotas=wanted)
            account.applied_quotas = wanted
        _record(account, parts)
        problems.extend(parts)
    return problems


def _alter(username: str, changes: dict[str, float | None]) -> str:
    if not changes:
        return ""
    refused = broker_admin.alter_user_quotas({username: changes})
    return refused.get(username, "")


def _record(account: ServiceAccount, parts: list[Problem]) -> None:
    top = worst(parts)
    if top is None:
        set_status(account, ReadyState.READY, "InSync", "the SCRAM user and its quotas match")
        return
    drift = [entry for part in parts for entry in part.drift]
    if top.state == ReadyState.DRIFTED and not top.message:
        message = "; ".join(str(entry["message"]) for entry in drift)
        set_status(account, top.state, top.reason, message, drift=drift)
        return
    set_status(account, top.state, top.reason, top.message, drift=drift)
