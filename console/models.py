"""The console's desired state: plans, tenants, members, service accounts, access rules,
the audit log, and each reconciled resource's status.

Only services (:mod:`console.services`) write these, and only selectors
(:mod:`console.selectors`, :mod:`console.tenancy`) read them for pages; the reconciler
(:mod:`console.reconcile`) records status. Names follow Kafka's vocabulary
(``producer_byte_rate``, ``retention.ms``, ``PREFIXED``...).

A tenant's cluster identity is its prefix ``<slug>.`` and its service accounts, SCRAM
users named ``<slug>-<name>``. Slugs are lowercase letters and digits only (no ``.``,
``-`` or ``_``), which makes both unique across tenants by construction: no prefix can
start another (``acme.`` vs ``acme.eu.`` needs a ``.`` in a slug), and the first ``-`` of
a SCRAM user name ends the slug (``acme-eu-app`` can only be tenant ``acme``'s account
``eu-app``). See docs/console.md, "Names".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from broker.common import acls


class Plan(models.Model):
    """Quotas (Kafka's client quota keys, set on each service account's user entity) and
    limits (held by the console's forms and by the broker's plan policy). An empty value
    means unlimited."""

    name = models.CharField(max_length=64, unique=True)
    producer_byte_rate = models.PositiveBigIntegerField(null=True, blank=True)
    consumer_byte_rate = models.PositiveBigIntegerField(null=True, blank=True)
    request_percentage = models.FloatField(null=True, blank=True)
    controller_mutation_rate = models.FloatField(null=True, blank=True)
    max_topics = models.PositiveIntegerField(null=True, blank=True)
    max_partitions = models.PositiveIntegerField(
        null=True, blank=True, help_text="partitions in total, over all the tenant's topics"
    )
    max_retention_ms = models.BigIntegerField(null=True, blank=True)
    max_message_bytes = models.PositiveIntegerField(null=True, blank=True)

    QUOTA_KEYS = (
        "producer_byte_rate",
        "consumer_byte_rate",
        "request_percentage",
        "controller_mutation_rate",
    )
    LIMIT_FIELDS = ("max_topics", "max_partitions", "max_retention_ms", "max_message_bytes")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def quotas(self) -> dict[str, float]:
        """The client quotas this plan sets (unset keys are absent)."""
        return {
            key: float(value)
            for key in self.QUOTA_KEYS
            if (value := getattr(self, key)) is not None
        }

    def limits(self) -> dict[str, int]:
        return {key: int(value) for key in self.LIMIT_FIELDS if (value := getattr(self, key))}

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, **{k: getattr(self, k) for k in self.QUOTA_KEYS}} | {
            k: getattr(self, k) for k in self.LIMIT_FIELDS
        }


class ReadyState(models.TextChoices):
    """What a reconciled resource's Ready condition says, in the console's words."""

    PENDING = "pending", "pending"
    READY = "ready", "in sync"
    DRIFTED = "drifted", "drifted"
    ERROR = "error", "error"


class Reconciled(models.Model):
    """A Strimzi-style Ready condition: status (True/False/Unknown), a CamelCase reason,
    a message for people, the last transition; plus the differences found (drift)."""

    ready_state = models.CharField(
        max_length=16, choices=ReadyState.choices, default=ReadyState.PENDING
    )
    ready_reason = models.CharField(max_length=64, default="Pending")
    ready_message = models.TextField(default="waiting for the reconciler", blank=True)
    ready_transition = models.DateTimeField(default=timezone.now)
    reached_ready = models.BooleanField(
        default=False, help_text="the cluster matched once: a difference now is drift"
    )
    drift = models.JSONField(default=list, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def condition(self) -> dict[str, Any]:
        """The Ready condition as Strimzi writes it in a resource's status."""
        status = {ReadyState.READY: "True", ReadyState.PENDING: "Unknown"}.get(
            ReadyState(self.ready_state), "False"
        )
        return {
            "type": "Ready",
            "status": status,
            "reason": self.ready_reason,
            "message": self.ready_message,
            "lastTransitionTime": self.ready_transition.isoformat(),
        }


class TenantState(models.TextChoices):
    ACTIVE = "active", "active"
    DELETING = "deleting", "deleting"


class Tenant(Reconciled):
    name = models.CharField(max_length=100)
    slug = models.CharField(max_length=32, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="tenants")
    state = models.CharField(max_length=16, choices=TenantState.choices, default="active")
    created_at = models.DateTimeField(default=timezone.now)
    # Reconciliation bookkeeping: a change bumps the generation; the reconciler records
    # the one it last completed (Kubernetes' metadata.generation / observedGeneration),
    # and holds a lease while it works (compare-and-set, the same on SQLite and PostgreSQL).
    generation = models.PositiveBigIntegerField(default=1)
    observed_generation = models.PositiveBigIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    deletion_progress = models.JSONField(default=dict, blank=True)
    usage = models.JSONField(default=dict, blank=True, help_text="topics and partitions seen")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def prefix(self) -> str:
        return f"{self.slug}."

    @property
    def scram_prefix(self) -> str:
        return f"{self.slug}-"


