"""Sans-IO Kafka wire protocol: frames, headers, schema-driven bodies, record batches.

Nothing here touches sockets, files or asyncio.
"""
