"""The native till protocol's words and rules, pure."""

from dataclasses import replace

import pytest

from terminal.core.effects import CreateOrder, TillReply
from terminal.core.events import KeyPressed, OrderUpdated, TillCommanded
from terminal.core.keys import Key
from terminal.core.machine import Phase, initial, step
from terminal.core.money import Amount
from terminal.core.sale import SaleStatus
from terminal.core.till import (
    TillAuth,
    TillCancel,
    TillError,
    TillRefund,
    TillReport,
    TillSale,
    TillStatus,
    admit,
    auth_digest,
    authenticates,
    event_for,
    hello,
    parse,
    parse_line,
    report_reply,
)

from .helpers import SETTINGS, at, awaiting, paid_update


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("SALE 12.50", TillSale(Amount(1250, "INR"))),
        ("sale 12.5 INR REF=T-77/a", TillSale(Amount(1250, "INR"), "T-77/a")),
        ("  SALE   3  ", TillSale(Amount(300, "INR"))),
        ("CANCEL", TillCancel()),
        ("status", TillStatus()),
        ("PING", None),
        ("REFUND T1-000007", TillRefund("T1-000007")),
        ("refund T1-000007 2.50", TillRefund("T1-000007", Amount(250, "INR"))),
        ("REPORT", TillReport()),
        ("REPORT X", TillReport()),
    ],
)
def test_commands(line, command):
    assert parse(line, "INR") == command


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ("", 400, "empty line"),
        ("PAY 12", 400, "unknown command 'PAY'"),
        ("SALE", 400, "needs an amount"),
        ("SALE twelve", 422, "bad amount"),
        ("SALE 12.505", 422, "bad amount"),
        ("SALE -5", 422, "bad amount"),
        ("SALE 0", 422, "above zero"),
        ("SALE 12 USD", 422, "sells in INR"),
        ("SALE 12 REF=no spaces allowed", 422, "sells in INR"),
        ("SALE 12 REF=" + "x" * 40, 400, "REF="),
        ("CANCEL now", 400, "takes no arguments"),
        ("SALE 1\x00", 400, "printable ASCII"),
        ("SALE ₹12", 400, "printable ASCII"),
        ("S" * 300, 413, "longer than"),
        ("REFUND", 400, "REFUND <sale reference>"),
        ("REFUND T1-1 0", 422, "above zero"),
        ("REPORT Z", 400, "REPORT takes no argument or X"),
    ],
)
def test_malformed_lines_get_a_code_and_a_message(line, code, words):
    with pytest.raises(TillError) as error:
        parse(line, "INR")
    assert error.value.code == code and words in str(error.value)
    assert error.value.line.startswith(f"ERR {code} ")


def test_a_till_sale_starts_like_enter_and_is_answered():
    state, effects = step(initial(SETTINGS), TillCommanded(TillSale(Amount(1250, "INR"), "A1")), at(0))
    assert state.phase is Phase.SALE and state.sale.till_ref == "A1"
    assert effects[0].sale.till_ref == "A1"  # journaled with the till's reference
    assert isinstance(effects[1], CreateOrder) and effects[-1] == TillReply("OK SALE T1-000001")


def test_busy_while_a_customer_pays_or_the_shopkeeper_types():
    paying = awaiting()
    _, effects = step(paying, TillCommanded(TillSale(Amount(100, "INR"))), at(2))
    assert effects == [TillReply("ERR 409 busy: sale T1-000001 is waiting for payment")]
    typing, _ = step(initial(SETTINGS), KeyPressed(Key.D5), at(0))
    _, effects = step(typing, TillCommanded(TillSale(Amount(100, "INR"))), at(0))
    assert effects == [TillReply("ERR 409 busy: the shopkeeper is typing an amount")]


def test_a_till_sale_on_a_result_screen_starts_the_next_one():
    paid, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update()), at(2))
    state, effects = step(paid, TillCommanded(TillSale(Amount(500, "INR"))), at(3))
    assert state.sale.reference == "T1-000002" and effects[-1] == TillReply("OK SALE T1-000002")


