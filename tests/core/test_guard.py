"""The payload guard reads the payload the customer's app will read, and refuses anything not ours.

Its one principle: accept only what every reader reads the same way. The regression tests below are
attackers' payloads from issue #14, each with what a lenient reader (tests/core/lenient_reader.py, or the
reader named in the comment) sees and what we see; the property test at the end checks that whatever the
guard accepts, the lenient reader reads as paying this shop the sale's amount.
"""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from terminal.core import guard
from terminal.core.guard import PayeeRules
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, QrCode
from terminal.core.payloads import emv, emv_profiles, epc, upi
from terminal.core.payloads.summary import summarise

from ..conftest import VECTORS
from . import lenient_reader
from .helpers import T0
from .test_payloads import KHQR, QRIS, VIETQR, emv_with

PSP = next(v["payload"] for v in VECTORS["upi"] if v["name"] == "psp_dynamic_qr_sample")
RULES = PayeeRules(
    "Shop",
    (
        "rpy.qrrazorpay2102110597@icici",
        "shop@okbank",
        "shop@pix.example",
        "0812345678",
        "1234567890123",
        "201403121W",
        "DE89 3704 0044 0532 0130 00",
        "970436/0011012345678",
    ),
    ("pay.example.test", "pix.psp.example"),
)
INR = Amount(100, "INR")


def order(payload, scheme, amount, reference="T1-000001", payee="shop@okbank", order_id="ord_1"):
    return Order(order_id, OrderStatus.PENDING, reference, amount, QrCode(scheme, payload), Payee("Shop", payee), T0)


def check(payload, scheme="upi", amount=INR, reference="T1-000001", rules=RULES, **kw):
    return guard.check(order(payload, scheme, amount, reference, **kw), reference=reference, amount=amount, rules=rules)


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


def test_a_raw_space_is_refused_even_in_the_payee_name():
    # A reader that ends the link at whitespace reads pa and pn=Chai, and no amount: the customer types one.
    assert "without spaces" in check("upi://pay?pa=shop@okbank&pn=Chai Point&am=1.00&cu=INR&tr=T1-000001")


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
    payload = emv.build(
        [
            ("00", "01"),
            ("26", pix),
            ("27", other),
            ("52", "0000"),
            ("53", "986"),
            ("54", "12.50"),
            ("58", "BR"),
            ("59", "Shop"),
            ("60", "Sao Paulo"),
        ]
    )
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


def test_the_paynow_builders_editable_amount_is_refused_even_for_our_uen():
    # build_paynow(editable=True) exists only to reproduce published examples (26.03 = 1), never for a sale
    sgd = Amount(1250, "SGD")
    payload = emv_profiles.build_paynow(proxy="201403121W", name="Shop", amount=sgd, editable=True)
    assert "change the amount" in check(payload, scheme="emv", amount=sgd, payee="201403121W")
    fixed = emv_profiles.build_paynow(proxy="201403121W", name="Shop", amount=sgd)
    assert check(fixed, scheme="emv", amount=sgd, payee="201403121W") is None


def test_the_published_editable_paynow_example_is_refused_for_its_editable_amount():
    published_ = next(v for v in VECTORS["valid"] if v["name"] == "paynow_swift_readme_editable_BD9B")
    rules = replace(RULES, ids=(*RULES.ids, "+6512345678"))
    why = check(published_["payload"], "emv", Amount(1027, "SGD"), "Mr. Lee Bill", rules=rules, payee="+6512345678")
    assert "change the amount" in why


def test_the_upi_builders_minimum_amount_is_refused():
    # upi.build(mam=…) exists only to reproduce NPCI's sample (mam=null): an app may let the payer pay less
    payload = upi.build(pa="shop@okbank", pn="Shop", amount=INR, tr="T1-000001", mam="null")
    assert "change the amount" in check(payload)


