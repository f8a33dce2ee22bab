"""What every endpoint shares: the error body, paging, text without NUL, a condition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.core.paginator import Page
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int = 255) -> Any:  # a type factory, used like a type
    """A string of at most ``max_length`` characters without NUL (PostgreSQL refuses it)."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_no_nul)]


def _utc(value: datetime) -> datetime:
    """A moment in UTC (no offset given: UTC). PostgreSQL refuses offsets beyond 15:59
    that Python allows, so an offset never reaches the database."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once in UTC") from None


Moment = Annotated[datetime, AfterValidator(_utc)]


class ErrorOut(Schema):
    """Every error: ``detail`` for people; ``errors`` by field for a refused value."""

    detail: str
    errors: dict[str, list[str]] | None = None
    kafka_error: str | None = Field(None, description="Kafka's error name, when the broker refused")


ERRORS: dict[int, type[Schema]] = {
    status: ErrorOut for status in (400, 401, 403, 404, 409, 422, 502, 503)
}


def responses(ok: Any, status: int = 200) -> dict[int, Any]:
    """An operation's responses: ``ok`` under ``status`` and the error shape."""
    return {status: ok, **ERRORS}


class ConditionOut(Schema):
    """The Ready condition as Strimzi writes it: status True/False/Unknown, a reason."""

    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str  # Kubernetes spelling


def page_of(page: Page[Any], items: list[Any]) -> dict[str, Any]:
    return {
        "count": page.paginator.count,
        "page": page.number,
        "num_pages": page.paginator.num_pages,
        "items": items,
    }


class PageMeta(Schema):
    count: int
    page: int
    num_pages: int
