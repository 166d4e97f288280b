"""``qr-terminal run``: the terminal from its config file, until SIGTERM (systemd) or Ctrl-C.

The start stays lean: this module imports only what the running terminal needs (not the demo, the sandbox,
the hub, segno or another command's libraries), and keeps out libraries others would import for it.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import warnings
from pathlib import Path

from terminal.cli import CtrlC

#: Libraries the terminal never uses that others import when they are installed: sqlite-utils imports numpy and
#: pandas for their column types (60 ms and 17 MB for numpy alone; Pi OS ships numpy system-wide); requests
#: imports charset_normalizer (2.4 MB) to guess the text encoding of replies, and ours are JSON read as bytes.
UNUSED = ("numpy", "pandas", "charset_normalizer", "chardet")
#: pygame's mixer loads SDL_mixer and its codecs (2.8 MB); only the voice plays sound.
SOUND = ("pygame.mixer", "pygame.mixer_music")
#: Parts of pygame that its package imports at start and the running terminal never uses (1.1 MB of run's peak,
#: bench/terminal_bench.py): image files beyond BMP (SDL_image with its PNG, JPEG, TIFF and WebP libraries: run
#: reads and writes no image file), mouse cursors, sprites, masks, pixel arrays and copies, the clipboard, pygame's
#: debug and system reports, its type hints, and its package data (the default font and window icon: the screen
#: draws with the bundled fonts, full screen).
PYGAME_UNUSED = tuple(
    f"pygame.{part}"
    for part in (
        *("imageext", "cursors", "pixelcopy", "sprite", "mask", "pixelarray"),
        *("scrap", "_debug", "system", "typing", "pkgdata"),
    )
)


def keep_out(names: tuple[str, ...]) -> None:
    """Make ``import name`` fail (ImportError) for modules not imported yet: for optional imports of libraries
    that the terminal never uses (see :data:`UNUSED`)."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None in sys.modules: "cannot be imported"
        if name.startswith("pygame."):  # pygame warns that it could not import the part ("import sprite: …")
            part = name.removeprefix("pygame.")
            warnings.filterwarnings("ignore", message=f"import {part}:", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")  # requests says so


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """run's options."""
    keep_out(UNUSED)  # first: the config's imports (requests) would bring charset_normalizer in
    from terminal.config import add_config_argument

    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Load the config, build the terminal (terminal.wiring) and run it; 2 with one sentence when it cannot."""
    keep_out(UNUSED)
    from terminal.config import ConfigError, load, secrets_exposure

    try:
        config = load(Path(args.config))
    except ConfigError as exc:
        print(f"qr-terminal: config error: {exc}", file=sys.stderr)
        return 2
    exposure = secrets_exposure(config.secrets_path) if config.secrets_path else None
    if exposure:  # the device token, provider keys and PIN hash are for the service user alone
        print(f"qr-terminal: not starting: {exposure}: chmod 600 {config.secrets_path}", file=sys.stderr)
        return 2
    if "pygame" not in sys.modules:
        keep_out(PYGAME_UNUSED if config.voice else PYGAME_UNUSED + SOUND)
    from terminal.wiring import CannotStart, build_terminal

    try:
        # A pending migration of the journal (its first start, an upgrade) is applied by a child process: the
        # schema tool and what it imports would otherwise stay in this one's memory for its whole life.
        terminal = build_terminal(config, migrate_in_child=True)
    except CannotStart as exc:
        print(f"qr-terminal: {exc}", file=sys.stderr)
        return 2
    app = terminal.app
    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    ctrl_c = CtrlC(app.stop)
    # What the start made stays for the life of the process: the collector no longer walks it, so no long
    # collection lands between a key and its QR.
    gc.freeze()
    try:
        terminal.run()
    finally:
        terminal.close()
    return ctrl_c.exit_code(0)
