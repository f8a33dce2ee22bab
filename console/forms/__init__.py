"""Forms only parse input; the rules live in the services and topic_names."""

from console.forms.cluster import PermissionCheckForm
from console.forms.topics import TopicCreateForm, TopicDeleteForm

__all__ = ["PermissionCheckForm", "TopicCreateForm", "TopicDeleteForm"]
