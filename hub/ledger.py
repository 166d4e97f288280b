"""The hub's orders, payments and refunds: contract v1.1's rules on top of the database.

Every method is synchronous (the web layer runs it in a worker thread) and raises :class:`ContractError` for an
answer the contract gives as an error. Rules that decide money:

- an order's status only moves forward (:data:`RANK`): a late ``closed`` or ``expired`` cannot undo a payment,
  a payment reported after the order expired or was cancelled still wins (money that arrived is never hidden);
- an order is ``paid`` only when its payments in its currency add up to at least its amount, whatever the provider
  says; less (or money in another currency only) is ``underpaid``, the hub's own status, which the contract writes
  as ``paid`` with the payments listed (:data:`hub.contract.WIRE_STATUS`: the terminal matches them and shows
  "Underpaid" or "Payment mismatch"); a later payment that makes up the sum moves it on to ``paid``;
- each provider payment is recorded once (unique provider + payment id), each event once (unique event id);
- a refund never exceeds what was paid less the refunds not failed, checked with the order row locked.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub import db as t
from hub.contract import (
    ContractError,
    CreateRequest,
    body_digest,
    create_request,
    order_json,
    refund_json,
    refund_request,
)
from hub.db import Database, OrderRow, PaymentRow, RefundRow
from hub.providers import Provider
from terminal.backends.base import BackendError
from terminal.core.orders import OrderRequest, OrderStatus, OrderUpdate, Payment, ProviderRefund
from terminal.core.problems import ProblemKind

log = logging.getLogger(__name__)

#: How far along an order is; an update that would lower it is ignored.
RANK = {
    "pending": 0,
    "failed": 1,
    "expired": 1,
    "cancelled": 1,
    "underpaid": 2,
    "paid": 3,
    "partially_refunded": 4,
    "refunded": 5,
}
#: Statuses of an order money arrived for (as asked or not): it cannot be cancelled, it can be refunded.
MONEY = ("underpaid", "paid", "partially_refunded", "refunded")
#: Refund statuses that count against what remains refundable.
LIVE_REFUNDS = ("requested", "pending", "succeeded")


@dataclass(frozen=True)
class Fact:
    """What a provider said about one order (a verified webhook event, or its API when reconciling).

    The order is found by ``provider_order_id`` or, for refund events, by the payment ``payment_id`` refunds."""

    provider: str
    provider_order_id: str | None = None
    payment_id: str | None = None
    status: OrderStatus | None = None
    payments: tuple[Payment, ...] = ()
    refunds: tuple[ProviderRefund, ...] = ()
    failure: tuple[str, str] | None = None
    #: (event id, event type) for a webhook: stored so the event is applied once.
    event: tuple[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """Orders of many terminals. ``provider`` makes the QRs; ``changed(key)`` runs after each commit that changed
    an order (``order:<id>``), to wake this process's long-polls (other replicas hear PostgreSQL's NOTIFY)."""

    def __init__(
        self,
        database: Database,
        provider: Provider,
        *,
        clock: Callable[[], float] = time.time,
        changed: Callable[[str], None] = lambda key: None,
    ) -> None:
        self.db = database
        self.provider = provider
        self.provider_name: str = provider.name
        self._clock = clock
        self._changed = changed

    # --- contract: create, get, cancel, refund ---------------------------------------------------

    def create(self, terminal_id: str, key: str | None, body: object) -> tuple[dict[str, Any], bool]:
        """Create the order (or find the one this key made); (order JSON, created)."""
        if not key:
            raise ContractError(400, "idempotency_key_required", "Idempotency-Key header is required")
        if len(key) > 200:
            raise ContractError(400, "invalid_request", "Idempotency-Key is longer than 200 characters")
        asked = create_request(body)
        row = self._claim(terminal_id, key, body_digest(body), asked)
        if row.provider_id is not None:
            return self._json_by_id(row.id), False
        request = OrderRequest(
            f"{terminal_id}-{key}", asked.reference, asked.amount, asked.expires_in, asked.description
        )
        try:
            made = self.provider.create_order(request)
        except BackendError as exc:
            raise _provider_error(exc) from None
        with self.db.transaction() as conn:
            # PromptPay and PayNow payloads may carry no name: the id is what the customer sees then
            linked = (
                conn.execute(
                    update(t.orders)
                    .where(t.orders.c.id == row.id, t.orders.c.provider_id.is_(None))
                    .values(
                        provider_id=made.id,
                        qr_scheme=made.qr.scheme,
                        qr_payload=made.qr.payload,
                        payee_name=made.payee.name or made.payee.id,
                        payee_id=made.payee.id,
                        updated_at=self._clock(),
                    )
                ).rowcount
                == 1
            )
            winner = conn.execute(select(t.orders.c.provider_id).where(t.orders.c.id == row.id)).scalar_one()
        if winner != made.id:
            # The same create raced on another replica and linked its QR first: everyone is shown that one, so
            # ours must never be payable.
            self._close_orphan(made.id)
        return self._json_by_id(row.id), linked

    def _close_orphan(self, provider_id: str) -> None:
        try:
            self.provider.cancel_order(provider_id)
        except BackendError as exc:
            log.warning("a duplicate QR %s could not be closed at the provider: %s", provider_id, exc.problem.detail)

    def get(self, terminal_id: str | None, order_id: str) -> dict[str, Any]:
        """The order as the contract shows it (expired when its time passed); 404 for another terminal's."""
        with self.db.transaction() as conn:
            row = self._row(conn, order_id, terminal_id)
            if row.status == "pending" and self._clock() >= row.expires_at:
                self._move(conn, row, "expired")
            return self._json(conn, self._row(conn, order_id, terminal_id))

    def cancel(self, terminal_id: str, order_id: str) -> dict[str, Any]:
        """Cancel a pending order at the provider (idempotent); a paid one → 409 carrying the order."""
        with self.db.transaction() as conn:
            row = self._row(conn, order_id, terminal_id)
        if row.status == "pending" and row.provider_id is not None:
            try:
                said = self.provider.cancel_order(row.provider_id)
            except BackendError as exc:
                raise _provider_error(exc) from None
            if said.status is OrderStatus.EXPIRED:  # Stripe's adapter cancels as 'abandoned': the terminal asked
                said = replace(said, status=OrderStatus.CANCELLED)
            self.apply(fact_of(self.provider_name, row.provider_id, said))
        with self.db.transaction() as conn:
            row = self._row(conn, order_id, terminal_id)
            if row.status == "pending":
                self._move(conn, row, "cancelled")
                row = self._row(conn, order_id, terminal_id)
            order = self._json(conn, row)
        if row.status in MONEY:
            raise ContractError(409, "already_paid", "the order is paid", order)
        return order

    def refund(self, terminal_id: str, order_id: str, key: str | None, body: object) -> tuple[dict[str, Any], bool]:
        """Refund part or all of a paid order, idempotently by ``key``; (refund JSON, created)."""
        if not key:
            raise ContractError(400, "idempotency_key_required", "Idempotency-Key header is required")
        amount, reason = refund_request(body)
        digest = body_digest(body)
        with self.db.transaction() as conn:
            row = self._row(conn, order_id, terminal_id, lock=True)
            known = _refund(conn, and_(t.refunds.c.order_id == order_id, t.refunds.c.idempotency_key == key))
            if known is not None and known.body_hash != digest:
                raise ContractError(409, "idempotency_conflict", "this Idempotency-Key was used with another body")
            if known is None:
                if row.status not in ("underpaid", "paid", "partially_refunded"):
                    raise ContractError(409, "not_paid", f"the order is {row.status}, not paid")
                paid, live = _paid_and_refunded(conn, order_id)
                if amount.currency != row.currency or amount.minor <= 0 or live + amount.minor > paid:
                    raise ContractError(422, "refund_too_large", "the refund exceeds what remains of the payment")
                refund_id = "rfd_" + secrets.token_hex(8)
                conn.execute(
                    insert(t.refunds).values(
                        id=refund_id,
                        order_id=order_id,
                        idempotency_key=key,
                        body_hash=digest,
                        amount=amount.minor,
                        currency=amount.currency,
                        status="requested",
                        reason=reason,
                        created_at=self._clock(),
                    )
                )
                known = _refund_by_id(conn, refund_id)
        created = known.status == "requested"
        if created:  # not yet accepted by the provider: (re)send it, with our refund id as its idempotency key
            if row.provider_id is None:  # cannot be: a paid order has its provider order; refused, never None passed on
                raise ContractError(409, "not_paid", "the order has no provider order to refund")
            try:
                made = self.provider.refund(row.provider_id, known.id, amount, reason)
            except BackendError as exc:
                if exc.problem.kind in (ProblemKind.REJECTED, ProblemKind.CONFLICT):
                    with self.db.transaction() as conn:
                        conn.execute(
                            update(t.refunds)
                            .where(t.refunds.c.id == known.id)
                            .values(status="failed", failure_message=exc.problem.detail[:500])
                        )
                    raise ContractError(
                        422, "refund_refused", f"the provider refused the refund: {exc.problem.detail}"
                    ) from None
                raise _provider_error(exc) from None
            with self.db.transaction() as conn:
                conn.execute(
                    update(t.refunds)
                    .where(t.refunds.c.id == known.id)
                    .values(provider_refund_id=made.id, status=made.status)
                )
                self._settle_status(conn, self._row(conn, order_id, None))
        with self.db.transaction() as conn:
            known = _refund_by_id(conn, known.id)
        return refund_json(known), created

    # --- history and settlement (one terminal, a shop, or all) ----------------------------------

    def history(self, scope: dict[str, str], since: str | None, limit: int) -> list[dict[str, Any]]:
        """Orders created at or after ``since`` (ISO 8601), oldest first, at most ``limit`` (≤ 500)."""
        start = 0.0
        if since:
            try:
                start = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise ContractError(400, "invalid_request", f"since={since!r} is not an ISO 8601 time") from None
        with self.db.transaction() as conn:
            made = t.orders.c.provider_id.is_not(None)  # a create the provider never answered is no order yet
            query = (
                select(t.orders)
                .where(t.orders.c.created_at >= start, made, *_scope(scope))
                .order_by(t.orders.c.created_at, t.orders.c.id)
                .limit(max(1, min(limit, 500)))
            )
            return [self._json(conn, OrderRow.of(row)) for row in conn.execute(query)]

    def settlement(self, scope: dict[str, str], date: str, currency: str | None = None) -> dict[str, Any]:
        """The payments captured on ``date`` (UTC) and the refunds that went through that day, in one currency
        (``currency``, else the first payment's). The simulated provider and webhooks say nothing of fees: 0."""
        try:
            day = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ContractError(400, "invalid_request", "date must be YYYY-MM-DD") from None
        start, end = day.timestamp(), (day + timedelta(days=1)).timestamp()
        with self.db.transaction() as conn:
            join = t.payments.join(t.orders, t.payments.c.order_id == t.orders.c.id)
            rows = conn.execute(
                select(t.payments.c.amount, t.payments.c.currency)
                .select_from(join)
                .where(t.payments.c.at >= start, t.payments.c.at < end, *_scope(scope))
                .order_by(t.payments.c.at)
            ).all()
            currency = currency or (rows[0].currency if rows else "INR")
            mine = [r.amount for r in rows if r.currency == currency]
            rjoin = t.refunds.join(t.orders, t.refunds.c.order_id == t.orders.c.id)
            refunded = conn.execute(
                select(func.coalesce(func.sum(t.refunds.c.amount), 0))
                .select_from(rjoin)
                .where(
                    t.refunds.c.status == "succeeded",
                    t.refunds.c.currency == currency,
                    t.refunds.c.created_at >= start,
                    t.refunds.c.created_at < end,
                    *_scope(scope),
                )
            ).scalar_one()
        gross = sum(mine)
        return {
            "date": date,
            "currency": currency,
            "count": len(mine),
            "gross": gross,
            "fees": 0,
            "net": gross - int(refunded),
        }

    # --- what providers say -------------------------------------------------------------------

    def apply(self, fact: Fact) -> str:
        """Apply a provider's fact once; returns what happened (``applied``, ``duplicate``, ``unknown order``…).
        Two replicas applying the same event at once: the loser's unique violation makes it look again."""
        for attempt in range(3):
            try:
                return self._apply(fact)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _apply(self, fact: Fact) -> str:
        changed: str | None = None
        with self.db.transaction() as conn:
            if fact.event is not None:
                seen = conn.execute(
                    select(t.webhook_events.c.outcome).where(
                        t.webhook_events.c.provider == fact.provider, t.webhook_events.c.event_id == fact.event[0]
                    )
                ).first()
                if seen is not None:
                    return "duplicate"
            row = self._find(conn, fact)
            outcome = "unknown order" if row is None else self._apply_to(conn, row, fact)
            # An event for an order not (yet) known is not stored: a redelivery may find the order then.
            if fact.event is not None and row is not None:
                conn.execute(
                    insert(t.webhook_events).values(
                        provider=fact.provider,
                        event_id=fact.event[0],
                        type=fact.event[1][:100],
                        received_at=self._clock(),
                        outcome=outcome,
                    )
                )
            if row is not None and outcome == "applied":
                changed = row.id
                self.db.notify(conn, f"order:{row.id}")
        if changed:
            self._changed(f"order:{changed}")
        return outcome

    def _find(self, conn: Connection, fact: Fact) -> OrderRow | None:
        if fact.provider_order_id:
            row = conn.execute(select(t.orders).where(t.orders.c.provider_id == fact.provider_order_id)).first()
            if row is not None:
                return OrderRow.of(row)
        if fact.payment_id:
            join = t.orders.join(t.payments, t.payments.c.order_id == t.orders.c.id)
            paid = conn.execute(
                select(t.orders).select_from(join).where(t.payments.c.provider_payment_id == fact.payment_id)
            ).first()
            return None if paid is None else OrderRow.of(paid)
        return None

    def _apply_to(self, conn: Connection, row: OrderRow, fact: Fact) -> str:
        before = (row.status, _paid_and_refunded(conn, row.id), self._refund_states(conn, row.id))
        for payment in fact.payments:
            pid = payment.id or payment.provider_ref or ""
            exists = conn.execute(
                select(t.payments.c.id).where(
                    t.payments.c.provider == fact.provider, t.payments.c.provider_payment_id == pid
                )
            ).first()
            if exists is None and pid:
                conn.execute(
                    insert(t.payments).values(
                        id="pmt_" + secrets.token_hex(8),
                        order_id=row.id,
                        provider=fact.provider,
                        provider_payment_id=pid,
                        amount=payment.amount.minor,
                        currency=payment.amount.currency,
                        at=payment.at.timestamp() if payment.at else self._clock(),
                        payer=(payment.payer or "")[:200] or None,
                        provider_ref=(payment.provider_ref or "")[:100] or None,
                    )
                )
        for refund in fact.refunds:
            self._record_refund(conn, row, refund)
        status = None if fact.status is None else str(fact.status)
        received = _received(conn, row)
        if received is not None:
            # Money arrived: the sum decides, never the provider's word alone (a "paid" QR of ₹0.01 for ₹12.50).
            status = "paid" if received >= row.amount else "underpaid"
            if fact.status is not None and RANK[str(fact.status)] > RANK[status] and status == "paid":
                status = str(fact.status)  # refunded at the provider: the refunds below say how far
        if status is not None:
            self._move(conn, row, status, fact.failure)
        self._settle_status(conn, self._row(conn, row.id, None))
        after = (
            self._row(conn, row.id, None).status,
            _paid_and_refunded(conn, row.id),
            self._refund_states(conn, row.id),
        )
        return "applied" if after != before else "no change"

    def _record_refund(self, conn: Connection, row: OrderRow, refund: ProviderRefund) -> None:
        known = _refund(conn, t.refunds.c.provider_refund_id == refund.id)
        if known is None:  # made at the provider's dashboard, or its answer to us was lost: our own by its notes
            conn.execute(
                insert(t.refunds).values(
                    id="rfd_" + secrets.token_hex(8),
                    order_id=row.id,
                    idempotency_key=f"provider:{refund.id}",
                    body_hash="",
                    provider_refund_id=refund.id,
                    amount=refund.amount.minor,
                    currency=refund.amount.currency,
                    status=refund.status,
                    reason="made at the provider",
                    failure_message=refund.message or None,
                    created_at=self._clock(),
                )
            )
        elif known.status in ("requested", "pending") and refund.status != known.status:
            conn.execute(
                update(t.refunds)
                .where(t.refunds.c.id == known.id)
                .values(status=refund.status, failure_message=refund.message or None)
            )

    def _refund_states(self, conn: Connection, order_id: str) -> list[tuple[str, str]]:
        rows = conn.execute(select(t.refunds.c.id, t.refunds.c.status).where(t.refunds.c.order_id == order_id))
        return sorted((r.id, r.status) for r in rows)

    def pending_since(self, before: float, after: float, limit: int = 100) -> list[tuple[str, str]]:
        """(order id, provider id) of orders that may still take money, created between ``after`` and ``before``:
        pending, or underpaid (the customer may pay the rest; a lost webhook for it must not hide it)."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                select(t.orders.c.id, t.orders.c.provider_id)
                .where(
                    t.orders.c.status.in_(("pending", "underpaid")),
                    t.orders.c.provider_id.is_not(None),
                    t.orders.c.created_at < before,
                    t.orders.c.created_at > after,
                )
                .order_by(t.orders.c.created_at)
                .limit(limit)
            )
            return [(str(r.id), str(r.provider_id)) for r in rows]

    def expire_due(self) -> int:
        """Mark expired every pending order whose time passed (waking their long-polls); how many."""
        with self.db.transaction() as conn:
            due = conn.execute(
                select(t.orders).where(t.orders.c.status == "pending", t.orders.c.expires_at <= self._clock())
            ).all()
            for row in due:
                self._move(conn, OrderRow.of(row), "expired")
        return len(due)

    # --- inside -------------------------------------------------------------------------------

    def _claim(self, terminal_id: str, key: str, digest: str, asked: CreateRequest) -> OrderRow:
        """The order row for this terminal's key: the existing one (same body) or a new one without a QR yet."""
        for _ in range(2):
            with self.db.transaction() as conn:
                query = select(t.orders).where(t.orders.c.terminal_id == terminal_id, t.orders.c.idempotency_key == key)
                found = conn.execute(query).first()
                if found is not None:
                    if found.body_hash != digest:
                        raise ContractError(
                            409, "idempotency_conflict", "this Idempotency-Key was used with another body"
                        )
                    return OrderRow.of(found)
            now = self._clock()
            try:
                with self.db.transaction() as conn:
                    conn.execute(
                        insert(t.orders).values(
                            id="ord_" + secrets.token_hex(8),
                            terminal_id=terminal_id,
                            idempotency_key=key,
                            body_hash=digest,
                            reference=asked.reference,
                            amount=asked.amount.minor,
                            currency=asked.amount.currency,
                            description=asked.description,
                            status="pending",
                            provider=self.provider_name,
                            created_at=now,
                            expires_at=now + asked.expires_in,
                            updated_at=now,
                        )
                    )
            except IntegrityError:
                continue  # another replica created it a moment ago: read it
        with self.db.transaction() as conn:
            return OrderRow.of(conn.execute(query).one())

    def _row(self, conn: Connection, order_id: str, terminal_id: str | None, *, lock: bool = False) -> OrderRow:
        query = select(t.orders).where(t.orders.c.id == order_id)
        if terminal_id is not None:
            query = query.where(t.orders.c.terminal_id == terminal_id)
        if lock and self.db.is_postgres:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise ContractError(404, "not_found", f"no order {order_id!r}")
        return OrderRow.of(row)

    def _move(self, conn: Connection, row: OrderRow, status: str, failure: tuple[str, str] | None = None) -> None:
        """Set ``status`` when it is further along than the order's (never backwards)."""
        if RANK[status] <= RANK[row.status]:
            return
        values: dict[str, Any] = {"status": status, "updated_at": self._clock()}
        if status == "failed" and failure:
            values.update(failure_code=failure[0][:100], failure_message=failure[1][:500])
        conn.execute(update(t.orders).where(t.orders.c.id == row.id).values(**values))
        self.db.notify(conn, f"order:{row.id}")
        # after commit, in this process; harmless when it wakes a poll that then finds nothing new
        self._changed(f"order:{row.id}")

    def _settle_status(self, conn: Connection, row: OrderRow) -> None:
        """Partially refunded / refunded, from the refunds that are not failed."""
        if row.status not in MONEY:
            return
        paid, live = _paid_and_refunded(conn, row.id)
        if live > 0:
            self._move(conn, row, "refunded" if live >= paid else "partially_refunded")

    def _json_by_id(self, order_id: str) -> dict[str, Any]:
        with self.db.transaction() as conn:
            return self._json(conn, self._row(conn, order_id, None))

    def _json(self, conn: Connection, row: OrderRow) -> dict[str, Any]:
        query = select(t.payments).where(t.payments.c.order_id == row.id).order_by(t.payments.c.at)
        payments = [PaymentRow.of(p) for p in conn.execute(query)]
        query = select(t.refunds).where(t.refunds.c.order_id == row.id).order_by(t.refunds.c.created_at)
        refunds = [RefundRow.of(r) for r in conn.execute(query)]
        return order_json(row, payments, refunds, sandbox=row.provider == "sim")


