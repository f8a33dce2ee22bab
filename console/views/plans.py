"""Plans (operators only; anyone else 404): list, create, edit.

Writes through :func:`console.services.plan_create` / ``plan_update`` (audited; a change
reconciles every tenant on the plan, so new quotas and limits reach the broker); their
ValidationErrors go on the form's fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from console import services
from console.forms.plans import PlanForm
from console.forms.tenants import add_service_errors
from console.selectors import plans as selectors


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.plan_list(actor=request.user)
    return render(request, "console/plan_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    selectors.plan_list(actor=request.user)  # operators only: 404 for anyone else
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                actor=request.user, name=form.cleaned_data["name"].strip(), **form.values()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Created plan {plan.name}.")
            return redirect("plan-list")
    return render(request, "console/plan_form.html", {"form": form, "plan": None})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, name: str) -> HttpResponse:
    row = selectors.plan_get(actor=request.user, name=name)
    form = PlanForm(request.POST or None, editing=row.plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=request.user, name=name, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Updated plan {name}; its {row.tenants} tenant(s) are being reconciled.",
            )
            return redirect("plan-list")
    return render(request, "console/plan_form.html", {"form": form, "plan": row.plan, "row": row})
