"""Forms for the tenant pages: they parse; the services hold the rules (slugs, account
names, prefixes, Kafka's ACL checks) and their ValidationErrors land on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from console.models import AccessRule, Role

_TEXT = {"autocomplete": "off", "spellcheck": "false"}
OPERATIONS = (
    "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
)  # fmt: skip


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: by field where the form has the field,
    else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class TenantCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs=_TEXT | {"placeholder": "e.g. Acme Corp"}),
        error_messages={"required": "Enter the tenant's name."},
    )
    slug = forms.CharField(
        help_text="2 to 32 lowercase letters and digits; the tenant's prefix is <slug>.",
        widget=forms.TextInput(attrs=_TEXT | {"placeholder": "e.g. acme"}),
        error_messages={"required": "Enter a slug."},
    )
    plan = forms.ChoiceField(error_messages={"required": "Choose a plan."})

    def __init__(self, *args: Any, plans: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = _choices(plans)


class TenantDeleteForm(forms.Form):
    confirm_slug = forms.CharField(
        label="Type the tenant's slug to confirm",
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": "Type the tenant's slug to confirm."},
    )


class ServiceAccountCreateForm(forms.Form):
    name = forms.CharField(
        help_text="Lowercase letters, digits and '-'; the SCRAM user is <slug>-<name>.",
        widget=forms.TextInput(attrs=_TEXT | {"placeholder": "e.g. billing"}),
        error_messages={"required": "Enter a name for the account."},
    )
    description = forms.CharField(required=False, max_length=200)
    mechanism = forms.ChoiceField(initial="SCRAM-SHA-256")

    def __init__(self, *args: Any, mechanisms: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mechanism"].choices = _choices(mechanisms)


class PresetForm(forms.Form):
    account = forms.ChoiceField(label="Service account")
    preset = forms.ChoiceField()

    def __init__(
        self, *args: Any, accounts: list[str], presets: tuple[str, ...], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = _choices(accounts)
        self.fields["preset"].choices = _choices(presets)


class AccessRuleForm(forms.Form):
    account = forms.ChoiceField(label="Service account")
    resource_type = forms.ChoiceField(choices=_choices(AccessRule.RESOURCE_TYPES))
    resource_name = forms.CharField(
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": "Enter a resource name inside the tenant's prefix."},
    )
    pattern_type = forms.ChoiceField(choices=_choices(AccessRule.PATTERN_TYPES))
    operation = forms.ChoiceField(choices=_choices(OPERATIONS))
    permission_type = forms.ChoiceField(
        label="Permission", choices=_choices(AccessRule.PERMISSIONS)
    )
    host = forms.CharField(initial="*", widget=forms.TextInput(attrs=_TEXT))

    def __init__(self, *args: Any, accounts: list[str], prefix: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = _choices(accounts)
        self.fields["resource_name"].initial = prefix
        self.fields["resource_name"].help_text = f"Must start with {prefix}"


class MemberAddForm(forms.Form):
    username = forms.CharField(
        widget=forms.TextInput(attrs=_TEXT),
        error_messages={"required": "Enter the username of an existing user."},
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
