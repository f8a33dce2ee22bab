"""Service accounts: SCRAM users ``<slug>-<name>``, their secrets and quotas.

A secret is generated here, written to the cluster right after the transaction commits
(AlterUserScramCredentials: the client salts and hashes it, the cluster keeps only the
salted credential) and returned once in :class:`Credential`. It is never stored, logged
or put in a task message: this write is the one the reconciler cannot repeat, so when
it fails the account shows ``CredentialNotSet`` and a rotation makes a new secret.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from console import broker_admin
from console.models import Plan, ReadyState, ServiceAccount, ServiceAccountState, Tenant
from console.names import validate_account_name
from console.roles import Action
from console.services._common import audit, field_error, request_reconcile
from console.tenancy import Actor, NotFound, authorize, tenant_for

log = logging.getLogger(__name__)

SECRET_BYTES = 32


@dataclass(repr=False)
class Credential:
    """What a client needs to log in; ``password`` exists only in this object.

    ``credential_set``: the cluster accepted the credential (False with ``message``
    when it could not be written, or while an enclosing transaction is still open)."""

    username: str
    password: str
    mechanism: str
    credential_set: bool = False
    message: str = ""
    account_id: int = field(default=0)

    def __repr__(self) -> str:  # never the password, not even in a traceback's locals
        return f"Credential(username={self.username!r}, credential_set={self.credential_set})"


def _snapshot(account: ServiceAccount) -> dict[str, object]:
    return {
        "username": account.username,
        "state": account.state,
        "mechanism": account.mechanism,
        "quota_overrides": account.quota_overrides,
    }


def _account_for(*, actor: Actor, tenant_slug: str, name: str, action: Action) -> ServiceAccount:
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.SERVICE_ACCOUNT_VIEW)
    authorize(actor=actor, action=action, tenant=tenant)
    account = (
        ServiceAccount.objects.select_for_update()
        .select_related("tenant__plan")
        .filter(tenant=tenant, name=name)
        .first()
    )
    if account is None:
        raise NotFound("no such service account")
    return account


def _write_credential_on_commit(account: ServiceAccount, credential: Credential) -> None:
    def write() -> None:
        try:
            broker_admin.upsert_scram_credential(
                user=account.username,
                mechanism=account.mechanism,
                iterations=account.iterations,
                password=credential.password,
            )
        except broker_admin.BrokerAdminError as exc:
            message = (
                f"the cluster did not take the credential ({exc}); rotate the secret to try again"
            )
            ServiceAccount.objects.filter(pk=account.pk).update(
                credential_set=False,
                ready_state=ReadyState.ERROR,
                ready_reason="CredentialNotSet",
                ready_message=message,
                ready_transition=timezone.now(),
            )
            credential.message = message
            log.warning("SCRAM credential for %s not set: %s", account.username, exc)
            return
        ServiceAccount.objects.filter(pk=account.pk).update(
            credential_set=True, rotated_at=timezone.now()
        )
        credential.credential_set = True

    transaction.on_commit(write)


def create_account(
    *, actor: Actor, tenant: Tenant, name: str, description: str = "", mechanism: str
) -> Credential:
    """Inside a transaction the caller holds: make the account and its secret."""
    try:
        validate_account_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from exc
    if mechanism not in broker_admin.SCRAM_MECHANISMS:
        raise field_error(
            "mechanism", f"Unknown SASL mechanism {mechanism!r}: SCRAM-SHA-256 or -512.", "mech"
        )
    if ServiceAccount.objects.filter(tenant=tenant, name=name).exists():
        raise field_error(
            "name", f"The service account {tenant.slug}-{name} exists already.", "exists"
        )
    try:
        with transaction.atomic():
            account = ServiceAccount.objects.create(
                tenant=tenant, name=name, description=description, mechanism=mechanism
            )
    except IntegrityError as exc:  # a concurrent create of the same name
        raise field_error(
            "name", f"The service account {tenant.slug}-{name} exists.", "exists"
        ) from exc
    credential = Credential(
        username=account.username,
        password=secrets.token_urlsafe(SECRET_BYTES),
        mechanism=mechanism,
        account_id=account.pk,
    )
    audit(
        actor=actor, action="service_account.create", tenant=tenant,
        resource_type="service_account", resource_name=account.username,
        after=_snapshot(account),
    )  # fmt: skip
    _write_credential_on_commit(account, credential)  # first: the reconcile then sees it
    request_reconcile(tenant)
    return credential


def service_account_create(
    *,
    actor: Actor,
    tenant_slug: str,
    name: str,
    description: str = "",
    mechanism: str = "SCRAM-SHA-256",
) -> Credential:
    """A new service account with a generated secret, returned once."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.SERVICE_ACCOUNT_MANAGE)
    with transaction.atomic():
        return create_account(
            actor=actor, tenant=tenant, name=name, description=description, mechanism=mechanism
        )


