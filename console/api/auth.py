"""Who is calling: an API token (``Authorization: Bearer hwt_...``) or the browser's
session. Session writes need the CSRF token (ninja's SessionAuth checks it, as Django's
middleware does for pages); a bearer token is not sent by the browser on its own, so
it needs none. A token's user acts with exactly its roles and tenants."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from console.services.tokens import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = api_token_authenticate(secret=token.strip())
        if user is not None:
            request.user = user
        return user


AUTH = [ApiTokenAuth(), SessionAuth(csrf=True)]
