"""A service account's quota overrides (operators): an empty field goes back to the
plan's value; :func:`console.services.quota_update` validates (greater than 0)."""

from __future__ import annotations

from typing import Any

from django import forms

from console.models import Plan, ServiceAccount


class QuotaForm(forms.Form):
    def __init__(self, *args: Any, account: ServiceAccount, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"q{account.pk}")
        kwargs.setdefault("initial", dict(account.quota_overrides))
        super().__init__(*args, **kwargs)
        plan = account.tenant.plan.quotas()
        for key in Plan.QUOTA_KEYS:
            field = forms.FloatField(
                required=False, label=key,
                widget=forms.NumberInput(attrs={"autocomplete": "off", "step": "any",
                                                "placeholder": _placeholder(plan.get(key))}),
                error_messages={"invalid": "Enter a number (or leave it empty: the plan's)."},
            )  # fmt: skip
            self.fields[key] = field

    def quotas(self) -> dict[str, float | None]:
        return {k: self.cleaned_data.get(k) for k in Plan.QUOTA_KEYS}


def _placeholder(value: float | None) -> str:
    if value is None:
        return "plan: unlimited"
    return f"plan: {value:.0f}" if float(value).is_integer() else f"plan: {value}"
