"""The messages page's forms: the browse selector (GET) and produce (POST). They only
parse; paging and filtering live in console.selectors.messages."""

from __future__ import annotations

from typing import Any

from django import forms

from console.selectors import messages as selectors
from console.selectors.messages import Cursor, Filter, Start

_TEXT = {"autocomplete": "off", "spellcheck": "false"}
_SMALL = _TEXT | {"style": "width: 7rem"}
FORMAT_CHOICES = [("auto", "auto-detect"), ("json", "JSON"), ("text", "text"),
                  ("hex", "hex"), ("base64", "base64")]  # fmt: skip


class BrowseForm(forms.Form):
    partition = forms.CharField(required=False, label="Partition", widget=forms.TextInput(
        attrs=_SMALL | {"placeholder": "all", "inputmode": "numeric"}))  # fmt: skip
    start = forms.ChoiceField(
        required=False, label="From", initial="newest",
        choices=[("newest", "newest"), ("earliest", "earliest"), ("offset", "an offset"),
                 ("timestamp", "a timestamp")],
    )  # fmt: skip
    offset = forms.CharField(required=False, label="Offset", widget=forms.TextInput(
        attrs=_SMALL | {"inputmode": "numeric"}))  # fmt: skip
    timestamp = forms.CharField(
        required=False, label="Timestamp (UTC)",
        help_text="2026-12-08T00:50:00, with Z or +hh:mm for another zone, or ms since the epoch",
        widget=forms.TextInput(attrs=_TEXT | {"placeholder": "2026-12-08T00:50:00Z"}),
    )  # fmt: skip
    size = forms.CharField(required=False, label="Page size", widget=forms.TextInput(
        attrs=_SMALL | {"placeholder": str(selectors.DEFAULT_PAGE_SIZE)}))  # fmt: skip
    fmt = forms.ChoiceField(required=False, label="Show as", choices=FORMAT_CHOICES)
    q = forms.CharField(required=False, label="Filter", max_length=1000, widget=forms.TextInput(
        attrs=_TEXT | {"placeholder": "substring"}))  # fmt: skip
    q_in = forms.ChoiceField(
        required=False, label="in",
        choices=[("any", "key, value or header"), ("key", "key"), ("value", "value"),
                 ("header", "header (name=value)")],
    )  # fmt: skip
    limit = forms.CharField(required=False, label="Scan limit", widget=forms.TextInput(
        attrs=_SMALL | {"placeholder": str(selectors.DEFAULT_SCAN_LIMIT)}))  # fmt: skip
    dir = forms.CharField(required=False, widget=forms.HiddenInput)
    pos = forms.CharField(required=False, widget=forms.HiddenInput)

    def _number(self, name: str, *, minimum: int = 0, maximum: int | None = None) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        if not text.lstrip("-").isdigit():
            raise forms.ValidationError(f"{self.fields[name].label} must be a whole number.")
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" to {maximum}" if maximum is not None else " or more"
            raise forms.ValidationError(
                f"{self.fields[name].label} must be {minimum}{upper} (not {value})."
            )
        return value

    def clean_partition(self) -> int | None:
        return self._number("partition")

    def clean_offset(self) -> int | None:
        return self._number("offset")

    def clean_size(self) -> int:
        size = self._number("size", minimum=1, maximum=selectors.MAX_PAGE_SIZE)
        return selectors.DEFAULT_PAGE_SIZE if size is None else size

    def clean_limit(self) -> int:
        limit = self._number("limit", minimum=1, maximum=selectors.MAX_SCAN_LIMIT)
        return selectors.DEFAULT_SCAN_LIMIT if limit is None else limit

    def clean_timestamp(self) -> int | None:
        text = (self.cleaned_data.get("timestamp") or "").strip()
        if not text:
            return None
        try:
            return selectors.parse_timestamp(text)
        except (ValueError, OverflowError, OSError):
            raise forms.ValidationError(
                f"Not a timestamp: {text[:60]!r}. Use 2026-12-08T00:50:00 (UTC), with Z or "
                "+hh:mm for another zone, or milliseconds since the epoch."
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("start") == "offset"
            and data.get("offset") is None
            and "offset" not in self.errors
        ):
            self.add_error("offset", "Give the offset to start from.")
        if (
            data.get("start") == "timestamp"
            and data.get("timestamp") is None
            and "timestamp" not in self.errors
        ):
            self.add_error("timestamp", "Give the timestamp to start from.")
        direction, pos = data.get("dir") or "", (data.get("pos") or "").strip()
        data["cursor"] = None
        if direction or pos:
            if direction not in ("fwd", "back"):
                raise forms.ValidationError("This page link is broken: dir must be fwd or back.")
            try:
                data["cursor"] = Cursor(direction, selectors.parse_positions(pos))
            except ValueError as exc:
                raise forms.ValidationError(f"This page link is broken: {exc}.") from None
        return data

    def query(self) -> dict[str, str]:
        """The selector's own fields (without the cursor), for page links."""
        keep = ("partition", "start", "offset", "timestamp", "size", "fmt", "q", "q_in", "limit")
        return {k: str(self.data[k]) for k in keep if self.data.get(k) not in (None, "")}

    def page_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        query = data.get("q") or ""
        return {
            "partition": data.get("partition"),
            "start": Start(
                data.get("start") or "newest", data.get("offset"), data.get("timestamp")
            ),
            "cursor": data.get("cursor"), "page_size": data["size"],
            "fmt": data.get("fmt") or "auto",
            "filter": Filter(query, data.get("q_in") or "any", data["limit"]) if query else None,
        }  # fmt: skip


class ProduceForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "produce_%s")  # the browse form has id_partition
        super().__init__(*args, **kwargs)

    partition = forms.CharField(
        required=False, label="Partition",
        help_text="Empty: chosen by the key (the producer's default partitioner).",
        widget=forms.TextInput(attrs=_SMALL | {"placeholder": "by key", "inputmode": "numeric"}),
    )  # fmt: skip
    key = forms.CharField(required=False, strip=False, label="Key", help_text="Empty: a null key.",
                          widget=forms.TextInput(attrs=_TEXT))  # fmt: skip
    value = forms.CharField(
        required=False, strip=False, label="Value",
        widget=forms.Textarea(attrs=_TEXT | {"rows": 5, "class": "mono"}),
    )  # fmt: skip
    headers = forms.CharField(
        required=False, strip=False, label="Headers", help_text="One name=value per line.",
        widget=forms.Textarea(attrs=_TEXT | {"rows": 2, "class": "mono"}),
    )  # fmt: skip

    def clean_partition(self) -> int | None:
        text = (self.cleaned_data.get("partition") or "").strip()
        if not text:
            return None
        if not text.isdigit():
            raise forms.ValidationError("The partition is a number from 0 (or empty: by key).")
        return int(text)
