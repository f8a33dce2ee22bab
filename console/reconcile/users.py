"""SCRAM users: one per active service account; revoked accounts' users removed.

The console cannot re-create a credential (it never keeps a secret), so a user removed
behind its back is drift that only a rotation repairs; a user with the tenant's name
prefix that no account owns is removed (desired wins) or, once the tenant has been in
sync, reported for the operator to re-apply or adopt.
"""

from __future__ import annotations

from console import broker_admin
from console.models import ReadyState, ServiceAccount, ServiceAccountState, Tenant
from console.reconcile.observe import Observed
from console.reconcile.status import Problem, set_status


def user_missing(username: str) -> dict[str, str]:
    return {
        "kind": "user_missing",
        "user": username,
        "message": f"SCRAM user {username} was removed on the cluster; rotate its secret to "
        "create it again (nobody has the old one), or adopt to revoke the account",
    }


def user_extra(user: broker_admin.ScramUser) -> dict[str, object]:
    mechanism, iterations = user.credentials[0] if user.credentials else ("SCRAM-SHA-256", 4096)
    return {
        "kind": "user_extra",
        "user": user.name,
        "mechanism": mechanism,
        "iterations": iterations,
        "message": f"SCRAM user {user.name} was created on the cluster, not by the console",
    }


def account_problem(account: ServiceAccount, seen: Observed) -> Problem | None:
    """The user part of an active account's condition (None: the user is there)."""
    if account.username in seen.users:
        return None
    if account.reached_ready:
        return Problem(
            ReadyState.DRIFTED, "UserMissingOnCluster", "", [user_missing(account.username)]
        )
    if not account.credential_set:
        return Problem(
            ReadyState.ERROR,
            "CredentialNotSet",
            account.ready_message
            if account.ready_reason == "CredentialNotSet"
            else "the secret was never written to the cluster: rotate it to make a new one",
        )
    return Problem(
        ReadyState.ERROR, "CredentialNotSet", "the credential is not on the cluster: rotate it"
    )


def reconcile(tenant: Tenant, seen: Observed) -> list[Problem]:
    """Remove revoked accounts' users and unknown users; report missing ones. The
    account's combined condition is written by :mod:`console.reconcile.quotas`."""
    problems: list[Problem] = []
    owned = {a.username: a for a in tenant.service_accounts.all()}
    for account in owned.values():
        if account.state == ServiceAccountState.REVOKED and account.username in seen.users:
            user = seen.users[account.username]
            broker_admin.delete_scram_user(
                user=user.name, mechanisms=[mechanism for mechanism, _ in user.credentials]
            )
            del seen.users[user.name]
    extras = [u for name, u in seen.tenant_users(tenant.slug).items() if name not in owned]
    drift = [d for d in tenant.drift if d.get("kind") != "user_extra"]
    for user in extras:
        if tenant.reached_ready:
            drift.append(user_extra(user))
        else:
            broker_admin.delete_scram_user(
                user=user.name, mechanisms=[mechanism for mechanism, _ in user.credentials]
            )
            del seen.users[user.name]
    if drift != tenant.drift:
        type(tenant).objects.filter(pk=tenant.pk).update(drift=drift)
        tenant.drift = drift
    return problems


def revoked_done(account: ServiceAccount) -> None:
    set_status(account, ReadyState.READY, "Revoked", "the SCRAM user, its ACLs and quotas are gone")
