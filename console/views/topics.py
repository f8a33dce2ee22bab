"""Console pages. Views parse requests, call selectors/services, and render.

Broker failures never become a 500: an unreachable cluster renders the page with a
message (HTTP 503), a rejected request shows the broker's reason on the form. A topic
the cluster does not have is a 404 on every topic page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console import selectors, services
from console.broker_admin import (
    BrokerAdminError,
    BrokerUnavailable,
    TopicRequestRejected,
    UnknownTopic,
)
from console.forms import TopicCreateForm, TopicDeleteForm
from console.roles import Action
from console.tenancy import authorize, tenant_of_name, visible_tenants

_UNAVAILABLE = 503
_REFUSED = 403


@login_required
@require_http_methods(["GET", "POST"])
def topic_list(request: HttpRequest) -> HttpResponse:
    """All topics, and the create-topic form (POSTed here)."""
    form = TopicCreateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            services.topic_create(
                actor=request.user,
                name=name,
                partitions=form.cleaned_data["partitions"],
                replication_factor=form.cleaned_data["replication_factor"],
                configs=form.cleaned_data["configs"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # keyed by field: shown where the user typed
        except BrokerUnavailable as exc:
            messages.error(request, str(exc))
            status = _UNAVAILABLE
        except TopicRequestRejected as exc:
            form.add_broker_error(exc)
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Created topic {name}.")
            return redirect("topic-detail", name=name)

    context: dict[str, object] = {"form": form, "topics": None}
    if status != _UNAVAILABLE:  # the create just said the cluster is down: don't wait twice
        try:
            context["topics"] = selectors.topic_list(actor=request.user)
        except BrokerAdminError as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE
    return render(request, "console/topic_list.html", context, status=status)


def _topic_missing(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "console/topic_missing.html", {"name": name}, status=404)


@login_required
@require_http_methods(["GET"])
def topic_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One topic: partitions with offsets (kept live by the page's websocket), the tail."""
    try:
        topic = selectors.topic_get(actor=request.user, name=name)
    except UnknownTopic:
        return _topic_missing(request, name)
    except BrokerAdminError as exc:
        context = {"name": name, "cluster_error": str(exc)}
        return render(request, "console/topic_detail.html", context, status=_UNAVAILABLE)
    return render(request, "console/topic_detail.html", {"name": name, "topic": topic})


@login_required
@require_http_methods(["GET", "POST"])
def topic_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Confirmation page (GET) and the deletion itself (POST, CSRF-protected).

    A topic the cluster does not have is a 404; an internal topic is refused (403) with
    the reason, and no form is offered.
    """
    template = "console/topic_confirm_delete.html"
    form = TopicDeleteForm(request.POST or None, topic=name)
    try:
        topic = selectors.topic_get(actor=request.user, name=name)
    except UnknownTopic:
        return _topic_missing(request, name)
    except BrokerAdminError as exc:
        context = {"name": name, "form": form, "cluster_error": str(exc)}
        return render(request, template, context, status=_UNAVAILABLE)
    if topic.internal:
        context = {"name": name, "topic": topic, "refusal": services.internal_topic_message(name)}
        return render(request, template, context, status=_REFUSED)
    tenant = tenant_of_name(name, visible_tenants(actor=request.user))
    if tenant is not None:  # the confirmation is for those who may delete (else 403)
        authorize(actor=request.user, action=Action.TOPIC_MANAGE, tenant=tenant)

    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.topic_delete(actor=request.user, name=name)
        except ValidationError as exc:
            form.add_error(None, exc)
        except UnknownTopic:  # deleted by someone else since the page was read
            messages.info(request, f"Topic {name} does not exist (any more).")
            return redirect("topic-list")
        except BrokerUnavailable as exc:
            messages.error(request, str(exc))
            status = _UNAVAILABLE
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Deleted topic {name}.")
            return redirect("topic-list")
    context = {"name": name, "topic": topic, "form": form}
    return render(request, template, context, status=status)
