"""One module per Kafka API; :data:`REGISTRY` lists them and feeds ApiVersions."""

from broker.handlers import (
    alter_configs,
    api_versions,
    create_partitions,
    create_topics,
    delete_records,
    delete_topics,
    describe_cluster,
    describe_configs,
    fetch,
    find_coordinator,
    incremental_alter_configs,
    init_producer_id,
    list_offsets,
    metadata,
    produce,
)
from broker.handlers.registry import ApiHandler, HandlerRegistry

REGISTRY = HandlerRegistry(
    [
        produce.handle,
        fetch.handle,
        list_offsets.handle,
        metadata.handle,
        find_coordinator.handle,
        api_versions.handle,
        create_topics.handle,
        delete_topics.handle,
        delete_records.handle,
        init_producer_id.handle,
        describe_configs.handle,
        alter_configs.handle,
        create_partitions.handle,
        incremental_alter_configs.handle,
        describe_cluster.handle,
    ]
)

__all__ = ["REGISTRY", "ApiHandler", "HandlerRegistry"]
