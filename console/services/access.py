"""Access rules (desired ACLs inside the tenant's prefix) and drift resolution."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from broker.common import acls
from console.models import (
    AccessRule,
    ReadyState,
    ServiceAccount,
    ServiceAccountState,
    Tenant,
    describe_binding,
)
from console.names import validate_account_name, validate_inside_prefix
from console.roles import Action
from console.services._common import audit, field_error, request_reconcile
from console.tenancy import Actor, NotFound, tenant_for

# preset -> (resource type, operation, permission) over the whole prefix (PREFIXED)
PRESETS: dict[str, tuple[tuple[str, str], ...]] = {
    "producer": (
        ("TOPIC", "WRITE"), ("TOPIC", "DESCRIBE"),
        ("TRANSACTIONAL_ID", "WRITE"), ("TRANSACTIONAL_ID", "DESCRIBE"),
    ),
    "consumer": (
        ("TOPIC", "READ"), ("TOPIC", "DESCRIBE"), ("GROUP", "READ"), ("GROUP", "DESCRIBE"),
    ),
    "full": (("TOPIC", "ALL"), ("GROUP", "ALL"), ("TRANSACTIONAL_ID", "ALL")),
}  # fmt: skip
_WHAT = {"TOPIC": "topic", "GROUP": "group", "TRANSACTIONAL_ID": "transactional id"}


def _rule_snapshot(rule: AccessRule) -> dict[str, str]:
    return rule.binding().to_json()


def _validate_rule(
    tenant: Tenant,
    *,
    resource_type: str,
    resource_name: str,
    pattern_type: str,
    operation: str,
    permission_type: str,
    host: str,
) -> None:
    if resource_type not in AccessRule.RESOURCE_TYPES:
        raise field_error(
            "resource_type", "A tenant's rules are on topics, groups or transactional ids.", "type"
        )
    if pattern_type not in AccessRule.PATTERN_TYPES:
        raise field_error("pattern_type", "The pattern is LITERAL or PREFIXED.", "pattern")
    if permission_type not in AccessRule.PERMISSIONS:
        raise field_error("permission_type", "The permission is ALLOW or DENY.", "permission")
    try:
        validate_inside_prefix(resource_name, tenant.prefix, what=_WHAT[resource_type])
    except ValidationError as exc:
        raise ValidationError({"resource_name": exc}) from exc
    try:
        op = acls.AclOperation[operation]
    except KeyError:
        raise field_error("operation", f"Unknown operation {operation!r}.", "operation") from None
    binding = acls.AclBinding(
        acls.ResourceType[resource_type], resource_name, acls.PatternType[pattern_type],
        "User:x", host or "*", op, acls.PermissionType[permission_type],
    )  # fmt: skip
    try:
        binding.validate()  # Kafka's own checks and messages
    except acls.InvalidAcl as exc:
        raise field_error("operation", str(exc), "invalid_acl") from exc


def _account(tenant: Tenant, account_name: str) -> ServiceAccount:
    account = (
        ServiceAccount.objects.select_related("tenant")
        .filter(tenant=tenant, name=account_name, state=ServiceAccountState.ACTIVE)
        .first()
    )
    if account is None:
        raise NotFound("no such service account")
    return account


def _create_rule(actor: Actor, account: ServiceAccount, **fields: str) -> AccessRule:
    existing = AccessRule.objects.filter(service_account=account, **fields).first()
    if existing is not None and not existing.deleting:
        raise field_error("resource_name", f"The rule {existing} exists already.", "exists")
    if existing is not None:  # deleted, not yet removed from the cluster: keep it
        existing.deleting = False
        existing.save(update_fields=["deleting"])
        rule = existing
    else:
        rule = AccessRule.objects.create(service_account=account, **fields)
    audit(actor=actor, action="access_rule.create", tenant=account.tenant,
          resource_type="access_rule", resource_name=str(rule),
          after=_rule_snapshot(rule))  # fmt: skip
    return rule


def access_rule_create(
    *,
    actor: Actor,
    tenant_slug: str,
    account_name: str,
    resource_type: str,
    resource_name: str,
    pattern_type: str = "LITERAL",
    operation: str,
    permission_type: str = "ALLOW",
    host: str = "*",
) -> AccessRule:
    """Tenant admins and operators: one desired ACL for a service account, inside the
    tenant's prefix, checked by Kafka's ACL rules."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.ACCESS_RULE_MANAGE)
    fields = dict(
        resource_type=resource_type, resource_name=resource_name, pattern_type=pattern_type,
        operation=operation, permission_type=permission_type, host=host or "*",
    )  # fmt: skip
    _validate_rule(tenant, **fields)
    with transaction.atomic():
        rule = _create_rule(actor, _account(tenant, account_name), **fields)
        request_reconcile(tenant)
    return rule


