"""The pure core: every rule of the terminal, no I/O, no clock (``now`` is passed in)."""
