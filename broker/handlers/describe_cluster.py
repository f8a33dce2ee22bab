"""DescribeCluster (key 60): cluster id, controller and brokers (KIP-700).

This broker answers for endpoint type 1 (brokers); asking it for controllers (2) is
MISMATCHED_ENDPOINT_TYPE and an unknown type UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST
on v0, which has no endpoint type), with Kafka's messages. As in Kafka, any client
may ask; the cluster's authorized operations (when asked for) are 0 for a client that
may not DESCRIBE the cluster, and with no authorizer every operation it supports.
"""

from __future__ import annotations

import datetime

from broker.errors import ErrorCode
from broker.handlers.authorization import cluster_operations
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

BROKER_ENDPOINT = 1
ENDPOINT_TYPES = {1: "BROKER", 2: "CONTROLLER"}


def _endpoint_error(ctx: RequestContext, endpoint_type: int) -> tuple[ErrorCode, str] | None:
    if endpoint_type == BROKER_ENDPOINT:
        return None
    if endpoint_type not in ENDPOINT_TYPES:
        code = (
            ErrorCode.invalid_request if ctx.version == 0 else ErrorCode.unsupported_endpoint_type
        )
        return code, f"Unsupported endpoint type {endpoint_type}"
    code = ErrorCode.invalid_request if ctx.version == 0 else ErrorCode.mismatched_endpoint_type
    return code, (
        "The request was sent to an endpoint of type BROKER, but we wanted an endpoint "
        f"of type {ENDPOINT_TYPES[endpoint_type]}"
    )


@api(key=60, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    broker = ctx.broker
    endpoint_type = getattr(request, "endpoint_type", BROKER_ENDPOINT)
    failure = _endpoint_error(ctx, endpoint_type)
    if failure is not None:
        return build(
            response.DescribeClusterResponse,
            throttle_time=datetime.timedelta(0),
            error_code=failure[0],
            error_message=failure[1],
            endpoint_type=endpoint_type,
            cluster_id="",
            controller_id=-1,
            brokers=(),
        )
    brokers = tuple(
        build(
            response.DescribeClusterBroker,
            broker_id=broker.node_id,
            host=listener.host,
            port=listener.port,
            rack=None,
        )
        for listener in (broker.config.advertised_listener(ctx.listener_name),)
    )
    wants_operations = request.include_cluster_authorized_operations  # type: ignore[attr-defined]
    return build(
        response.DescribeClusterResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        error_message=None,
        endpoint_type=BROKER_ENDPOINT,
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        brokers=brokers,
        cluster_authorized_operations=cluster_operations(ctx, wants_operations),
    )
