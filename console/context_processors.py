"""Template context shared by every console page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def cluster(request: HttpRequest) -> dict[str, Any]:
    """The bootstrap servers the console talks to, shown in the page header."""
    return {"bootstrap_servers": settings.HEADWATER_BOOTSTRAP_SERVERS}
