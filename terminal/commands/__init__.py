"""One module per ``qr-terminal`` subcommand, each imported only when its subcommand is chosen (terminal.cli).

Each module has ``add_arguments(parser)`` and ``run(args) -> exit code`` (``voice`` has two subcommands: ``say``
and ``voice-cache``). ``run`` builds the terminal through terminal.wiring, as ``demo`` and the tests do.
"""
