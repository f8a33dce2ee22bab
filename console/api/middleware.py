"""Under ``/api/``, every answer is JSON: what the NinjaAPI does not answer itself (a
path no endpoint has, a method an endpoint lacks, a NUL in the URL, which PostgreSQL
refuses in a query) becomes the API's error shape instead of Django's HTML page."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


def _json_error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": None, "kafka_error": None}, status=status)


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return _json_error(400, "the URL must not contain NUL characters")
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        try:
            detail = HTTPStatus(response.status_code).phrase.lower()
        except ValueError:
            detail = "error"
        if response.status_code == 405 and response.has_header("Allow"):
            detail = f"method not allowed here: use {response['Allow']}"
        error = _json_error(response.status_code, detail)
        if response.has_header("Allow"):
            error["Allow"] = response["Allow"]
        return error


def _is_json(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        json.loads(getattr(response, "content", b"") or b"null")
    except ValueError:
        return False
    return True