def test_a_dynamic_pix_is_accepted_only_from_a_trusted_location():
    account = [("00", "br.gov.bcb.pix"), ("25", "pix.psp.example/qr/v2/cobv/9d36b84f")]
    fields = [
        ("00", "01"),
        ("01", "12"),
        ("26", account),
        ("52", "0000"),
        ("53", "986"),
        ("58", "BR"),
        ("59", "Shop"),
        ("60", "Sao Paulo"),
        ("62", [("05", "***")]),
    ]
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
    assert "FR1420041010050500013M02606" in check(
        payload, scheme="epc", amount=EUR, payee="DE89 3704 0044 0532 0130 00"
    )


# --- the order around the payload -----------------------------------------------------------------


def test_the_order_fields_must_match_the_sale_too():
    good = "upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001"
    assert "the order is for" in guard.check(
        order(good, "upi", Amount(200, "INR")), reference="T1-000001", amount=INR, rules=RULES
    )
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


# --- published payloads are accepted when their ids are configured -------------------------------


def published(section, name):
    return next(v["payload"] for v in VECTORS[section] if v["name"] == name)


@pytest.mark.parametrize(
    ("payload", "scheme", "amount", "reference", "ids"),
    [
        (
            published("valid", "pix_starkbank_static"),
            "emv",
            Amount(12500, "BRL"),
            "1297364819273409",
            ("arya@stark.com",),
        ),
        (published("valid", "promptpay_amt_3045"), "emv", Amount(12345, "THB"), "T1", ("0812345678",)),
        (published("valid", "promptpay_php_amount_CF9E"), "emv", Amount(42000, "THB"), "T1", ("0899999999",)),
        (PSP, "upi", Amount(100, "INR"), "RZPIjCMsV6qTpgStBqrv2", ("rpy.qrrazorpay2102110597@icici",)),
        (
            published("epc069_12", "epc_example_1_utf8"),
            "epc",
            Amount(1230, "EUR"),
            "RF18539007547034",
            ("DE71110220330123456789",),
        ),
        (
            published("epc069_12", "epc_example_2_latin1"),
            "epc",
            Amount(1230, "EUR"),
            "Client:Marie Louise La Lune",
            ("FR1420041010050500013M02606",),
        ),
        (KHQR, "emv", Amount(500000, "KHR"), "T1", ("jonhsmith@nbcq",)),
        (published("valid", "khqr_bakong_individual_6894"), "emv", Amount(50000, "KHR"), "T1", ("jonhsmith@nbcq",)),
        (published("valid", "vietqr_viet_qr_pay_BBB8"), "emv", Amount(1000, "VND"), "T1", ("970416/257678859",)),
        (VIETQR, "emv", Amount(50000, "VND"), "T1 000001", ("970436/0011012345678",)),
        (QRIS, "emv", Amount(1500000, "IDR"), "T1", ("936009153022591481", "022591481", "ID1020017611473")),
    ],
    ids=[
        "pix",
        "promptpay",
        "promptpay-php",
        "upi-psp",
        "epc-1",
        "epc-2",
        "khqr",
        "khqr-bakong",
        "vietqr-lib",
        "vietqr",
        "qris",
    ],
)
def test_a_published_payload_is_accepted_when_its_ids_are_configured(payload, scheme, amount, reference, ids):
    rules = PayeeRules("Shop", ids)
    assert check(payload, scheme, amount, reference, rules=rules, payee=ids[0]) is None


def test_a_published_qris_with_a_convenience_fee_is_refused_even_with_its_ids_configured():
    # purnama/spring-qris's dynamic QRIS: 1000 IDR (54) and a fixed fee of 500 (55 = 02, 56) charged on top
    ids = ("936008990000002475", "2475", "ID1020039293482")
    payload = published("valid", "qris_doku_dynamic_fee_FD26")
    said = check(payload, "emv", Amount(100000, "IDR"), "T1", rules=PayeeRules("Shop", ids), payee=ids[0])
    assert said == "the QR adds a convenience fee of Rp500.00 to the amount"


