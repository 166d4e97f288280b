"""The hub's own reading and writing of contract v1.1 (hub/contract.py), checked against docs/backend-contract.md
rather than against the terminal's client: bad requests get a 400 naming the field and change nothing; amounts are
integer minor units, times UTC with a ``Z``. (The terminal's HttpBackend talking to a real hub, in the other files
of tests/hub, checks the same code from the client's side.)"""

from __future__ import annotations

from typing import Any

import pytest

from hub.contract import (
    ContractError,
    amount_json,
    body_digest,
    create_request,
    order_json,
    refund_request,
    time_json,
)
from hub.db import OrderRow, PaymentRow
from terminal.core.money import Amount

GOOD: dict[str, Any] = {"reference": "T1-S1", "amount": {"value": 1250, "currency": "INR"}, "expires_in": 300}


def test_a_good_create_is_read_with_its_defaults() -> None:
    asked = create_request({"reference": "T1-S1", "amount": {"value": 1250, "currency": "INR"}})
    assert (asked.reference, asked.amount, asked.expires_in, asked.description) == (
        "T1-S1",
        Amount(1250, "INR"),
        300,
        "",
    )


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"amount": {"value": 12.5, "currency": "INR"}}, "invalid_amount", "amount"),
        ({"amount": {"value": True, "currency": "INR"}}, "invalid_amount", "amount"),
        ({"amount": {"value": "1250", "currency": "INR"}}, "invalid_amount", "amount"),
        ({"amount": {"value": 1250}}, "invalid_amount", "amount.currency"),
        ({"amount": {"value": 1250, "currency": "XYZ"}}, "invalid_amount", "amount"),
        ({"amount": {"value": 0, "currency": "INR"}}, "invalid_amount", "amount.value"),
        ({"amount": {"value": -1, "currency": "INR"}}, "invalid_amount", "amount"),
        ({"amount": {"value": 10**15 + 1, "currency": "INR"}}, "invalid_amount", "amount.value"),
        ({"reference": ""}, "invalid_request", "reference"),
        ({"reference": 7}, "invalid_request", "reference"),
        ({"reference": "x" * 101}, "invalid_request", "reference"),
        ({"description": "x" * 501}, "invalid_request", "description"),
        ({"expires_in": True}, "invalid_request", "expires_in"),
        ({"expires_in": 0}, "invalid_request", "expires_in"),
        ({"expires_in": 86401}, "invalid_request", "expires_in"),
        ({"expires_in": 30.0}, "invalid_request", "expires_in"),
    ],
)
def test_a_bad_create_is_a_400_naming_the_field(change: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ContractError) as caught:
        create_request({**GOOD, **change})
    assert (caught.value.status, caught.value.code) == (400, code)
    assert f"'{field}" in caught.value.message


@pytest.mark.parametrize("body", [None, [], "order", 1250])
def test_a_body_that_is_not_an_object_is_a_400(body: object) -> None:
    with pytest.raises(ContractError) as caught:
        create_request(body)
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


def test_a_refund_reads_its_amount_and_keeps_500_characters_of_its_reason() -> None:
    assert refund_request({"amount": {"value": 500, "currency": "INR"}, "reason": "r" * 600}) == (
        Amount(500, "INR"),
        "r" * 500,
    )


def test_a_refund_of_a_float_is_a_400() -> None:
    with pytest.raises(ContractError) as caught:
        refund_request({"amount": {"value": 5.0, "currency": "INR"}})
    assert (caught.value.status, caught.value.code) == (400, "invalid_amount")


def test_the_same_body_with_its_keys_in_another_order_has_the_same_digest() -> None:
    assert body_digest({"a": 1, "b": {"c": 2, "d": 3}}) == body_digest({"b": {"d": 3, "c": 2}, "a": 1})
    assert body_digest({"a": 1}) != body_digest({"a": 2})


def test_times_are_utc_whole_seconds_with_a_z() -> None:
    assert time_json(1_764_603_600.75) == "2025-12-01T15:40:00Z"


def test_amounts_are_integer_minor_units_with_their_code() -> None:
    assert amount_json(1250, "INR") == {"value": 1250, "currency": "INR"}


def _order(status: str) -> OrderRow:
    return OrderRow(
        id="ord_1",
        terminal_id="T1",
        idempotency_key="S1",
        body_hash="",
        reference="T1-S1",
        amount=1250,
        currency="INR",
        description="",
        status=status,
        provider="sim",
        provider_id="qr_1",
        qr_scheme="url",
        qr_payload="https://hub.invalid/pay/qr_1",
        payee_name="Chai Point",
        payee_id="chai@bank",
        failure_code=None,
        failure_message=None,
        created_at=1_764_603_600.0,
        expires_at=1_764_603_900.0,
        updated_at=1_764_603_600.0,
    )


def test_an_underpaid_order_is_written_paid_with_its_payment_and_v1s_paid() -> None:
    payment = PaymentRow("pmt_1", "ord_1", "sim", "pay_1", 1, "INR", 1_764_603_630.0, "short@okbank", "123")
    data = order_json(_order("underpaid"), [payment], [])
    assert data["status"] == "paid"
    assert data["payments"] == [
        {
            "id": "pmt_1",
            "amount": {"value": 1, "currency": "INR"},
            "at": "2025-12-01T15:40:30Z",
            "payer": "short@okbank",
            "provider_ref": "123",
        }
    ]
    assert data["paid"] == {k: v for k, v in data["payments"][0].items() if k != "id"}


def test_an_order_without_payments_lists_none_and_has_no_paid() -> None:
    data = order_json(_order("pending"), [], [])
    assert (data["status"], data["payments"], "paid" in data) == ("pending", [], False)