def test_above_the_maximum_is_refused():
    small = initial(replace(SETTINGS, maximum=Amount(1000, "INR")))
    assert step(small, TillCommanded(TillSale(Amount(1001, "INR"))), at(0))[1] == [
        TillReply("ERR 422 above this terminal's maximum of 10.00")
    ]


def test_cancel_and_status():
    state = awaiting()
    _, effects = step(state, TillCommanded(TillStatus()), at(2))
    assert effects == [TillReply("STATUS SALE T1-000001 AWAITING_PAYMENT 12.50 INR")]
    state, effects = step(state, TillCommanded(TillCancel()), at(3))
    assert state.sale.status == "cancelled" and effects[-1] == TillReply("OK CANCEL T1-000001")
    assert step(state, TillCommanded(TillCancel()), at(4))[1] == [TillReply("ERR 409 no sale is running")]
    assert step(initial(SETTINGS), TillCommanded(TillStatus()), at(0))[1] == [TillReply("STATUS IDLE")]


def test_the_report_is_sent_one_report_line_each_then_ok():
    lines = ["X report T1", "Sales 2 INR 25.00"]
    assert report_reply(lines) == ["REPORT X report T1", "REPORT Sales 2 INR 25.00", "OK REPORT"]
    assert report_reply([]) == ["OK REPORT"]


def test_event_lines():
    state = awaiting()
    sale = replace(state.sale, till_ref="A1")
    assert event_for(sale, "creating") == "QR T1-000001 REF=A1 12.50 INR"
    assert event_for(sale, "awaiting_payment") is None  # the same status again: nothing new
    paid, _ = step(state, OrderUpdated("T1-ab12-000001", paid_update()), at(2))
    assert event_for(paid.sale, "awaiting_payment") == "RESULT T1-000001 PAID 12.50 INR UTR123"
    expired = replace(sale, status=SaleStatus.EXPIRED)
    assert event_for(expired, "awaiting_payment") == "RESULT T1-000001 REF=A1 EXPIRED"


# --- protocol v2: authentication (issue #15 item 8) --------------------------------------------------------------


def test_the_greeting_carries_the_version_and_the_nonce_it_is_given():
    assert hello("0f" * 16) == "HELLO QRTERM 2 " + "0f" * 16


def test_the_auth_digest_is_hmac_sha256_as_rfc_4231_test_case_2():
    # RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?".
    assert auth_digest("Jefe", "what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_auth_checks_the_digest_of_this_nonce_under_this_secret():
    nonce = "9a" * 16
    right = TillAuth(auth_digest("a-fixture-secret-only", nonce))
    assert authenticates(right, "a-fixture-secret-only", nonce)
    assert authenticates(TillAuth(right.digest.upper()), "a-fixture-secret-only", nonce)
    assert not authenticates(right, "a-fixture-secret-only", "9b" * 16)  # another connection's nonce
    assert not authenticates(right, "another-fixture-secret", nonce)
    assert not authenticates(right, None, nonce)  # no secret: nothing can be proven


def test_auth_lines_parse_and_a_malformed_one_is_a_400():
    assert parse_line("auth " + "AB" * 32, "INR") == TillAuth("ab" * 32)
    assert parse_line("SALE 1", "INR") == TillSale(Amount(100, "INR"))
    for line in ("AUTH", "AUTH 1234", "AUTH " + "g" * 64, "AUTH " + "a" * 64 + " more"):
        with pytest.raises(TillError) as error:
            parse_line(line, "INR")
        assert error.value.code == 400 and "HMAC-SHA256" in str(error.value)


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        (None, True),
        (TillStatus(), True),
        (TillSale(Amount(100, "INR")), False),
        (TillCancel(), False),
        (TillRefund("T1-000001"), False),
        (TillReport(), False),
    ],
)
def test_before_auth_only_ping_and_status_are_admitted(command, allowed):
    admit(command, authenticated=True)
    if allowed:
        admit(command, authenticated=False)
    else:
        with pytest.raises(TillError) as error:
            admit(command, authenticated=False)
        assert error.value.line.startswith("ERR 401 authenticate first")