def test_sgqrs_identity_template_is_not_an_account():
    # SGQR stickers carry 51 = SG.SGQR (SGQR id, version, postal code…) beside PayNow's 26: it pays no one.
    paynow = [("00", "SG.PAYNOW"), ("01", "2"), ("02", "201403121W"), ("03", "0")]
    sgqr = [("00", "SG.SGQR"), ("01", "180123456789AB"), ("02", "01.0001"), ("03", "018989")]
    fields = [
        ("00", "01"),
        ("01", "12"),
        ("26", paynow),
        ("51", sgqr),
        ("52", "0000"),
        ("53", "702"),
        ("54", "1.00"),
        ("58", "SG"),
        ("59", "Shop"),
        ("60", "Singapore"),
    ]
    assert check(emv.build(fields), "emv", Amount(100, "SGD"), payee="201403121W") is None


def test_paynows_published_sample_is_refused_for_its_editable_amount_even_when_the_uen_is_ours():
    why = check(published("valid", "paynow_B69E"), "emv", Amount(100, "SGD"), payee="201403121W")
    assert "change the amount" in why


# --- regressions: issue #14's classes, each as an attacker writes it ------------------------------
# Each test shows what the lenient reader (or the reader named) makes of the payload, then our refusal.

BRL = Amount(1250, "BRL")
SHOP_PIX = {"payee": "shop@pix.example", "scheme": "emv", "amount": BRL}


def lenient_payees(payload):
    return lenient_reader.read(payload).payees


# 1. Hosts a browser reads differently from urlsplit, and hosts that only match after case folding.


@pytest.mark.parametrize(
    ("url", "browser_host"),
    [
        # urlsplit: host pay.example.test (trusted). A browser turns \ into / : host evil.example.
        ("https://evil.example\\@pay.example.test/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", "evil.example"),
        # casefold: pass.example. A browser (UTS #46, non-transitional) keeps ß: xn--pa-hia.example.
        ("https://paß.example/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", "xn--pa-hia.example"),
        # casefold and UTS #46: pay.example.test; IDNA 2008 readers refuse ſ: written as no browser writes it.
        ("https://pay.example.teſt/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", "pay.example.test"),
        # userinfo: the host is evil.example for every reader, but "pay.example.test" is what a person reads.
        ("https://pay.example.test@evil.example/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", "evil.example"),
        # an explicit port on a trusted host: another service than the shop's pay page.
        ("https://pay.example.test:8443/pay/ord_1?am=1.00&cu=INR&tr=T1-000001", "pay.example.test:8443"),
    ],
)
def test_a_link_is_read_as_a_browser_reads_it(url, browser_host):
    rules = replace(RULES, url_hosts=("pay.example.test", "pass.example"))
    assert lenient_payees(url) == {browser_host}
    why = check(url, scheme="url", rules=rules)
    assert "cannot be read" in why or "not a page this shop trusts" in why


def test_a_dynamic_pix_location_is_read_as_the_payers_app_opens_it():
    # 26.25 = evil.example\@pix.psp.example/…: urlsplit("https://" + it) has host pix.psp.example (trusted);
    # the payer's app (a browser-grade URL parser) fetches the charge from evil.example.
    payload = (
        "00020101021226660014br.gov.bcb.pix2544evil.example\\@pix.psp.example/qr/v2/9d36b84f5204000053039865802"
        "BR5904Shop6009Sao Paulo62070503***63048E3C"
    )
    assert emv.parse(payload).crc_ok and lenient_payees(payload) == {"evil.example"}
    assert "not written as a browser reads it" in check(payload, **SHOP_PIX)


# 2. EMV lengths in characters for us, in UTF-8 bytes for some apps.


