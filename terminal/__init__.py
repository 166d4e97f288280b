"""QR Terminal: a countertop dynamic-QR payment terminal."""

__version__ = "0.1.0"
