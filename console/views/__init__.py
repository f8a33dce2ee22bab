"""Console pages, a module per concern. Views parse requests, call selectors/services,
and render; they never reach the cluster themselves."""

from console.views.cluster import acl_list, favicon, scram_user_list
from console.views.topics import topic_delete, topic_detail, topic_list

__all__ = ["acl_list", "favicon", "scram_user_list", "topic_delete", "topic_detail", "topic_list"]