def test_a_non_ascii_name_cannot_hide_a_template_from_one_reader():
    # Name 59 is 89 characters: "Caf", 43 × "é", then the text "26390014br.gov.bcb.pix0117fraud@pix.example".
    # Counted in characters (us): the name holds that text; the only account is 26 = shop@pix.example.
    # Counted in bytes (43 × é is 86 bytes): the name ends after the é's and the text becomes a second 26,
    # fraud@pix.example, which a last-wins app pays. The CRC is over the bytes: valid for both readers.
    payload = (
        "00020126380014br.gov.bcb.pix0116shop@pix.example520400005303986540512.505802BR5989Caf"
        + "é" * 43
        + "26390014br.gov.bcb.pix0117fraud@pix.example6009Sao Paulo62120508T10000016304917A"
    )
    assert emv.parse(payload).crc_ok and summarise(payload).accounts[0].ids == ("shop@pix.example",)
    assert lenient_payees(payload) == {"fraud@pix.example"}
    assert "outside ASCII" in check(payload, **SHOP_PIX)


# 3. A merchant-account template with one id ours and another not.


def test_promptpay_with_a_foreign_mobile_beside_our_national_id_is_refused():
    # 29.01 = 0066899999999 (someone's mobile), 29.02 = 1234567890123 (our national id). The old guard was
    # content with one id of ours; a PromptPay app pays 01, the mobile.
    payload = "00020101021229540016A00000067701011101130066899999999021312345678901235802TH5303764540512.5063046EA7"
    assert lenient_payees(payload) == {"0066899999999"}
    assert "0066899999999" in check(payload, "emv", Amount(1250, "THB"), payee="1234567890123")


def test_a_template_of_an_unknown_network_is_refused_even_carrying_our_key():
    # 27 = com.evilpay with 01 = shop@pix.example and 02 = evil-merchant-7: an evilpay app pays its merchant 7.
    payload = (
        "00020101021226380014br.gov.bcb.pix0116shop@pix.example27540011com.evilpay0116shop@pix.example"
        "0215evil-merchant-7520400005303986540512.505802BR5904Shop6009Sao Paulo"
        "62120508T1000001630448A3"
    )
    assert "does not know ('com.evilpay')" in check(payload, **SHOP_PIX)
    configured = replace(RULES, emv_networks=("com.evilpay",))  # configured: every one of its ids must be ours
    assert "evil-merchant-7" in check(payload, **SHOP_PIX, rules=configured)


def test_an_unreserved_template_is_a_network_too():
    # 80 = com.evilpay / evil-merchant-7: templates 80–99 are open to any network, so apps may pay from them.
    payload = (
        "00020101021226380014br.gov.bcb.pix0116shop@pix.example520400005303986540512.505802BR5904Shop6009Sao "
        "Paulo62120508T100000180340011com.evilpay0115evil-merchant-763041C5C"
    )
    assert "does not know ('com.evilpay')" in check(payload, **SHOP_PIX)


def test_a_pix_key_of_ours_with_a_foreign_location_is_refused():
    # 26.01 = our key, 26.25 = evil.example/…: an app that prefers the dynamic location fetches the charge
    # (payee and amount) from evil.example; the old guard looked at the key only.
    payload = (
        "00020101021226690014br.gov.bcb.pix0116shop@pix.example2527evil.example/qr/v2/9d36b84f5204000053039865"
        "40512.505802BR5904Shop6009Sao Paulo62120508T10000016304553B"
    )
    assert "'evil.example'" in check(payload, **SHOP_PIX)


def test_a_pix_key_given_twice_is_refused():
    # 26.01 twice: shop@pix.example then fraud@pix.example. We read the first; a last-wins app the second.
    payload = (
        "00020101021226590014br.gov.bcb.pix0116shop@pix.example0117fraud@pix.example5204000053039865405"
        "12.505802BR5904Shop6009Sao Paulo62120508T100000163040FD8"
    )
    assert lenient_payees(payload) == {"fraud@pix.example"}
    assert "appears twice" in check(payload, **SHOP_PIX)


