"""Template filters for the console's pages: byte rates in binary units, quota rows."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_byte_rate(value: float | int | str | None) -> str:
    """``1048576`` -> ``1.0 MiB/s``; None or empty -> ``unlimited``."""
    if value is None or value == "":
        return "unlimited"
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return str(value)
    unit = 0
    while abs(rate) >= 1024 and unit < len(_UNITS) - 1:
        rate /= 1024
        unit += 1
    if unit == 0:
        return f"{rate:,.0f} B/s"
    return f"{rate:,.1f} {_UNITS[unit]}/s"


@register.filter
def byte_rate(value: Any) -> str:
    return format_byte_rate(value)


@register.filter
def quota_value(value: Any, key: str) -> str:
    """A quota key's value for people: byte rates in KiB/MiB, the others as numbers."""
    if value is None or value == "":
        return "unlimited"
    if key.endswith("byte_rate"):
        return format_byte_rate(value)
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,}"


@register.simple_tag
def account_quotas(account: Any) -> list[Any]:
    """The quota rows of one service account (plan value, override, effective)."""
    from console.selectors.quotas import quota_rows

    return quota_rows(account)


@register.simple_tag(takes_context=True)
def audit_visible(context: template.Context) -> bool:
    """Whether the nav shows Audit: operators, and members whose role has audit.view."""
    from console.selectors.audit import may_view_audit

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user is not None and may_view_audit(actor=user)
