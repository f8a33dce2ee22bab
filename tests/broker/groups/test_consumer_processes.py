"""Consumer processes sharing partitions through the group coordinator (librdkafka).

The applications run in their own processes (``consumer_process.py``), join, leave,
crash and restart while records flow; the checks are what users rely on: a fair
split, partitions moving on membership changes (after the session timeout for a
crash), nothing lost, and duplicates only where a consumer had not committed yet.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.broker.groups.processes import ConsumerProcess, wait_for_assignments
from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_create_topic, confluent_produce
from tests.support.net import wait_until

PARTITIONS = 6


def produce(bootstrap: str, topic: str, start: int, count: int) -> set[str]:
    values = [f"record-{i}" for i in range(start, start + count)]
    confluent_produce(bootstrap, topic, [Record(f"key-{v}".encode(), v.encode()) for v in values])
    return set(values)


def wait_consumed(consumers: list[ConsumerProcess], values: set[str], timeout: float = 40) -> None:
    def done() -> bool:
        seen = {value for c in consumers for _p, _o, value in c.records()}
        return values <= seen

    wait_until(done, timeout=timeout, what=f"{len(values)} records consumed")


def test_consumers_share_partitions_through_joins_leaves_and_a_crash_without_loss(
    group_broker: BrokerProcess, names: tuple[str, str], tmp_path: Path
) -> None:
    topic, group = names
    bootstrap = group_broker.bootstrap
    confluent_create_topic(bootstrap, topic, PARTITIONS)
    produced = produce(bootstrap, topic, 0, 300)

    def start(name: str, *extra: str) -> ConsumerProcess:
        return ConsumerProcess.start(tmp_path, name, bootstrap, topic, group, *extra)

    a, b, c = start("a"), start("b"), start("c")
    everyone = [a, b, c]
    try:
        # three members over six partitions: two each
        owned = wait_for_assignments([a, b, c], [2, 2, 2], PARTITIONS)
        assert all(len(o) == 2 for o in owned)
        wait_consumed(everyone, produced)

        # a fourth joins: the group rebalances to 2+2+1+1
        d = start("d", "--commit-every", "100000", "--no-idle-commit")  # commits when revoked
        everyone.append(d)
        wait_for_assignments([a, b, c, d], [2, 2, 1, 1], PARTITIONS)
        produced |= produce(bootstrap, topic, 300, 300)
        wait_consumed(everyone, produced)

        # one leaves cleanly (LeaveGroup): its partitions move at once
        c.stop()
        wait_for_assignments([a, b, d], [2, 2, 2], PARTITIONS, timeout=15)
        batch = produce(bootstrap, topic, 600, 300)
        produced |= batch

        # one crashes with records read but not committed: its partitions move after
        # its session timeout (6 s) and the new owners read those records again
        wait_until(lambda: {v for _p, _o, v in d.records()} & batch, what="d reading")
        d_partitions = d.assignment()
        d.kill()
        owned = wait_for_assignments([a, b], [3, 3], PARTITIONS, timeout=40)
        assert d_partitions <= owned[0] | owned[1]
        produced |= produce(bootstrap, topic, 900, 300)
        wait_consumed([a, b, c, d], produced)
    finally:
        for consumer in everyone:
            consumer.stop()

    # nothing lost
    assert {v for consumer in everyone for _p, _o, v in consumer.records()} == produced
    assert d.count("closed") == 0  # the crash really was one
    assert c.count("closed") == 1
    duplicated = assert_duplicates_are_only_the_uncommitted_tail(everyone)
    assert duplicated, "the crashed consumer left no uncommitted records behind"
    assert {p for p, _o in duplicated} <= d_partitions


def assert_duplicates_are_only_the_uncommitted_tail(
    consumers: list[ConsumerProcess],
) -> set[tuple[int, int]]:
    """A record read again was never committed by whoever read it before: a consumer
    that committed past a record before losing its partition hands it over done."""
    reads = sorted((t, p, o, c) for c in consumers for t, p, o in c.reads())
    readers: dict[tuple[int, int], list[tuple[float, ConsumerProcess]]] = {}
    for t, p, o, consumer in reads:
        readers.setdefault((p, o), []).append((t, consumer))
    duplicated = {key: seen for key, seen in readers.items() if len(seen) > 1}
    for (p, o), seen in duplicated.items():
        for (t, earlier), (t_next, _later) in itertools.pairwise(seen):
            committed_before = [
                offset for ct, cp, offset in earlier.commits() if cp == p and t <= ct <= t_next
            ]
            assert all(offset <= o for offset in committed_before), (
                f"{p}/{o}: {earlier.name} committed {max(committed_before)} and it was read again"
            )
    return set(duplicated)


def test_cooperative_sticky_moves_only_the_partitions_that_change_owner(
    group_broker: BrokerProcess, names: tuple[str, str], tmp_path: Path
) -> None:
    topic, group = names
    bootstrap = group_broker.bootstrap
    confluent_create_topic(bootstrap, topic, PARTITIONS)
    produced = produce(bootstrap, topic, 0, 200)
    coop = ("--strategy", "cooperative-sticky")
    a = ConsumerProcess.start(tmp_path, "a", bootstrap, topic, group, *coop)
    b = None
    try:
        (_owned_alone,) = wait_for_assignments([a], [6], PARTITIONS)
        b = ConsumerProcess.start(tmp_path, "b", bootstrap, topic, group, *coop)
        produced |= produce(bootstrap, topic, 200, 200)
        _owned_a, owned_b = wait_for_assignments([a, b], [3, 3], PARTITIONS)
        # incremental: a gave up exactly b's three partitions and kept the others
        revoked = [e["partitions"] for e in a.events() if e["event"] == "revoked"]
        assert sorted(p for r in revoked for p in r) == sorted(owned_b)
        assert not any(e["event"] == "lost" for e in a.events())
        wait_consumed([a, b], produced)
        b.stop()
        (_owned_again,) = wait_for_assignments([a], [6], PARTITIONS, timeout=15)
        added = [e["partitions"] for e in a.events() if e["event"] == "assigned"]
        assert added[-1] == sorted(owned_b)  # only b's partitions were added back
    finally:
        a.stop()
        if b is not None:
            b.stop()
    assert a.count("revoked") + (b.count("revoked") if b else 0) >= 1


def test_a_static_member_restarting_within_its_session_timeout_causes_no_rebalance(
    group_broker: BrokerProcess, names: tuple[str, str], tmp_path: Path
) -> None:
    topic, group = names
    bootstrap = group_broker.bootstrap
    confluent_create_topic(bootstrap, topic, PARTITIONS)
    produced = produce(bootstrap, topic, 0, 100)

    def start(name: str, instance: str) -> ConsumerProcess:
        return ConsumerProcess.start(
            tmp_path, name, bootstrap, topic, group, "--instance-id", instance,
            "--session-timeout-ms", "10000",
        )  # fmt: skip

    a, b = start("a", "static-a"), start("b", "static-b")
    a2 = None
    try:
        owned_a, _owned_b = wait_for_assignments([a, b], [3, 3], PARTITIONS)
        wait_consumed([a, b], produced)
        b_events = len([e for e in b.events() if e["event"] in ("assigned", "revoked")])
        a.stop()  # a static member does not leave the group when it closes
        a2 = start("a2", "static-a")
        wait_until(lambda: a2.assignment() == owned_a, timeout=9, what="a2 to get a's partitions")
        produced |= produce(bootstrap, topic, 100, 100)
        wait_consumed([a, b, a2], produced)
        # b saw no rebalance at all: not a single revocation or assignment since
        assert len([e for e in b.events() if e["event"] in ("assigned", "revoked")]) == b_events
        # a2 started where a had committed: nothing read twice
        reads = [(p, o) for c in (a, b, a2) for p, o, _v in c.records()]
        assert len(reads) == len(set(reads))
    finally:
        for consumer in (a, b, a2):
            if consumer is not None:
                consumer.stop()


def test_kip848_consumer_protocol_shares_and_moves_partitions_without_loss(
    kip848_broker: BrokerProcess, names: tuple[str, str], tmp_path: Path
) -> None:
    """librdkafka with ``group.protocol=consumer``: the broker assigns (uniform), members
    reconcile through ConsumerGroupHeartbeat, commit with their member epoch."""
    topic, group = names
    bootstrap = kip848_broker.bootstrap
    confluent_create_topic(bootstrap, topic, PARTITIONS)
    produced = produce(bootstrap, topic, 0, 300)

    def start(name: str, *extra: str) -> ConsumerProcess:
        return ConsumerProcess.start(
            tmp_path, name, bootstrap, topic, group, "--group-protocol", "consumer", *extra
        )

    a, b, c = start("a"), start("b"), start("c")
    everyone = [a, b, c]
    try:
        wait_for_assignments([a, b, c], [2, 2, 2], PARTITIONS)
        wait_consumed(everyone, produced)
        c.stop()
        wait_for_assignments([a, b], [3, 3], PARTITIONS, timeout=15)
        batch = produce(bootstrap, topic, 300, 300)
        produced |= batch
        b_reading = start("b2", "--commit-every", "100000", "--no-idle-commit")
        everyone.append(b_reading)
        wait_for_assignments([a, b, b_reading], [2, 2, 2], PARTITIONS, timeout=15)
        produced |= produce(bootstrap, topic, 600, 300)
        wait_until(lambda: b_reading.records(), what="b2 reading")
        b_reading.kill()  # its partitions move once its session (6 s) ends
        wait_for_assignments([a, b], [3, 3], PARTITIONS, timeout=30)
        wait_consumed(everyone, produced)
    finally:
        for consumer in everyone:
            consumer.stop()
    assert {v for consumer in everyone for _p, _o, v in consumer.records()} == produced
    assert_duplicates_are_only_the_uncommitted_tail(everyone)
