"""Payloads against the published vectors (tests/vectors/payment-qr.json, each with its source): the
builders reproduce published examples byte for byte; build → parse round-trips for every buildable scheme;
parsing any string raises only PayloadError."""

import contextlib
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.money import Amount
from terminal.core.payloads import emv, emv_profiles, epc, upi
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.summary import Surcharge, summarise

from ..conftest import VECTORS


def vector(name):
    """A published vector by name, from any section of the file."""
    return next(
        v for section in ("valid", "invalid", "epc069_12", "upi") for v in VECTORS[section] if v["name"] == name
    )


def test_every_vector_names_its_source():
    for section in ("valid", "invalid", "epc069_12", "upi"):
        for v in VECTORS[section]:
            assert v["source"]["publication"] and v["source"]["where"], v["name"]


def test_the_crc_check_value():
    assert emv.crc16(VECTORS["crc_check"]["input"].encode()) == VECTORS["crc_check"]["crc16_ccitt_false"]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_published_emv_payloads_parse_with_their_crc(vector):
    payload = emv.parse(vector["payload"])
    assert payload.crc_ok
    assert payload.get("63") == vector["crc"]
    assert payload.fields[0].tag == "00" and payload.fields[-1].tag == "63"


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_published_invalid_payloads_are_rejected(vector):
    with pytest.raises(PayloadError):
        payload = emv.parse(vector["payload"])
        assert payload.crc_ok, "a parsed payload with a bad CRC is also a rejection"
        raise AssertionError("parsed")


@pytest.mark.parametrize(
    ("name", "profile", "payee", "amount", "reference"),
    [
        ("emvco_spec_A13A", "emv", "BEST TRANSPORT", Amount(2372, "CNY"), None),
        ("pix_bcb_static", "pix", "Fulano de Tal", None, None),
        ("pix_starkbank_static", "pix", "Arya Stark", Amount(12500, "BRL"), "1297364819273409"),
        ("promptpay_FE29", "promptpay", None, None, None),
        ("promptpay_amt_3045", "promptpay", None, Amount(12345, "THB"), None),
        ("paynow_B69E", "paynow", "ACME Pte Ltd.", None, None),
        ("khqr_bakong_individual_6894", "khqr", "Jonh Smith", Amount(50000, "KHR"), None),
        ("vietqr_viet_qr_pay_BBB8", "vietqr", None, Amount(1000, "VND"), None),
        ("qris_doku_static_455C", "qris", "GUREUM SHOP", None, None),
        ("qris_doku_dynamic_fee_FD26", "qris", "GUREUM SHOP", Amount(100000, "IDR"), None),
    ],
)
def test_what_each_vector_says(name, profile, payee, amount, reference):
    said = summarise(next(v["payload"] for v in VECTORS["valid"] if v["name"] == name))
    assert (said.profile, said.payee_name, said.amount, said.reference) == (profile, payee, amount, reference)


def test_the_emvco_sample_keeps_its_multibyte_language_template():
    said = summarise(vector("emvco_spec_A13A")["payload"])
    assert said.fields["64"] == {"00": "ZH", "01": "最佳运输", "02": "北京"}  # lengths count characters


def test_pix_and_promptpay_accounts():
    pix = summarise(vector("pix_bcb_static")["payload"])
    assert pix.accounts[0].ids == ("123e4567-e12b-12d1-a456-426655440000",)
    [account] = summarise(vector("promptpay_FE29")["payload"]).accounts
    assert account.ids == ("0066899999999",)
    assert "0899999999" in emv_profiles.spellings("promptpay", account.ids[0])


# --- builders against published examples, byte for byte (issue #19 item 10) -----------------------


def test_build_pix_reproduces_stark_banks_published_brcode():
    published = vector("pix_starkbank_static")
    given_ = published["source"]["builder"]  # São Paulo is written Sao Paulo: EMV text is ASCII
    built = emv_profiles.build_pix(
        key=given_["key"],
        name=given_["name"],
        city=given_["city"],
        amount=Amount.parse(given_["amount"], "BRL"),
        txid=given_["txid"],
    )
    assert built == published["payload"]


@pytest.mark.parametrize("name", ["promptpay_php_amount_CF9E", "promptpay_js_amount_E469"])
def test_build_promptpay_reproduces_the_published_examples_with_an_amount(name):
    published = vector(name)
    given_ = published["source"]["builder"]
    built = emv_profiles.build_promptpay(payee=given_["payee"], amount=Amount.parse(given_["amount"], "THB"))
    assert built == published["payload"]


