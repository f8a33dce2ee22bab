"""Tenant pages: the tenant list (and create), a tenant's detail, drift, delete.

Views parse and delegate: reads through :mod:`console.selectors.tenants`, writes through
:mod:`console.services`. A service's ValidationError goes on the form by its field; its
PermissionDenied is a 403 and NotFound a 404 (Django's handlers); a broker failure is a
page with the message (503), never a 500. A secret (the first service account's, on
create) is rendered in that POST's response only, with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST

from console import services
from console.broker_admin import BrokerAdminError
from console.forms.tenants import TenantCreateForm, TenantDeleteForm, add_service_errors
from console.selectors import tenants as selectors
from console.services import Credential

UNAVAILABLE = 503


def secret_response(
    request: HttpRequest, credential: Credential, context: dict[str, Any]
) -> HttpResponse:
    """The one response that shows a secret: never cached, never stored anywhere else."""
    connection = selectors.connection_settings(
        username=credential.username,
        mechanism=credential.mechanism,
        password=credential.password,
    )
    context = context | {"credential": credential, "connection": connection}
    response = render(request, "console/secret_once.html", context)
    patch_cache_control(response, no_store=True, private=True)
    return response


def broker_failure(request: HttpRequest, exc: BrokerAdminError, context: dict[str, Any],
                   template: str) -> HttpResponse:  # fmt: skip
    return render(request, template, context | {"cluster_error": str(exc)}, status=UNAVAILABLE)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_list(request: HttpRequest) -> HttpResponse:
    """Tenants the user may see; operators also create one here (POST)."""
    page = selectors.tenant_list(
        actor=request.user, query=request.GET.get("q", ""), page=request.GET.get("page", 1)
    )
    form = TenantCreateForm(request.POST or None, plans=page.plans) if page.can_create else None
    context: dict[str, Any] = {"list": page, "form": form}
    if request.method == "POST":
        if form is None:  # creating tenants is operators' business
            services.tenant_create(actor=request.user, name="", slug="", plan="")
        assert form is not None
        if form.is_valid():
            try:
                created = services.tenant_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except BrokerAdminError as exc:
                return broker_failure(request, exc, context, "console/tenant_list.html")
            else:
                return secret_response(
                    request,
                    created.credential,
                    {"tenant": created.tenant, "what": "tenant", "title": "Tenant created"},
                )
    return render(request, "console/tenant_list.html", context)


@login_required
@require_http_methods(["GET"])
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Status, drift, usage; while deleting, the progress per step (refreshing)."""
    detail = selectors.tenant_get(actor=request.user, slug=slug)
    return render(
        request, "console/tenant_detail.html", {"detail": detail, "tenant": detail.tenant}
    )


@login_required
@require_POST
def drift_resolve(request: HttpRequest, slug: str, how: str) -> HttpResponse:
    """``reapply`` (desired wins) or ``adopt`` (the cluster wins)."""
    if how not in ("reapply", "adopt"):
        raise Http404("no such page")
    if how == "reapply":
        services.drift_reapply(actor=request.user, tenant_slug=slug)
        messages.success(request, "Re-applying the console's state to the cluster.")
    else:
        problems = services.drift_adopt(actor=request.user, tenant_slug=slug)
        messages.success(request, "Adopting the cluster's state.")
        for problem in problems:
            messages.warning(request, problem)
    return redirect("tenant-detail", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_delete(request: HttpRequest, slug: str) -> HttpResponse:
    """Operators: type the slug to confirm; the detail page then shows the progress."""
    tenant = selectors.tenant_delete_get(actor=request.user, slug=slug)
    form = TenantDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_delete(
                actor=request.user, slug=slug, confirm_slug=form.cleaned_data["confirm_slug"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Deleting tenant {slug}: its resources are being removed.")
            return redirect("tenant-detail", slug=slug)
    return render(request, "console/tenant_confirm_delete.html", {"tenant": tenant, "form": form})
