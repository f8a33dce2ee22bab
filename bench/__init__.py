"""Benchmarks of the Headwater broker against Tansu, driven by confluent-kafka.

Entry point: ``python bench/run.py`` (full) or ``python bench/run.py --quick`` (smoke).
See docs/benchmarks.md for what each workload measures and the latest numbers.
Nothing here is a test: no timed assertions, only measurements that are printed.
"""
