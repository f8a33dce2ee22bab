"""Forms only parse input; the rules live in the services and topic_names."""

from __future__ import annotations

from django import forms

from console.topic_names import MAX_NAME_LENGTH, validate_topic_name


class TopicCreateForm(forms.Form):
    name = forms.CharField(
        validators=[validate_topic_name],
        widget=forms.TextInput(
            attrs={"maxlength": MAX_NAME_LENGTH, "autocomplete": "off", "placeholder": "orders"}
        ),
    )
    partitions = forms.IntegerField(min_value=1, initial=1)


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
