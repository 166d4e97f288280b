"""Every request the Stripe adapter sends, compared with the parameters Stripe's OpenAPI spec allows for its
endpoint (``tests/data/stripe-api-<version>.json``, an extract of the spec for the pinned API version): each
parameter exists, has the spec's type, one of its enum values and stays in its bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from terminal.backends.stripe import API_VERSION, StripeBackend
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest

from .fake_stripe import SPEC, FakeStripe, endpoint, spec_problems
from .providers import STRIPE_KEY

CURRENCIES = {"promptpay": "THB", "paynow": "SGD", "pix": "BRL", "wechat_pay": "EUR"}


def test_the_extract_is_of_the_version_the_adapter_pins():
    assert SPEC["api_version"] == API_VERSION


@pytest.mark.parametrize("method", sorted(CURRENCIES))
def test_every_request_of_a_whole_day_is_allowed_by_the_spec(method):
    currency = CURRENCIES[method]
    with FakeStripe() as server:
        backend = StripeBackend(STRIPE_KEY, method, api_base=server.url)
        made = [
            backend.create_order(OrderRequest(f"T1-ab-{n}", f"T1-00000{n}", Amount(2000, currency), 300, "Sale"))
            for n in (1, 2)
        ]
        backend.get_order(made[0].id)
        server.pay(made[0].id)
        backend.get_order(made[0].id)
        if backend.refund_refusal is None:
            backend.refund(made[0].id, "T1-ab-1-R1", Amount(500, currency), "refund by the shop")
        backend.cancel_order(made[1].id)
        backend.cancel_order(made[0].id)  # refused by Stripe (succeeded): read back
        backend.history(datetime(2026, 1, 1, tzinfo=UTC))
        backend.probe()
    assert {r.path.split("/")[2] for r in server.requests} >= {"payment_intents"}
    checked = 0
    for sent in server.requests:
        name = endpoint(sent.method, sent.path)
        assert name in SPEC["endpoints"], f"{sent.method} {sent.path} is not an endpoint of the extract"
        fields = sent.form if sent.method == "POST" else sent.query
        assert spec_problems(name, fields) == [], f"{name}: {fields}"
        checked += len(fields)
    assert checked > 20


@pytest.mark.parametrize(
    ("name", "fields", "problem"),
    [
        ("POST /v1/payment_intents", [("payment_method_types[]", "promptpay")], "unknown parameter"),
        ("POST /v1/payment_intents", [("amount", "12.50")], "not an integer"),
        ("POST /v1/payment_intents", [("confirm", "yes")], "not a boolean"),
        ("POST /v1/payment_intents", [("payment_method_data[type]", "upi_qr")], "not one of"),
        (
            "POST /v1/payment_intents",
            [("payment_method_options[pix][expires_after_seconds]", "30")],
            "outside 60…1209600",
        ),
        ("POST /v1/payment_intents", [("payment_method_options[promptpay][expires_at]", "60")], "unknown member"),
        ("POST /v1/payment_intents/{intent}/cancel", [("cancellation_reason", "expired")], "not one of"),
        ("POST /v1/refunds", [("refund_id", "R1")], "unknown parameter"),
    ],
)
def test_the_comparison_catches_what_stripe_would_refuse(name, fields, problem):
    (found,) = spec_problems(name, fields)
    assert problem in found


@pytest.mark.parametrize(
    ("field", "code"),
    [
        (("payment_method_types[]", "promptpay"), "parameter_unknown"),
        (("amount", "12.50"), "parameter_invalid_integer"),
    ],
)
def test_the_fake_refuses_what_the_spec_does_not_allow_with_stripes_error_codes(field, code):
    import requests

    form = {"amount": "2000", "currency": "thb", "payment_method_data[type]": "promptpay", "confirm": "true"}
    form[field[0]] = field[1]
    with FakeStripe() as server:
        reply = requests.post(
            f"{server.url}/v1/payment_intents", data=form, headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=5
        )
    assert reply.status_code == 400 and reply.json()["error"]["code"] == code
    assert reply.json()["error"]["param"] == field[0] and reply.json()["error"]["type"] == "invalid_request_error"
