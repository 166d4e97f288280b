"""Talking to systemd (``Type=notify``): READY once the display, journal and devices are up, STATUS lines for
``systemctl status``, and the watchdog ping — sent from the UI loop itself, so a hung loop gets restarted.

The protocol is one datagram per message to ``$NOTIFY_SOCKET``; no library needed. Outside systemd every call
does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class ServiceNotifier:
    """sd_notify for one process. ``watchdog_interval`` is half of ``WatchdogSec`` (0: no watchdog)."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_interval = int(usec) / 2_000_000 if usec.isdigit() and mine else 0.0
        self._last_ping = -1e9
        self._socket: socket.socket | None = None

    @property
    def active(self) -> bool:
        """True when running under systemd with a notify socket."""
        return bool(self._address)

    def notify(self, *fields: str) -> None:
        """Send ``KEY=value`` lines (e.g. ``READY=1``, ``STATUS=…``)."""
        if not self._address:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto("\n".join(fields).encode(), self._address)
        except OSError as exc:  # systemd gone (shutdown): nothing to tell
            log.debug("sd_notify failed: %s", exc)

    def ready(self, status: str) -> None:
        """The terminal is up."""
        self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        """A line for ``systemctl status``."""
        self.notify(f"STATUS={status}")

    def ping(self, now: float) -> None:
        """Call from the loop on every pass; sends WATCHDOG=1 at most every half watchdog period."""
        if self.watchdog_interval and now - self._last_ping >= self.watchdog_interval:
            self._last_ping = now
            self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        """The terminal is shutting down."""
        self.notify("STOPPING=1", "STATUS=stopping")
