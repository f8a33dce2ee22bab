"""Reads for the tenant pages: one selector per page, each taking the acting user and
narrowing through :mod:`console.tenancy` (another tenant's slug is NotFound, exactly as a
slug that does not exist).

A page's permissions come back with its data (:class:`Allowed`), so templates show only
the buttons the actor's role allows; the services check again on every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from console.broker_admin import SCRAM_MECHANISMS
from console.models import (
    AccessRule,
    Membership,
    Plan,
    ServiceAccount,
    ServiceAccountState,
    Tenant,
    TenantState,
)
from console.roles import Action, allows
from console.services import PRESETS
from console.tenancy import Actor, NotFound, is_operator, role_of, tenant_for, visible_tenants

PAGE_SIZE = 25
DELETION_STEPS = ("acls", "quotas", "users", "groups", "topics")
SECURITY_PROTOCOL = "SASL_PLAINTEXT"
SECRET_PLACEHOLDER = "<the secret shown when it was created or rotated>"


@dataclass(frozen=True)
class Allowed:
    """What the actor's role allows on one tenant's pages (the buttons shown)."""

    role: str
    manage_accounts: bool
    manage_rules: bool
    manage_members: bool
    resolve_drift: bool
    delete_tenant: bool

    @classmethod
    def for_role(cls, role: str) -> Allowed:
        return cls(
            role=role,
            manage_accounts=allows(role, Action.SERVICE_ACCOUNT_MANAGE),
            manage_rules=allows(role, Action.ACCESS_RULE_MANAGE),
            manage_members=allows(role, Action.MEMBER_MANAGE),
            resolve_drift=allows(role, Action.DRIFT_RESOLVE),
            delete_tenant=allows(role, Action.TENANT_DELETE),
        )


def _allowed(actor: Actor, tenant: Tenant) -> Allowed:
    role = role_of(actor=actor, tenant=tenant)
    if role is None:  # tenant_for already said the actor sees it
        raise NotFound("no such tenant")
    return Allowed.for_role(role)


@dataclass(frozen=True)
class Usage:
    """One of a tenant's usages against its plan's limit (None: unlimited)."""

    used: int | None
    limit: int | None

    @property
    def over(self) -> bool:
        return self.used is not None and self.limit is not None and self.used > self.limit


def usage_of(tenant: Tenant) -> dict[str, Usage]:
    seen = tenant.usage or {}
    return {
        "topics": Usage(seen.get("topics"), tenant.plan.max_topics),
        "partitions": Usage(seen.get("partitions"), tenant.plan.max_partitions),
    }


@dataclass(frozen=True)
class TenantRow:
    tenant: Tenant
    role: str
    usage: dict[str, Usage]


@dataclass(frozen=True)
class TenantListPage:
    rows: list[TenantRow]
    page: Page[Any]
    query: str
    can_create: bool
    plans: list[str]


def tenant_list(*, actor: Actor, query: str = "", page: int | str = 1) -> TenantListPage:
    """``/tenants/``: every tenant for operators, one's own tenants (with one's role) for
    members; searched by name or slug, a page of :data:`PAGE_SIZE` at a time."""
    tenants: QuerySet[Tenant] = visible_tenants(actor=actor).select_related("plan")
    query = query.strip()
    if query:
        tenants = tenants.filter(Q(name__icontains=query) | Q(slug__icontains=query))
    operator = is_operator(actor)
    if not operator:
        role = Membership.objects.filter(tenant=OuterRef("pk"), user=actor).values("role")[:1]
        tenants = tenants.annotate(member_role=Subquery(role))
    paged = Paginator(tenants.order_by("slug"), PAGE_SIZE).get_page(page)
    rows = [
        TenantRow(tenant=t, role="operator" if operator else t.member_role, usage=usage_of(t))
        for t in paged.object_list
    ]
    plans = list(Plan.objects.values_list("name", flat=True)) if operator else []
    return TenantListPage(rows=rows, page=paged, query=query, can_create=operator, plans=plans)


@dataclass(frozen=True)
class DeletionStep:
    name: str
    state: str
    removed: int | None
    message: str


@dataclass(frozen=True)
class TenantDetail:
    tenant: Tenant
    allowed: Allowed
    usage: dict[str, Usage]
    accounts: int
    rules: int
    members: int
    deleting: bool
    deletion_steps: list[DeletionStep] = field(default_factory=list)


def deletion_steps(tenant: Tenant) -> list[DeletionStep]:
    progress = tenant.deletion_progress or {}
    steps = []
    for name in DELETION_STEPS:
        step = progress.get(name) or {}
        steps.append(
            DeletionStep(
                name=name,
                state=str(step.get("state", "pending")),
                removed=step.get("removed"),
                message=str(step.get("message", "")),
            )
        )
    return steps


def tenant_get(*, actor: Actor, slug: str) -> TenantDetail:
    """``/tenants/<slug>/``: status, drift, usage, counts, deletion progress."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.TENANT_VIEW)
    counts = Tenant.objects.filter(pk=tenant.pk).aggregate(
        accounts=Count(
            "service_accounts",
            filter=Q(service_accounts__state=ServiceAccountState.ACTIVE),
            distinct=True,
        ),
        members=Count("memberships", distinct=True),
    )
    rules = AccessRule.objects.filter(service_account__tenant=tenant, deleting=False).count()
    deleting = tenant.state == TenantState.DELETING
    return TenantDetail(
        tenant=tenant,
        allowed=_allowed(actor, tenant),
        usage=usage_of(tenant),
        accounts=counts["accounts"],
        rules=rules,
        members=counts["members"],
        deleting=deleting,
        deletion_steps=deletion_steps(tenant) if deleting else [],
    )


