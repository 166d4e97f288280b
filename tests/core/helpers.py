"""Building blocks for core tests: settings, clock readings, orders — plain data, no doubles needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from terminal.core.clock import Now
from terminal.core.events import KeyPressed, OrderCreated
from terminal.core.guard import PayeeRules
from terminal.core.keys import Key
from terminal.core.machine import Settings, TerminalState, initial, step
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, OrderUpdate, Payee, Payment, QrCode

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HOST = "pay.example.test"
SETTINGS = Settings(
    terminal_id="T1",
    merchant_name="Chai Point",
    currency="INR",
    maximum=Amount(100_000_00, "INR"),
    payee=PayeeRules("Chai Point", ("chaipoint@okbank",), (HOST,)),
    sale_ttl=300,
    result_seconds=10,
    create_timeout=20.0,
    id_prefix="ab12",
)


def at(seconds: float) -> Now:
    """The clock ``seconds`` after the test's start."""
    return Now(wall=T0 + timedelta(seconds=seconds), mono=1000.0 + seconds)


def type_keys(state: TerminalState, text: str, now: Now | None = None) -> TerminalState:
    """Press one key per character ('.' point, 'E' enter, 'C' cancel, '<' backspace, 'X' clear)."""
    names = {"E": Key.ENTER, "C": Key.CANCEL, "<": Key.BACKSPACE, "X": Key.CLEAR, ".": Key.POINT}
    for char in text:
        state, _ = step(state, KeyPressed(names.get(char) or Key(char)), now or at(0))
    return state


def order_for(state: TerminalState, *, scheme: str = "upi", payload: str | None = None, **changes: object) -> Order:
    """The order a honest backend would return for the current sale."""
    sale = state.sale
    assert sale is not None
    if payload is None:
        payload = (
            f"upi://pay?pa=chaipoint@okbank&pn=Chai%20Point&am={sale.amount.decimal()}&tr={sale.reference}&cu=INR"
            if scheme == "upi"
            else f"https://{HOST}/pay/ord_1?am={sale.amount.decimal()}&cu=INR&tr={sale.reference}"
        )
    order = Order(
        id="ord_1",
        status=OrderStatus.PENDING,
        reference=sale.reference,
        amount=sale.amount,
        qr=QrCode(scheme, payload),
        payee=Payee("Chai Point", "chaipoint@okbank"),
        expires_at=T0 + timedelta(minutes=5),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def awaiting(amount: str = "12.50") -> TerminalState:
    """A state showing the QR for ``amount``."""
    state = type_keys(initial(SETTINGS), amount + "E")
    state, _ = step(state, OrderCreated(state.sale.id, order_for(state)), at(1))  # type: ignore[union-attr]
    return state


def paid_update(order_id: str = "ord_1", minor: int = 1250) -> OrderUpdate:
    """The backend's word that the order is paid."""
    return OrderUpdate(order_id, OrderStatus.PAID, (Payment(Amount(minor, "INR"), provider_ref="UTR123"),))
