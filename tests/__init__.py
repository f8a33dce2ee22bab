"""Headwater test suite: tests mirror the module tree; helpers live in tests.support."""
