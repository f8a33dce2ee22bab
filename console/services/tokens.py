"""Per-user API tokens: made (the secret returned once), revoked, and checked.

A token is ``hwt_`` and 32 random bytes (``secrets.token_urlsafe``); the console keeps
only its SHA-256 (a token has 256 bits of entropy, so a fast hash is enough: nobody can
guess one from its hash, unlike a password) and its first characters to show. Making and
revoking are audited; using a token only records ``last_used_at``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.models import ApiToken
from console.services._common import audit, field_error
from console.tenancy import Actor, NotFound, is_operator

TOKEN_PREFIX = "hwt_"
TOKEN_BYTES = 32
SHOWN_CHARACTERS = 12  # "hwt_" and 8 characters of the secret
MAX_NAME = 64
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write a minute per token


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, repr=False)
class TokenCreated:
    token: ApiToken
    secret: str  # exists only in this object and the one response that shows it

    def __repr__(self) -> str:
        return f"TokenCreated(token={self.token.prefix!r})"


def _token_snapshot(token: ApiToken) -> dict[str, Any]:
    return {"name": token.name, "prefix": token.prefix}


def api_token_create(*, actor: Actor, name: str) -> TokenCreated:
    """A new token for ``actor`` itself; its secret is returned once."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound("no such page")
    name = name.strip()
    if not name:
        raise field_error("name", "Give the token a name (e.g. where it is used).", "required")
    if len(name) > MAX_NAME:
        raise field_error("name", f"A token's name has at most {MAX_NAME} characters.", "max")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        if ApiToken.objects.filter(user=actor, name=name, revoked_at__isnull=True).exists():
            raise field_error("name", f"You have a token named {name!r} already.", "exists")
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=secret[:SHOWN_CHARACTERS],
            secret_sha256=token_hash(secret),
        )  # fmt: skip
        audit(actor=actor, action="api_token.create", resource_type="api_token",
              resource_name=f"{actor.get_username()}/{name}",
              after=_token_snapshot(token))  # fmt: skip
    return TokenCreated(token=token, secret=secret)


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of ``actor``'s own tokens (anyone else's is NotFound); operators may
    revoke anyone's (the admin's action, for a token that leaked). Idempotent."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound("no such token")
    with transaction.atomic():
        tokens = ApiToken.objects.select_for_update().select_related("user")
        if not is_operator(actor):
            tokens = tokens.filter(user=actor)
        token = tokens.filter(pk=token_id).first()
        if token is None:
            raise NotFound("no such token")
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=actor, action="api_token.revoke", resource_type="api_token",
              resource_name=f"{token.user.get_username()}/{token.name}",
              before=_token_snapshot(token))  # fmt: skip
    return token


def api_token_authenticate(*, secret: str) -> Any | None:
    """The active user a live token belongs to, or None (unknown, revoked, inactive
    user). Records when the token was last used, at most once a minute."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(secret_sha256=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
