"""Operators' brokers pages: the cluster with each broker's log dirs, and one broker's
configs with its dynamic ones editable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console.cluster_admin import BrokerAdminError, BrokerUnavailable, RequestRejected
from console.forms.brokers import BrokerConfigForm
from console.roles import Action
from console.selectors import brokers as selectors
from console.services import brokers as services
from console.tenancy import authorize

_UNAVAILABLE = 503


@login_required
@require_http_methods(["GET"])
def broker_list(request: HttpRequest) -> HttpResponse:
    """Cluster id, controller, each broker with its log dirs' usage."""
    authorize(actor=request.user, action=Action.CLUSTER_VIEW)  # 404 before any request
    context: dict[str, object] = {"cluster": None}
    status = 200
    try:
        context["cluster"] = selectors.broker_list(actor=request.user)
    except BrokerUnavailable as exc:
        context["cluster_error"] = str(exc)
        status = _UNAVAILABLE
    except BrokerAdminError as exc:
        context["cluster_error"] = str(exc)
    return render(request, "console/broker_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def broker_detail(request: HttpRequest, broker_id: int) -> HttpResponse:
    """One broker's configs; a POST changes one dynamic config (IncrementalAlterConfigs),
    the broker's refusal shown on the form."""
    authorize(actor=request.user, action=Action.CLUSTER_VIEW)
    context: dict[str, object] = {"broker_id": broker_id, "detail": None, "form": None}
    status = 200
    try:
        detail = selectors.broker_get(actor=request.user, broker_id=broker_id)
    except BrokerUnavailable as exc:
        context["cluster_error"] = str(exc)
        return render(request, "console/broker_detail.html", context, status=_UNAVAILABLE)
    except BrokerAdminError as exc:
        context["cluster_error"] = str(exc)
        return render(request, "console/broker_detail.html", context)
    names = [c.name for c in detail.dynamic]
    chosen = request.GET.get("name", "")  # a config's "change" link picks it in the form
    form = BrokerConfigForm(
        request.POST or None, names=names, initial={"name": chosen} if chosen in names else {}
    )
    if request.method == "POST" and form.is_valid():
        set, delete = form.changes()
        try:
            services.broker_configs_alter(
                actor=request.user, broker_id=broker_id, set=set, delete=delete
            )
        except BrokerUnavailable as exc:
            form.add_error(None, str(exc))
            status = _UNAVAILABLE
        except RequestRejected as exc:
            form.add_error("value", str(exc))
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
        else:
            what = f"Reset {delete[0]}" if delete else f"Set {next(iter(set))}"
            messages.success(request, f"{what} on broker {broker_id}.")
            return redirect("broker-detail", broker_id=broker_id)
    context.update(detail=detail, form=form)
    return render(request, "console/broker_detail.html", context, status=status)