def tenant_delete_get(*, actor: Actor, slug: str) -> Tenant:
    """``/tenants/<slug>/delete/``: operators only; the page does not exist for others."""
    if not is_operator(actor):
        raise NotFound("no such page")
    return tenant_for(actor=actor, slug=slug, action=Action.TENANT_DELETE)


@dataclass(frozen=True)
class ConnectionSettings:
    """What a Kafka client needs to log in as a service account; ``password`` only on the
    one response that made it."""

    bootstrap_servers: str
    mechanism: str
    username: str
    password: str | None = None

    @property
    def shown_password(self) -> str:
        return self.password if self.password is not None else SECRET_PLACEHOLDER

    @property
    def properties(self) -> str:
        """librdkafka and Java client properties."""
        lines = [
            f"bootstrap.servers={self.bootstrap_servers}",
            f"security.protocol={SECURITY_PROTOCOL}",
            f"sasl.mechanism={self.mechanism}",
            f"sasl.username={self.username}",
            f"sasl.password={self.shown_password}",
        ]
        return "\n".join(lines)

    @property
    def java_jaas(self) -> str:
        return (
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
            f'required username="{self.username}" password="{self.shown_password}";'
        )

    @property
    def kcat(self) -> str:
        return (
            f"kcat -b {self.bootstrap_servers} -X security.protocol={SECURITY_PROTOCOL} "
            f"-X sasl.mechanisms={self.mechanism} -X sasl.username={self.username} "
            f"-X sasl.password='{self.shown_password}' -L"
        )


def public_bootstrap_servers() -> str:
    """Where clients connect: ``HEADWATER_PUBLIC_BOOTSTRAP_SERVERS`` if set (the address
    clients see, e.g. behind a load balancer), else the console's own bootstrap."""
    return (
        getattr(settings, "HEADWATER_PUBLIC_BOOTSTRAP_SERVERS", "")
        or settings.HEADWATER_BOOTSTRAP_SERVERS
    )


def connection_settings(
    *, username: str, mechanism: str, password: str | None = None
) -> ConnectionSettings:
    return ConnectionSettings(
        bootstrap_servers=public_bootstrap_servers(),
        mechanism=mechanism,
        username=username,
        password=password,
    )


@dataclass(frozen=True)
class ServiceAccountListPage:
    tenant: Tenant
    allowed: Allowed
    accounts: list[ServiceAccount]
    mechanisms: tuple[str, ...]


def service_account_list(*, actor: Actor, slug: str) -> ServiceAccountListPage:
    """``/tenants/<slug>/service-accounts/``: the tenant's accounts, active first."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.SERVICE_ACCOUNT_VIEW)
    accounts = list(
        ServiceAccount.objects.filter(tenant=tenant)
        .select_related("tenant")
        .order_by("state", "name")
    )
    return ServiceAccountListPage(
        tenant=tenant,
        allowed=_allowed(actor, tenant),
        accounts=accounts,
        mechanisms=tuple(SCRAM_MECHANISMS),
    )


@dataclass(frozen=True)
class ServiceAccountDetail:
    tenant: Tenant
    allowed: Allowed
    account: ServiceAccount
    rules: list[AccessRule]
    connection: ConnectionSettings


def service_account_get(*, actor: Actor, slug: str, name: str) -> ServiceAccountDetail:
    """One account: status, its rules, its connection settings without the secret."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.SERVICE_ACCOUNT_VIEW)
    account = (
        ServiceAccount.objects.select_related("tenant").filter(tenant=tenant, name=name).first()
    )
    if account is None:
        raise NotFound("no such service account")
    return ServiceAccountDetail(
        tenant=tenant,
        allowed=_allowed(actor, tenant),
        account=account,
        rules=list(account.access_rules.filter(deleting=False)),
        connection=connection_settings(username=account.username, mechanism=account.mechanism),
    )


@dataclass(frozen=True)
class AccessRuleListPage:
    tenant: Tenant
    allowed: Allowed
    rules: Page[Any]
    accounts: list[str]
    account: str
    presets: tuple[str, ...]


def access_rule_list(
    *, actor: Actor, slug: str, account: str = "", page: int | str = 1
) -> AccessRuleListPage:
    """``/tenants/<slug>/acls/``: the tenant's rules with status, by service account."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.ACCESS_RULE_VIEW)
    rules = AccessRule.objects.filter(service_account__tenant=tenant).select_related(
        "service_account__tenant"
    )
    if account:
        rules = rules.filter(service_account__name=account)
    ordered = rules.order_by(
        "service_account__name", "resource_type", "resource_name", "operation", "pk"
    )
    accounts = list(
        tenant.service_accounts.filter(state=ServiceAccountState.ACTIVE)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return AccessRuleListPage(
        tenant=tenant,
        allowed=_allowed(actor, tenant),
        rules=Paginator(ordered, PAGE_SIZE * 4).get_page(page),
        accounts=accounts,
        account=account,
        presets=tuple(PRESETS),
    )


@dataclass(frozen=True)
class MemberListPage:
    tenant: Tenant
    allowed: Allowed
    members: list[Membership]


def member_list(*, actor: Actor, slug: str) -> MemberListPage:
    """``/tenants/<slug>/members/``: users and their roles."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.MEMBER_VIEW)
    members = list(
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )
    return MemberListPage(tenant=tenant, allowed=_allowed(actor, tenant), members=members)