def add_preset(*, actor: Actor, tenant: Tenant, account_id: int, preset: str) -> list[AccessRule]:
    """Inside the caller's transaction: the preset's rules over the tenant's prefix."""
    if preset not in PRESETS:
        raise field_error("preset", f"Unknown preset {preset!r}: {', '.join(PRESETS)}.", "preset")
    account = ServiceAccount.objects.select_related("tenant").get(pk=account_id)
    rules = []
    for resource_type, operation in PRESETS[preset]:
        fields = dict(
            resource_type=resource_type, resource_name=tenant.prefix, pattern_type="PREFIXED",
            operation=operation, permission_type="ALLOW", host="*",
        )  # fmt: skip
        if AccessRule.objects.filter(service_account=account, deleting=False, **fields).exists():
            continue
        rules.append(_create_rule(actor, account, **fields))
    request_reconcile(tenant)
    return rules


def access_rules_from_preset(
    *, actor: Actor, tenant_slug: str, account_name: str, preset: str
) -> list[AccessRule]:
    """``producer``, ``consumer`` or ``full`` access to the tenant's whole prefix; rules
    the account has already are kept, not doubled."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.ACCESS_RULE_MANAGE)
    with transaction.atomic():
        account = _account(tenant, account_name)
        return add_preset(actor=actor, tenant=tenant, account_id=account.pk, preset=preset)


def access_rule_delete(*, actor: Actor, tenant_slug: str, rule_id: int) -> None:
    """Mark the rule deleted; the reconciler removes the ACL, then the rule."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.ACCESS_RULE_MANAGE)
    with transaction.atomic():
        rule = (
            AccessRule.objects.select_for_update()
            .select_related("service_account__tenant")
            .filter(pk=rule_id, service_account__tenant=tenant, deleting=False)
            .first()
        )
        if rule is None:
            raise NotFound("no such access rule")
        rule.deleting = True
        rule.ready_state = ReadyState.PENDING
        rule.ready_reason = "Deleting"
        rule.ready_message = "the ACL is being removed from the cluster"
        rule.ready_transition = timezone.now()
        rule.save()
        audit(actor=actor, action="access_rule.delete", tenant=tenant,
              resource_type="access_rule", resource_name=str(rule),
              before=_rule_snapshot(rule))  # fmt: skip
        request_reconcile(tenant)


def _pending(
    resource: Tenant | ServiceAccount | AccessRule,
    reason: str,
    message: str,
    *,
    reached_ready: bool = False,
) -> None:
    """Back to pending; with ``reached_ready`` False the reconciler applies desired state
    where it differs (desired wins) instead of reporting drift."""
    resource.ready_state = ReadyState.PENDING
    resource.ready_reason = reason
    resource.ready_message = message
    resource.ready_transition = timezone.now()
    resource.reached_ready = reached_ready
    resource.drift = []
    resource.save()


