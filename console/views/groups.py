"""Consumer-group pages: ``/groups/`` (search, filters, paging), ``/groups/<id>/``
(members, lag), reset offsets (dry-run preview, then execute), delete the group or its
offsets on one topic.

Reads through console.selectors.groups, writes through console.services.groups; an
unreachable cluster renders the page with the message (503), a refusal is a message on
the form; another tenant's group is a 404 like a group that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.broker_admin import BrokerAdminError, BrokerUnavailable
from console.forms.groups import (
    GroupDeleteForm,
    GroupFilterForm,
    OffsetDeleteForm,
    ResetOffsetsForm,
)
from console.forms.tenants import add_service_errors
from console.roles import Action
from console.selectors import groups as selectors
from console.services import groups as services
from console.tenancy import NotFound

_UNAVAILABLE = 503


def _may_manage(request: HttpRequest, group_id: str) -> bool:
    try:
        services.group_tenant(actor=request.user, group_id=group_id, action=Action.GROUP_MANAGE)
    except (PermissionDenied, NotFound):
        return False
    return True


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    form = GroupFilterForm(request.GET.dict())
    context: dict[str, object] = {"form": form, "listing": None, "groups": []}
    status = 200
    if form.is_valid():
        try:
            listing = selectors.group_list(
                actor=request.user, query=form.cleaned_data["q"],
                state=form.cleaned_data["state"], tenant=form.cleaned_data["tenant"],
                page=request.GET.get("page", 1),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BrokerAdminError as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE if isinstance(exc, BrokerUnavailable) else 200
        else:
            context |= {
                "listing": listing, "groups": listing.groups, "page": listing.page,
                "pager_query": urlencode(listing.as_query()),
            }  # fmt: skip
    return render(request, "console/group_list.html", context, status=status)


def _detail(request: HttpRequest, group_id: str, **extra: object) -> HttpResponse:
    context: dict[str, object] = {"group_id": group_id, **extra}
    try:
        context["detail"] = selectors.group_get(actor=request.user, group_id=group_id)
    except BrokerAdminError as exc:
        context["cluster_error"] = str(exc)
        return render(request, "console/group_detail.html", context, status=_UNAVAILABLE)
    context["may_manage"] = _may_manage(request, group_id)
    context.setdefault("offset_delete_form", OffsetDeleteForm())
    return render(request, "console/group_detail.html", context)


@login_required
@require_GET
def group_detail(request: HttpRequest, group_id: str) -> HttpResponse:
    return _detail(request, group_id)


@login_required
@require_http_methods(["GET", "POST"])
def group_reset(request: HttpRequest, group_id: str) -> HttpResponse:
    """GET: the reset form. POST ``preview``: the dry-run (old -> new per partition) and
    an Execute button carrying the same spec; POST ``execute``: commit the new offsets."""
    services.group_tenant(actor=request.user, group_id=group_id, action=Action.GROUP_MANAGE)
    form = ResetOffsetsForm(request.POST or None)
    context: dict[str, object] = {"group_id": group_id, "form": form, "changes": None}
    status = 200
    if request.method == "POST" and form.is_valid():
        execute = "execute" in request.POST
        try:
            changes = services.group_offsets_reset(
                actor=request.user, group_id=group_id, spec=form.spec(), dry_run=not execute
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BrokerUnavailable as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            if execute:
                plural = "s" if len(changes) != 1 else ""
                text = f"Reset {len(changes)} partition offset{plural} of group {group_id}."
                messages.success(request, text)
                return redirect("group-detail", group_id=group_id)
            context["changes"] = changes
    return render(request, "console/group_reset.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_id: str) -> HttpResponse:
    services.group_tenant(actor=request.user, group_id=group_id, action=Action.GROUP_MANAGE)
    form = GroupDeleteForm(request.POST or None, group_id=group_id)
    context: dict[str, object] = {"group_id": group_id, "form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.group_delete(actor=request.user, group_id=group_id)
        except ValidationError as exc:
            form.add_error(None, exc)
        except BrokerUnavailable as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Deleted group {group_id}.")
            return redirect("group-list")
    return render(request, "console/group_confirm_delete.html", context, status=status)


@login_required
@require_POST
def group_offsets_delete(request: HttpRequest, group_id: str) -> HttpResponse:
    """OffsetDelete of the group's offsets on one topic (a form on the detail page)."""
    services.group_tenant(actor=request.user, group_id=group_id, action=Action.GROUP_MANAGE)
    form = OffsetDeleteForm(request.POST)
    if form.is_valid():
        topic = form.cleaned_data["topic"]
        try:
            done = services.group_offsets_delete(actor=request.user, group_id=group_id, topic=topic)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Deleted the committed offsets of {len(done)} partition(s) of {topic}."
            )
            return redirect("group-detail", group_id=group_id)
    return _detail(request, group_id, offset_delete_form=form)


@login_required
@require_GET
def topic_groups(request: HttpRequest, name: str) -> HttpResponse:
    """The topic page's "consumer groups reading this topic": a fragment it fetches
    (lag needs more admin calls than the topic page itself), or a page of its own."""
    context: dict[str, object] = {"topic": name, "topic_groups": None}
    status = 200
    try:
        context["topic_groups"] = selectors.topic_groups(actor=request.user, topic=name)
    except BrokerAdminError as exc:
        context["topic_groups_error"] = str(exc)
        status = _UNAVAILABLE if isinstance(exc, BrokerUnavailable) else 200
    fragment = request.headers.get("X-Requested-With") == "fetch"
    template = "console/group_topic_rows.html" if fragment else "console/group_topic_page.html"
    return render(request, template, context, status=status)
