"""Cluster metadata: topics, partitions, leaders and configs, behind one writer."""
