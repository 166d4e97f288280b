"""Helpers of the dashboard tests: users, a logged-in HTTP session, sales paid by signed webhooks."""

from __future__ import annotations

import re

import requests
from sqlalchemy import update

from hub import db as t
from hub.providers import credited_event
from terminal.backends import signing
from terminal.backends.http import HttpBackend
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderRequest
from tests.hub.running import RunningHub, provider_id
from tests.hub.webhook_events import send_razorpay

OWNER, STAFF = "owner-fixture", "staff-fixture"
PASSWORD = "fixture-password-not-real"


def add_users(hub: RunningHub) -> None:
    """An owner and a staff user (the same fixture password)."""
    hub.hub.dashboard.users.add(OWNER, PASSWORD, "owner")
    hub.hub.dashboard.users.add(STAFF, PASSWORD, "staff")


def login_form(client: requests.Session, url: str) -> str:
    """The login page's CSRF token (the page sets its cookie in ``client``)."""
    page = client.get(f"{url}/dashboard/login", timeout=5)
    return csrf_of(page.text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def logged_in(url: str, name: str = OWNER, password: str = PASSWORD) -> requests.Session:
    client = requests.Session()
    answer = client.post(
        f"{url}/dashboard/login",
        timeout=10,
        allow_redirects=False,
        data={"csrf": login_form(client, url), "name": name, "password": password},
    )
    assert answer.status_code == 303, answer.text
    return client


def signed_terminal(hub: RunningHub, terminal_id: str, shop: str = "Chai Point") -> tuple[HttpBackend, str]:
    """An enrolled terminal's contract client (closed with the hub) and its device token."""
    token = hub.enroll(terminal_id, shop)
    backend = HttpBackend(hub.url, token, timeout=5)
    hub._backends.append(backend)
    return backend, token


def heartbeat(hub: RunningHub, token: str, **fields: object) -> None:
    """A signed heartbeat as the terminal sends it (version, uptime, queue, printer, till, journal_bytes)."""
    beat = {"version": "0.1.0", "uptime": 3600, "queue": 0, "printer": "ok", "till": "linked", **fields}
    answer = requests.post(f"{hub.url}/v1/heartbeats", json=beat, auth=signing.signer_for(token), timeout=5)
    assert answer.status_code == 201, answer.text


def sale(
    hub: RunningHub,
    terminal: HttpBackend,
    reference: str,
    minor: int,
    currency: str = "INR",
    paid: tuple[int, ...] | None = None,
    payer: str = "customer@okbank",
) -> Order:
    """A sale of ``minor`` made by ``terminal``, then paid by one signed ``qr_code.credited`` webhook per amount in
    ``paid`` (default: once, in full)."""
    order = terminal.create_order(OrderRequest(reference, reference, Amount(minor, currency), 300, "Chai"))
    for amount in (minor,) if paid is None else paid:
        event_id, body = credited_event(provider_id(hub, order.id), Amount(amount, currency), payer=payer)
        answer = send_razorpay(hub.url, body, event_id=event_id)
        assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
    return order


def paid_at(hub: RunningHub, terminal: HttpBackend, reference: str, minor: int, currency: str, at: float) -> Order:
    """A sale of ``minor`` rung up and paid at the moment ``at``: the signed webhook carries the provider's time of
    payment, and the order's creation is set to it in the hub's database (the hub's clock is the real one)."""
    order = terminal.create_order(OrderRequest(reference, reference, Amount(minor, currency), 300, "Chai"))
    event_id, body = credited_event(provider_id(hub, order.id), Amount(minor, currency), now=at)
    answer = send_razorpay(hub.url, body, event_id=event_id)
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
    with hub.hub.db.transaction() as conn:
        conn.execute(update(t.orders).where(t.orders.c.id == order.id).values(created_at=at))
    return order
