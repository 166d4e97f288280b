"""The payload guard reads the payload the customer's app will read, and refuses anything not ours."""

import json
from dataclasses import replace

import pytest

from terminal.core import guard
from terminal.core.guard import PayeeRules
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, QrCode
from terminal.core.payloads import emv, emv_profiles, epc, upi

from ..conftest import SHARED
from .helpers import T0

VECTORS = json.loads((SHARED / "vectors" / "payment-qr.json").read_text())
PSP = next(v["payload"] for v in VECTORS["upi"] if v["name"] == "psp_dynamic_qr_sample")
RULES = PayeeRules(
    "Shop",
    ("rpy.qrrazorpay2102110597@icici", "shop@okbank", "shop@pix.example", "0812345678", "201403121W",
     "DE89 3704 0044 0532 0130 00"),
    ("pay.example.test", "pix.psp.example"),
)  # fmt: skip
INR = Amount(100, "INR")


def order(payload, scheme, amount, reference="T1-000001", payee="shop@okbank", order_id="ord_1"):
    return Order(order_id, OrderStatus.PENDING, reference, amount, QrCode(scheme, payload), Payee("Shop", payee), T0)


def check(payload, scheme="upi", amount=INR, reference="T1-000001", rules=RULES, **kw):
    return guard.check(order(payload, scheme, amount, reference, **kw), reference=reference, amount=amount,
                       rules=rules)  # fmt: skip


# --- UPI ------------------------------------------------------------------------------------------


def test_a_psp_issued_upi_string_with_its_own_tr_is_accepted_as_is():
    assert check(PSP, payee="rpy.qrrazorpay2102110597@icici", order_id="RZPIjCMsV6qTpgStBqrv2") is None


def test_the_npci_sample_is_refused_because_mam_lets_the_customer_change_the_amount():
    sample = next(v["payload"] for v in VECTORS["upi"] if v["name"] == "npci_linking_spec_sample")
    rules = replace(RULES, ids=("nadeem@npci",))
    why = check(sample, amount=Amount(1000, "INR"), reference="4894398cndhcd23", rules=rules, payee="nadeem@npci")
    assert "change the amount" in why


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("upi://pay?pa=evil@okbank&am=1.00&cu=INR", "evil@okbank"),
        ("upi://pay?pa=SHOP@okbank&am=2.00&cu=INR", "asks for ₹2.00"),
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000002", "reference"),
        ("upi://pay?pa=shop@okbank&am=abc&cu=INR", "cannot be read"),
        ("upi://pay?pn=x&am=1.00", "cannot be read"),
        ("upi://pay?pa=shop@okbank&cu=INR", "leaves the amount open"),
    ],
)
def test_upi_refused(payload, why):
    assert why in check(payload)


def test_the_vpa_match_ignores_case():
    assert check("upi://pay?pa=SHOP@OKBANK&am=1&cu=INR&tr=T1-000001") is None


# --- links ----------------------------------------------------------------------------------------


def test_a_pay_page_url_on_a_trusted_host_with_amount_and_reference():
    assert check("https://pay.example.test/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", scheme="url") is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://evil.example/pay?am=1.00&cu=INR&tr=T1-000001", "evil.example"),
        ("https://pay.example.test/pay/ord_1?am=2.00&cu=INR&tr=T1-000001", "asks for ₹2.00"),
        ("https://pay.example.test/pay/ord_1?cu=INR&tr=T1-000001", "leaves the amount open"),
        ("https://pay.example.test/pay/ord_1?am=1.00&cu=INR&tr=T1-000009", "reference"),
    ],
)
def test_a_pay_page_url_must_be_trusted_and_state_our_amount_and_reference(url, why):
    assert why in check(url, scheme="url")


# --- EMV ------------------------------------------------------------------------------------------

BRL = Amount(1250, "BRL")
PIX = emv_profiles.build_pix(key="shop@pix.example", name="Shop", city="Sao Paulo", amount=BRL, txid="T1000001")


def test_a_pix_code_for_our_key_amount_and_txid_is_accepted():
    assert check(PIX, scheme="emv", amount=BRL, payee="shop@pix.example") is None


