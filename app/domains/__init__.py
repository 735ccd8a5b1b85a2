"""Domains: the partitions of a locking system for delegated administration (R8)."""
