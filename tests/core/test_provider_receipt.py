"""A receipt points at the provider's own receipt page when the payment has one (Stripe's charge.receipt_url,
issue 16 item 9); otherwise at the backend's order receipt, or nowhere."""

from dataclasses import replace

from terminal.core.money import Amount
from terminal.core.orders import Payment
from terminal.core.receipt import ShopDetails, receipt_for
from terminal.core.sale import SaleStatus

from .helpers import T0, awaiting, order_for

STRIPE_RECEIPT = "https://pay.stripe.com/receipts/payment/ch_fixture"


def paid(receipt_url=None, order_receipt=None):
    state = awaiting("42")
    made = order_for(state, receipt_url=order_receipt)
    payment = Payment(Amount(4200, "INR"), T0, "TAN AH KOW", "REF1", id="ch_fixture", receipt_url=receipt_url)
    return replace(state.sale, status=SaleStatus.PAID, order=made, payments=(payment,))


def receipt(sale):
    return receipt_for(sale, shop=ShopDetails("Chai Point"), local_time="2026-11-27 10:00", columns=42)


def test_the_providers_receipt_page_is_the_receipts_qr():
    assert receipt(paid(STRIPE_RECEIPT, "https://backend.example/r/1")).qr == STRIPE_RECEIPT


def test_without_one_the_orders_receipt_stays():
    assert receipt(paid(None, "https://backend.example/r/1")).qr == "https://backend.example/r/1"
    assert receipt(paid()).qr is None
