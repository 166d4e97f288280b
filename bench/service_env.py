"""The environment our terminal runs in as the appliance's systemd unit starts it (``systemd/qr-terminal.service``):
its ``Environment=`` lines, but the bench's dummy display and audio, and none of the Pi's directories."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "qr-terminal.service"
#: Set for the Pi's devices and directories, not for a bench on a build machine.
DEVICES = ("SDL_VIDEODRIVER", "SDL_AUDIODRIVER", "LG_WD", "ESCPOS_CAPABILITIES_PICKLE_DIR")


def unit_environment() -> dict[str, str]:
    """``NAME=value`` of each ``Environment=`` line of the unit, but those in :data:`DEVICES`."""
    found: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            if name not in DEVICES:
                found[name] = value
    return found


def service_environment(**extra: str) -> dict[str, str]:
    """This process's environment with the unit's on top (and ``extra``): what `qr-terminal run` sees."""
    return {**os.environ, **unit_environment(), **extra}


def compile_bytecode() -> None:
    """The terminal package's bytecode compiled in place, as scripts/install-pi's ``pip install --compile`` leaves
    it on the Pi: ours then starts from .pyc files, not from its sources (this environment may set
    PYTHONDONTWRITEBYTECODE, and a checkout has no bytecode)."""
    import compileall

    compileall.compile_dir(ROOT / "terminal", quiet=1)
