"""Hypothesis drives random clients against one group and checks the invariants.

Clients join (dynamic or static, any JoinGroup version), sync, heartbeat, commit,
leave, crash (go silent) and time passes. Whatever happens: every transition is in the
table (``transition_to`` raises otherwise), no held request is answered twice,
generations never go back, the group's bookkeeping stays consistent, and once
everybody has gone silent long enough every held request has been answered and the
group is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.group import GroupState
from broker.coordinator.results import JoinResponse, SyncResponse
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import Harness

S = GroupState
CLIENTS = 4


@dataclass
class Client:
    instance_id: str | None
    member_id: str = ""
    generation: int = -1
    join_token: int | None = None
    sync_token: int | None = None


class GroupMachine(RuleBasedStateMachine):
    @initialize(delay=st.sampled_from([0, 3_000]), statics=st.lists(st.booleans(), min_size=4))
    def setup(self, delay: int, statics: list[bool]) -> None:
        self.h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=delay))
        self.clients = [Client(f"instance-{i}" if statics[i] else None) for i in range(CLIENTS)]
        self.max_generation = 0

    def _collect(self, client: Client) -> None:
        if client.join_token is not None and not self.h.held(client.join_token):
            response: JoinResponse = self.h.answer(client.join_token)
            client.join_token = None
            if response.error in (E.none, E.member_id_required):
                client.member_id = response.member_id
                client.generation = response.generation_id
            elif response.error in (E.unknown_member_id, E.fenced_instance_id):
                client.member_id = ""
        if client.sync_token is not None and not self.h.held(client.sync_token):
            answer: SyncResponse = self.h.answer(client.sync_token)
            client.sync_token = None
            if answer.error in (E.unknown_member_id, E.fenced_instance_id):
                client.member_id = ""

    def _busy(self, client: Client) -> bool:
        self._collect(client)
        return client.join_token is not None or client.sync_token is not None

    @rule(
        index=st.integers(0, CLIENTS - 1),
        version=st.sampled_from([3, 4, 5, 9]),
        changed=st.booleans(),
    )
    def join(self, index: int, version: int, changed: bool) -> None:
        client = self.clients[index]
        if self._busy(client):
            return
        metadata = b"v2" if changed else b"v1"
        client.join_token = self.h.send_join(
            member_id=client.member_id,
            instance_id=client.instance_id if version >= 5 else None,
            version=version,
            session_timeout_ms=10_000,
            rebalance_timeout_ms=20_000,
            protocols=(("range", metadata),),
        )
        self._collect(client)

    @rule(index=st.integers(0, CLIENTS - 1))
    def sync(self, index: int) -> None:
        client = self.clients[index]
        if self._busy(client) or not client.member_id:
            return
        assignment = {c.member_id: b"x" for c in self.clients if c.member_id}
        client.sync_token = self.h.send_sync(
            "g", client.member_id, client.generation, assignment, instance_id=client.instance_id
        )
        self._collect(client)

    @rule(index=st.integers(0, CLIENTS - 1))
    def heartbeat(self, index: int) -> None:
        client = self.clients[index]
        if self._busy(client) or not client.member_id:
            return
        error = self.h.heartbeat("g", client.member_id, client.generation, client.instance_id)
        if error in (E.unknown_member_id, E.fenced_instance_id):
            client.member_id = ""

    @rule(index=st.integers(0, CLIENTS - 1))
    def commit(self, index: int) -> None:
        client = self.clients[index]
        if self._busy(client):
            return
        self.h.commit(
            "g",
            {("t", index): 1},
            member_id=client.member_id,
            generation=client.generation if client.member_id else -1,
            instance_id=client.instance_id,
        )

    @rule(index=st.integers(0, CLIENTS - 1))
    def leave(self, index: int) -> None:
        client = self.clients[index]
        if self._busy(client) or not client.member_id:
            return
        self.h.leave("g", (client.member_id, client.instance_id))
        client.member_id = ""

    @rule()
    def everyone_syncs(self) -> None:
        """The common path: every member that got its JoinGroup answer syncs, leader last."""
        group = self.h.coordinator.groups.get("g")
        leader = group.leader_id if group is not None else None
        for client in sorted(self.clients, key=lambda c: c.member_id == leader):
            if not self._busy(client) and client.member_id:
                self.sync(self.clients.index(client))

    @rule()
    def delete_group(self) -> None:
        result = self.h.coordinator.delete_group("g", self.h.now)
        self.h.apply(result)
        if result.response == E.none:
            self.max_generation = 0  # a new group of the same name starts over

    @rule(ms=st.integers(0, 25_000))
    def time_passes(self, ms: int) -> None:
        self.h.advance(ms)

    @invariant()
    def consistent(self) -> None:
        assert self.h.answered_twice == []
        group = self.h.coordinator.groups.get("g")
        if group is None:
            return
        assert group.generation_id >= self.max_generation
        self.max_generation = group.generation_id
        assert group.pending_sync <= set(group.members)
        for instance, member_id in group.static_members.items():
            assert group.members[member_id].group_instance_id == instance
        if group.state in (S.COMPLETING_REBALANCE, S.STABLE):
            assert group.members and group.leader_id in group.members
            assert group.protocol_name is not None
        if group.state is S.EMPTY:
            assert not group.members
        for member in group.members.values():
            assert member.join_token is None or group.state is S.PREPARING_REBALANCE
            assert member.sync_token is None or group.state is S.COMPLETING_REBALANCE

    def teardown(self) -> None:
        if not hasattr(self, "h"):
            return
        self.h.advance(3_600_000)  # everybody went silent
        for client in self.clients:
            assert not self._busy(client), "a held request was never answered"
        group = self.h.coordinator.groups.get("g")
        assert group is None or (group.state is S.EMPTY and not group.members)


TestGroupStateMachine = GroupMachine.TestCase
TestGroupStateMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
