"""A fixed paid sale and shop for receipt tests."""

from datetime import UTC, datetime

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
from terminal.core.receipt import ShopDetails
from terminal.core.sale import Sale, SaleStatus

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ORDER = Order(
    "ord_1",
    OrderStatus.PAID,
    "T1-000042",
    Amount(125000, "INR"),
    QrCode("upi", "upi://pay?pa=chaipoint@okbank&am=1250.00&tr=T1-000042&cu=INR"),
    Payee("Chai Point", "chaipoint@okbank"),
    AT,
    receipt_url="https://r.example.test/T1-000042",
)
SALE = Sale(
    "T1-ab-000042",
    42,
    "T1-000042",
    Amount(125000, "INR"),
    SaleStatus.PAID,
    AT,
    order=ORDER,
    payments=(Payment(Amount(125000, "INR"), AT, "customer@okaxis", "433012345678"),),
)
SHOP = ShopDetails(
    "Chai Point",
    ("12 MG Road", "Bengaluru 560001"),
    store="MG Road",
    terminal_id="T1",
    footer=("Thank you!", "GSTIN 29ABCDE1234F1Z5"),
)