@pytest.mark.parametrize(
    "name", ["paynow_swift_test_88E9", "paynow_chewhx_test_60B8", "paynow_swift_readme_editable_BD9B"]
)
def test_build_paynow_reproduces_the_published_examples_crc_included(name):
    published = vector(name)
    given_ = published["source"]["builder"]
    built = emv_profiles.build_paynow(
        proxy=given_["proxy"],
        name=given_["name"],
        amount=Amount.parse(given_["amount"], "SGD"),
        reference=given_["reference"],
        expiry=date.fromisoformat(given_["expiry"]) if given_["expiry"] else None,
        editable=given_["editable"],
    )
    assert built == published["payload"]


def test_build_paynow_writes_neither_an_expiry_nor_an_editable_amount_unless_asked():
    said = summarise(emv_profiles.build_paynow(proxy="201403121W", name="Shop", amount=Amount(100, "SGD")))
    assert said.fields["26"] == {"00": "SG.PAYNOW", "01": "2", "02": "201403121W", "03": "0"}
    assert not said.amount_editable


def test_a_paynow_expiry_is_a_date_not_a_time_of_day():
    # 26.04 is YYYYMMDD: a datetime's hour would be dropped without a word
    with pytest.raises(emv.EmvError, match="a date"):
        emv_profiles.build_paynow(
            proxy="201403121W", name="Shop", amount=Amount(100, "SGD"), expiry=datetime(2030, 12, 31, 18, 0)
        )


def test_upi_build_reproduces_npcis_published_sample_in_the_specifications_order():
    published = vector("npci_linking_spec_sample")
    given_ = published["source"]["builder"]
    built = upi.build(
        pa=given_["pa"],
        pn=given_["pn"],
        mc=given_["mc"],
        tid=given_["tid"],
        tr=given_["tr"],
        tn=given_["tn"],
        amount=Amount.parse(given_["amount"], "INR"),
        mam=given_["mam"],
        url=given_["url"],
        short_amount=True,  # the sample writes am=10, not 10.00
        order=upi.NPCI_ORDER,
    )
    assert built == published["payload"]


def test_upi_build_keeps_the_terminals_own_order_unless_asked():
    # NPCI's specification fixes no order: the terminal's URIs stay as they were; NPCI's order is opt-in
    shared = {"pa": "shop@okbank", "pn": "Shop", "amount": Amount(1250, "INR"), "tr": "T1", "tn": "Tea", "mc": "5411"}
    assert upi.build(**shared) == "upi://pay?pa=shop@okbank&pn=Shop&am=12.50&tr=T1&cu=INR&tn=Tea&mc=5411"
    assert (
        upi.build(**shared, order=upi.NPCI_ORDER)
        == "upi://pay?pa=shop@okbank&pn=Shop&mc=5411&tr=T1&tn=Tea&am=12.50&cu=INR"
    )


def test_an_upi_order_must_name_every_parameter_once():
    with pytest.raises(upi.UpiError, match="order must name"):
        upi.build(pa="shop@okbank", pn="Shop", amount=Amount(1250, "INR"), tr="T1", order=("pa", "pn", "am", "cu"))


def test_builders_write_ascii_only():
    assert emv_profiles.ascii_text("Padaria São João") == "Padaria Sao Joao"
    with pytest.raises(emv.EmvError, match="ASCII"):
        emv_profiles.build_pix(key="k", name="北京", city="Rio", amount=Amount(1, "BRL"))
    with pytest.raises(emv.EmvError, match="ASCII"):
        emv.build([("00", "01"), ("59", "Café")])


@pytest.mark.parametrize(
    ("name", "given_"),
    [
        (
            "epc_example_1_utf8",
            {
                "bic": "BHBLDEHHXXX",
                "name": "Franz Mustermänn",
                "iban": "DE71110220330123456789",
                "amount": Amount(1230, "EUR"),
                "purpose": "GDDS",
                "reference": "RF18539007547034",
                "charset": "1",
            },
        ),
        (
            "epc_example_2_latin1",
            {
                "name": "François D'Alsace S.A.",
                "iban": "FR1420041010050500013M02606",
                "amount": Amount(1230, "EUR"),
                "text": "Client:Marie Louise La Lune",
                "charset": "2",
            },
        ),
    ],
)
def test_epc_build_reproduces_the_guidelines_examples_byte_for_byte(name, given_):
    # The inputs are the guidelines' own (EPC069-12 section 2.3), written here, not read back by our parser.
    published = vector(name)
    built = epc.build(**given_)
    assert built == published["payload"]
    assert epc.byte_length(epc.parse(built)) == published["bytes"]


