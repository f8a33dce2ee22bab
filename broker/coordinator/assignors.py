"""KIP-848 server-side assignors: ``uniform`` and ``range`` (Kafka's names).

Both are pure functions from the members' subscriptions, the subscribed topics'
partition counts and the current assignment to a target assignment (member -> topic ->
partitions).

- ``uniform`` spreads every subscribed partition as evenly as the subscriptions allow
  and is sticky: a partition stays with its current owner while that owner is still
  subscribed and not above its fair share, so a membership change moves as few
  partitions as possible.
- ``range`` assigns each topic on its own: members subscribed to it, sorted by member
  ID, get contiguous ranges, the first ``partitions % members`` one more (co-partitioned
  topics land on the same members).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Assignment = dict[str, set[int]]  # topic name -> partitions
Assignor = Callable[
    [Mapping[str, set[str]], Mapping[str, int], Mapping[str, Assignment]], dict[str, Assignment]
]


def _empty(members: Mapping[str, set[str]]) -> dict[str, Assignment]:
    return {member: {} for member in members}


def range_assignor(
    subscriptions: Mapping[str, set[str]],
    partitions: Mapping[str, int],
    current: Mapping[str, Assignment],
) -> dict[str, Assignment]:
    target = _empty(subscriptions)
    for topic in sorted(partitions):
        members = sorted(m for m, topics in subscriptions.items() if topic in topics)
        if not members:
            continue
        count = partitions[topic]
        each, extra = divmod(count, len(members))
        start = 0
        for index, member in enumerate(members):
            size = each + (1 if index < extra else 0)
            if size:
                target[member][topic] = set(range(start, start + size))
            start += size
    return target


def uniform_assignor(
    subscriptions: Mapping[str, set[str]],
    partitions: Mapping[str, int],
    current: Mapping[str, Assignment],
) -> dict[str, Assignment]:
    target = _empty(subscriptions)
    load = dict.fromkeys(subscriptions, 0)
    all_partitions = [(topic, p) for topic in sorted(partitions) for p in range(partitions[topic])]
    candidates = {
        tp: sorted(m for m, topics in subscriptions.items() if tp[0] in topics)
        for tp in all_partitions
    }
    assignable = [tp for tp in all_partitions if candidates[tp]]
    members_with_topics = [m for m in subscriptions if subscriptions[m] & partitions.keys()]
    quota = -(-len(assignable) // max(len(members_with_topics), 1))  # ceiling

    def give(member: str, tp: tuple[str, int]) -> None:
        target[member].setdefault(tp[0], set()).add(tp[1])
        load[member] += 1

    # 1. stickiness: keep what a member owns while it is subscribed, up to the quota
    owner = {
        (topic, p): member
        for member, topics in current.items()
        for topic, ps in topics.items()
        for p in ps
    }
    unassigned = []
    for tp in assignable:
        member = owner.get(tp)
        if member in subscriptions and tp[0] in subscriptions[member] and load[member] < quota:
            give(member, tp)
        else:
            unassigned.append(tp)
    # 2. the rest to the least loaded subscriber (ties: member ID)
    for tp in unassigned:
        give(min(candidates[tp], key=lambda m: (load[m], m)), tp)
    # 3. heterogeneous subscriptions: move partitions while it narrows a gap of two
    moved = True
    while moved:
        moved = False
        for tp in assignable:
            holder = next(m for m in candidates[tp] if tp[1] in target[m].get(tp[0], ()))
            lightest = min(candidates[tp], key=lambda m: (load[m], m))
            if load[holder] - load[lightest] >= 2:
                target[holder][tp[0]].discard(tp[1])
                if not target[holder][tp[0]]:
                    del target[holder][tp[0]]
                load[holder] -= 1
                give(lightest, tp)
                moved = True
    return target


ASSIGNORS: dict[str, Assignor] = {"uniform": uniform_assignor, "range": range_assignor}
