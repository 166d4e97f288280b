"""The sandbox: a real HTTP server implementing backend contract v1, for demos and tests.

Nothing real is ever paid: its QR opens its own customer page (Pay / Decline) by default.
"""