def drift_reapply(*, actor: Actor, tenant_slug: str) -> None:
    """Desired wins: the next reconcile makes the cluster match the console again (ACLs
    put back, ACLs and SCRAM users made behind its back removed, quotas reset). A SCRAM
    user removed on the cluster needs a rotation: nobody has its secret."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.DRIFT_RESOLVE)
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = tenant.drift
        for rule in AccessRule.objects.filter(
            service_account__tenant=tenant, ready_state=ReadyState.DRIFTED
        ):
            _pending(rule, "Reapplying", "the ACL is being put back on the cluster")
        for account in tenant.service_accounts.filter(ready_state=ReadyState.DRIFTED):
            account.applied_quotas = None
            _pending(account, "Reapplying", "the cluster is being made to match")
        _pending(tenant, "Reapplying", "the cluster is being made to match the console")
        audit(actor=actor, action="drift.reapply", tenant=tenant, resource_type="tenant",
              resource_name=tenant.slug, before=before)  # fmt: skip
        request_reconcile(tenant)


def _adopt_entry(actor: Actor, tenant: Tenant, entry: dict[str, object]) -> str | None:
    """Make one tenant-level difference desired; a message when it cannot be."""
    if entry.get("kind") == "acl_extra":
        binding = acls.AclBinding.from_json(entry["binding"])  # type: ignore[arg-type]
        username = binding.principal.removeprefix("User:")
        account = tenant.service_accounts.filter(
            name=username.removeprefix(tenant.scram_prefix), state=ServiceAccountState.ACTIVE
        ).first()
        fields = dict(
            resource_type=binding.resource_type.name, resource_name=binding.resource_name,
            pattern_type=binding.pattern_type.name, operation=binding.operation.name,
            permission_type=binding.permission_type.name, host=binding.host,
        )  # fmt: skip
        try:
            if account is None or not username.startswith(tenant.scram_prefix):
                raise ValidationError("not one of the tenant's service accounts")
            _validate_rule(tenant, **fields)
        except ValidationError as exc:
            return f"cannot adopt {describe_binding(binding)}: {exc.messages[0]}"
        rule = _create_rule(actor, account, **fields)
        AccessRule.objects.filter(pk=rule.pk).update(reached_ready=True)
        return None
    if entry.get("kind") == "user_extra":
        user = str(entry["user"])
        name = user.removeprefix(tenant.scram_prefix)
        try:
            validate_account_name(name)
        except ValidationError as exc:
            return f"cannot adopt SCRAM user {user}: {exc.messages[0]}"
        if not tenant.service_accounts.filter(name=name).exists():
            ServiceAccount.objects.create(
                tenant=tenant, name=name, mechanism=str(entry.get("mechanism", "SCRAM-SHA-256")),
                iterations=int(entry.get("iterations", 8192)),  # type: ignore[call-overload]
                credential_set=True, reached_ready=True,
            )  # fmt: skip
        return None
    return None


def drift_adopt(*, actor: Actor, tenant_slug: str) -> list[str]:
    """The cluster wins: what changed behind the console's back becomes desired state
    (an ACL removed on the cluster: its rule goes; one added: a rule is made; a SCRAM
    user removed: its account is revoked; quotas changed: they become the account's).
    Returns what could not be adopted (e.g. an ACL outside the tenant's prefix)."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.DRIFT_RESOLVE)
    problems: list[str] = []
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = tenant.drift
        for rule in AccessRule.objects.filter(
            service_account__tenant=tenant, ready_state=ReadyState.DRIFTED
        ):
            rule.delete()  # it was removed on the cluster: nothing to remove
        for account in tenant.service_accounts.filter(ready_state=ReadyState.DRIFTED):
            for entry in account.drift:
                if entry.get("kind") == "user_missing":
                    account.state = ServiceAccountState.REVOKED
                    account.access_rules.update(deleting=True)
                elif entry.get("kind") == "quota":
                    account.quota_overrides = {
                        **account.quota_overrides, str(entry["key"]): entry.get("cluster")
                    }  # fmt: skip
            account.applied_quotas = None
            _pending(account, "Adopted", "the cluster's state was adopted")
        for entry in tenant.drift:
            problem = _adopt_entry(actor, tenant, entry)
            if problem:
                problems.append(problem)
        # still Ready once: what could not be adopted shows as drift again, not removed
        _pending(tenant, "Adopted", "the cluster's state was adopted", reached_ready=True)
        audit(actor=actor, action="drift.adopt", tenant=tenant, resource_type="tenant",
              resource_name=tenant.slug, before=before, message="; ".join(problems),
              result="partial" if problems else "ok")  # fmt: skip
        request_reconcile(tenant)
    return problems
