"""The payload guard reads the payload the customer's app will read, and refuses anything not ours."""

import json
from dataclasses import replace

import pytest

from terminal.core import guard
from terminal.core.guard import PayeeRules
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, QrCode
from terminal.core.payloads import upi

from ..conftest import SHARED
from .helpers import T0

RULES = PayeeRules("Razorpay shop", ("rpy.qrrazorpay2102110597@icici", "shop@okbank"), ("pay.example.test",))
VECTORS = json.loads((SHARED / "vectors" / "payment-qr.json").read_text())
ONE = Amount(100, "INR")
PSP = next(v["payload"] for v in VECTORS["upi"] if v["name"] == "psp_dynamic_qr_sample")


def order(payload, scheme="upi", amount=ONE, reference="T1-000001", payee="shop@okbank"):
    return Order("ord_1", OrderStatus.PENDING, reference, amount, QrCode(scheme, payload), Payee("Shop", payee), T0)


def check(o, amount=ONE, reference="T1-000001"):
    return guard.check(o, reference=reference, amount=amount, rules=RULES)


def test_a_psp_issued_upi_string_with_its_own_tr_is_accepted_as_is():
    o = order(PSP, payee="rpy.qrrazorpay2102110597@icici")
    o = replace(o, id="RZPIjCMsV6qTpgStBqrv2")
    assert check(o) is None


def test_the_npci_sample_is_refused_because_mam_lets_the_customer_change_the_amount():
    sample = next(v["payload"] for v in VECTORS["upi"] if v["name"] == "npci_linking_spec_sample")
    rules = replace(RULES, ids=("nadeem@npci",))
    o = order(sample, amount=Amount(1000, "INR"), payee="nadeem@npci", reference="4894398cndhcd23")
    assert "mam" in guard.check(o, reference="4894398cndhcd23", amount=Amount(1000, "INR"), rules=rules)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("upi://pay?pa=evil@okbank&am=1.00&cu=INR", "evil@okbank"),
        ("upi://pay?pa=SHOP@okbank&am=2.00&cu=INR", "asks for ₹2.00"),
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000002", "reference"),
        ("upi://pay?pa=shop@okbank&am=abc&cu=INR", "malformed"),
        ("upi://pay?pn=x&am=1.00", "malformed"),
        ("https://evil.example/pay?am=1.00&cu=INR&tr=T1-000001", "evil.example"),
    ],
)
def test_refused(payload, why):
    scheme = "url" if payload.startswith("http") else "upi"
    assert why in check(order(payload, scheme=scheme))


def test_the_vpa_match_ignores_case():
    assert check(order("upi://pay?pa=SHOP@OKBANK&am=1&cu=INR&tr=T1-000001")) is None


def test_a_pay_page_url_on_a_trusted_host_with_amount_and_reference():
    assert check(order("https://pay.example.test/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", scheme="url")) is None


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("am=2.00&cu=INR&tr=T1-000001", "asks for ₹2.00"),
        ("cu=INR&tr=T1-000001", "does not state the amount"),
        ("am=1.00&cu=INR&tr=T1-000009", "reference"),
    ],
)
def test_a_pay_page_url_must_state_our_amount_and_reference(query, why):
    assert why in check(order(f"https://pay.example.test/pay/ord_1?{query}", scheme="url"))


def test_the_order_fields_must_match_the_sale_too():
    good = "upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001"
    assert "the order is for" in check(order(good, amount=Amount(200, "INR")))
    assert "reference" in check(order(good, reference="T1-000009"))
    assert "not this shop's" in check(order(good, payee="other@okbank"))


def test_a_scheme_the_terminal_cannot_read_is_refused():
    assert "not supported" in check(order("000201010212...", scheme="emv"))


def test_upi_build_percent_encodes_and_never_adds_mam():
    uri = upi.build(pa="shop@okbank", pn="Chai & Co", amount=Amount(1250, "INR"), tr="T1-000001", tn="Tea")
    assert uri == "upi://pay?pa=shop@okbank&pn=Chai%20%26%20Co&am=12.50&tr=T1-000001&cu=INR&tn=Tea"
    parsed = upi.parse(uri)
    assert parsed.payee_name == "Chai & Co" and parsed.amount() == Amount(1250, "INR")


def test_upi_parse_keeps_the_raw_string():
    assert upi.parse(PSP).raw == PSP


def test_upi_parse_refuses_a_repeated_parameter():
    with pytest.raises(upi.UpiError, match="twice"):
        upi.parse("upi://pay?pa=a@b&am=1&am=100")
