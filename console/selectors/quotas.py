"""One service account's client quotas, key by key: the plan's value, the account's
override, the effective value, and what the console last wrote to the cluster. Pure: no
permission check (the page that shows it has made one) and no cluster call."""

from __future__ import annotations

from dataclasses import dataclass

from console.models import Plan, ServiceAccount


@dataclass(frozen=True)
class QuotaRow:
    key: str
    plan: float | None
    override: float | None
    overridden: bool
    effective: float | None
    applied: float | None
    """the value in ``applied_quotas`` (None: unset there, or never applied)"""


def quota_rows(account: ServiceAccount) -> list[QuotaRow]:
    plan = account.tenant.plan.quotas()
    effective = account.quotas()
    applied = account.applied_quotas or {}
    return [
        QuotaRow(
            key=key,
            plan=plan.get(key),
            override=account.quota_overrides.get(key),
            overridden=key in account.quota_overrides,
            effective=effective.get(key),
            applied=applied.get(key),
        )
        for key in Plan.QUOTA_KEYS
    ]
