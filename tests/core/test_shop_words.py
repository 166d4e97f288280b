"""Sentences the rules compose and keep (notices, keypad and refund refusals, the guard's reasons, failures) reach a
Hindi shop and a Brazilian shop in their language and number format, while the journal, logs and till keep the
English sentence byte for byte (``Text`` is that sentence)."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import replace

import pytest

from terminal.core.events import (
    ConnectivityChanged,
    KeyPressed,
    OrderCreated,
    OrderUpdated,
    PinChecked,
    RecentLoaded,
    SaleRecord,
    Tick,
)
from terminal.core.i18n import PLAIN, Text, text_data, text_from_data
from terminal.core.keys import Key
from terminal.core.machine import initial, step
from terminal.core.money import Amount
from terminal.core.offline import OfflineRules
from terminal.core.orders import OrderStatus, OrderUpdate, Payment
from terminal.core.problems import Problem, ProblemKind
from terminal.core.refund import Refund, RefundStatus
from terminal.core.screen import screen_for
from terminal.i18n import words_for

from .helpers import HOST, SETTINGS, T0, at, order_for, type_keys

NBSP = "\u00a0"
#: A shop in India reading Hindi (lakh grouping) and one in Brazil reading Portuguese (R$ 1.234,56).
SHOPS = {
    "hi": replace(SETTINGS, maximum=Amount(10_00_000_00, "INR")),
    "pt-BR": replace(SETTINGS, currency="BRL", maximum=Amount(1_000_000_00, "BRL")),
}


def showing_qr(language: str, typed: str = "123456", **order_changes: object):
    """The shop's terminal showing the QR for ``typed`` (or refusing the order's QR)."""
    state = type_keys(initial(SHOPS[language]), typed + "E")
    sale = state.sale
    payload = f"https://{HOST}/pay/ord_1?am={sale.amount.decimal()}&cu={sale.amount.currency}&tr={sale.reference}"
    order = order_for(state, scheme="url", payload=payload, **order_changes)
    state, _ = step(state, OrderCreated(sale.id, order), at(1))
    return state


def paid(state, *minors: int, now: float = 30):
    currency = state.settings.currency
    payments = tuple(Payment(Amount(m, currency), provider_ref=f"E2E{i}", id=f"pay_{i}") for i, m in enumerate(minors))
    state, _ = step(state, OrderUpdated("T1-ab12-000001", OrderUpdate("ord_1", OrderStatus.PAID, payments)), at(now))
    return state


def test_a_sentence_kept_in_the_state_is_the_english_sentence_for_logs_the_journal_and_the_till():
    text = Text(
        "Sale {reference}: only {got} of {amount} received",
        reference="T1-000001",
        got=Amount(500, "INR"),
        amount=Amount(1250, "INR"),
    )
    assert text == "Sale T1-000001: only ₹5.00 of ₹12.50 received" and f"notice: {text}" == "notice: " + str(text)
    assert copy.deepcopy(text).params == text.params and pickle.loads(pickle.dumps(text)).msgid == text.msgid
    assert PLAIN.show(text) == text and PLAIN.show("a backend's own words") == "a backend's own words"
    with pytest.raises(AttributeError):
        text.msgid = "changed"  # type: ignore[misc]


REFUSED = Text(
    "QR refused: {reason}",
    reason=Text("the order is for {order}, the sale for {sale}", order=Amount(100, "INR"), sale=Amount(1250, "INR")),
)


def test_a_sentence_kept_as_data_comes_back_whole_nested_sentences_and_amounts_included():
    rebuilt = text_from_data(json.loads(json.dumps(text_data(REFUSED))))
    assert isinstance(rebuilt, Text) and rebuilt.msgid == REFUSED.msgid and rebuilt == REFUSED
    [(_, reason)] = rebuilt.params
    assert isinstance(reason, Text) and dict(reason.params) == {
        "order": Amount(100, "INR"),
        "sale": Amount(1250, "INR"),
    }
    hindi = words_for("hi")
    assert hindi.show(rebuilt) == hindi.show(REFUSED) != str(REFUSED)


@pytest.mark.parametrize(
    "damaged",
    [
        None,
        "QR refused",
        {"msgid": 5},
        {"msgid": "QR refused: {reason}", "params": []},
        {"msgid": "QR refused: {reason}", "params": {}},  # a field no value fills
        {"msgid": "QR refused: {reason}", "params": {"reason": {"amount": [-1, "INR"]}}},
        {"msgid": "QR refused: {reason}", "params": {"reason": {"amount": [100, "XXX"]}}},
        {"msgid": "QR refused: {reason}", "params": {"reason": {"text": {"msgid": 7}}}},
        {"msgid": "QR refused: {reason}", "params": {"reason": {"something": 1}}},
    ],
)
def test_data_that_is_no_kept_sentence_is_none_never_an_error(damaged):
    assert text_from_data(damaged) is None


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("hi", "बिक्री T1-000001 का भुगतान दो बार हुआ: ₹1,23,456.00 मेनू से रिफ़ंड करें"),
        ("pt-BR", f"A venda T1-000001 foi paga duas vezes: estorne R${NBSP}123.456,00 pelo menu"),
    ],
)
def test_a_sale_paid_twice_after_its_screen_closed_is_a_notice_in_the_shops_words(language, expected):
    state = paid(showing_qr(language), 123456_00)
    state, _ = step(state, Tick(), at(45))  # the paid screen timed out: the counter is idle
    state = paid(state, 123456_00, 123456_00, now=50)
    assert screen_for(state, at(50), words=words_for(language)).notice == expected
    symbol = "₹" if language == "hi" else "R$"
    assert state.notice == f"Sale T1-000001 was paid twice: refund {symbol}123,456.00 from the menu"  # the log's


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("hi", ("कम भुगतान", "₹1,23,456.00 में से ₹61,728.00 मिले — बाकी राशि माँगें या रिफ़ंड करें")),
        ("pt-BR", ("Pago a menos", f"Recebido R${NBSP}61.728,00 de R${NBSP}123.456,00 — peça o restante ou estorne")),
    ],
)
def test_an_underpaid_sale_says_what_arrived_in_the_shops_words(language, expected):
    screen = screen_for(paid(showing_qr(language), 61728_00), at(30), words=words_for(language))
    assert (screen.title, screen.lines[0]) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("hi", "अधिकतम राशि ₹10,00,000.00 है"), ("pt-BR", f"O máximo é R${NBSP}1.000.000,00")],
)
def test_the_keypad_refuses_an_amount_over_the_maximum_in_the_shops_words(language, expected):
    state = type_keys(initial(SHOPS[language]), "20000000")
    screen = screen_for(state, at(1), words=words_for(language))
    assert screen.lines == (expected,) and state.entry.message == f"Maximum is {SHOPS[language].maximum.format()}"


@pytest.mark.parametrize(
    ("language", "refusal", "banner"),
    [
        (
            "hi",
            "ऑफ़लाइन: ऑफ़लाइन बिक्री की सीमा ₹2,000.00 है",
            "ऑफ़लाइन — भुगतान सर्वर से कनेक्शन नहीं है। नेटवर्क केबल या Wi-Fi जाँचें।",
        ),
        (
            "pt-BR",
            f"Sem conexão: vendas sem conexão vão até R${NBSP}2.000,00",
            "SEM CONEXÃO — Sem conexão com o servidor de pagamento. Verifique o cabo de rede ou o Wi-Fi.",
        ),
    ],
)
def test_an_offline_refusal_and_the_offline_advice_are_in_the_shops_words(language, refusal, banner):
    currency = SHOPS[language].currency
    rules = OfflineRules("upi", "chaipoint@okbank", "Chai Point", Amount(2000_00, currency), Amount(5000_00, currency))
    offline = ConnectivityChanged(Problem(ProblemKind.UNREACHABLE))
    state, _ = step(initial(replace(SHOPS[language], offline=rules)), offline, at(0))
    state = type_keys(state, "2500E")
    screen = screen_for(state, at(1), words=words_for(language))
    assert (screen.lines, screen.offline) == ((refusal,), banner)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("hi", "रिफ़ंड नहीं हो सकता: रिफ़ंड के लिए अधिकतम ₹1,15,456.00 बचा है"),
        ("pt-BR", f"Estorno não permitido: resta no máximo R${NBSP}115.456,00 para estornar"),
    ],
)
def test_a_refund_refused_in_the_menu_says_why_in_the_shops_words(language, expected):
    sold = paid(showing_qr(language), 123456_00)
    record = SaleRecord(sold.sale, (), "27 Nov 10:00")
    state = type_keys(initial(SHOPS[language]), "")
    for key in (Key.MENU, Key.D1, Key.D2, Key.D3, Key.D4, Key.ENTER):
        state, _ = step(state, KeyPressed(key), at(40))
    state, _ = step(state, PinChecked(True), at(40))
    state, _ = step(state, KeyPressed(Key.D1), at(40))
    state, _ = step(state, RecentLoaded((record,)), at(40))
    state = type_keys(state, "12E", at(40))  # the sale, refund, all of it (confirm)
    # Meanwhile the till refunded part of it: the confirmed refund would now pass what is left.
    sale = sold.sale
    other = Refund(
        f"{sale.id}-R1",
        sale.id,
        sale.reference,
        "ord_1",
        Amount(8000_00, sale.amount.currency),
        RefundStatus.PENDING,
        T0,
    )
    state, _ = step(replace(state, refunds_open=(other,)), KeyPressed(Key.ENTER), at(41))
    assert words_for(language).show(state.menu.message) == expected
    assert screen_for(state, at(41), words=words_for(language)).lines[-1] == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("hi", "QR अस्वीकार: ऑर्डर ₹2,00,000.00 का है, बिक्री ₹1,23,456.00 की"),
        ("pt-BR", f"QR recusado: o pedido é de R${NBSP}200.000,00, a venda de R${NBSP}123.456,00"),
    ],
)
def test_a_qr_the_guard_refused_says_why_in_the_shops_words(language, expected):
    wrong = Amount(200000_00, SHOPS[language].currency)
    state = showing_qr(language, amount=wrong)
    screen = screen_for(state, at(1), words=words_for(language))
    assert (screen.name, screen.lines[0]) == ("error", expected)
    symbol = "₹" if language == "hi" else "R$"
    assert (
        state.sale.failure.message
        == f"QR refused: the order is for {symbol}200,000.00, the sale for {symbol}123,456.00"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [("hi", "भुगतान अस्वीकार कर दिया गया।"), ("pt-BR", "O pagamento foi recusado.")],
)
def test_a_decline_without_the_backends_words_is_in_the_shops_words(language, expected):
    state, _ = step(
        showing_qr(language), OrderUpdated("T1-ab12-000001", OrderUpdate("ord_1", OrderStatus.FAILED)), at(5)
    )
    assert screen_for(state, at(5), words=words_for(language)).lines[0] == expected


def test_a_backends_own_failure_message_is_shown_as_the_backend_wrote_it():
    failed = OrderUpdate("ord_1", OrderStatus.FAILED, failure_message="The customer declined.")
    state, _ = step(showing_qr("hi"), OrderUpdated("T1-ab12-000001", failed), at(5))
    assert screen_for(state, at(5), words=words_for("hi")).lines[0] == "The customer declined."
