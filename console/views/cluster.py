"""Operators' cluster-wide pages: every ACL with the effective-permission checker, the
SCRAM users; and the favicon."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from console import selectors
from console.broker_admin import BrokerAdminError, BrokerUnavailable, SecurityDisabled
from console.forms import PermissionCheckForm

_UNAVAILABLE = 503


@require_http_methods(["GET", "HEAD"])
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """``/favicon.ico``, which browsers and tools ask for whatever the page links."""
    path = finders.find("headwater/favicon.ico")
    if path is None:
        raise Http404("no favicon")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")


@login_required
@require_http_methods(["GET"])
def acl_list(request: HttpRequest) -> HttpResponse:
    """Operators: every ACL on the cluster, and the effective-permission checker (the
    question is a GET form, so an answer has a URL one can share)."""
    form = PermissionCheckForm(request.GET or None)
    context: dict[str, object] = {"form": form, "acls": None}
    status = 200
    try:
        context["acls"] = selectors.acl_list(actor=request.user)
        if form.is_valid():
            context["decision"] = selectors.permission_check(
                actor=request.user,
                **form.question(),  # type: ignore[arg-type]
            )
    except SecurityDisabled as exc:
        context["security_disabled"] = str(exc)
    except BrokerUnavailable as exc:
        context["cluster_error"] = str(exc)
        status = _UNAVAILABLE
    except BrokerAdminError as exc:
        context["cluster_error"] = str(exc)
    return render(request, "console/acl_list.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def scram_user_list(request: HttpRequest) -> HttpResponse:
    """Operators: the cluster's SCRAM users with their mechanisms and iterations."""
    context: dict[str, object] = {"users": None}
    status = 200
    try:
        context["users"] = selectors.scram_user_list(actor=request.user)
    except BrokerUnavailable as exc:
        context["cluster_error"] = str(exc)
        status = _UNAVAILABLE
    except BrokerAdminError as exc:
        context["cluster_error"] = str(exc)
    return render(request, "console/scram_user_list.html", context, status=status)
