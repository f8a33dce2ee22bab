"""Quotas (operators only; anyone else 404): per plan and per service account, the
effective client quotas, what the console applied and what the cluster reports; an edit
form per account through :func:`console.services.quota_update` (empty: the plan's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from console import services
from console.forms.quotas import QuotaForm
from console.forms.tenants import add_service_errors
from console.models import Plan
from console.selectors import plans as selectors


@login_required
@require_http_methods(["GET", "POST"])
def quota_list(request: HttpRequest) -> HttpResponse:
    """GET the overview; POST ``account=<slug>/<name>`` and its fields to edit one."""
    tenant = request.GET.get("tenant", "").strip()
    overview = selectors.quota_overview(
        actor=request.user, tenant=tenant, page=request.GET.get("page", 1)
    )
    posted = request.POST.get("account", "") if request.method == "POST" else ""
    forms = {}
    for item in overview.accounts:
        key = f"{item.account.tenant.slug}/{item.account.name}"
        data = request.POST if key == posted else None
        forms[key] = QuotaForm(data, account=item.account)
    if posted:
        slug, _, name = posted.partition("/")
        form = forms.get(posted)
        if form is None:  # not an active account on this page (revoked meanwhile?)
            messages.error(request, f"No active service account {slug}-{name} on this page.")
            return redirect(request.get_full_path())
        if form.is_valid():
            try:
                services.quota_update(
                    actor=request.user, tenant_slug=slug, name=name, quotas=form.quotas()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Updated the quotas of {slug}-{name}.")
                return redirect(request.get_full_path())
    rows = [(item, forms[f"{item.account.tenant.slug}/{item.account.name}"])
            for item in overview.accounts]  # fmt: skip
    context = {
        "overview": overview, "rows": rows, "quota_keys": Plan.QUOTA_KEYS, "page": overview.page,
        "cluster_error": overview.cluster_error,
        "pager_query": urlencode({"tenant": tenant}) if tenant else "",
    }  # fmt: skip
    return render(request, "console/quota_list.html", context)
