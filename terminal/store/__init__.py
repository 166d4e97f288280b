"""Persistence: the SQLite journal (sqlite-utils) and its migrations."""
