"""``/account/tokens/``: the user's own API tokens: make one (its secret shown in that
POST's response only, never cached) and revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST

from console.forms.tenants import add_service_errors
from console.selectors.tokens import api_token_list
from console.services.tokens import MAX_NAME, api_token_create, api_token_revoke


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME,
        help_text="Where the token is used, e.g. ci-deploy or laptop.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Give the token a name."},
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            api_url = request.build_absolute_uri("/api/v1/tenants")
            context = {"created": created, "api_url": api_url}
            response = render(request, "console/token_created.html", context)
            patch_cache_control(response, no_store=True, private=True)
            return response
    context = {"form": form, "tokens": api_token_list(actor=request.user)}
    return render(request, "console/token_list.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_token_revoke(actor=request.user, token_id=token_id)
    messages.success(request, f"Revoked the token {token.name} ({token.prefix}...).")
    return redirect("token-list")
