"""Kafka's rules as pure functions (no IO, nothing of the server or storage).

Kafka keeps such rules in its ``common`` module (``org.apache.kafka.common.internals``);
here they serve the broker and the console alike, which may import this package and
nothing else of the broker's internals, so a rule exists once.
"""
