"""A consumer application, run as its own process by the group tests.

It subscribes with confluent-kafka (librdkafka), writes one JSON line per event to
``--events`` (flushed at once, so the test can follow it while it runs), processes
records at least once (a record is written before its offset is committed) and
commits synchronously every ``--commit-every`` records, when partitions are taken
away and when the topic is idle (unless ``--no-idle-commit``). SIGTERM closes the
consumer cleanly (a dynamic member leaves the group); SIGKILL is a crash.

Events (each with its wall-clock time ``t``):
``{"event": "assigned"|"revoked", "partitions": [...]}``,
``{"event": "record", "partition": p, "offset": o, "value": "..."}``,
``{"event": "committed", "offsets": {"p": next_offset}}``, ``{"event": "closed"}``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any

from confluent_kafka import Consumer, KafkaException


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--instance-id")
    parser.add_argument("--strategy", default="range")
    parser.add_argument("--group-protocol", default="classic", choices=["classic", "consumer"])
    parser.add_argument("--commit-every", type=int, default=10)
    parser.add_argument(
        "--no-idle-commit", action="store_true", help="commit only every N and on revocation"
    )
    parser.add_argument("--session-timeout-ms", type=int, default=6000)
    args = parser.parse_args()

    out = open(args.events, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    def emit(**event: Any) -> None:
        out.write(json.dumps({**event, "t": time.time()}) + "\n")

    config: dict[str, Any] = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "topic.metadata.refresh.interval.ms": 2000,
    }
    if args.group_protocol == "consumer":  # KIP-848: the broker assigns and times sessions
        config["group.protocol"] = "consumer"
    else:
        config["session.timeout.ms"] = args.session_timeout_ms
        config["heartbeat.interval.ms"] = 300
        config["partition.assignment.strategy"] = args.strategy
    if args.instance_id:
        config["group.instance.id"] = args.instance_id
    consumer = Consumer(config)
    cooperative = args.strategy == "cooperative-sticky"
    uncommitted: dict[int, int] = {}

    def commit() -> None:
        if not uncommitted:
            return
        try:
            results = consumer.commit(asynchronous=False)
        except KafkaException as exc:
            emit(event="commit_failed", error=str(exc))
            return
        done = {str(tp.partition): tp.offset for tp in results or () if tp.error is None}
        emit(event="committed", offsets=done)
        uncommitted.clear()

    def on_assign(c: Consumer, partitions: list[Any]) -> None:
        emit(event="assigned", partitions=sorted(p.partition for p in partitions))

    def on_revoke(c: Consumer, partitions: list[Any]) -> None:
        commit()
        emit(event="revoked", partitions=sorted(p.partition for p in partitions))

    def on_lost(c: Consumer, partitions: list[Any]) -> None:
        emit(event="lost", partitions=sorted(p.partition for p in partitions))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    emit(event="started", cooperative=cooperative)
    count = 0
    while not stopping:
        message = consumer.poll(0.2)
        if message is None:
            if not args.no_idle_commit:
                commit()
            continue
        if message.error():
            emit(event="error", error=str(message.error()))
            continue
        emit(
            event="record",
            partition=message.partition(),
            offset=message.offset(),
            value=(message.value() or b"").decode(),
        )
        uncommitted[message.partition()] = message.offset() + 1
        count += 1
        if count % args.commit_every == 0:
            commit()
    commit()
    consumer.close()
    emit(event="closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
