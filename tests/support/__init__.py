"""Helpers that speak the domain: running brokers, servers, real clients."""
