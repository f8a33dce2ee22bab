"""The API tokens page's read: one's own tokens, newest first (never anyone else's)."""

from __future__ import annotations

from console.models import ApiToken
from console.tenancy import Actor


def api_token_list(*, actor: Actor) -> list[ApiToken]:
    """``/account/tokens/``: the actor's tokens, live ones first, then revoked."""
    if not getattr(actor, "is_authenticated", False):
        return []
    tokens = ApiToken.objects.filter(user=actor)
    return sorted(tokens, key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))