def service_account_rotate(*, actor: Actor, tenant_slug: str, name: str) -> Credential:
    """A new secret for the account (the old one stops working once the cluster has the
    new credential), returned once."""
    with transaction.atomic():
        account = _account_for(
            actor=actor, tenant_slug=tenant_slug, name=name, action=Action.SERVICE_ACCOUNT_MANAGE
        )
        if account.state != ServiceAccountState.ACTIVE:
            raise ValidationError(f"{account.username} is revoked.", code="revoked")
        credential = Credential(
            username=account.username,
            password=secrets.token_urlsafe(SECRET_BYTES),
            mechanism=account.mechanism,
            account_id=account.pk,
        )
        ServiceAccount.objects.filter(pk=account.pk).update(
            ready_state=ReadyState.PENDING, ready_reason="Rotating",
            ready_message="a new credential is being written", reached_ready=False,
            ready_transition=timezone.now(),
        )  # fmt: skip
        audit(
            actor=actor, action="service_account.rotate", tenant=account.tenant,
            resource_type="service_account", resource_name=account.username,
        )  # fmt: skip
        _write_credential_on_commit(account, credential)  # first: the reconcile sees it
        request_reconcile(account.tenant)
    return credential


def service_account_revoke(*, actor: Actor, tenant_slug: str, name: str) -> None:
    """Revoke: the reconciler removes the SCRAM user, its ACLs and quotas."""
    with transaction.atomic():
        account = _account_for(
            actor=actor, tenant_slug=tenant_slug, name=name, action=Action.SERVICE_ACCOUNT_MANAGE
        )
        if account.state == ServiceAccountState.REVOKED:
            return
        before = _snapshot(account)
        account.state = ServiceAccountState.REVOKED
        account.ready_state = ReadyState.PENDING
        account.ready_reason = "Revoking"
        account.ready_message = "the SCRAM user, its ACLs and quotas are being removed"
        account.ready_transition = timezone.now()
        account.save()
        account.access_rules.update(deleting=True)
        audit(
            actor=actor, action="service_account.revoke", tenant=account.tenant,
            resource_type="service_account", resource_name=account.username,
            before=before, after=_snapshot(account),
        )  # fmt: skip
        request_reconcile(account.tenant)


def quota_update(
    *, actor: Actor, tenant_slug: str, name: str, quotas: dict[str, float | None]
) -> None:
    """Operators: per-account quotas replacing the plan's (None: back to the plan's)."""
    with transaction.atomic():
        account = _account_for(
            actor=actor, tenant_slug=tenant_slug, name=name, action=Action.QUOTA_MANAGE
        )
        overrides = dict(account.quota_overrides)
        for key, value in quotas.items():
            if key not in Plan.QUOTA_KEYS:
                raise field_error(key, f"Unknown quota {key!r}.", "unknown_quota")
            if value is None:
                overrides.pop(key, None)
                continue
            if value <= 0:
                raise field_error(key, f"Quota {key} must be greater than 0.", "min_value")
            overrides[key] = value
        before = _snapshot(account)
        account.quota_overrides = overrides
        account.save(update_fields=["quota_overrides"])
        audit(
            actor=actor, action="quota.update", tenant=account.tenant,
            resource_type="service_account", resource_name=account.username,
            before=before, after=_snapshot(account),
        )  # fmt: skip
        request_reconcile(account.tenant)
