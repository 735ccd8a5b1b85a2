"""Keywarden: management server for electronic master-key locking systems."""
