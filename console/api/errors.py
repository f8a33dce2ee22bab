"""Errors as JSON, one shape (:class:`console.api.schemas.ErrorOut`), never a 500 page.

A service's ValidationError is 422 with its messages by field (``__all__`` for the
request as a whole), as is a request the schema refuses; NotFound (another tenant's
resource too) is 404; PermissionDenied 403; no or a revoked token 401; the cluster
unreachable 503 with the reason, a broker's refusal 422 (or 409 for a topic that
exists) with Kafka's message and error name.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja import errors as ninja_errors

from console import broker_admin

log = logging.getLogger(__name__)


def error_body(
    detail: str, errors: dict[str, list[str]] | None = None, kafka_error: str | None = None
) -> dict[str, Any]:
    return {"detail": detail, "errors": errors, "kafka_error": kafka_error}


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or NON_FIELD_ERRORS


def _schema_errors(exc: ninja_errors.ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field(list(error.get("loc", ()))), []).append(str(error.get("msg")))
    return errors


def _service_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in ValidationError(e).messages]
                for field, e in exc.error_dict.items()}  # fmt: skip
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api`` (replacing ninja's defaults)."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="headwater"'
        return response

    @api.exception_handler(ninja_errors.ValidationError)
    def schema_refused(request: HttpRequest, exc: ninja_errors.ValidationError) -> HttpResponse:
        errors = _schema_errors(exc)
        first = next(iter(errors.items()))
        return respond(request, 422, error_body(f"{first[0]}: {first[1][0]}", errors))

    @api.exception_handler(ValidationError)
    def service_refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _service_errors(exc)
        return respond(request, 422, error_body(" ".join(exc.messages), errors))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(str(exc) or "not found"))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body(str(exc) or "permission denied"))

    @api.exception_handler(ninja_errors.HttpError)
    def http_error(request: HttpRequest, exc: ninja_errors.HttpError) -> HttpResponse:
        detail = str(exc)
        if exc.status_code == 401:
            detail = "authentication required: Authorization: Bearer <API token>, or log in"
        return respond(request, exc.status_code, error_body(detail))

    @api.exception_handler(broker_admin.BrokerAdminError)
    def broker_error(request: HttpRequest, exc: broker_admin.BrokerAdminError) -> HttpResponse:
        name = getattr(exc, "error_name", "") or None
        if isinstance(exc, broker_admin.BrokerUnavailable):
            return respond(request, 503, error_body(str(exc)))
        if isinstance(exc, broker_admin.UnknownTopic):
            return respond(request, 404, error_body("no such topic", kafka_error=name))
        if isinstance(exc, broker_admin.TopicAlreadyExists | broker_admin.SecurityDisabled):
            return respond(request, 409, error_body(str(exc), kafka_error=name))
        if isinstance(exc, broker_admin.TopicRequestRejected | broker_admin.RequestRejected):
            return respond(request, 422, error_body(str(exc), kafka_error=name))
        return respond(request, 502, error_body(f"the cluster answered with an error: {exc}"))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("REST API %s %s failed", request.method, request.path)
        return respond(request, 500, error_body("internal error: the console's log has details"))