def _received(conn: Connection, row: OrderRow) -> int | None:
    """What arrived for the order in its own currency (payments in another currency count nothing towards it),
    or None when no payment at all arrived."""
    rows = conn.execute(select(t.payments.c.amount, t.payments.c.currency).where(t.payments.c.order_id == row.id)).all()
    return None if not rows else sum(int(r.amount) for r in rows if r.currency == row.currency)


def _paid_and_refunded(conn: Connection, order_id: str) -> tuple[int, int]:
    paid = conn.execute(
        select(func.coalesce(func.sum(t.payments.c.amount), 0)).where(t.payments.c.order_id == order_id)
    ).scalar_one()
    live = conn.execute(
        select(func.coalesce(func.sum(t.refunds.c.amount), 0)).where(
            t.refunds.c.order_id == order_id, t.refunds.c.status.in_(LIVE_REFUNDS)
        )
    ).scalar_one()
    return int(paid), int(live)


def _refund(conn: Connection, where: ColumnElement[bool]) -> RefundRow | None:
    """The refund ``where`` selects, if there is one."""
    row = conn.execute(select(t.refunds).where(where)).first()
    return None if row is None else RefundRow.of(row)


def _refund_by_id(conn: Connection, refund_id: str) -> RefundRow:
    return RefundRow.of(conn.execute(select(t.refunds).where(t.refunds.c.id == refund_id)).one())


def _scope(scope: dict[str, str]) -> list[Any]:
    where = []
    if scope.get("terminal"):
        where.append(t.orders.c.terminal_id == scope["terminal"])
    if scope.get("shop"):
        shop_terminals = select(t.terminals.c.id).where(t.terminals.c.shop == scope["shop"])
        where.append(t.orders.c.terminal_id.in_(shop_terminals))
    return where


def fact_of(provider: str, provider_id: str, said: OrderUpdate) -> Fact:
    """A provider API's answer about one order, as a fact to apply (reconciliation, cancel)."""
    failure = (said.failure_code or "failed", said.failure_message or "") if said.failure_code else None
    return Fact(
        provider, provider_id, status=said.status, payments=said.payments, refunds=said.refunds, failure=failure
    )


def _provider_error(exc: BackendError) -> ContractError:
    """The provider failed: 503 (retry with the same key; nothing was lost) or 502 for a refusal."""
    if exc.problem.kind in (ProblemKind.REJECTED, ProblemKind.CONFLICT, ProblemKind.UNAUTHORISED):
        return ContractError(502, "provider_refused", f"the payment provider refused: {exc.problem.detail}")
    return ContractError(503, "provider_unavailable", f"the payment provider did not answer: {exc.problem.detail}")