def test_a_corrupted_crc_is_refused():
    broken = PIX[:-4] + ("0000" if not PIX.endswith("0000") else "1111")
    assert "checksum" in check(broken, scheme="emv", amount=BRL, payee="shop@pix.example")


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (
            emv_profiles.build_pix(key="fraud@pix.example", name="Shop", city="Sao Paulo", amount=BRL),
            "fraud@pix.example",
        ),
        (
            emv_profiles.build_pix(key="shop@pix.example", name="Shop", city="Sao Paulo", amount=Amount(125, "BRL")),
            "asks for R$1.25",
        ),
        (
            emv_profiles.build_pix(key="shop@pix.example", name="Shop", city="Sao Paulo", amount=BRL, txid="T1000009"),
            "reference",
        ),
    ],
)
def test_pix_refused(payload, why):
    assert why in check(payload, scheme="emv", amount=BRL, payee="shop@pix.example")


def test_a_second_account_for_someone_else_is_refused_even_beside_ours():
    pix = [("00", "br.gov.bcb.pix"), ("01", "shop@pix.example")]
    other = [("00", "br.gov.bcb.pix"), ("01", "fraud@pix.example")]
    payload = emv.build([("00", "01"), ("26", pix), ("27", other), ("52", "0000"), ("53", "986"),
                         ("54", "12.50"), ("58", "BR"), ("59", "Shop"), ("60", "Sao Paulo")])  # fmt: skip
    assert "fraud@pix.example" in check(payload, scheme="emv", amount=BRL, payee="shop@pix.example")


def test_another_currency_is_refused():
    payload = emv_profiles.build_promptpay(payee="0812345678", amount=Amount(1250, "THB"))
    assert "THB" in check(payload, scheme="emv", amount=Amount(1250, "INR"), payee="0812345678")


def test_promptpay_with_our_mobile_number_in_any_form():
    thb = Amount(1250, "THB")
    payload = emv_profiles.build_promptpay(payee="+66812345678", amount=thb, reference="T1-000001")
    assert check(payload, scheme="emv", amount=thb, payee="0812345678") is None


def test_paynow_with_an_editable_amount_is_refused():
    vector = next(v["payload"] for v in VECTORS["valid"] if v["name"] == "paynow_B69E")
    why = check(vector, scheme="emv", amount=Amount(100, "SGD"), payee="201403121W")
    assert "change the amount" in why


def test_a_dynamic_pix_is_accepted_only_from_a_trusted_location():
    account = [("00", "br.gov.bcb.pix"), ("25", "pix.psp.example/qr/v2/cobv/9d36b84f")]
    fields = [("00", "01"), ("01", "12"), ("26", account), ("52", "0000"), ("53", "986"), ("58", "BR"),
              ("59", "Shop"), ("60", "Sao Paulo"), ("62", [("05", "***")])]  # fmt: skip
    assert check(emv.build(fields), scheme="emv", amount=BRL, payee="shop@pix.example") is None
    fields[2] = ("26", [("00", "br.gov.bcb.pix"), ("25", "evil.example/qr/1")])
    assert "evil.example" in check(emv.build(fields), scheme="emv", amount=BRL, payee="shop@pix.example")


# --- EPC ------------------------------------------------------------------------------------------

EUR = Amount(1250, "EUR")


def test_an_epc_transfer_to_our_iban_with_the_reference_in_the_text():
    payload = epc.build(name="Shop", iban="DE89370400440532013000", amount=EUR, text="Sale T1-000001")
    assert check(payload, scheme="epc", amount=EUR, payee="DE89 3704 0044 0532 0130 00") is None


def test_an_epc_transfer_to_another_iban_is_refused():
    payload = epc.build(name="Shop", iban="FR1420041010050500013M02606", amount=EUR, text="T1-000001")
    assert "FR1420041010050500013M02606" in check(payload, scheme="epc", amount=EUR,
                                                  payee="DE89 3704 0044 0532 0130 00")  # fmt: skip


# --- the order around the payload -----------------------------------------------------------------


def test_the_order_fields_must_match_the_sale_too():
    good = "upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001"
    assert "the order is for" in guard.check(order(good, "upi", Amount(200, "INR")), reference="T1-000001",
                                             amount=INR, rules=RULES)  # fmt: skip
    assert "not this shop's" in check(good, payee="other@okbank")


def test_a_payload_that_is_not_what_the_backend_declared_is_refused():
    assert "declared 'emv'" in check("upi://pay?pa=shop@okbank&am=1.00&cu=INR", scheme="emv")


def test_an_unknown_format_is_refused_unless_the_config_allows_it():
    assert "cannot check" in check("bank-app://whatever", scheme="url")
    assert check("bank-app://whatever", scheme="url", rules=replace(RULES, allow_unknown=True)) is None


# --- UPI building -------------------------------------------------------------------------------


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
