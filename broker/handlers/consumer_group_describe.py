"""ConsumerGroupDescribe (key 69): KIP-848 groups with their epochs, assignor and each
member's current and target assignment. A group that is not a KIP-848 group answers
GROUP_ID_NOT_FOUND (DescribeGroups describes classic groups). Each group needs DESCRIBE
(GROUP_AUTHORIZATION_FAILED); authorized operations are the client's on the group."""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.assignors import Assignment
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES, operations
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

CONSUMER_MEMBER_TYPE = 1  # v1: members of the consumer protocol (0 would be classic)


@api(key=69, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    ids = {topic.name: topic.topic_id for topic in ctx.broker.metadata.topics()}

    def assignment(value: Assignment) -> object:
        return build(
            response.Assignment,
            topic_partitions=tuple(
                build(
                    response.TopicPartitions,
                    topic_id=ids[name],
                    topic_name=name,
                    partitions=tuple(sorted(ps)),
                )
                for name, ps in sorted(value.items())
                if name in ids
            ),
        )

    wanted = bool(request.include_authorized_operations)  # type: ignore[attr-defined]
    described = []
    for group_id in request.group_ids:  # type: ignore[attr-defined]
        allowed = ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, group_id)
        group = ctx.broker.groups.consumer_group(group_id) if allowed else None
        if group is None:
            error = (
                ErrorCode.group_id_not_found if allowed else ErrorCode.group_authorization_failed
            )
            described.append(
                build(
                    response.DescribedGroup,
                    error_code=error,
                    error_message=f"Group {group_id} not found." if allowed else MESSAGES[error],
                    group_id=group_id,
                    group_state="Dead",
                    group_epoch=-1,
                    assignment_epoch=-1,
                    assignor_name="",
                    members=(),
                    authorized_operations=operations(ctx, wanted, ResourceType.GROUP, group_id),
                )
            )
            continue
        described.append(
            build(
                response.DescribedGroup,
                error_code=ErrorCode.none,
                error_message=None,
                group_id=group_id,
                group_state=group.state.value,
                group_epoch=group.group_epoch,
                assignment_epoch=group.assignment_epoch,
                assignor_name=group.assignor,
                members=tuple(
                    build(
                        response.Member,
                        member_id=member.member_id,
                        instance_id=member.instance_id,
                        rack_id=member.rack_id,
                        member_epoch=member.epoch,
                        client_id=member.client_id,
                        client_host=member.client_host,
                        subscribed_topic_names=tuple(sorted(member.subscribed_topics)),
                        subscribed_topic_regex=member.subscribed_regex,
                        assignment=assignment(member.assigned),
                        target_assignment=assignment(group.target.get(member.member_id, {})),
                        member_type=CONSUMER_MEMBER_TYPE,
                    )
                    for member in group.members.values()
                ),
                authorized_operations=operations(ctx, wanted, ResourceType.GROUP, group_id),
            )
        )
    return build(
        response.ConsumerGroupDescribeResponse,
        throttle_time=datetime.timedelta(0),
        groups=tuple(described),
    )