@pytest.mark.parametrize("vector", VECTORS["upi"], ids=lambda v: v["name"])
def test_upi_samples_parse_and_keep_their_bytes(vector):
    uri = upi.parse(vector["payload"])
    assert uri.raw == vector["payload"]
    assert summarise(vector["payload"]).accounts[0].ids == (uri.payee_address,)


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda: emv_profiles.build_pix(key="k", name="x" * 26, city="Rio", amount=Amount(1, "BRL")), "59"),
        (lambda: emv_profiles.build_pix(key="k", name="Shop", city="x" * 16, amount=Amount(1, "BRL")), "60"),
        (lambda: emv_profiles.build_pix(key="k", name="Shop", city="Rio", amount=Amount(1, "BRL"), txid="a-b"), "txid"),
        (lambda: emv_profiles.build_pix(key="k", name="Shop", city="Rio", amount=Amount(1, "EUR")), "BRL"),
        (lambda: emv_profiles.build_promptpay(payee="12345", amount=Amount(1, "THB")), "mobile number"),
        (lambda: epc.build(name="Shop", iban="DE00370400440532013000", amount=Amount(1, "EUR")), "valid IBAN"),
        (lambda: epc.build(name="x" * 71, iban="DE89370400440532013000", amount=Amount(1, "EUR")), "1–70"),
        (
            lambda: epc.build(name="S", iban="DE89370400440532013000", amount=Amount(100_000_000_000, "EUR")),
            "999999999.99",
        ),
        (
            lambda: epc.build(
                name="S", iban="DE89370400440532013000", amount=Amount(1, "EUR"), reference="RF1", text="t"
            ),
            "not both",
        ),
    ],
)
def test_builders_enforce_the_limits(call, why):
    with pytest.raises(PayloadError, match=why):
        call()


# --- properties -----------------------------------------------------------------------------------

NAMES = st.from_regex(
    r"[A-Za-z0-9ÁÉÍÓÚáéíóúçãõñ&.'-]([A-Za-z0-9ÁÉÍÓÚáéíóúçãõñ&.' -]{0,23}[A-Za-z0-9.])?", fullmatch=True
)
REFS = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=25)
MINORS = st.integers(min_value=1, max_value=99_999_999_99)


@settings(max_examples=200)
@given(
    key=st.from_regex(r"[a-z0-9._-]{1,30}@[a-z0-9-]{1,20}\.com", fullmatch=True),
    name=NAMES,
    city=NAMES.map(lambda s: s[:15]),
    minor=MINORS,
    txid=REFS,
)
def test_pix_build_parse_round_trip(key, name, city, minor, txid):
    amount = Amount(minor, "BRL")
    said = summarise(emv_profiles.build_pix(key=key, name=name, city=city, amount=amount, txid=txid))
    assert (said.profile, said.accounts[0].ids, said.payee_name, said.amount, said.reference, said.crc_ok) == (
        "pix",
        (key,),
        emv_profiles.ascii_text(name),
        amount,
        txid,
        True,
    )


@settings(max_examples=200)
@given(mobile=st.from_regex(r"0[689][0-9]{8}", fullmatch=True), minor=MINORS, ref=REFS)
def test_promptpay_build_parse_round_trip(mobile, minor, ref):
    amount = Amount(minor, "THB")
    said = summarise(emv_profiles.build_promptpay(payee=mobile, amount=amount, reference=ref))
    assert (
        mobile in emv_profiles.spellings("promptpay", said.accounts[0].ids[0])
        and said.amount == amount
        and said.reference == ref
        and said.crc_ok
    )


@settings(max_examples=200)
@given(uen=st.from_regex(r"[0-9]{9}[A-Z]", fullmatch=True), name=NAMES, minor=MINORS, ref=REFS)
def test_paynow_build_parse_round_trip(uen, name, minor, ref):
    amount = Amount(minor, "SGD")
    said = summarise(emv_profiles.build_paynow(proxy=uen, name=name, amount=amount, reference=ref))
    assert said.accounts[0].ids == (uen,) and not said.amount_editable
    assert (said.payee_name, said.amount, said.reference) == (emv_profiles.ascii_text(name), amount, ref)


