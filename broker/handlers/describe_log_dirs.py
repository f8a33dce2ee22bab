"""DescribeLogDirs (key 35): each log dir of this broker with its partitions' sizes.

As Kafka: needs DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED (v3+ carries
it in the top-level error code) and no log dirs. ``topics`` null asks for every
partition; otherwise only the named partitions this broker holds are listed (unknown
ones are simply absent), while every log dir is listed, empty or not. Offset lag is 0
and ``is_future_key`` false: a single replica per partition, never moved between dirs.
Total and usable bytes (v4+) come from the file system (``shutil.disk_usage``); a log
dir that cannot be read is KAFKA_STORAGE_ERROR. Served from v1 (Kafka 4 dropped v0,
KIP-896) to v4; v5's cordoned log dirs (KIP-1066) are not part of this broker.
"""

from __future__ import annotations

import datetime
import shutil
from collections import defaultdict
from pathlib import Path

from broker.common.acls import AclOperation
from broker.errors import ErrorCode
from broker.handlers.authorization import authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _wanted(request: object) -> dict[str, set[int]] | None:
    topics = request.topics  # type: ignore[attr-defined]
    if topics is None:
        return None
    wanted: dict[str, set[int]] = defaultdict(set)
    for topic in topics:
        wanted[topic.topic].update(topic.partitions)
    return wanted


def _sizes(ctx: RequestContext, wanted: dict[str, set[int]] | None) -> dict[str, dict[int, int]]:
    """topic -> partition -> bytes on disk, for the partitions asked about."""
    sizes: dict[str, dict[int, int]] = defaultdict(dict)
    for log in ctx.broker.logs:
        if wanted is None or log.partition in wanted.get(log.topic, ()):
            sizes[log.topic][log.partition] = log.size_bytes
    return sizes


def _result(ctx: RequestContext, path: Path, sizes: dict[str, dict[int, int]]) -> object:
    response = ctx.response
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return build(
            response.DescribeLogDirsResult,
            error_code=ErrorCode.kafka_storage_error,
            log_dir=str(path.absolute()),
            topics=(),
            total_bytes=-1,
            usable_bytes=-1,
        )
    topics = tuple(
        build(
            response.DescribeLogDirsTopic,
            name=topic,
            partitions=tuple(
                build(
                    response.DescribeLogDirsPartition,
                    partition_index=partition,
                    partition_size=size,
                    offset_lag=0,
                    is_future_key=False,
                )
                for partition, size in sorted(partitions.items())
            ),
        )
        for topic, partitions in sorted(sizes.items())
    )
    return build(
        response.DescribeLogDirsResult,
        error_code=ErrorCode.none,
        log_dir=str(path.absolute()),
        topics=topics,
        total_bytes=usage.total,
        usable_bytes=usage.free,
    )


@api(key=35, min_version=1, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    if not authorize_cluster(ctx, AclOperation.DESCRIBE):
        error, results = ErrorCode.cluster_authorization_failed, ()
    else:
        sizes = _sizes(ctx, _wanted(request))
        # One data directory today (BrokerConfig.log_dir): every partition lives there.
        results = tuple(
            _result(ctx, path, sizes if path == ctx.broker.config.log_dir else {})
            for path in ctx.broker.config.log_dirs
        )
        error = ErrorCode.none
    return build(
        response.DescribeLogDirsResponse,
        throttle_time=datetime.timedelta(0),
        error_code=error,
        results=results,
    )
