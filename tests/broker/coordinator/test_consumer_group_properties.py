"""Hypothesis drives KIP-848 members that follow the protocol (they give up what the
coordinator no longer lists and report what they own) through joins, leaves, crashes,
subscription and topic changes. Invariants: no partition is ever held by two members;
and once everybody keeps heartbeating, the group settles: Stable, every subscribed
partition owned by exactly one subscriber."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.consumer_group import HeartbeatRequest
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import Harness

NAMES = ["m0", "m1", "m2", "m3"]


@dataclass
class Client:
    member_id: str
    epoch: int = 0
    owned: dict[str, set[int]] = field(default_factory=dict)
    topics: tuple[str, ...] = ("a",)
    joined: bool = False


class ConsumerGroupMachine(RuleBasedStateMachine):
    @initialize(assignor=st.sampled_from(["uniform", "range"]))
    def setup(self, assignor: str) -> None:
        self.h = Harness(GroupCoordinatorConfig(consumer_session_timeout_ms=10_000))
        self.assignor = assignor
        self.clients = {name: Client(name) for name in NAMES}
        self.metadata = {"a": 4, "b": 3}

    def _heartbeat(self, client: Client, *, epoch: int | None = None) -> None:
        request = HeartbeatRequest(
            group_id="g", member_id=client.member_id,
            member_epoch=client.epoch if epoch is None else epoch, instance_id=None,
            rack_id=None, rebalance_timeout_ms=60_000, subscribed_topic_names=client.topics,
            subscribed_topic_regex=None, server_assignor=self.assignor,
            owned={t: set(ps) for t, ps in client.owned.items()},
        )  # fmt: skip
        response = self.h.coordinator.consumer.heartbeat(request, self.metadata, self.h.now)
        if response.error != E.none:
            client.joined, client.epoch, client.owned = False, 0, {}
            return
        if request.member_epoch == -1:
            client.joined, client.epoch, client.owned = False, 0, {}
            return
        client.joined, client.epoch = True, response.member_epoch
        if response.assignment is not None:
            client.owned = {t: set(ps) for t, ps in response.assignment.items()}

    @rule(name=st.sampled_from(NAMES))
    def heartbeat(self, name: str) -> None:
        self._heartbeat(self.clients[name])

    @rule(name=st.sampled_from(NAMES))
    def leave(self, name: str) -> None:
        client = self.clients[name]
        if client.joined:
            self._heartbeat(client, epoch=-1)

    @rule(name=st.sampled_from(NAMES), topics=st.sampled_from([("a",), ("b",), ("a", "b")]))
    def resubscribe(self, name: str, topics: tuple[str, ...]) -> None:
        self.clients[name].topics = topics
        self._heartbeat(self.clients[name])

    @rule(name=st.sampled_from(NAMES))
    def crash(self, name: str) -> None:
        client = self.clients[name]
        client.joined, client.epoch, client.owned = False, 0, {}  # it just goes silent

    @rule(topic=st.sampled_from(["a", "b"]))
    def add_partition(self, topic: str) -> None:
        self.metadata = {**self.metadata, topic: self.metadata[topic] + 1}

    @rule(ms=st.integers(0, 12_000))
    def time_passes(self, ms: int) -> None:
        self.h.advance(ms)

    @invariant()
    def no_partition_held_twice(self) -> None:
        group = self.h.coordinator.consumer.groups.get("g")
        if group is None:
            return
        seen: set[tuple[str, int]] = set()
        for member in group.members.values():
            for source in (member.assigned, member.revoking):
                for topic, ps in source.items():
                    for p in ps:
                        assert (topic, p) not in seen, f"{topic}-{p} held twice"
                        seen.add((topic, p))

    def teardown(self) -> None:
        if not hasattr(self, "h"):
            return
        active = [c for c in self.clients.values() if c.joined]
        for _ in range(8):  # everyone still there heartbeats; the silent ones expire
            for client in active:
                self._heartbeat(client)
            self.h.advance(3_000)
        group = self.h.coordinator.consumer.groups.get("g")
        active = [c for c in active if c.joined]
        if group is None or not active:
            return
        assert group.state.value == "Stable"
        owners: dict[tuple[str, int], str] = {}
        for client in active:
            for topic, ps in client.owned.items():
                assert topic in client.topics
                for p in ps:
                    assert (topic, p) not in owners
                    owners[(topic, p)] = client.member_id
        subscribed = {t for c in active for t in c.topics}
        expected = {(t, p) for t in subscribed for p in range(self.metadata[t])}
        assert owners.keys() == expected


TestConsumerGroupMachine = ConsumerGroupMachine.TestCase
TestConsumerGroupMachine.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
