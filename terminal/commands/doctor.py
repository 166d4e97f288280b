"""``qr-terminal doctor``: one line per check of what the terminal needs, and what to do about a failure."""

from __future__ import annotations

import argparse
import errno
import glob
import os
import shutil
import sqlite3
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from terminal.config import TOKEN_ENV, Config, ConfigError, load, secrets_exposure

#: The unit's StateDirectory=: systemd makes it (owned by the service user) when the service starts.
STATE_DIRECTORY = Path("/var/lib/qr-terminal")


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome; ``fix`` says what to do when it failed (or warned).

    A warning (``ok`` and ``warning``) is worth knowing but does not stop the terminal selling.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False

    def line(self) -> str:
        """``ok   name      detail``, ``warn name      detail → fix`` or ``FAIL name      detail → fix``."""
        mark = "FAIL" if not self.ok else "warn" if self.warning else "ok  "
        advice = self.fix and (not self.ok or self.warning)
        return f"{mark} {self.name:<9} {self.detail}" + (f" → {self.fix}" if advice else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """doctor's options."""
    from terminal.config import add_config_argument

    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print one line per check; 0 when every check passed."""
    results = checks(Path(args.config))
    for check in results:
        print(check.line())
    return 0 if all(c.ok for c in results) else 1


def checks(path: Path, environ: dict[str, str] | None = None) -> list[Check]:
    """Every check, in the order a person would fix them."""
    env = dict(os.environ if environ is None else environ)
    secrets_problem = ""
    try:
        config = load(path, environ=env)
    except ConfigError as exc:
        try:  # the config without its secrets: when only the secrets are wrong, check everything else
            config = load(path, environ=env, secrets=False)
        except ConfigError as config_exc:  # the config itself: nothing else can be checked before it is fixed
            fix = "fix it (config/terminal.example.toml documents every key)"
            return [Check("config", False, str(config_exc), fix), _clock(None)]
        secrets_problem = str(exc)
    secrets = _secrets_failed(secrets_problem) if secrets_problem else _secrets(config, env)
    found = [Check("config", True, str(path)), secrets, _display(config, env), _keypad(config), _gpio(config)]
    found += [_printer(config), _manager_pin(config), *_voice(config), _till(config)]
    backend, server_time = _backend(config) if not secrets_problem else (_unchecked_backend(), None)
    found += [backend, _clock(server_time), _disk(config), _journal(config)]
    return found


def _unchecked_backend() -> Check:
    return Check("backend", False, "not checked: its credentials are in the secrets file", "fix the secrets first")


def _till(config: Config) -> Check:
    t = config.till
    if t is None:
        return Check("till", True, "none configured")
    if t.device.startswith("tcp:"):
        where = f"{t.kind} protocol, listening on {t.host}:{t.device[4:]} when running"
        if t.host.startswith("127.") or t.host in ("::1", "localhost"):
            return Check("till", True, where)
        if t.kind == "native" and t.auth != "off":
            return Check("till", True, f"{where}, AUTH required (protocol v2)")
        return Check(
            "till",
            True,
            f"{where} with no authentication: anyone who reaches the port can start sales",
            'set till_secret in the secrets file and [till] auth = "tcp" (native protocol), or host = '
            '"127.0.0.1" or a firewall that lets only the till in',
            warning=True,
        )
    import serial

    try:
        serial.serial_for_url(t.device, baudrate=t.baudrate, timeout=0).close()
    except (serial.SerialException, OSError, ValueError) as exc:
        advice = "plug in the till's cable (ls /dev/serial/by-id/); the service user needs the dialout group"
        return Check("till", False, f"{t.device}: {exc}", advice)
    return Check("till", True, f"{t.kind} protocol on {t.device} at {t.baudrate} {t.bytesize}{t.parity}{t.stopbits}")


def _voice(config: Config) -> list[Check]:
    """The spoken confirmation: its clips made, and an audio output that opens (absent when not enabled)."""
    v = config.voice
    if v is None:
        return []
    from terminal.core.speech import vocabulary
    from terminal.devices.voice import RATE, ClipCache, VoiceError, espeak

    cache = ClipCache(v.cache, v.language, v.voice)
    missing = cache.missing(vocabulary(v.language, (config.terminal.currency,)))
    if missing:
        try:
            espeak()
        except VoiceError as exc:
            return [Check("voice", False, f"{len(missing)} word clips missing and {exc}", "sudo apt install espeak-ng")]
        advice = "qr-terminal voice-cache (the terminal also makes them at start, in the background)"
        return [Check("voice", False, f"{len(missing)} of the {v.language} word clips are not made yet", advice)]
    import pygame

    try:
        pygame.mixer.init(frequency=RATE, size=-16, channels=1)
    except pygame.error as exc:
        advice = "plug in the speaker; 'aplay -l' lists the outputs; the service user needs the audio group"
        return [Check("voice", False, f"no audio output: {exc}", advice)]
    driver = pygame.mixer.get_init()
    pygame.mixer.quit()
    return [Check("voice", True, f"{v.language} ({cache.voice}), clips in {cache.folder}, audio {driver}")]


def _manager_pin(config: Config) -> Check:
    from terminal.manager_pin import PinError, read_hash

    path = config.secrets_path
    try:
        stored = read_hash(path) if path is not None else None
    except PinError as exc:
        return Check("pin", False, str(exc), "qr-terminal set-pin")
    if stored is None:  # the terminal sells without one; only the manager's menu stays shut
        detail = "not set: the menu (refunds, reports) cannot be opened"
        return Check("pin", True, detail, "qr-terminal set-pin", warning=True)
    return Check("pin", True, f"set in {path}")


def _secrets(config: Config, env: dict[str, str]) -> Check:
    path = config.secrets_path
    if path is not None and path.exists():  # it may hold the PIN hash even when the token is in the environment
        exposure = secrets_exposure(path)
        if exposure:
            return Check("secrets", False, f"{exposure}: 'qr-terminal run' refuses to start", f"chmod 600 {path}")
    if env.get(TOKEN_ENV) or path is None or not path.exists():
        return Check("secrets", True, f"device token from {TOKEN_ENV}")
    return Check("secrets", True, f"{path} (mode 600)")


def _secrets_failed(problem: str) -> Check:
    advice = "put the device token (or the provider's keys) into the secrets file, mode 600, owned by the service user"
    return Check("secrets", False, problem, advice)


def _display(config: Config, env: dict[str, str]) -> Check:
    driver = config.display.driver or env.get("SDL_VIDEODRIVER", "")
    if driver == "kmsdrm":
        cards = sorted(glob.glob("/dev/dri/card*"))
        if not cards:
            return Check(
                "display",
                False,
                "kmsdrm, but no /dev/dri/card*",
                "enable KMS: dtoverlay=vc4-kms-v3d in /boot/firmware/config.txt, then reboot",
            )
        return Check("display", True, f"kmsdrm on {', '.join(cards)}")
    if driver in ("dummy", "offscreen"):
        return Check("display", True, f"{driver} driver: no screen (tests and demos only)")
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return Check("display", True, "a window on this desktop")
    return Check(
        "display",
        False,
        "no display driver and no desktop session",
        'set display.driver = "kmsdrm" in the config (a Pi without a desktop)',
    )


def _keypad(config: Config) -> Check:
    found = sorted(glob.glob("/dev/input/by-id/*-event-kbd"))
    parts = []
    if config.keypad is not None:
        parts.append(f"GPIO keypad on rows {list(config.keypad.rows)}, columns {list(config.keypad.columns)}")
    if found:
        parts.append(f"USB: {', '.join(Path(f).name for f in found)}")
    if not parts:
        return Check(
            "keypad",
            False,
            "no USB keypad plugged in and no [keypad] configured",
            "plug in a USB numeric keypad, or wire and configure a matrix keypad",
        )
    return Check("keypad", True, "; ".join(parts))


def _gpio(config: Config) -> Check:
    used = config.indicators is not None or config.keypad is not None or bool(config.buttons)
    if not used:
        return Check("gpio", True, "no GPIO parts configured")
    if config.gpio_mock:
        return Check("gpio", True, "MockFactory (gpio.mock = true): no real pins are driven")
    # gpiozero warns (PinFactoryFallback) for each factory it tries and skips: fold those into this one line.
    problem = ""
    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        try:
            from gpiozero import Device
            from gpiozero.exc import GPIOZeroError

            factory = Device.pin_factory or Device._default_pin_factory()
        except (ImportError, GPIOZeroError, OSError) as exc:
            factory, problem = None, str(exc)
    tried = "; ".join(str(w.message).removeprefix("Falling back from ") for w in skipped)
    if factory is None:
        return Check(
            "gpio",
            False,
            f"no GPIO pin factory ({tried or problem})",
            "on a Pi: sudo apt install python3-lgpio and add the user to the gpio group; "
            "on a desktop: gpio.mock = true",
        )
    return Check("gpio", True, type(factory).__name__ + (f" (skipped {tried})" if tried else ""))


def _printer(config: Config) -> Check:
    if config.printer is None:
        return Check("printer", True, "none configured")
    from terminal.devices.printer import PrinterError, ReceiptPrinter

    try:
        return Check("printer", True, ReceiptPrinter(config.printer).check())
    except PrinterError as exc:
        return Check("printer", False, str(exc), "check the cable, power and paper, and [printer] in the config")


def _provider(config: Config) -> Check:
    from terminal.backends.base import BackendError
    from terminal.core.problems import ProblemKind
    from terminal.wiring import backend_from

    backend = backend_from(config)
    where = f"{config.backend.kind} at {config.backend.url}"
    try:
        backend.probe()
    except BackendError as exc:
        if exc.problem.kind is ProblemKind.UNAUTHORISED:
            return Check(
                "backend",
                False,
                f"{where} refused the API keys",
                "put the dashboard's keys into the secrets file (live keys for a live shop)",
            )
        return Check("backend", False, f"{where}: {exc.problem.kind}", exc.problem.advice)
    finally:
        backend.close()
    return Check("backend", True, f"{where} reachable, keys accepted")


def _backend(config: Config) -> tuple[Check, datetime | None]:
    import requests

    if config.backend.kind != "http":
        return _provider(config), None

    url = config.backend.url.rstrip("/") + "/v1/orders?limit=1"
    try:
        reply = requests.get(
            url,
            headers={"Authorization": f"Bearer {config.device_token}"},
            timeout=5,
            verify=config.backend.ca_file or True,
        )
    except requests.RequestException as exc:
        return Check(
            "backend",
            False,
            f"{config.backend.url} unreachable ({type(exc).__name__})",
            "check the network, the URL, and that the clock is right (TLS)",
        ), None
    server_time = None
    if reply.headers.get("Date"):
        try:
            server_time = parsedate_to_datetime(reply.headers["Date"])
        except (TypeError, ValueError):
            server_time = None
    if reply.status_code in (401, 403):
        return Check(
            "backend",
            False,
            f"{config.backend.url} refused the device token (HTTP {reply.status_code})",
            "put the token the backend issued into the secrets file",
        ), server_time
    if reply.status_code != 200:
        return Check(
            "backend",
            False,
            f"{config.backend.url} answered HTTP {reply.status_code}",
            "check that the URL is the contract v1 base URL",
        ), server_time
    return Check("backend", True, f"{config.backend.url} reachable, token accepted"), server_time


def _clock(server_time: datetime | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Check:
    here = now()
    if here.year < 2025:
        return Check(
            "clock",
            False,
            f"the clock says {here:%Y-%m-%d}",
            "connect to the network so NTP can set it (timedatectl status)",
        )
    if server_time is not None:
        skew = abs((here - server_time).total_seconds())
        if skew > 300:
            return Check(
                "clock",
                False,
                f"{skew:.0f} s away from the backend's clock",
                "enable NTP: sudo timedatectl set-ntp true",
            )
        return Check("clock", True, f"{here:%Y-%m-%d %H:%M} UTC, within {skew:.0f} s of the backend")
    return Check("clock", True, f"{here:%Y-%m-%d %H:%M} UTC")


def _disk(config: Config) -> Check:
    folder = config.terminal.journal.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < 200 * 1024 * 1024:
        return Check("disk", False, f"{free // 2**20} MB free on {folder}", "free space on the SD card")
    return Check("disk", True, f"{free // 2**30} GB free on {folder}")


def _journal(config: Config) -> Check:
    path = config.terminal.journal
    if not path.exists():
        return _journal_to_come(path)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        return Check("journal", False, f"{path}: {exc}", "restore the journal from a backup, or call support")
    if result != "ok":
        return Check("journal", False, f"{path}: {result}", "restore the journal from a backup, or call support")
    return Check("journal", True, f"{path} integrity ok")


def _journal_to_come(path: Path) -> Check:
    """A journal not made yet: can ``run`` make it? (A file made and removed at once in the nearest folder that
    exists proves it for this user, root included, on this file system, read-only or not.)"""
    if path.parent == STATE_DIRECTORY and not STATE_DIRECTORY.exists():
        return Check("journal", True, f"{path} will be created at the first start (systemd makes {STATE_DIRECTORY})")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return Check(
            "journal",
            False,
            f"{path} cannot be created: {folder}: {exc.strerror or exc}",
            f"set terminal.journal to a file in a folder the service user can write ({STATE_DIRECTORY})",
        )
    return Check("journal", True, f"{path} will be created at the first start")
