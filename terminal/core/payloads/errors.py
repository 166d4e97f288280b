"""The one error type every payload parser and builder raises (each format has its own subclass)."""


class PayloadError(ValueError):
    """A payload that cannot be read or built; the message says why, for an integrator."""
