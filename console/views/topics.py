"""Console pages. Views parse requests, call selectors/services, and render.

Broker failures never become a 500: an unreachable cluster renders the page with a
message (HTTP 503), a rejected request shows the broker's reason on the form. A topic
the cluster does not have is a 404 on every topic page.
"""

from __future__ import annotations

from collections.abc import Callable

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
from console.forms.topics import TopicConfigsForm, TopicPartitionsForm
from console.roles import Action
from console.selectors import topics as topic_selectors
from console.services import topics as topic_services
from console.tenancy import authorize, tenant_of_name, visible_tenants

_UNAVAILABLE = 503
_REFUSED = 403


def _list_filters(request: HttpRequest) -> dict[str, object]:
    return {
        "query": request.GET.get("q", ""),
        "tenant": request.GET.get("tenant", ""),
        "internal": request.GET.get("internal", "") in ("1", "on", "true"),
        "page": request.GET.get("page", 1),
    }


@login_required
@require_http_methods(["GET", "POST"])
def topic_list(request: HttpRequest) -> HttpResponse:
    """One page of topics (``?q=``, ``?tenant=``, ``?internal=1``, ``?page=``), and the
    create-topic form (POSTed here) for those whose role allows ``topic.manage``.

    A POST for a tenant the actor cannot see is a 404, for a role without
    ``topic.manage`` a 403 (the service's NotFound / PermissionDenied propagate).
    """
    tenants, cluster_topics = topic_selectors.topic_create_choices(actor=request.user)
    form = TopicCreateForm(
        request.POST or None,
        tenants=tenants,
        cluster_topics=cluster_topics,
        initial={"tenant": request.GET.get("tenant", "")},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["topic"]
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

    context: dict[str, object] = {"form": form, "topics": None, "list": None}
    if status != _UNAVAILABLE:  # the create just said the cluster is down: don't wait twice
        try:
            listing = topic_selectors.topic_list(actor=request.user, **_list_filters(request))
        except BrokerAdminError as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE
        else:
            context.update(list=listing, topics=listing.topics)
            if request.method == "GET" and not request.GET.get("tenant"):
                form.initial["tenant"] = listing.selected
    return render(request, "console/topic_list.html", context, status=status)


def _topic_missing(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "console/topic_missing.html", {"name": name}, status=404)


def _detail(
    request: HttpRequest,
    name: str,
    *,
    configs_form: TopicConfigsForm | None = None,
    partitions_form: TopicPartitionsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The detail page, with the forms as given (bound after a refused POST)."""
    try:
        detail = topic_selectors.topic_detail(actor=request.user, name=name)
    except UnknownTopic:
        return _topic_missing(request, name)
    except BrokerAdminError as exc:
        context = {"name": name, "cluster_error": str(exc)}
        return render(request, "console/topic_detail.html", context, status=_UNAVAILABLE)
    overrides = [c.name for c in detail.overrides]
    context = {
        "name": name,
        "topic": detail.topic,
        "detail": detail,
        "configs_form": configs_form or TopicConfigsForm(overrides=overrides),
        "partitions_form": partitions_form
        or TopicPartitionsForm(initial={"count": detail.topic.partition_count + 1}),
    }
    return render(request, "console/topic_detail.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def topic_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One topic: partitions with offsets (kept live by the page's websocket), its
    configs (a form for roles with ``topic.manage``), add partitions, the tail."""
    return _detail(request, name)


def _overrides(request: HttpRequest, name: str) -> list[str]:
    try:
        return topic_selectors.topic_overrides(actor=request.user, name=name)
    except BrokerAdminError:  # the service's own request will say what is wrong
        return []


@login_required
@require_http_methods(["POST"])
def topic_configs(request: HttpRequest, name: str) -> HttpResponse:
    """Change the topic's configs (IncrementalAlterConfigs); refusals on the form."""
    form = TopicConfigsForm(request.POST, overrides=_overrides(request, name))
    if not form.is_valid():
        return _detail(request, name, configs_form=form)
    return _topic_change(
        request, name, form, "configs_form",
        lambda: topic_services.topic_configs_alter(
            actor=request.user, name=name, set=form.cleaned_data["set"],
            delete=form.cleaned_data["delete"],
        ),
        on_invalid=form.add_service_error,  # by the field the value was typed in
        done=f"Changed the configs of topic {name}.",
    )  # fmt: skip


@login_required
@require_http_methods(["POST"])
def topic_partitions(request: HttpRequest, name: str) -> HttpResponse:
    """Add partitions (CreatePartitions) within the tenant's plan; refusals on the form."""
    form = TopicPartitionsForm(request.POST)
    if not form.is_valid():
        return _detail(request, name, partitions_form=form)
    count = form.cleaned_data["count"]
    return _topic_change(
        request, name, form, "partitions_form",
        lambda: topic_services.topic_partitions_create(actor=request.user, name=name, count=count),
        on_invalid=lambda exc: form.add_error(None, exc),
        done=f"Topic {name} now has {count} partitions.",
    )  # fmt: skip


def _topic_change(
    request: HttpRequest,
    name: str,
    form: TopicConfigsForm | TopicPartitionsForm,
    form_name: str,
    change: Callable[[], None],
    *,
    on_invalid: Callable[[ValidationError], None],
    done: str,
) -> HttpResponse:
    """Run one of the detail page's changes: back to the page with the outcome, the
    service's or the broker's refusal on ``form`` (shown as ``form_name``)."""
    status = 200
    try:
        change()
    except ValidationError as exc:
        on_invalid(exc)
    except UnknownTopic:
        return _topic_missing(request, name)
    except BrokerUnavailable as exc:
        messages.error(request, str(exc))
        status = _UNAVAILABLE
    except TopicRequestRejected as exc:
        form.add_broker_error(exc)
    except BrokerAdminError as exc:
        form.add_error(None, str(exc))
    else:
        messages.success(request, done)
        return redirect("topic-detail", name=name)
    return _detail(request, name, status=status, **{form_name: form})


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
