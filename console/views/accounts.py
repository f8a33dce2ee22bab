"""A tenant's service accounts (create, rotate, revoke), access rules and members.

Like :mod:`console.views.tenants`: parse, delegate, put a service's ValidationError on
its field; a new or rotated secret is shown once, in that POST's response.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console import services
from console.broker_admin import BrokerAdminError
from console.forms.tenants import (
    AccessRuleForm,
    MemberAddForm,
    MemberRoleForm,
    PresetForm,
    ServiceAccountCreateForm,
    add_service_errors,
)
from console.models import Role
from console.selectors import tenants as selectors
from console.views.tenants import broker_failure, secret_response


@login_required
@require_http_methods(["GET", "POST"])
def service_account_list(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.service_account_list(actor=request.user, slug=slug)
    form = ServiceAccountCreateForm(request.POST or None, mechanisms=page.mechanisms)
    context: dict[str, Any] = {"page": page, "tenant": page.tenant, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            credential = services.service_account_create(
                actor=request.user, tenant_slug=slug, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BrokerAdminError as exc:
            return broker_failure(request, exc, context, "console/service_account_list.html")
        else:
            context = {"tenant": page.tenant, "what": "account", "title": "Service account created"}
            return secret_response(request, credential, context)
    elif request.method == "POST" and not page.allowed.manage_accounts:  # 403, not a form
        services.service_account_create(actor=request.user, tenant_slug=slug, name="")
    return render(request, "console/service_account_list.html", context)


@login_required
@require_http_methods(["GET"])
def service_account_detail(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    detail = selectors.service_account_get(actor=request.user, slug=slug, name=name)
    context = {"detail": detail, "tenant": detail.tenant}
    return render(request, "console/service_account_detail.html", context)


@login_required
@require_POST
def service_account_rotate(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    try:
        credential = services.service_account_rotate(
            actor=request.user, tenant_slug=slug, name=name
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("service-account-detail", slug=slug, name=name)
    detail = selectors.service_account_get(actor=request.user, slug=slug, name=name)
    context = {"tenant": detail.tenant, "what": "rotation", "title": "Secret rotated"}
    return secret_response(request, credential, context)


@login_required
@require_http_methods(["GET", "POST"])
def service_account_revoke(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    detail = selectors.service_account_get(actor=request.user, slug=slug, name=name)
    if request.method == "POST":
        services.service_account_revoke(actor=request.user, tenant_slug=slug, name=name)
        messages.success(request, f"Revoked {detail.account.username}.")
        return redirect("service-account-list", slug=slug)
    if not detail.allowed.manage_accounts:  # the confirmation is for those who may revoke
        services.service_account_revoke(actor=request.user, tenant_slug=slug, name=name)
    context = {"detail": detail, "tenant": detail.tenant}
    return render(request, "console/service_account_confirm_revoke.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def access_rule_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The rules, filtered by account; POST ``form=preset`` or ``form=rule`` creates."""
    account = request.GET.get("account", "")
    page = selectors.access_rule_list(
        actor=request.user, slug=slug, account=account, page=request.GET.get("page", 1)
    )
    which = request.POST.get("form") if request.method == "POST" else None
    initial = {"account": account} if account else None
    preset_form = PresetForm(
        request.POST if which == "preset" else None, initial=initial,
        accounts=page.accounts, presets=page.presets,
    )  # fmt: skip
    rule_form = AccessRuleForm(
        request.POST if which == "rule" else None, initial=initial,
        accounts=page.accounts, prefix=page.tenant.prefix,
    )  # fmt: skip
    if request.method == "POST" and not page.allowed.manage_rules:
        services.access_rules_from_preset(
            actor=request.user, tenant_slug=slug, account_name="", preset=""
        )  # raises PermissionDenied: the role may not
    if which == "preset" and preset_form.is_valid():
        try:
            rules = services.access_rules_from_preset(
                actor=request.user, tenant_slug=slug,
                account_name=preset_form.cleaned_data["account"],
                preset=preset_form.cleaned_data["preset"],
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(preset_form, exc)
        else:
            messages.success(request, f"Added {len(rules)} rule(s).")
            return redirect(request.get_full_path())
    elif which == "rule" and rule_form.is_valid():
        data = dict(rule_form.cleaned_data)
        try:
            services.access_rule_create(
                actor=request.user, tenant_slug=slug, account_name=data.pop("account"), **data
            )
        except ValidationError as exc:
            add_service_errors(rule_form, exc)
        else:
            messages.success(request, "Added the rule.")
            return redirect(request.get_full_path())
    context = {
        "page": page, "tenant": page.tenant, "preset_form": preset_form, "rule_form": rule_form,
    }  # fmt: skip
    return render(request, "console/access_rule_list.html", context)


@login_required
@require_POST
def access_rule_delete(request: HttpRequest, slug: str, rule_id: int) -> HttpResponse:
    services.access_rule_delete(actor=request.user, tenant_slug=slug, rule_id=rule_id)
    messages.success(request, "The rule is being removed from the cluster.")
    return redirect("access-rule-list", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.member_list(actor=request.user, slug=slug)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST":
        if not page.allowed.manage_members:
            services.membership_add(actor=request.user, tenant_slug=slug, username="", role="")
        if form.is_valid():
            try:
                services.membership_add(actor=request.user, tenant_slug=slug, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Added {form.cleaned_data['username']}.")
                return redirect("member-list", slug=slug)
    context = {"page": page, "tenant": page.tenant, "form": form, "roles": Role.choices}
    return render(request, "console/member_list.html", context)


@login_required
@require_POST
def member_update(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    """``action=remove`` removes; else the posted role replaces the member's."""
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(actor=request.user, tenant_slug=slug, username=username)
            messages.success(request, f"Removed {username}.")
        else:
            form = MemberRoleForm(request.POST)
            role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")
            services.membership_update(
                actor=request.user, tenant_slug=slug, username=username, role=role
            )
            messages.success(request, f"{username} is now {role}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("member-list", slug=slug)
