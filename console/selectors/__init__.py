"""Console reads, a module per concern: every selector takes the acting user and narrows
by the tenants it may see (console.tenancy)."""

from console.selectors.cluster import acl_list, permission_check, scram_user_list
from console.selectors.topics import (
    PartitionSummary,
    TopicSummary,
    record_count,
    topic_get,
    topic_list,
    topic_visible,
)

__all__ = [
    "PartitionSummary",
    "TopicSummary",
    "acl_list",
    "permission_check",
    "record_count",
    "scram_user_list",
    "topic_get",
    "topic_list",
    "topic_visible",
]
