"""The plan form (operators): it parses numbers; :func:`console.services.plan_create` and
``plan_update`` hold the rules (greater than 0, unique names), whose ValidationErrors
land on these fields. An empty field is unlimited."""

from __future__ import annotations

from typing import Any

from django import forms

from console.models import Plan

_NUM = {"autocomplete": "off", "inputmode": "numeric"}

HELP = {
    "producer_byte_rate": "bytes/s per service account, e.g. 1048576 (1 MiB/s)",
    "consumer_byte_rate": "bytes/s per service account, e.g. 1048576 (1 MiB/s)",
    "request_percentage": "percent of one request-handler thread, e.g. 200",
    "controller_mutation_rate": "partition mutations per second",
    "max_topics": "topics in the tenant's prefix",
    "max_partitions": "partitions over all the tenant's topics",
    "max_retention_ms": "the longest retention.ms a topic may have",
    "max_message_bytes": "the largest max.message.bytes a topic may have",
}


def _number(key: str) -> forms.Field:
    fractional = key in ("request_percentage", "controller_mutation_rate")
    kind = forms.FloatField if fractional else forms.IntegerField
    return kind(
        required=False, label=key, help_text=HELP[key] + "; empty: unlimited",
        widget=forms.NumberInput(attrs=_NUM),
        error_messages={"invalid": "Enter a number (or leave it empty: unlimited)."},
    )  # fmt: skip


class PlanForm(forms.Form):
    name = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "A plan needs a name."},
    )  # fmt: skip

    def __init__(self, *args: Any, editing: Plan | None = None, **kwargs: Any) -> None:
        if editing is not None and "initial" not in kwargs:
            kwargs["initial"] = editing.snapshot()
        super().__init__(*args, **kwargs)
        for key in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS:
            self.fields[key] = _number(key)
        if editing is not None:  # the name is the plan's key: not renamed here
            del self.fields["name"]

    def values(self) -> dict[str, Any]:
        """Every quota and limit (None: unlimited), for plan_create/plan_update."""
        return {k: self.cleaned_data.get(k) for k in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS}
