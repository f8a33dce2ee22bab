"""The groups pages' forms: list filters, the reset-offsets spec, delete confirmations.

They only parse; the reset rules live in console.services.groups."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms

from console.group_admin import STATES
from console.services.groups import ResetSpec, ResetStrategy

_TEXT = {"autocomplete": "off", "spellcheck": "false"}
_SELECT = {"style": "font: inherit; padding: 0.3rem 0.4rem; border: 1px solid #dde1e7; "
           "border-radius: 4px; background: #fff"}  # fmt: skip
_WHEN = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"]


class GroupFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Group id", max_length=255,
        widget=forms.TextInput(attrs=_TEXT | {"placeholder": "contains"}),
    )  # fmt: skip
    state = forms.ChoiceField(
        required=False,
        choices=[("", "any state")] + [(s, s) for s in STATES],
        widget=forms.Select(attrs=_SELECT),
    )
    tenant = forms.CharField(
        required=False, max_length=32,
        widget=forms.TextInput(attrs=_TEXT | {"list": "group-tenants", "placeholder": "slug"}),
    )  # fmt: skip


SCOPES = [
    ("all", "all topics of the group"),
    ("topic", "one topic"),
    ("partition", "one partition"),
]


class ResetOffsetsForm(forms.Form):
    strategy = forms.ChoiceField(
        label="Reset to",
        widget=forms.Select(attrs=_SELECT),
        choices=[
            (ResetStrategy.EARLIEST.value, "earliest (--to-earliest)"),
            (ResetStrategy.LATEST.value, "latest (--to-latest)"),
            (ResetStrategy.DATETIME.value, "a date and time, UTC (--to-datetime)"),
            (ResetStrategy.OFFSET.value, "an offset (--to-offset)"),
            (ResetStrategy.SHIFT.value, "shifted by N (--shift-by)"),
        ],
    )
    value = forms.IntegerField(
        required=False, label="Offset / shift",
        help_text="for --to-offset an offset; for --shift-by N records (negative: back)",
        widget=forms.TextInput(attrs=_TEXT | {"inputmode": "numeric"}),
        error_messages={"invalid": "Enter a whole number."},
    )  # fmt: skip
    when = forms.DateTimeField(
        required=False, label="Date and time (UTC)", input_formats=_WHEN,
        widget=forms.DateTimeInput(attrs=_TEXT | _SELECT | {"type": "datetime-local", "step": "1"},
                                   format="%Y-%m-%dT%H:%M:%S"),
        error_messages={"invalid": "Enter a date and time (YYYY-MM-DDTHH:MM:SS)."},
    )  # fmt: skip
    scope = forms.ChoiceField(
        label="For", choices=SCOPES, initial="all", widget=forms.Select(attrs=_SELECT)
    )
    topic = forms.CharField(required=False, max_length=249, widget=forms.TextInput(attrs=_TEXT))
    partition = forms.IntegerField(
        required=False, min_value=0, widget=forms.TextInput(attrs=_TEXT | {"inputmode": "numeric"}),
        error_messages={"invalid": "Enter a partition number.",
                        "min_value": "Partitions are numbered from 0."},
    )  # fmt: skip

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        strategy = cleaned.get("strategy")
        needs_value = strategy in (ResetStrategy.OFFSET, ResetStrategy.SHIFT)
        if needs_value and cleaned.get("value") is None and "value" not in self.errors:
            self.add_error("value", "Enter the offset or the shift.")
        needs_when = strategy == ResetStrategy.DATETIME
        if needs_when and cleaned.get("when") is None and "when" not in self.errors:
            self.add_error("when", "Enter the date and time to reset to.")
        scope = cleaned.get("scope")
        if scope in ("topic", "partition") and not cleaned.get("topic"):
            self.add_error("topic", "Name the topic.")
        needs_partition = scope == "partition" and cleaned.get("partition") is None
        if needs_partition and "partition" not in self.errors:
            self.add_error("partition", "Enter the partition.")
        return cleaned

    def spec(self) -> ResetSpec:
        data = self.cleaned_data
        strategy = ResetStrategy(data["strategy"])
        value: int | None = None
        if strategy in (ResetStrategy.OFFSET, ResetStrategy.SHIFT):
            value = data["value"]
        elif strategy is ResetStrategy.DATETIME:
            when: datetime = data["when"]
            aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            value = int(aware.timestamp() * 1000)
        scope = data["scope"]
        return ResetSpec(
            strategy=strategy, value=value,
            topic=data["topic"] if scope in ("topic", "partition") else None,
            partition=data["partition"] if scope == "partition" else None,
        )  # fmt: skip


class GroupDeleteForm(forms.Form):
    """Deleting a group asks for its id, typed, as a confirmation."""

    confirm = forms.CharField(
        label="Type the group id to confirm", widget=forms.TextInput(attrs=_TEXT)
    )

    def __init__(self, *args: object, group_id: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.group_id = group_id

    def clean_confirm(self) -> str:
        confirm = self.cleaned_data["confirm"]
        if confirm != self.group_id:
            raise forms.ValidationError("The id typed does not match the group's id.")
        return confirm


class OffsetDeleteForm(forms.Form):
    topic = forms.CharField(max_length=249, widget=forms.TextInput(attrs=_TEXT))
