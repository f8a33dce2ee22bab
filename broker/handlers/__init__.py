"""One module per Kafka API; :data:`REGISTRY` lists them and feeds ApiVersions."""

from broker.handlers import (
    api_versions,
    create_topics,
    delete_records,
    delete_topics,
    fetch,
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
        api_versions.handle,
        create_topics.handle,
        delete_topics.handle,
        delete_records.handle,
        init_producer_id.handle,
    ]
)

__all__ = ["REGISTRY", "ApiHandler", "HandlerRegistry"]
