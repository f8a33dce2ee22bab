"""Forms only parse input; the rules live in the services and topic_names.

Fields carry no browser-side limits that would change what the user typed (a
``maxlength`` silently cuts a long name, a ``type=number`` field sends nothing for
"abc"): what was typed reaches the server, which says what is wrong with it.
"""

from __future__ import annotations

from django import forms

from broker.common.limits import INT16_MAX, MAX_PARTITIONS_PER_REQUEST
from console.broker_admin import TopicRequestRejected
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


class TopicCreateForm(forms.Form):
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

    def clean_replication_factor(self) -> int:
        """Empty is Kafka's -1: the broker's ``default.replication.factor``."""
        value = self.cleaned_data["replication_factor"]
        return DEFAULT_REPLICATION_FACTOR if value is None else value

    def clean_configs(self) -> dict[str, str]:
        """``name=value`` lines as a dict; the values are typed by the broker, which
        answers INVALID_CONFIG with Kafka's message for a value its catalog refuses."""
        configs: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["configs"].splitlines(), start=1):
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