def test_vietqr_with_our_account_number_at_another_bank_is_refused():
    # 38.01 = BIN 970415 + 0011012345678: our account number, but at another bank (ours is 970436):
    # the money goes to whoever holds that number there. The id compared is BIN/account.
    payload = (
        "00020101021238570010A00000072701270006970415011300110123456780208QRIBFTTA5303704540550000"
        "5802VN62130809T1 00000163043A17"
    )
    assert lenient_payees(payload) == {"970415/0011012345678"}
    why = check(payload, "emv", Amount(50000, "VND"), reference="T1 000001", payee="970436/0011012345678")
    assert "970415/0011012345678" in why


# 4. UPI parameters in other spellings.


@pytest.mark.parametrize(
    ("payload", "lenient_sees"),
    [
        # a case-insensitive, last-wins app pays PA: evil@ybl
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001&PA=evil@ybl", ("evil@ybl", "1.00")),
        # … asks AM: ₹1000
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001&AM=1000.00", ("shop@okbank", "1000.00")),
        # … lets the customer lower the amount to ₹0.01 (MAM, the minimum)
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001&MAM=0.01", ("shop@okbank", "1.00")),
        # … an app that trims keys reads " pa" as pa
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001&%20pa=evil@ybl", ("evil@ybl", "1.00")),
        # … an app that does not strip the fragment
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001#&pa=evil@ybl", ("evil@ybl", "1.00")),
        # … an app that splits on ; as old HTML forms did (urlsplit reads tn="Tea;pa=evil@ybl")
        ("upi://pay?pa=shop@okbank&am=1.00&cu=INR&tr=T1-000001&tn=Tea;pa=evil@ybl", ("evil@ybl", "1.00")),
    ],
)
def test_upi_parameters_in_other_spellings_are_refused(payload, lenient_sees):
    seen = lenient_reader.read(payload)
    assert (next(iter(seen.payees)), str(seen.amount)) == lenient_sees
    assert "cannot be read" in check(payload)


# 5. EPC lines split at a bare CR or U+2028 by Java/Kotlin readers.


@pytest.mark.parametrize("separator", ["\r", "\u2028", "\u0085", "\u000b"])
def test_epc_with_another_line_break_is_refused(separator):
    # Split at LF (us): name "Shop<sep>FR14…<sep>EUR999.99", IBAN ours, EUR12.50.
    # Split at any line break (Java's lines(), Kotlin's lines()): IBAN FR14… (someone else), EUR999.99.
    payload = (
        "BCD\n002\n1\nSCT\n\nShop" + separator + "FR1420041010050500013M02606" + separator + "EUR999.99\n"
        "DE89370400440532013000\nEUR12.5\n\n\nT1-000001"
    )
    assert lenient_reader.read(payload) == lenient_reader.Reading(
        frozenset({"fr1420041010050500013m02606"}), Decimal("999.99"), "EUR"
    )
    assert "line break other than LF" in check(payload, "epc", Amount(1250, "EUR"), payee="DE89370400440532013000")


def test_epc_with_crlf_lines_is_accepted():
    payload = "BCD\r\n002\r\n1\r\nSCT\r\n\r\nShop\r\nDE89370400440532013000\r\nEUR12.5\r\n\r\n\r\nT1-000001"
    assert check(payload, "epc", Amount(1250, "EUR"), payee="DE89370400440532013000") is None


# 6. Amounts in digits that are not ASCII, or with spaces.


@pytest.mark.parametrize(
    "payload",
    [
        "upi://pay?pa=shop@okbank&am=１.００&cu=INR&tr=T1-000001",  # full-width: int() reads it, many apps do not
        "upi://pay?pa=shop@okbank&am=١.٠٠&cu=INR&tr=T1-000001",  # Arabic-Indic
        "upi://pay?pa=shop@okbank&am=¹.⁰⁰&cu=INR&tr=T1-000001",  # superscripts: isdigit() yes, int() no
        "upi://pay?pa=shop@okbank&am=+1.00&cu=INR&tr=T1-000001",  # + is a space to a form decoder
        "upi://pay?pa=shop@okbank&am=%201.00&cu=INR&tr=T1-000001",  # an encoded space
        "upi://pay?pa=shop@okbank&am=1.00%20&cu=INR&tr=T1-000001",
    ],
)
def test_upi_amounts_in_other_digits_or_with_spaces_are_refused(payload):
    assert "cannot be read" in check(payload)


