"""The audit log: ``/audit/`` (filters, paging, newest first) and ``/audit/<id>/``.

Reads through :mod:`console.selectors.audit` only; a bad filter value (a date that is
not one, a tenant the actor cannot see) is a message on the filter form, never a 500.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from console.forms.audit import AuditFilterForm
from console.forms.tenants import add_service_errors
from console.selectors import audit as selectors


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET.dict())
    listing = None
    if form.is_valid():
        filters = selectors.AuditFilters(**form.cleaned_data)
        try:
            listing = selectors.audit_list(
                actor=request.user, filters=filters, page=request.GET.get("page", 1)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if listing is None:  # bad filters: the form says why; the list is empty, not guessed
        listing = selectors.audit_list(actor=request.user, page=1)
        page = listing.page.paginator.get_page(1)
        context = {"listing": listing, "form": form, "page": page, "events": []}
        return render(request, "console/audit_list.html", context)
    context = {
        "listing": listing, "form": form, "page": listing.page,
        "events": list(listing.page.object_list),
        "pager_query": urlencode(listing.filters.as_query()),
    }  # fmt: skip
    return render(request, "console/audit_list.html", context)


@login_required
@require_GET
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    detail = selectors.audit_get(actor=request.user, event_id=event_id)
    return render(request, "console/audit_detail.html", {"detail": detail})