@settings(max_examples=200)
@given(
    vpa=st.from_regex(r"[a-z0-9.]{1,20}@[a-z]{2,10}", fullmatch=True),
    name=NAMES,
    minor=MINORS,
    ref=REFS,
    note=st.text(max_size=40),
)
def test_upi_build_parse_round_trip(vpa, name, minor, ref, note):
    amount = Amount(minor, "INR")
    said = summarise(upi.build(pa=vpa, pn=name, amount=amount, tr=ref, tn=note))
    assert (said.accounts[0].ids, said.payee_name, said.amount, said.reference) == ((vpa,), name, amount, ref)
    assert not said.amount_editable


@settings(max_examples=200)
@given(
    name=st.from_regex(r"[^\s]([^\n\r]{0,68}[^\s])?", fullmatch=True),
    minor=st.integers(min_value=1, max_value=999_999_999_99),
    text=st.from_regex(r"[^\n\r]{0,140}", fullmatch=True),
)
def test_epc_build_parse_round_trip(name, minor, text):
    amount = Amount(minor, "EUR")
    try:
        payload = epc.build(name=name, iban="DE89370400440532013000", amount=amount, text=text)
    except epc.EpcError as exc:
        # long UTF-8 text, or a line break inside an element: refused, never truncated or split
        assert "331 bytes" in str(exc) or "line break" in str(exc)
        return
    parsed = epc.parse(payload)
    assert (parsed.name, parsed.iban, parsed.amount, parsed.text) == (name, "DE89370400440532013000", amount, text)


DIGITS = st.text("0123456789.²¹³١٢٣١２３ \u2028\r", min_size=1, max_size=6)


@settings(max_examples=500)
@given(
    st.one_of(
        st.text(),
        st.text().map(lambda s: "000201" + s),
        st.text().map(lambda s: "upi://pay?" + s),
        st.text().map(lambda s: "BCD\n" + s),
        st.text().map(lambda s: "https://" + s),
        DIGITS.map(lambda s: "000201" + "54" + s),
        DIGITS.map(lambda s: "upi://pay?pa=a@b&am=" + s),
        DIGITS.map(lambda s: "BCD\n002\n1\nSCT\n\nS\nDE89370400440532013000\nEUR" + s),
    )
)
def test_parsing_any_string_raises_only_payload_errors(text):
    with contextlib.suppress(PayloadError):  # any other exception fails the test
        summarise(text)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 99), st.text(min_size=1, max_size=30)), max_size=8))
def test_arbitrary_tlv_after_the_header_raises_only_payload_errors(pairs):
    body = "000201" + "".join(f"{t:02d}{len(v):02d}{v}" for t, v in pairs)
    body += "6304"
    with contextlib.suppress(PayloadError):  # any other exception fails the test
        summarise(body + emv.crc16(body.encode()))


# --- profiles read but not built (structures as their national specifications lay them out) --------

KHQR = emv.build(
    [
        ("00", "01"),
        ("01", "12"),
        ("29", [("00", "jonhsmith@nbcq")]),
        ("52", "5999"),
        ("53", "116"),
        ("54", "5000"),
        ("58", "KH"),
        ("59", "Jonh Smith"),
        ("60", "Phnom Penh"),
    ]
)
VIETQR = emv.build(
    [
        ("00", "01"),
        ("01", "12"),
        ("38", [("00", "A000000727"), ("01", "00069704360113" + "0011012345678"), ("02", "QRIBFTTA")]),
        ("53", "704"),
        ("54", "50000"),
        ("58", "VN"),
        ("62", [("08", "T1 000001")]),
    ]
)
QRIS = emv.build(
    [
        ("00", "01"),
        ("01", "12"),
        ("26", [("00", "ID.DANA.WWW"), ("01", "936009153022591481"), ("02", "022591481"), ("03", "UMI")]),
        ("51", [("00", "ID.CO.QRIS.WWW"), ("02", "ID1020017611473"), ("03", "UMI")]),
        ("52", "5812"),
        ("53", "360"),
        ("54", "15000"),
        ("58", "ID"),
        ("59", "Toko Sembako"),
        ("60", "Jakarta"),
        ("61", "12340"),
    ]
)