def test_an_emv_amount_with_a_space_is_refused():
    # 54 = "12.50 ": Python's strip() made it 12.50; an app that stops at the space may read 12.50 or refuse.
    payload = (
        "00020101021226380014br.gov.bcb.pix0116shop@pix.example520400005303986540612.50 5802BR5904Shop6009Sao "
        "Paulo62120508T100000163045750"
    )
    assert "not an amount" in check(payload, **SHOP_PIX)


def test_an_epc_amount_in_full_width_digits_is_refused():
    payload = "BCD\n002\n1\nSCT\n\nShop\nDE89370400440532013000\nEUR１２.５\n\n\nT1-000001"
    assert "not an amount" in check(payload, "epc", Amount(1250, "EUR"), payee="DE89370400440532013000")


# Beyond issue #14's list.


@pytest.mark.parametrize("prefix", ["\ufeff", " ", "\u200b", "\n"])
def test_a_known_format_behind_invisible_characters_is_not_unknown(prefix):
    # With allow_unknown on, an "unknown" payload is shown unchecked; but scanners trim a byte-order mark or
    # a space, and the UPI app then pays evil@ybl.
    payload = prefix + "upi://pay?pa=evil@ybl&am=1.00&cu=INR&tr=T1-000001"
    assert "behind invisible characters" in check(payload, scheme="url", rules=replace(RULES, allow_unknown=True))


def test_a_convenience_fee_is_refused():
    # 56 = 500.00 (a fixed fee) without 55: some apps add it to 54, charging R$512.50 for a R$12.50 sale.
    payload = (
        "00020101021226380014br.gov.bcb.pix0116shop@pix.example520400005303986540512.505606500.005802BR5904"
        "Shop6009Sao Paulo62120508T100000163047D93"
    )
    assert "convenience fee" in check(payload, **SHOP_PIX)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([("55", "01")], "the QR asks the customer for a tip, so the amount paid can change"),
        ([("55", "02"), ("56", "1.50")], "the QR adds a convenience fee of R$1.50 to the amount"),
        ([("55", "03"), ("57", "5")], "the QR adds a percentage fee of 5% to the amount"),
        ([("55", "04")], "the QR carries a tip or fee indicator (55 = '04') that apps read differently"),
        ([("55", "02")], "the QR carries a tip or fee indicator (55 = '02') that apps read differently"),
    ],
)
def test_a_tip_or_convenience_indicator_is_refused_saying_what_it_adds(extra, reason):
    # EMVCo MPM 4.7.x: 55 = 01 the app prompts for a tip, 02 a fixed fee (56), 03 a percentage fee (57);
    # all change what the customer pays, so each is refused, and the reason names which (no longer "the QR lets
    # the customer change the amount" for a fixed fee the customer cannot change)
    assert check(emv_with(*extra), **SHOP_PIX) == reason


def test_an_id_that_only_matches_after_unicode_case_folding_is_not_ours():
    # "ſhop@okbank".casefold() == "shop@okbank": the old comparison matched; the payer's bank does not.
    assert not RULES.knows_id("ſhop@okbank") and not RULES.knows_id("shop@okbank\u200b")
    assert RULES.knows_id("SHOP@OKBANK") and RULES.knows_id("DE89370400440532013000")


