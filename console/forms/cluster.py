"""The effective-permission checker's question."""

from __future__ import annotations

from enum import IntEnum

from django import forms

from broker.common import acls
from console.forms.topics import OPERATIONS, RESOURCE_TYPES


def _choices(kind: type[IntEnum], names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ").title()) for name in names if name in kind.__members__]


class PermissionCheckForm(forms.Form):
    """ "May principal P, from host H, do operation O on resource R?" (Kafka's terms)."""

    principal = forms.CharField(
        initial="User:",
        help_text="As Kafka names it: User:alice (a SCRAM user), User:CN=app (a certificate).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    host = forms.CharField(
        initial="*",
        help_text="The client's IP address; * asks about a client whose address no "
        "host-specific ACL names.",
    )
    operation = forms.ChoiceField(choices=_choices(acls.AclOperation, OPERATIONS))
    resource_type = forms.ChoiceField(choices=_choices(acls.ResourceType, RESOURCE_TYPES))
    resource_name = forms.CharField(
        help_text="A topic, group or transactional id; kafka-cluster for the cluster."
    )

    def clean_principal(self) -> str:
        principal = self.cleaned_data["principal"].strip()
        kind, sep, name = principal.partition(":")
        if not sep or not kind or not name:
            raise forms.ValidationError("A principal is TYPE:NAME, e.g. User:alice.")
        return principal

    def question(self) -> dict[str, object]:
        """The cleaned question as ``selectors.permission_check`` keywords."""
        data = self.cleaned_data
        return {
            "principal": data["principal"],
            "host": data["host"].strip(),
            "operation": acls.AclOperation[data["operation"]],
            "resource_type": acls.ResourceType[data["resource_type"]],
            "resource_name": data["resource_name"].strip(),
        }
