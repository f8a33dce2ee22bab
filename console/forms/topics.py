"""Forms only parse input; the rules live in the services and topic_names.

Fields carry no browser-side limits that would change what the user typed (a
``maxlength`` silently cuts a long name, a ``type=number`` field sends nothing for
"abc"): what was typed reaches the server, which says what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from broker.common.limits import INT16_MAX, MAX_PARTITIONS_PER_REQUEST
from console.broker_admin import TopicRequestRejected
from console.models import Tenant
from console.services import DEFAULT_REPLICATION_FACTOR
from console.topic_names import MAX_NAME_LENGTH, validate_topic_name

OPERATIONS = (
    "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
)  # fmt: skip
RESOURCE_TYPES = ("TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID")

_PARTITIONS_HINT = f"a whole number from 1 to {MAX_PARTITIONS_PER_REQUEST}"
_REPLICATION_HINT = f"a whole number from 1 to {INT16_MAX}"

# Kafka error names -> the field a refusal is about (anything else is about the whole form).
_BROKER_ERROR_FIELDS = {
    "TOPIC_ALREADY_EXISTS": "name",
    "INVALID_TOPIC_EXCEPTION": "name",
    "INVALID_PARTITIONS": "partitions",
    "INVALID_REPLICATION_FACTOR": "replication_factor",
    "INVALID_CONFIG": "configs",
}


def parse_config_lines(text: str) -> dict[str, str]:
    """``name=value`` lines (blank lines skipped) as a dict, or a ValidationError."""
    configs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise forms.ValidationError(f"Line {number}: expected name=value, got {line!r}.")
        if name in configs:
            raise forms.ValidationError(f"Line {number}: {name} is set twice.")
        configs[name] = value
    return configs


class TopicCreateForm(forms.Form):
    """Create a topic. ``tenant`` is the prefix: the page shows it as the fixed start of
    the name (a select when the actor has several tenants, operators also "no tenant"),
    and :meth:`clean` joins it to what was typed, so it works without JavaScript. A
    tenant outside the actor's choices is not refused here: the service answers it
    (404 outside the actor's tenants, 403 for a role without ``topic.manage``)."""

    tenant = forms.CharField(required=False, label="Tenant")
    name = forms.CharField(
        validators=[validate_topic_name],
        help_text=f"Letters, digits, '.', '_' and '-'; at most {MAX_NAME_LENGTH} characters.",
        error_messages={"required": "Enter a name for the topic."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "e.g. payments.events",
            }
        ),
    )
    partitions = forms.IntegerField(
        min_value=1,
        max_value=MAX_PARTITIONS_PER_REQUEST,
        initial=1,
        help_text=f"Ordered logs the topic is split into: {_PARTITIONS_HINT}.",
        error_messages={
            "required": f"Enter the number of partitions: {_PARTITIONS_HINT}.",
            "invalid": f"Not a number of partitions: enter {_PARTITIONS_HINT}.",
            "min_value": "A topic needs at least one partition.",
            "max_value": ("At most %(limit_value)s partitions: Kafka refuses more in one request."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    replication_factor = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=INT16_MAX,
        help_text=(
            "Copies of each partition, on different brokers; empty for the cluster's "
            "default.replication.factor."
        ),
        error_messages={
            "invalid": f"Not a replication factor: enter {_REPLICATION_HINT}.",
            "min_value": "A topic needs at least one replica of each partition.",
            "max_value": (
                "At most %(limit_value)s replicas: Kafka's replication factor is a 16-bit field."
            ),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    configs = forms.CharField(
        required=False,
        label="Configs",
        help_text=(
            "Optional, one per line as name=value (e.g. retention.ms=86400000); the broker "
            "checks each against its config catalog."
        ),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocomplete": "off"}),
    )

    def __init__(
        self, *args: Any, tenants: Sequence[Tenant] = (), cluster_topics: bool = False,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.tenants = list(tenants)
        self.cluster_topics = cluster_topics
        if not cluster_topics:
            self.fields["tenant"].required = True
            self.fields["tenant"].error_messages["required"] = (
                "Choose a tenant: your topics are named inside its prefix."
            )
        self.fields["name"].widget.attrs["placeholder"] = "e.g. orders"

    @property
    def prefixes(self) -> list[tuple[str, str]]:
        """(slug, prefix) choices for the page's select; "" is no tenant (operators)."""
        choices = [("", "(no tenant)")] if self.cluster_topics else []
        return choices + [(t.slug, t.prefix) for t in self.tenants]

    def clean(self) -> dict[str, Any]:
        """``topic``: the full name, the tenant's prefix joined to the typed name (a name
        typed with the prefix already is kept as typed)."""
        cleaned = super().clean() or {}
        slug, name = cleaned.get("tenant", ""), cleaned.get("name")
        if name is not None:
            prefix = f"{slug}." if slug else ""
            cleaned["topic"] = name if name.startswith(prefix) else prefix + name
        return cleaned

    def clean_replication_factor(self) -> int:
        """Empty is Kafka's -1: the broker's ``default.replication.factor``."""
        value = self.cleaned_data["replication_factor"]
        return DEFAULT_REPLICATION_FACTOR if value is None else value

    def clean_configs(self) -> dict[str, str]:
        """``name=value`` lines as a dict; the values are typed by the broker, which
        answers INVALID_CONFIG with Kafka's message for a value its catalog refuses."""
        return parse_config_lines(self.cleaned_data["configs"])

    def add_broker_error(self, error: TopicRequestRejected) -> None:
        """Show the broker's refusal (Kafka's message) by the field it is about."""
        self.add_error(_BROKER_ERROR_FIELDS.get(error.error_name), str(error))


class TopicDeleteForm(forms.Form):
    """Deleting asks the operator to type the topic's name, as a confirmation."""

    confirm = forms.CharField(label="Type the topic name to confirm")

    def __init__(self, *args: object, topic: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.topic = topic

    def clean_confirm(self) -> str:
        confirm = self.cleaned_data["confirm"]
        if confirm != self.topic:
            raise forms.ValidationError("The name typed does not match the topic's name.")
        return confirm


class TopicConfigsForm(forms.Form):
    """Change a topic's configs: the common ones by field (empty: leave as is), any
    other as ``name=value`` lines, and overrides to delete (back to the broker's
    default). The service validates names and values by the broker's catalog."""

    retention_ms = forms.CharField(
        required=False, label="retention.ms",
        help_text="How long records are kept, in ms; -1 keeps them forever.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )  # fmt: skip
    cleanup_policy = forms.ChoiceField(
        required=False, label="cleanup.policy",
        choices=[("", "(unchanged)"), ("delete", "delete"), ("compact", "compact"),
                 ("compact,delete", "compact,delete")],
        help_text="delete: drop old segments; compact: keep the latest record of each key.",
    )  # fmt: skip
    max_message_bytes = forms.CharField(
        required=False, label="max.message.bytes",
        help_text="The largest record batch the broker accepts for this topic.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )  # fmt: skip
    configs = forms.CharField(
        required=False, label="Other configs",
        help_text="One per line as name=value (e.g. segment.ms=3600000).",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    delete = forms.MultipleChoiceField(
        required=False, label="Delete overrides",
        help_text="Back to the broker's default value.",
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    _FIELDS = {
        "retention_ms": "retention.ms",
        "cleanup_policy": "cleanup.policy",
        "max_message_bytes": "max.message.bytes",
    }

    def __init__(self, *args: Any, overrides: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delete"].choices = [(name, name) for name in overrides]  # type: ignore[attr-defined]

    def clean_configs(self) -> dict[str, str]:
        return parse_config_lines(self.cleaned_data["configs"])

    def clean(self) -> dict[str, Any]:
        """``set``: the configs to SET, from the fields and the lines together."""
        cleaned = super().clean() or {}
        changes: dict[str, str] = {}
        for field, config in self._FIELDS.items():
            value = (cleaned.get(field) or "").strip()
            if value:
                changes[config] = value
        for config, value in (cleaned.get("configs") or {}).items():
            if config in changes:
                self.add_error("configs", f"{config} is also set above.")
            changes[config] = value
        cleaned["set"] = changes
        return cleaned

    def field_of(self, message: str) -> str:
        """The field a message about one config belongs to: the one it was typed in
        (``retention_ms`` for "... retention.ms ..."), else ``configs``."""
        cleaned = getattr(self, "cleaned_data", {})
        typed, lines = cleaned.get("set", {}), cleaned.get("configs") or {}
        for field, config in self._FIELDS.items():
            named = re.search(rf"(?<![\w.]){re.escape(config)}(?![\w.])", message)
            if config in typed and config not in lines and named:
                return field
        return "configs"

    def add_service_error(self, error: ValidationError) -> None:
        """A service's ValidationError, each message by the field it is about."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            for item in errors:
                message = " ".join(item.messages)
                self.add_error(self.field_of(message) if field == "configs" else field, message)

    def add_broker_error(self, error: TopicRequestRejected) -> None:
        """The broker's refusal (INVALID_CONFIG, POLICY_VIOLATION...) in Kafka's words."""
        self.add_error(self.field_of(str(error)), str(error))


class TopicPartitionsForm(forms.Form):
    """Grow a topic: the new total partition count (Kafka's CreatePartitions count)."""

    count = forms.IntegerField(
        label="New partition count",
        min_value=1,
        help_text="The total, more than the topic has now; Kafka never removes partitions.",
        error_messages={
            "required": "Enter the new number of partitions.",
            "invalid": "Not a number of partitions: enter a whole number.",
            "min_value": "A topic needs at least one partition.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def add_broker_error(self, error: TopicRequestRejected) -> None:
        self.add_error("count", str(error))