def test_a_trusted_host_may_name_its_port_and_loopback_allows_any():
    assert PayeeRules("S", ("x",), ("pay.example.test:8443",)).knows_host("pay.example.test:8443")
    assert not PayeeRules("S", ("x",), ("pay.example.test",)).knows_host("pay.example.test:8443")
    assert PayeeRules("S", ("x",), ("127.0.0.1",)).knows_host("127.0.0.1:53817")  # the sandbox's port of the day
    assert PayeeRules("S", ("x",), ("Bücher.example",)).knows_host("xn--bcher-kva.example")


# --- the property: what the guard accepts, every reader reads the same way -------------------------

FOREIGN = ["evil@ybl", "fraud@pix.example", "0066899999999", "199912345Z", "FR1420041010050500013M02606"]
AMOUNT_TEXTS = ["12.50", "12.5", "012.50", "12.500", "１２.５０", "١٢.٥٠", "12.50 ", " 12.50", "1250", "¹².⁵⁰"]


def _tlv(fields):
    return "".join(f"{t}{len(v):02d}{v}" for t, v in ((t, v if isinstance(v, str) else _tlv(v)) for t, v in fields))


def _emv(fields):
    body = _tlv(fields) + "6304"
    return body + emv.crc16(body.encode())


EMV_BASES = {
    "pix": (
        "shop@pix.example",
        "BRL",
        [
            ("00", "01"),
            ("01", "12"),
            ("26", [("00", "br.gov.bcb.pix"), ("01", "shop@pix.example")]),
            ("52", "0000"),
            ("53", "986"),
            ("54", "12.50"),
            ("58", "BR"),
            ("59", "Shop"),
            ("60", "Sao Paulo"),
            ("62", [("05", "T1000001")]),
        ],
    ),
    "promptpay": (
        "0812345678",
        "THB",
        [
            ("00", "01"),
            ("01", "12"),
            ("29", [("00", "A000000677010111"), ("01", "0066812345678")]),
            ("58", "TH"),
            ("53", "764"),
            ("54", "12.50"),
        ],
    ),
    "paynow": (
        "201403121W",
        "SGD",
        [
            ("00", "01"),
            ("01", "12"),
            ("26", [("00", "SG.PAYNOW"), ("01", "2"), ("02", "201403121W"), ("03", "0")]),
            ("52", "0000"),
            ("53", "702"),
            ("54", "12.50"),
            ("58", "SG"),
            ("59", "Shop"),
            ("60", "Singapore"),
        ],
    ),
}


@st.composite
def emv_attacks(draw):
    """A base payload for the sale, then a few of the attacker's edits, re-encoded with a valid CRC."""
    name = draw(st.sampled_from(sorted(EMV_BASES)))
    payee, currency, fields = EMV_BASES[name]
    fields = [(t, list(v) if isinstance(v, list) else v) for t, v in fields]
    account = next(v for t, v in fields if t in ("26", "29"))
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["dup_sub", "template", "unicode_name", "amount", "dup_top", "sub"]))
        if edit == "dup_sub":
            account.append((account[-1][0], draw(st.sampled_from([*FOREIGN, payee]))))
        elif edit == "template":
            gui = draw(st.sampled_from(["br.gov.bcb.pix", "A000000677010111", "SG.PAYNOW", "com.evilpay"]))
            tag = draw(st.sampled_from(["27", "30", "38", "51", "80"]))
            fields.insert(3, (tag, [("00", gui), ("01", draw(st.sampled_from([*FOREIGN, payee])))]))
        elif edit == "unicode_name":
            fields.append(("59", draw(st.text(min_size=1, max_size=50))))
        elif edit == "amount":
            fields = [(t, draw(st.sampled_from(AMOUNT_TEXTS)) if t == "54" else v) for t, v in fields]
        elif edit == "dup_top":
            fields.insert(draw(st.integers(1, len(fields))), ("54", draw(st.sampled_from(AMOUNT_TEXTS))))
        else:
            account.append((draw(st.sampled_from(["02", "03", "04", "25", "99"])), draw(st.sampled_from(FOREIGN))))
    return _emv(fields), "emv", payee, currency