class Role(models.TextChoices):
    ADMIN = "admin", "admin"
    DEVELOPER = "developer", "developer"
    VIEWER = "viewer", "viewer"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_role_per_tenant")
        ]
        ordering = ["tenant__slug", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.tenant.slug})"


class ServiceAccountState(models.TextChoices):
    ACTIVE = "active", "active"
    REVOKED = "revoked", "revoked"


class ServiceAccount(Reconciled):
    """A SCRAM user ``<slug>-<name>`` with the plan's quotas (or its own overrides).

    The console never keeps its secret: the service that makes or rotates one sets the
    credential on the cluster right after its transaction commits and returns the
    secret once. ``credential_set`` says whether that write succeeded; a credential the
    cluster lost can only be replaced by a rotation (no one has the secret)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="service_accounts")
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=16, choices=ServiceAccountState.choices, default="active")
    mechanism = models.CharField(max_length=16, default="SCRAM-SHA-256")
    iterations = models.PositiveIntegerField(default=8192)
    credential_set = models.BooleanField(default=False)
    rotated_at = models.DateTimeField(null=True, blank=True)
    quota_overrides = models.JSONField(
        default=dict, blank=True, help_text="client quota keys that replace the plan's"
    )
    applied_quotas = models.JSONField(
        null=True, blank=True, help_text="the quotas last written to the cluster"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="one_account_name_per_tenant")
        ]
        ordering = ["tenant__slug", "name"]

    def __str__(self) -> str:
        return self.username

    @property
    def username(self) -> str:
        return f"{self.tenant.slug}-{self.name}"

    @property
    def principal(self) -> str:
        return f"User:{self.username}"

    def quotas(self) -> dict[str, float]:
        """The client quotas the cluster should hold for this user."""
        merged = self.tenant.plan.quotas()
        for key, value in self.quota_overrides.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = float(value)
        return merged


class AccessRule(Reconciled):
    """A desired ACL for a service account, inside the tenant's prefix."""

    RESOURCE_TYPES = ("TOPIC", "GROUP", "TRANSACTIONAL_ID")
    PATTERN_TYPES = ("LITERAL", "PREFIXED")
    PERMISSIONS = ("ALLOW", "DENY")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.CASCADE, related_name="access_rules"
    )
    resource_type = models.CharField(max_length=20, choices=[(t, t) for t in RESOURCE_TYPES])
    resource_name = models.CharField(max_length=249)
    pattern_type = models.CharField(max_length=10, choices=[(p, p) for p in PATTERN_TYPES])
    operation = models.CharField(max_length=20)
    permission_type = models.CharField(max_length=5, choices=[(p, p) for p in PERMISSIONS])
    host = models.CharField(max_length=255, default="*")
    deleting = models.BooleanField(
        default=False, help_text="deleted in the console; the reconciler removes the ACL"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "service_account", "resource_type", "resource_name", "pattern_type",
                    "operation", "permission_type", "host",
                ],
                name="one_rule_per_binding",
            )
        ]  # fmt: skip
        ordering = ["resource_type", "resource_name", "operation"]

    def __str__(self) -> str:
        return describe_binding(self.binding())

    def binding(self) -> acls.AclBinding:
        """The ACL this rule asks the cluster to hold."""
        return acls.AclBinding(
            resource_type=acls.ResourceType[self.resource_type],
            resource_name=self.resource_name,
            pattern_type=acls.PatternType[self.pattern_type],
            principal=self.service_account.principal,
            host=self.host,
            operation=acls.AclOperation[self.operation],
            permission_type=acls.PermissionType[self.permission_type],
        )


def describe_binding(binding: acls.AclBinding) -> str:
    """``ALLOW WRITE TOPIC acme.orders* for User:acme-app``: short, for status lines."""
    star = "*" if binding.pattern_type is acls.PatternType.PREFIXED else ""
    return (
        f"{binding.permission_type.name} {binding.operation.name} "
        f"{binding.resource_type.name} {binding.resource_name}{star} for {binding.principal}"
    )


class AuditEvent(models.Model):
    """Who did what, when, with the state before and after and the result. Immutable:
    saving an existing event or deleting one raises."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    tenant_slug = models.CharField(max_length=32, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    resource_type = models.CharField(max_length=32)
    resource_name = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    result = models.CharField(max_length=16, default="ok")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.resource_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit events are immutable")


class ApiToken(models.Model):
    """A user's token for the REST API (``Authorization: Bearer <token>``).

    Only the SHA-256 of the secret is kept (the secret is 32 random bytes, shown once
    when made); ``prefix`` is its first characters, shown so a user can tell tokens
    apart. A revoked token keeps its row (who had it, when it was last used)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=16)
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
