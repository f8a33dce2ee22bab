"""The asyncio adapter around the sans-IO protocol, and the broker's explicit state."""
