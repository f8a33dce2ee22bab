"""``/topics/<name>/messages/``: browse (GET, the selector's fields in the query string;
``format=jsonl`` downloads the same page as JSON Lines) and produce (POST to
``messages/produce/``).

Views only parse and delegate: console.selectors.messages reads, console.services.messages
produces. A topic outside the actor's tenants is the same 404 page as a missing topic;
bad input is a message on the form (400); an unreachable cluster the page with its
message (503); a refused record Kafka's message on the produce form.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from console.broker_admin import BrokerAdminError, BrokerUnavailable, UnknownTopic
from console.forms.messages import BrowseForm, ProduceForm
from console.forms.tenants import add_service_errors
from console.roles import Action
from console.selectors import messages as selectors
from console.services import messages as services
from console.services.topics import topic_tenant
from console.tenancy import NotFound

_UNAVAILABLE = 503


def _missing(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "console/topic_missing.html", {"name": name}, status=404)


def _may_produce(request: HttpRequest, name: str) -> bool:
    try:
        topic_tenant(actor=request.user, name=name, action=Action.MESSAGE_PRODUCE)
    except (PermissionDenied, NotFound, ValidationError):
        return False
    return True


def _links(form: BrowseForm, page: selectors.MessagePage) -> dict[str, str]:
    base = form.query()
    links = {}
    if page.older:
        links["older"] = urlencode(base | {"dir": "back", "pos": page.older_query})
    if page.newer:
        links["newer"] = urlencode(base | {"dir": "fwd", "pos": page.newer_query})
    cursor = {"dir": page.direction, "pos": selectors.format_positions(page.positions)}
    links["jsonl"] = urlencode(base | cursor | {"format": "jsonl"})
    return links


def _browse(
    request: HttpRequest, name: str, produce_form: ProduceForm | None = None, **extra: object
) -> HttpResponse:
    form = BrowseForm(request.GET)
    context: dict[str, object] = {"name": name, "form": form, "page": None, **extra}
    context["may_produce"] = _may_produce(request, name)
    context["produce_form"] = produce_form or ProduceForm()
    status = 200
    if not form.is_valid():
        status = 400
    else:
        try:
            page = selectors.message_page(actor=request.user, topic=name, **form.page_kwargs())
        except NotFound:
            return _missing(request, name)
        except UnknownTopic:
            return _missing(request, name)
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 400
        except BrokerAdminError as exc:
            context["cluster_error"] = str(exc)
            status = _UNAVAILABLE if isinstance(exc, BrokerUnavailable) else 200
        else:
            if request.GET.get("format") == "jsonl":
                body = "".join(row.as_json(name) + "\n" for row in page.rows)
                response = HttpResponse(body, content_type="application/x-ndjson; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="{name}.jsonl"'
                return response
            context |= {"page": page, "links": _links(form, page)}
    if request.GET.get("format") == "jsonl" and status != 200:
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        message = context.get("cluster_error") or errors
        return HttpResponse(f"{message}\n", status=status, content_type="text/plain; charset=utf-8")
    return render(request, "console/message_list.html", context, status=status)


@login_required
@require_GET
def message_list(request: HttpRequest, name: str) -> HttpResponse:
    return _browse(request, name)


@login_required
@require_POST
def message_produce(request: HttpRequest, name: str) -> HttpResponse:
    """Produce one record; the page again with its partition and offset (or the
    refusal on the form). A role without ``message.produce`` is a 403."""
    try:
        topic_tenant(actor=request.user, name=name, action=Action.MESSAGE_PRODUCE)
    except NotFound:
        return _missing(request, name)
    except ValidationError as exc:  # the tenant is being deleted
        form = ProduceForm()
        form.add_error(None, exc)
        return _browse(request, name, produce_form=form)
    form = ProduceForm(request.POST)
    status = 200
    extra: dict[str, object] = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            headers = services.parse_headers(data["headers"])
            produced = services.message_produce(
                actor=request.user, topic=name, partition=data["partition"],
                key=data["key"].encode() if data["key"] else None,
                value=data["value"].encode(), headers=headers,
            )  # fmt: skip
        except UnknownTopic:
            return _missing(request, name)
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 400
        except BrokerUnavailable as exc:
            form.add_error(None, str(exc))
            status = _UNAVAILABLE
        except BrokerAdminError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            extra["produced"] = produced
            form = ProduceForm(initial={"partition": request.POST.get("partition", "")})
    else:
        status = 400
    response = _browse(request, name, produce_form=form, **extra)
    if status != 200 and response.status_code == 200:
        response.status_code = status
    return response
