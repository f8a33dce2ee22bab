"""The audit log's filter form: it parses GET parameters; bad values are its errors."""

from __future__ import annotations

from datetime import timedelta

from django import forms

_TEXT = {"autocomplete": "off", "spellcheck": "false"}
_DATE = {"type": "datetime-local", "style": "font: inherit; padding: 0.3rem 0.4rem; "
         "border: 1px solid #dde1e7; border-radius: 4px"}  # fmt: skip
_WHEN = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class AuditFilterForm(forms.Form):
    tenant = forms.CharField(
        required=False, max_length=32,
        widget=forms.TextInput(attrs=_TEXT | {"list": "audit-tenants", "placeholder": "slug"}),
    )  # fmt: skip
    actor = forms.CharField(
        required=False, label="User", max_length=150, widget=forms.TextInput(attrs=_TEXT)
    )
    action = forms.CharField(
        required=False, max_length=64, help_text="e.g. service_account or plan.update",
        widget=forms.TextInput(attrs=_TEXT | {"list": "audit-actions"}),
    )  # fmt: skip
    resource = forms.CharField(
        required=False, max_length=300, help_text="type or name contains",
        widget=forms.TextInput(attrs=_TEXT),
    )  # fmt: skip
    since = forms.DateTimeField(
        required=False, label="From", input_formats=_WHEN,
        widget=forms.DateTimeInput(attrs=_DATE, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter a date (YYYY-MM-DD) or a date and time."},
    )  # fmt: skip
    until = forms.DateTimeField(
        required=False, label="To", input_formats=_WHEN,
        widget=forms.DateTimeInput(attrs=_DATE, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter a date (YYYY-MM-DD) or a date and time."},
    )  # fmt: skip

    def __init__(self, data: dict[str, str] | None = None, **kwargs: object) -> None:
        if data is not None:  # the URL says from/to (reserved words in Python)
            data = dict(data)
            data.setdefault("since", data.pop("from", ""))
            data.setdefault("until", data.pop("to", ""))
        super().__init__(data, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if until and len(str(self.data.get("until", "")).strip()) == len("YYYY-MM-DD"):
            until = cleaned["until"] = until + timedelta(days=1) - timedelta(microseconds=1)
        if since and until and since > until:
            self.add_error("until", "The end of the range is before its start.")
        return cleaned
