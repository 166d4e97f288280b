"""A real hub on 127.0.0.1 for tests: uvicorn serving the ASGI app in a thread, on a socket bound beforehand (so
the simulated provider's links carry the port)."""

from __future__ import annotations

import socket
import threading
from typing import Any

import requests
import uvicorn

from hub.app import Hub, Settings
from hub.db import Database
from hub.fleet import Fleet
from terminal.backends import signing
from terminal.backends.http import HttpBackend

WEBHOOK_SECRET = "whsec_fixture_not_real"
STRIPE_WEBHOOK_SECRET = "whsec_stripe_fixture_not_real"
ADMIN_TOKEN = "admin-fixture-token-not-real"


class RunningHub:
    """``with RunningHub(db_url) as hub:`` — ``hub.url``, ``hub.hub`` (the Hub), ``hub.terminal("T1")``."""

    def __init__(self, db_url: str, **options: Any) -> None:
        Database(db_url).migrate()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        secrets = {"razorpay_webhook_secret": WEBHOOK_SECRET, "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
                   "admin_token": ADMIN_TOKEN, **options.pop("secrets", {})}  # fmt: skip
        options.setdefault("reconcile_every", 0.2)
        self.settings = Settings(db_url=db_url, public_url=self.url, secrets=secrets, **options)
        self.hub = Hub(self.settings)
        self.server = uvicorn.Server(uvicorn.Config(self.hub.app, log_level="warning", lifespan="on",
                                                    timeout_graceful_shutdown=1))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self._backends: list[HttpBackend] = []

    def __enter__(self) -> RunningHub:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        for backend in self._backends:
            backend.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def enroll(self, terminal_id: str, shop: str = "Chai Point") -> str:
        """The device token of a newly enrolled terminal (code made and exchanged over HTTP)."""
        code = Fleet(self.hub.db).new_code(terminal_id, shop)
        answer = requests.post(f"{self.url}/v1/enroll", json={"code": code}, timeout=5)
        answer.raise_for_status()
        return signing.token(answer.json()["terminal_id"], answer.json()["secret"])

    def terminal(self, terminal_id: str = "T1", shop: str = "Chai Point") -> HttpBackend:
        """The terminal's real contract client, enrolled and signing."""
        backend = HttpBackend(self.url, self.enroll(terminal_id, shop), timeout=5)
        self._backends.append(backend)
        return backend

    def pay(self, order_id: str, amount: int | None = None) -> requests.Response:
        """The customer pays a simulated order (a signed qr_code.credited inside the hub)."""
        body = {} if amount is None else {"amount": amount}
        return requests.post(f"{self.url}/sim/orders/{order_id}/pay", json=body, timeout=5)

    def fleet(self, path: str, **params: Any) -> Any:
        answer = requests.get(f"{self.url}{path}", params=params, timeout=5,
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
        answer.raise_for_status()
        return answer.json()


def provider_id(hub: RunningHub, order_id: str) -> str:
    """The provider's id of a hub order (the QR or PaymentIntent the fake provider knows)."""
    from sqlalchemy import select

    from hub import db as t

    with hub.hub.db.transaction() as conn:
        return conn.execute(select(t.orders.c.provider_id).where(t.orders.c.id == order_id)).scalar_one()