@pytest.mark.parametrize(
    ("payload", "profile", "ids", "amount"),
    [
        (KHQR, "khqr", [("jonhsmith@nbcq",)], Amount(500000, "KHR")),
        (VIETQR, "vietqr", [("970436/0011012345678",)], Amount(50000, "VND")),
        (QRIS, "qris", [("936009153022591481", "022591481"), ("ID1020017611473",)], Amount(1500000, "IDR")),
    ],
)
def test_khqr_vietqr_and_qris_name_their_accounts(payload, profile, ids, amount):
    # our own structures of the three national profiles; the published vectors are checked below
    said = summarise(payload)
    assert said.profile == profile and said.crc_ok
    assert [a.ids for a in said.accounts] == ids
    assert said.amount == amount


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("khqr_bakong_individual_6894", [("jonhsmith@nbcq",)]),
        ("vietqr_viet_qr_pay_BBB8", [("970416/257678859",)]),
        ("qris_doku_static_455C", [("936008990000002475", "2475"), ("ID1020039293482",)]),
        ("qris_doku_dynamic_fee_FD26", [("936008990000002475", "2475"), ("ID1020039293482",)]),
    ],
)
def test_the_published_khqr_vietqr_and_qris_vectors_name_their_accounts(name, ids):
    said = summarise(vector(name)["payload"])
    assert said.crc_ok and [a.ids for a in said.accounts] == ids


def test_the_published_qris_with_a_convenience_fee_says_so():
    said = summarise(vector("qris_doku_dynamic_fee_FD26")["payload"])
    assert said.surcharge == Surcharge("fixed", "02", fee=Amount(50000, "IDR"))
    assert not said.amount_editable  # the fee is fixed: the customer does not choose it


def emv_with(*extra):
    """A dynamic PIX QR for R$12.50 with the top-level fields ``extra`` (tags 55–57) inserted in order."""
    fields = [("00", "01"), ("01", "12"), ("26", [("00", "br.gov.bcb.pix"), ("01", "shop@pix.example")])]
    fields += [("52", "0000"), ("53", "986"), ("54", "12.50"), *extra, ("58", "BR"), ("59", "Shop"), ("60", "Rio")]
    return emv.build(fields)


@pytest.mark.parametrize(
    ("extra", "surcharge", "editable"),
    [
        ([("55", "01")], Surcharge("tip", "01"), True),
        ([("55", "02"), ("56", "1.50")], Surcharge("fixed", "02", fee=Amount(150, "BRL")), False),
        ([("55", "02"), ("56", "1,50")], Surcharge("fixed", "02", fee="1,50"), False),
        ([("55", "03"), ("57", "5")], Surcharge("percent", "03", percent="5"), False),
        ([("55", "02")], Surcharge("unknown", "02"), False),
        ([("55", "04")], Surcharge("unknown", "04"), False),
        ([("56", "1.50")], Surcharge("fee", fee="1.50"), False),
        ([("57", "5")], Surcharge("fee", percent="5"), False),
        ([], None, False),
    ],
)
def test_tag_55_is_read_as_emvco_defines_it(extra, surcharge, editable):
    # EMVCo MPM 4.7.x: 55 = 01 the app prompts for a tip, 02 a fixed fee in 56, 03 a percentage fee in 57
    said = summarise(emv_with(*extra))
    assert (said.surcharge, said.amount_editable) == (surcharge, editable)


def test_a_superscript_digit_in_an_emv_length_is_a_payload_error_not_a_bare_value_error():
    # "¹".isdigit() is True but int("¹4") raises ValueError: the parser checked with isdigit
    with pytest.raises(PayloadError, match="two-digit tag and length"):
        summarise("00020159¹4Shop6304")


@pytest.mark.parametrize("amount", ["１２.５０", "١٢.٥٠", "¹².⁵⁰", " 12.50", "12.50 ", "12,50", "+12.50"])
def test_an_amount_is_ascii_digits_and_one_point_only(amount):
    body = "000201" + "5303986" + f"54{len(amount):02d}{amount}" + "6304"
    with pytest.raises(PayloadError, match="not an amount"):
        summarise(body + emv.crc16(body.encode()))


def test_a_template_without_subfields_is_tolerated_when_parsing():
    payload = emv.build([("00", "01"), ("26", "not-a-template"), ("53", "986"), ("58", "BR")])
    assert summarise(payload).fields["26"] == "not-a-template"


def test_long_names_from_the_field_are_tolerated_when_parsing():
    body = "000201" + "5930" + "A" * 30 + "6304"  # 59 is limited to 25 when building
    assert summarise(body + emv.crc16(body.encode())).payee_name == "A" * 30
