"""The sandbox implements the whole contract over real HTTP: idempotency, long-poll, cancel, refunds,
history, settlements, the customer page and the test helpers."""

import threading
import time
from datetime import UTC, datetime

import requests

from terminal.sandbox.server import DEFAULT_TOKEN, Fault, Sandbox

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
BODY = {"reference": "T1-000001", "amount": {"value": 1250, "currency": "INR"}, "expires_in": 300}


def create(sandbox, key="k1", body=BODY):
    return requests.post(f"{sandbox.url}/v1/orders", json=body, headers={**AUTH, "Idempotency-Key": key}, timeout=5)


def test_create_then_the_same_key_and_body_give_the_same_order(sandbox):
    first = create(sandbox)
    again = create(sandbox)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    order = first.json()
    assert order["qr"]["payload"] == f"{sandbox.url}/pay/{order['id']}?am=12.50&cu=INR&tr=T1-000001"
    assert order["payee"] == {"name": "Demo Shop", "id": "demo-shop@sandbox"}


def test_the_same_key_with_another_body_is_a_conflict(sandbox):
    create(sandbox)
    reply = create(sandbox, body={**BODY, "amount": {"value": 999, "currency": "INR"}})
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "idempotency_conflict"


def test_create_without_a_key_or_with_a_float_amount_is_refused(sandbox):
    no_key = requests.post(f"{sandbox.url}/v1/orders", json=BODY, headers=AUTH, timeout=5)
    assert no_key.status_code == 400
    floats = create(sandbox, body={**BODY, "amount": {"value": 12.5, "currency": "INR"}})
    assert floats.status_code == 400 and "minor units" in floats.json()["error"]["message"]


def test_every_api_call_needs_the_device_token(sandbox):
    assert requests.get(f"{sandbox.url}/v1/orders", timeout=5).status_code == 401


def test_long_poll_wakes_on_payment(sandbox):
    order = create(sandbox).json()
    threading.Timer(0.2, lambda: requests.post(f"{sandbox.url}/sandbox/orders/{order['id']}/pay", timeout=5)).start()
    started = time.monotonic()
    got = requests.get(f"{sandbox.url}/v1/orders/{order['id']}?wait=10&known=pending", headers=AUTH, timeout=15)
    assert got.json()["status"] == "paid"
    assert time.monotonic() - started < 2


def test_an_order_expires_by_itself(sandbox):
    order = create(sandbox, body={**BODY, "expires_in": 1}).json()
    got = requests.get(f"{sandbox.url}/v1/orders/{order['id']}?wait=5&known=pending", headers=AUTH, timeout=10)
    assert got.json()["status"] == "expired"


def test_cancel_then_pay_is_refused_and_pay_then_cancel_is_409_with_the_order(sandbox):
    a = create(sandbox, "a").json()
    assert (
        requests.post(f"{sandbox.url}/v1/orders/{a['id']}/cancel", headers=AUTH, timeout=5).json()["status"]
        == "cancelled"
    )
    assert requests.post(f"{sandbox.url}/sandbox/orders/{a['id']}/pay", timeout=5).status_code == 409
    b = create(sandbox, "b", {**BODY, "reference": "T1-000002"}).json()
    requests.post(f"{sandbox.url}/sandbox/orders/{b['id']}/pay", timeout=5)
    cancel = requests.post(f"{sandbox.url}/v1/orders/{b['id']}/cancel", headers=AUTH, timeout=5)
    assert cancel.status_code == 409 and cancel.json()["status"] == "paid"


def test_partial_and_over_payments_through_the_helper(sandbox):
    order = create(sandbox).json()
    paid = requests.post(f"{sandbox.url}/sandbox/orders/{order['id']}/pay", json={"amount": 1000}, timeout=5).json()
    assert paid["paid"]["amount"] == {"value": 1000, "currency": "INR"}


def test_refunds_are_idempotent_and_limited_to_what_was_paid(sandbox):
    order = create(sandbox).json()
    requests.post(f"{sandbox.url}/sandbox/orders/{order['id']}/pay", timeout=5)
    url = f"{sandbox.url}/v1/orders/{order['id']}/refunds"
    part = {"amount": {"value": 500, "currency": "INR"}, "reason": "one item back"}
    first = requests.post(url, json=part, headers={**AUTH, "Idempotency-Key": "r1"}, timeout=5)
    again = requests.post(url, json=part, headers={**AUTH, "Idempotency-Key": "r1"}, timeout=5)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    too_much = {"amount": {"value": 800, "currency": "INR"}}
    assert requests.post(url, json=too_much, headers={**AUTH, "Idempotency-Key": "r2"}, timeout=5).status_code == 422
    status = requests.get(f"{sandbox.url}/v1/orders/{order['id']}", headers=AUTH, timeout=5).json()["status"]
    assert status == "partially_refunded"


def test_history_and_settlement(sandbox):
    order = create(sandbox).json()
    requests.post(f"{sandbox.url}/sandbox/orders/{order['id']}/pay", timeout=5)
    history = requests.get(f"{sandbox.url}/v1/orders?since=2020-01-01T00:00:00Z&limit=10", headers=AUTH, timeout=5)
    assert [o["id"] for o in history.json()["orders"]] == [order["id"]]
    today = datetime.now(UTC).date().isoformat()
    settled = requests.get(f"{sandbox.url}/v1/settlements?date={today}", headers=AUTH, timeout=5).json()
    assert settled == {"date": today, "currency": "INR", "count": 1, "gross": 1250, "fees": 0, "net": 1250}


def test_the_customer_page_pays_like_a_phone(sandbox):
    order = create(sandbox).json()
    page = requests.get(order["qr"]["payload"], timeout=5)
    assert page.status_code == 200 and "₹12.50" in page.text and "Demo Shop" in page.text
    assert 'action="/pay/' in page.text and "SANDBOX" in page.text
    after = requests.post(f"{sandbox.url}/pay/{order['id']}/pay", timeout=5)
    assert after.status_code == 200 and "Paid" in after.text  # followed the 303 back to the page


def test_the_customer_page_declines(sandbox):
    order = create(sandbox).json()
    requests.post(f"{sandbox.url}/pay/{order['id']}/decline", timeout=5)
    got = requests.get(f"{sandbox.url}/v1/orders/{order['id']}", headers=AUTH, timeout=5).json()
    assert got["status"] == "failed" and got["failure"]["code"] == "declined"


def test_upi_scheme_gives_a_fixed_amount_upi_uri():
    with Sandbox(scheme="upi") as sandbox:
        order = create(sandbox).json()
    assert order["qr"] == {
        "scheme": "upi",
        "payload": "upi://pay?pa=demo-shop@sandbox&pn=Demo%20Shop&am=12.50&tr=T1-000001&cu=INR",
    }


def test_lan_mode_puts_the_public_address_in_qr_links():
    with Sandbox("127.0.0.1", 0, public_host="192.0.2.7") as sandbox:
        order = create(sandbox).json()
    assert order["qr"]["payload"].startswith("http://192.0.2.7:")


def test_injected_faults_answer_the_next_requests_then_stop(sandbox):
    sandbox.inject(Fault("create", count=1, status=503, body="garbage"))
    assert create(sandbox).status_code == 503
    assert create(sandbox).status_code == 201


def test_unknown_routes_and_orders_are_404_json(sandbox):
    assert requests.get(f"{sandbox.url}/v1/orders/ord_nope", headers=AUTH, timeout=5).status_code == 404
    reply = requests.get(f"{sandbox.url}/nowhere", timeout=5)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
