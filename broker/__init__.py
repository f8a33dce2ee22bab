"""Headwater's data plane: an asyncio broker speaking the Apache Kafka wire protocol.

Nothing under ``broker/`` imports Django; see docs/architecture.md for the layering.
"""
