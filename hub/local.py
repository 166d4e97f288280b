"""A hub inside another program (the terminal's demo, the tests): uvicorn serving the app in a thread, on a
loopback socket bound first so the simulated provider's pay-page links carry the real port."""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

from hub.app import Hub, Settings
from hub.db import Database
from hub.fleet import Fleet
from hub.providers import SIM_PAYEE
from terminal.backends import signing
from terminal.core.orders import Payee


class LocalHub:
    """``with LocalHub(db_url) as hub:`` serves at ``hub.url`` until the block ends."""

    def __init__(self, db_url: str, **settings: Any) -> None:
        setup = Database(db_url)
        setup.migrate()
        setup.close()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.public_url = self.url
        self.settings = Settings(db_url=db_url, public_url=self.url, **settings)
        self.hub = Hub(self.settings)
        self.server = uvicorn.Server(
            uvicorn.Config(self.hub.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def payee(self) -> Payee:
        """Whom the simulated provider's QRs pay."""
        return SIM_PAYEE

    def start(self) -> LocalHub:
        """Serve in the background; returns once the hub answers."""
        self.thread.start()
        ready = threading.Event()
        for _ in range(250):
            if self.server.started:
                break
            ready.wait(0.02)
        return self

    def stop(self) -> None:
        """Stop serving (long-polls in progress are answered at once) and join the thread."""
        self.hub.wakeups.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def enrolled_token(self, terminal_id: str, shop: str = "") -> str:
        """A terminal enrolled directly in the database (no code exchange over HTTP): its device token."""
        fleet = Fleet(self.hub.db)
        given = fleet.enroll(fleet.new_code(terminal_id, shop))
        return signing.token(given["terminal_id"], given["secret"])

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
