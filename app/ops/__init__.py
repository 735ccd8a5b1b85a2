"""Operating a Keywarden server (issue 13 item 6): readiness, metrics, SQLite backup and restore."""
