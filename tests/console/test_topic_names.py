"""Kafka's topic-name rules, as the console enforces them before asking the broker."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from console.topic_names import MAX_NAME_LENGTH, validate_topic_name


@pytest.mark.parametrize(
    "name", ["orders", "a", "A.b_c-9", "__consumer_offsets", "x" * MAX_NAME_LENGTH, "..."]
)
def test_validate_topic_name_accepts_legal_names(name: str) -> None:
    validate_topic_name(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "empty"),
        (".", "reserved"),
        ("..", "reserved"),
        ("x" * (MAX_NAME_LENGTH + 1), "too_long"),
        ("with space", "illegal_chars"),
        ("tab\t", "illegal_chars"),
        ("a/b", "illegal_chars"),
        ("a:b", "illegal_chars"),
        ("orders\n", "illegal_chars"),
        ("naïve", "illegal_chars"),
        ("emoji🙂", "illegal_chars"),
    ],
)
def test_validate_topic_name_rejects_illegal_names(name: str, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_topic_name(name)
    assert raised.value.code == code
