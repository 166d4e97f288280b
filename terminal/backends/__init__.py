"""Backends: whatever creates orders and reports payments (contract v1 over HTTP, later providers)."""
