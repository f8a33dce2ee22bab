"""Live views of the cluster over websockets (Django Channels): the topic tail."""
