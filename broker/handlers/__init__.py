"""One module per Kafka API; :data:`REGISTRY` lists them and feeds ApiVersions."""

from broker.handlers import (
    alter_configs,
    api_versions,
    create_partitions,
    create_topics,
    delete_groups,
    delete_records,
    delete_topics,
    describe_cluster,
    describe_configs,
    describe_groups,
    fetch,
    find_coordinator,
    heartbeat,
    incremental_alter_configs,
    init_producer_id,
    join_group,
    leave_group,
    list_groups,
    list_offsets,
    metadata,
    offset_commit,
    offset_delete,
    offset_fetch,
    produce,
    sync_group,
)
from broker.handlers.registry import ApiHandler, HandlerRegistry

REGISTRY = HandlerRegistry(
    [
        produce.handle,
        fetch.handle,
        list_offsets.handle,
        metadata.handle,
        offset_commit.handle,
        offset_fetch.handle,
        find_coordinator.handle,
        join_group.handle,
        heartbeat.handle,
        leave_group.handle,
        sync_group.handle,
        describe_groups.handle,
        list_groups.handle,
        api_versions.handle,
        create_topics.handle,
        delete_topics.handle,
        delete_records.handle,
        init_producer_id.handle,
        describe_configs.handle,
        delete_groups.handle,
        alter_configs.handle,
        create_partitions.handle,
        incremental_alter_configs.handle,
        offset_delete.handle,
        describe_cluster.handle,
    ]
)

__all__ = ["REGISTRY", "ApiHandler", "HandlerRegistry"]
