"""A real hub on 127.0.0.1 for tests (hub/local.py's LocalHub: uvicorn in a thread), with the fixture secrets
and helpers to enroll terminals, pay simulated orders and read the fleet endpoints."""

from __future__ import annotations

from typing import Any

import requests

from hub.fleet import Fleet
from hub.local import LocalHub
from terminal.backends import signing
from terminal.backends.http import HttpBackend

WEBHOOK_SECRET = "whsec_fixture_not_real"
STRIPE_WEBHOOK_SECRET = "whsec_stripe_fixture_not_real"
ADMIN_TOKEN = "admin-fixture-token-not-real"


class RunningHub(LocalHub):
    """``with RunningHub(db_url) as hub:`` — ``hub.url``, ``hub.hub`` (the Hub), ``hub.terminal("T1")``."""

    def __init__(self, db_url: str, **options: Any) -> None:
        secrets = {
            "razorpay_webhook_secret": WEBHOOK_SECRET,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "admin_token": ADMIN_TOKEN,
            **options.pop("secrets", {}),
        }
        options.setdefault("reconcile_every", 0.2)
        super().__init__(db_url, secrets=secrets, **options)
        self._backends: list[HttpBackend] = []

    def __exit__(self, *exc: object) -> None:
        for backend in self._backends:
            backend.close()
        super().__exit__(*exc)

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
        answer = requests.get(
            f"{self.url}{path}", params=params, timeout=5, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        answer.raise_for_status()
        return answer.json()


def provider_id(hub: RunningHub, order_id: str) -> str:
    """The provider's id of a hub order (the QR or PaymentIntent the fake provider knows)."""
    from sqlalchemy import select

    from hub import db as t

    with hub.hub.db.transaction() as conn:
        return conn.execute(select(t.orders.c.provider_id).where(t.orders.c.id == order_id)).scalar_one()


def hub_status(hub: RunningHub, order_id: str) -> str:
    """The hub's own status of an order (its database), not what the contract writes for it."""
    from sqlalchemy import select

    from hub import db as t

    with hub.hub.db.transaction() as conn:
        return str(conn.execute(select(t.orders.c.status).where(t.orders.c.id == order_id)).scalar_one())
