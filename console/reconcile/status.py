"""Ready conditions: record a resource's status, and combine its parts' statuses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from console.models import AccessRule, ReadyState, ServiceAccount, Tenant

Resource = Tenant | ServiceAccount | AccessRule

_RANK = {ReadyState.READY: 0, ReadyState.PENDING: 1, ReadyState.DRIFTED: 2, ReadyState.ERROR: 3}


@dataclass(frozen=True)
class Problem:
    """A part of a tenant that is not in sync: the tenant's status summarises these."""

    state: ReadyState
    reason: str
    message: str
    drift: list[dict[str, Any]] = field(default_factory=list)


def set_status(
    resource: Resource,
    state: ReadyState,
    reason: str,
    message: str,
    *,
    drift: list[dict[str, Any]] | None = None,
    reached_ready: bool | None = None,
) -> None:
    """Write the Ready condition; the transition time moves only when the state does."""
    now = timezone.now()
    fields = {
        "ready_state": state,
        "ready_reason": reason,
        "ready_message": message,
        "drift": list(drift or []),
        "observed_at": now,
    }
    if state == ReadyState.READY:
        fields["reached_ready"] = True
    if reached_ready is not None:
        fields["reached_ready"] = reached_ready
    if resource.ready_state != state:
        fields["ready_transition"] = now
    type(resource).objects.filter(pk=resource.pk).update(**fields)
    for name, value in fields.items():
        setattr(resource, name, value)


def worst(problems: Iterable[Problem]) -> Problem | None:
    ranked = sorted(problems, key=lambda p: _RANK[p.state], reverse=True)
    return ranked[0] if ranked else None


def combine(tenant: Tenant, problems: list[Problem]) -> tuple[ReadyState, str, str]:
    """The tenant's own condition from its parts' and its own drift."""
    if tenant.drift:
        problems = [*problems, Problem(ReadyState.DRIFTED, "DriftDetected", "")]
    top = worst(problems)
    if top is None:
        return ReadyState.READY, "InSync", "the cluster matches the console"
    count = len(problems)
    if top.state == ReadyState.ERROR:
        return top.state, top.reason, top.message
    if top.state == ReadyState.DRIFTED:
        return (
            top.state,
            "DriftDetected",
            f"{count} difference(s) from the console's desired state were found on the "
            "cluster: re-apply or adopt",
        )
    return top.state, top.reason, top.message
