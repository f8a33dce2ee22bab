"""Reads for the operators' plan and quota pages (``/plans/``, ``/quotas/``).

Plans are the commercial side: operator-only (``plan.view``, ``quota.manage``); anyone
else gets NotFound, as for a page that does not exist. The quotas page compares, per
service account, the effective quotas (the plan's or the account's override) with what
the console last wrote (``applied_quotas``) and what the cluster reports now
(DescribeClientQuotas, one request for every user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from console import broker_admin
from console.models import Plan, ServiceAccount, ServiceAccountState, TenantState
from console.roles import Action
from console.selectors.quotas import QuotaRow, quota_rows
from console.tenancy import Actor, NotFound, authorize

ACCOUNTS_PER_PAGE = 25


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    tenants: int


def plan_list(*, actor: Actor) -> list[PlanRow]:
    """``/plans/``: every plan with how many (active) tenants use it."""
    authorize(actor=actor, action=Action.PLAN_VIEW)
    plans = Plan.objects.annotate(
        tenant_count=Count("tenants", filter=Q(tenants__state=TenantState.ACTIVE))
    ).order_by("name")
    return [PlanRow(plan=p, tenants=p.tenant_count) for p in plans]


def plan_get(*, actor: Actor, name: str) -> PlanRow:
    authorize(actor=actor, action=Action.PLAN_VIEW)
    plan = Plan.objects.filter(name=name).first()
    if plan is None:
        raise NotFound("no such plan")
    return PlanRow(plan=plan, tenants=plan.tenants.filter(state=TenantState.ACTIVE).count())


@dataclass(frozen=True)
class AccountQuotas:
    account: ServiceAccount
    rows: list[QuotaRow]
    cluster: dict[str, float] | None
    """what DescribeClientQuotas reported for this user (None: the cluster did not answer)"""

    @property
    def lines(self) -> list[tuple[QuotaRow, float | None]]:
        """Each quota row with the cluster's value (None: unset there, or not known)."""
        seen = self.cluster or {}
        return [(row, seen.get(row.key)) for row in self.rows]

    @property
    def in_sync(self) -> bool | None:
        if self.cluster is None:
            return None
        wanted = {r.key: r.effective for r in self.rows if r.effective is not None}
        seen = {k: v for k, v in self.cluster.items() if k in Plan.QUOTA_KEYS}
        return seen == wanted


@dataclass(frozen=True)
class QuotaPage:
    plans: list[PlanRow]
    accounts: list[AccountQuotas]
    page: Page[Any]
    tenant: str
    cluster_error: str


def quota_overview(*, actor: Actor, tenant: str = "", page: int | str = 1) -> QuotaPage:
    """``/quotas/``: per plan its quotas; per active service account (a page at a time,
    optionally one tenant's) the effective quotas, the applied ones and the cluster's."""
    authorize(actor=actor, action=Action.QUOTA_MANAGE)
    accounts = ServiceAccount.objects.filter(state=ServiceAccountState.ACTIVE).select_related(
        "tenant__plan"
    )
    if tenant:
        accounts = accounts.filter(tenant__slug=tenant)
    paged = Paginator(accounts.order_by("tenant__slug", "name"), ACCOUNTS_PER_PAGE).get_page(page)
    cluster: dict[str, dict[str, float]] | None
    error = ""
    try:
        cluster = broker_admin.describe_user_quotas() if paged.object_list else {}
    except broker_admin.BrokerAdminError as exc:
        cluster, error = None, f"The cluster's quotas could not be read: {exc}"
    rows = [
        AccountQuotas(
            account=a,
            rows=quota_rows(a),
            cluster=None if cluster is None else cluster.get(a.username, {}),
        )
        for a in paged.object_list
    ]
    return QuotaPage(
        plans=plan_list(actor=actor), accounts=rows, page=paged, tenant=tenant,
        cluster_error=error,
    )  # fmt: skip
