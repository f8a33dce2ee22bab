"""The broker config form: one dynamic config, set to a value or reset."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms


class BrokerConfigForm(forms.Form):
    """Set dynamic config ``name`` of a broker to ``value``, or reset it (DELETE: back to
    the cluster-wide dynamic default, the static value or Kafka's default)."""

    name = forms.ChoiceField(label="Config")
    value = forms.CharField(required=False, widget=forms.TextInput(attrs={"spellcheck": "false"}))
    reset = forms.BooleanField(
        required=False, label="Reset to the default instead (DELETE the broker's value)"
    )

    def __init__(self, *args: object, names: Iterable[str] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["name"].choices = [(n, n) for n in names]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("reset") and not (data.get("value") or "").strip():
            self.add_error("value", "Give a value, or tick reset.")
        return data

    def changes(self) -> tuple[dict[str, str], list[str]]:
        """``(set, delete)`` for ``broker_configs_alter``."""
        name = self.cleaned_data["name"]
        if self.cleaned_data["reset"]:
            return {}, [name]
        return {name: self.cleaned_data["value"].strip()}, []
