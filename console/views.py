"""Console pages. Views parse requests, call selectors/services, and render.

Broker failures never become a 500: an unreachable cluster renders the page with a
message (HTTP 503), a rejected request shows the broker's reason on the form.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console import selectors, services
from console.broker_admin import BrokerAdminError, BrokerUnavailable, UnknownTopic
from console.forms import TopicCreateForm, TopicDeleteForm

_UNAVAILABLE = 503


@login_required
@require_http_methods(["GET", "POST"])
def topic_list(request: HttpRequest) -> HttpResponse:
    """All topics, and the create-topic form (POSTed here)."""
    form = TopicCreateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            services.topic_create(name=name, partitions=form.cleaned_data["partitions"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except BrokerUnavailable as exc:
            messages.error(request, str(exc))
            status = _UNAVAILABLE
        except BrokerAdminError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Created topic {name}.")
            return redirect("topic-detail", name=name)

    context: dict[str, object] = {"form": form, "topics": None}
    if status != _UNAVAILABLE:  # the create just said the cluster is down: don't wait twice
        try:
            context["topics"] = selectors.topic_list()
        except BrokerAdminError as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE
    return render(request, "console/topic_list.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def topic_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One topic: partitions with offsets, and the live tail of new records."""
    try:
        topic = selectors.topic_get(name=name)
    except UnknownTopic:
        return render(request, "console/topic_missing.html", {"name": name}, status=404)
    except BrokerAdminError as exc:
        context = {"name": name, "cluster_error": str(exc)}
        return render(request, "console/topic_detail.html", context, status=_UNAVAILABLE)
    return render(request, "console/topic_detail.html", {"name": name, "topic": topic})


@login_required
@require_http_methods(["GET", "POST"])
def topic_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Confirmation page (GET) and the deletion itself (POST, CSRF-protected)."""
    form = TopicDeleteForm(request.POST or None, topic=name)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.topic_delete(name=name)
        except ValidationError as exc:
            form.add_error(None, exc)
        except UnknownTopic:
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
    return render(
        request, "console/topic_confirm_delete.html", {"name": name, "form": form}, status=status
    )