@st.composite
def upi_attacks(draw):
    params = ["pa=shop@okbank", "am=12.50", "cu=INR", "tr=T1-000001"]
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["pa", "PA", "Pa", "%70a", "%20pa", "am", "AM", "mam", "cu", "CU", "tn"]))
        value = draw(st.sampled_from([*FOREIGN, "shop@okbank", *AMOUNT_TEXTS, "USD", "0.01"]))
        params.insert(draw(st.integers(0, len(params))), f"{key}={value}")
    joints = st.sampled_from(["&"] * 8 + [";", "#"])
    separators = draw(st.lists(joints, min_size=len(params), max_size=len(params)))
    query = "".join(s + p for s, p in zip(separators, params, strict=True))[1:]
    return "upi://pay?" + query, "upi", "shop@okbank", "INR"


@st.composite
def epc_attacks(draw):
    lines = ["BCD", "002", "1", "SCT", "", "Shop", "DE89370400440532013000", "EUR12.5", "", "", "T1-000001"]
    if draw(st.booleans()):
        lines[7] = "EUR" + draw(st.sampled_from(AMOUNT_TEXTS))
    if draw(st.booleans()):
        lines[5] = "Shop" + draw(st.sampled_from(["\r", "\u2028", "\x85", "\n"])) + draw(st.sampled_from(FOREIGN))
    separator = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", "\u2028"]))
    return separator.join(lines), "epc", "DE89370400440532013000", "EUR"


@st.composite
def url_attacks(draw):
    host = draw(
        st.sampled_from(
            [
                *["pay.example.test"] * 6,
                "PAY.example.test",
                "evil.example\\@pay.example.test",
                "pay.example.test@evil.example",
                "pay.example.teſt",
                "pay.example.test:443",
                "pay.example.test.",
                "xn--pay-example.test",
            ]
        )
    )
    query = [f"am={draw(st.sampled_from(AMOUNT_TEXTS))}", "cu=INR", "tr=T1-000001"]
    if draw(st.booleans()):
        query.append(draw(st.sampled_from(["AM=1000.00", "am=0.01", "cu=USD", "CU=USD"])))
    return f"https://{host}/pay/ord_1?{'&'.join(query)}", "url", "shop@okbank", "INR"


@settings(max_examples=1000)
@given(st.one_of(emv_attacks(), upi_attacks(), epc_attacks(), url_attacks()))
def test_what_the_guard_accepts_the_lenient_reader_reads_as_ours(attack):
    payload, scheme, payee, currency = attack
    sale = Amount(1250, currency)
    refused = check(payload, scheme, sale, payee=payee)
    event(f"{scheme} {'refused' if refused else 'accepted'}")
    if refused:
        return  # nothing to agree on
    ours, theirs = summarise(payload), lenient_reader.read(payload)
    assert theirs is not None
    assert theirs.payees <= {i.lower() for a in ours.accounts for i in (*a.ids, *a.hosts)}  # the same payee…
    assert all(
        RULES.knows_host(p) or any(RULES.knows_id(s) for s in emv_profiles.spellings("promptpay", p))
        for p in theirs.payees
    )  # … and it is ours
    assert (theirs.amount, theirs.currency) == (Decimal(sale.minor).scaleb(-sale.exponent), currency)
    assert (ours.amount, ours.amount.currency if ours.amount else None) == (sale, currency)


@pytest.mark.parametrize("strategy", [emv_attacks(), upi_attacks(), epc_attacks(), url_attacks()])
def test_the_property_has_accepted_payloads_to_check(strategy):
    # The attack strategies start from an honest payload; unedited, the guard accepts it, so the property
    # above is exercised on accepted payloads, not only on refusals.
    from hypothesis import find

    accepted = find(strategy, lambda a: check(a[0], a[1], Amount(1250, a[3]), payee=a[2]) is None)
    assert lenient_reader.read(accepted[0]) is not None
