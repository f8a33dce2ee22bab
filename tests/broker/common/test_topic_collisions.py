"""Kafka's topic-name collision rule: '.' and '_' are the same character in metric names."""

from __future__ import annotations

import pytest

from broker.common.topic_names import colliding_topic, collision_message


@pytest.mark.parametrize(
    ("name", "existing", "expected"),
    [
        ("my_metrics", ["my.metrics"], "my.metrics"),
        ("my.metrics", ["my_metrics"], "my_metrics"),
        ("a.b_c", ["x", "a_b.c"], "a_b.c"),
        ("my-metrics", ["my.metrics", "my_metrics"], None),
        ("my.metrics", ["my.metrics"], None),  # the same name is TOPIC_ALREADY_EXISTS
        ("orders", [], None),
        ("a.b", ["a_b", "a.b", "a_b"], "a_b"),
    ],
)
def test_colliding_topic(name: str, existing: list[str], expected: str | None) -> None:
    assert colliding_topic(name, existing) == expected


def test_colliding_topic_names_the_least_when_several_collide() -> None:
    assert colliding_topic("a.b.c", ["a_b_c", "a.b_c", "a_b.c"]) == "a.b_c"


def test_collision_message_is_kafkas() -> None:
    assert (
        collision_message("my_metrics", "my.metrics")
        == "Topic 'my_metrics' collides with existing topic: my.metrics"
    )
