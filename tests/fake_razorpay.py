"""A local server playing Razorpay's QR Codes, Payments and Refunds APIs, with the shapes Razorpay publishes.

Sources, cited beside each shape below:
- razorpay/razorpay-python ``documents/qrcode.md`` (create, fetch, fetch payments, close) and its test fixtures
  ``tests/mocks/fake_qrcode.json``, ``qrcode_collection.json``, ``qrcode_payments_collection.json``,
  ``fake_refund.json``, ``refund_collection.json``; ``documents/refund.md`` (normal and optimum refunds: a refund
  may answer ``pending``);
- Razorpay's API reference, "Create a Normal Refund (Idempotent Request)": ``X-Refund-Idempotency``, "If a request
  is received while a prior request is still being processed, the system will return a 409 Conflict";
- the "QR Codes (Image Content)" account feature: ``image_content`` (the ``upi://pay`` string) is in the answer
  only when the account has it. The default create answer (documents/qrcode.md) has ``image_url`` only.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import segno

from terminal.core.money import Amount
from terminal.core.payloads import upi

from .providers import RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, FakeProvider, ProviderError, Raw, Request


def rzp_error(description: str, code: str = "BAD_REQUEST_ERROR") -> dict[str, Any]:
    """Razorpay's error body (the SDK's error handling reads error.code and error.description)."""
    return {
        "error": {
            "code": code,
            "description": description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def qr_png(text: str) -> bytes:
    """A real PNG of a QR holding ``text`` (what the hosted image_url serves, without Razorpay's poster frame)."""
    buffer = io.BytesIO()
    segno.make_qr(text).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


@dataclass
class RazorpayState:
    qrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # pay id → payment
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # pay id → refunds


class FakeRazorpay(FakeProvider):
    """Razorpay's QR Codes, Payments and Refunds APIs, in memory.

    ``image_content``: whether the account has the "QR Codes (Image Content)" feature. ``image``: what the hosted
    image link serves — ``"png"`` (a real PNG of the QR), ``"garbage"`` (not an image), ``"not_upi"`` (a QR of a
    web link), ``"huge"`` (past any sane size), ``"elsewhere"`` (a redirect to a host off the allow-list).
    ``refunds_async``: refunds answer ``pending`` and become ``processed`` at :meth:`settle_refunds`."""

    def __init__(
        self,
        vpa: str = "rzr.qrchaipoint1234@icici",
        name: str = "Chai Point",
        *,
        image_content: bool = False,
        image: str = "png",
        refunds_async: bool = False,
    ) -> None:
        super().__init__()
        self.vpa, self.name = vpa, name
        self.image_content, self.image, self.refunds_async = image_content, image, refunds_async
        self.state = RazorpayState()
        #: Set to another VPA to play a provider (or a proxy in between) that returns a QR for someone else.
        self.pay_to: str | None = None

    def authorised(self, headers: Any) -> bool:
        expected = base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def unauthorised(self) -> dict[str, Any]:
        return rzp_error("The api key provided is invalid")

    def error_for(self, status: int) -> dict[str, Any]:
        if status == 409:  # the idempotent-refund page: a prior request with this key is still being processed
            return rzp_error("A request with the same idempotency key is currently being processed")
        if status == 429:
            return rzp_error("Too many requests")
        return rzp_error("We are facing some trouble completing your request at the moment.", "SERVER_ERROR")

    def public(self, path: str) -> bool:
        return path.startswith(("/i/", "/qr-images/"))

    def route(self, request: Request) -> tuple[int, Any] | Raw:
        method, path, body = request.method, request.path, request.body
        query = dict(request.query)
        parts = path.strip("/").split("/")
        with self.lock:
            if parts[0] in ("i", "qr-images"):
                return self._image(parts)
            if method == "POST" and path == "/v1/payments/qr_codes":
                return 200, self._create(body)
            if method == "GET" and path == "/v1/payments/qr_codes":
                # qrcode.md "Fetch all Qr code": from, to, count (default 10), skip; newest first
                since = int(query.get("from", "0"))
                count, skip = int(query.get("count", "10")), int(query.get("skip", "0"))
                items = sorted(
                    (q for q in self.state.qrs.values() if q["created_at"] >= since),
                    key=lambda q: q["created_at"],
                    reverse=True,
                )[skip : skip + count]
                return 200, {"entity": "collection", "count": len(items), "items": [self._shown(q) for q in items]}
            if parts[:3] == ["v1", "payments", "qr_codes"] and len(parts) >= 4:
                qr = self.state.qrs.get(parts[3])
                if qr is None:
                    raise ProviderError(400, rzp_error("The id provided does not exist"))
                if len(parts) == 4 and method == "GET":
                    return 200, self._shown(qr)
                if parts[4:] == ["payments"] and method == "GET":
                    # qrcode_payments_collection.json: newest first
                    items = sorted(
                        (p for p in self.state.payments.values() if p["_qr"] == qr["id"]),
                        key=lambda p: p["created_at"],
                        reverse=True,
                    )
                    return 200, {"entity": "collection", "count": len(items), "items": [_public(p) for p in items]}
                if parts[4:] == ["close"] and method == "POST":
                    if qr["status"] == "closed":
                        raise ProviderError(400, rzp_error("QR code is already closed"))
                    # qrcode.md "Close a QR Code": status closed, closed_at, close_reason on_demand
                    qr.update(status="closed", close_reason="on_demand", closed_at=int(time.time()))
                    return 200, self._shown(qr)
            if parts[:2] == ["v1", "payments"] and len(parts) == 4 and parts[2] in self.state.payments:
                payment = self.state.payments[parts[2]]
                if parts[3] == "refund" and method == "POST":
                    key = request.headers.get("X-Refund-Idempotency")
                    # the idempotent-refund page: a different payload with the same key is a BAD_REQUEST
                    conflict = rzp_error("Different request with the same idempotency key has already been processed.")
                    status, answer, _ = self.idempotent(key, body, lambda: self._refund(payment, body), conflict)
                    return status, answer
                if parts[3] == "refunds" and method == "GET":
                    items = self.state.refunds.get(payment["id"], [])
                    return 200, {"entity": "collection", "count": len(items), "items": items}  # refund_collection.json
        raise ProviderError(400, rzp_error("The requested URL was not found on the server."))

    def _create(self, body: Any) -> dict[str, Any]:
        # qrcode.md "Create Qr code": type upi_qr|bharat_qr, usage single_use|multiple_use, payment_amount
        # mandatory with fixed_amount, close_by at least 15 minutes after the current time
        if body.get("type") != "upi_qr" or body.get("usage") not in ("single_use", "multiple_use"):
            raise ProviderError(400, rzp_error("type must be upi_qr and usage single_use or multiple_use"))
        amount = body.get("payment_amount")
        if body.get("fixed_amount") is not True or type(amount) is not int or amount < 100:
            raise ProviderError(400, rzp_error("payment_amount is required for a fixed amount QR (at least 100)"))
        now = int(time.time())
        if not isinstance(body.get("close_by"), int) or body["close_by"] < now + 15 * 60:
            raise ProviderError(400, rzp_error("close_by should be at least 15 minutes after current time"))
        qr_id = "qr_" + secrets.token_urlsafe(10).replace("-", "A").replace("_", "B")[:14]
        content = upi.build(
            pa=self.pay_to or self.vpa,
            pn=self.name,
            amount=Amount(amount, "INR"),
            tr=f"RZP{qr_id[3:]}qrv2",
            tn=f"Payment to {self.name}",
            mc="5411",
        )
        short = qr_id[3:12]
        # fake_qrcode.json, field for field (customer_id null: the terminal links no customer)
        qr = {
            "id": qr_id,
            "entity": "qr_code",
            "created_at": now,
            "name": body.get("name"),
            "usage": body["usage"],
            "type": "upi_qr",
            "image_url": f"{self.url}/i/{short}",
            "payment_amount": amount,
            "status": "active",
            "description": body.get("description"),
            "fixed_amount": True,
            "payments_amount_received": 0,
            "payments_count_received": 0,
            "notes": body.get("notes") or {},
            "customer_id": None,
            "close_by": body["close_by"],
            "closed_at": None,
            "close_reason": None,
            "_content": content,
            "_short": short,
        }
        self.state.qrs[qr_id] = qr
        return self._shown(qr)

    def _shown(self, qr: dict[str, Any]) -> dict[str, Any]:
        shown = _public(qr)
        if self.image_content:  # the "QR Codes (Image Content)" feature adds the upi:// string
            shown["image_content"] = qr["_content"]
        return shown

    def _image(self, parts: list[str]) -> Raw:
        """``image_url`` is a short link (rzp.io/i/…) that redirects to the image itself."""
        qr = next((q for q in self.state.qrs.values() if q["_short"] == parts[-1].removesuffix(".png")), None)
        if qr is None:
            return Raw(404, b"not found")
        if parts[0] == "i":
            target = (
                "https://images.elsewhere.example/qr.png" if self.image == "elsewhere" else f"/qr-images/{parts[1]}.png"
            )
            return Raw(302, headers={"Location": target})
        if self.image == "garbage":
            return Raw(200, b"<html>not an image</html>", {"Content-Type": "image/png"})
        if self.image == "huge":
            return Raw(200, b"\x89PNG" + b"\0" * 3_000_000, {"Content-Type": "image/png"})
        text = "https://rzp.io/l/not-a-upi-link" if self.image == "not_upi" else qr["_content"]
        return Raw(200, qr_png(text), {"Content-Type": "image/png"})

    def _refund(self, payment: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        amount = body.get("amount", payment["amount"] - payment["amount_refunded"])
        if type(amount) is not int or amount <= 0 or payment["amount_refunded"] + amount > payment["amount"]:
            raise ProviderError(400, rzp_error("The refund amount provided is greater than amount captured"))
        # fake_refund.json, field for field; refund.md: normal speed answers processed, or pending while the bank
        # has not confirmed
        refund = {
            "id": "rfnd_" + secrets.token_hex(7),
            "entity": "refund",
            "amount": amount,
            "currency": "INR",
            "payment_id": payment["id"],
            "notes": body.get("notes") or {},
            "receipt": body.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "status": "pending" if self.refunds_async else "processed",
            "speed_processed": "normal",
            "speed_requested": body.get("speed", "normal"),
        }
        self.state.refunds.setdefault(payment["id"], []).append(refund)
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        return 200, refund

    # --- the customer, and the bank ---

    def pay(self, qr_id: str, vpa: str = "customer@okbank", amount: int | None = None) -> dict[str, Any]:
        """The customer pays the QR: a captured payment. A single-use QR closes with close_reason ``paid`` — and
        a second payment may still arrive on it (payments_count_received 2)."""
        with self.lock:
            qr = self.state.qrs[qr_id]
            pay_id = "pay_" + secrets.token_hex(7)
            paid = qr["payment_amount"] if amount is None else amount
            created = max(
                [int(time.time())] + [p["created_at"] + 1 for p in self.state.payments.values() if p["_qr"] == qr_id]
            )
            # qrcode_payments_collection.json, field for field
            payment = {
                "id": pay_id,
                "entity": "payment",
                "amount": paid,
                "currency": "INR",
                "status": "captured",
                "order_id": None,
                "invoice_id": None,
                "international": False,
                "method": "upi",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": True,
                "description": "QRv2 Payment",
                "card_id": None,
                "bank": None,
                "wallet": None,
                "vpa": vpa,
                "email": None,
                "contact": None,
                "customer_id": None,
                "notes": [],
                "fee": 0,
                "tax": 0,
                "error_code": None,
                "error_description": None,
                "error_source": None,
                "error_step": None,
                "error_reason": None,
                "acquirer_data": {"rrn": f"{secrets.randbelow(10**12):012d}"},
                "created_at": created,
                "_qr": qr_id,
            }
            self.state.payments[pay_id] = payment
            qr["payments_amount_received"] += paid
            qr["payments_count_received"] += 1
            if qr["usage"] == "single_use" and qr["status"] == "active":
                qr.update(status="closed", close_reason="paid", closed_at=int(time.time()))
            return payment

    def settle_refunds(self) -> None:
        """The bank confirms every pending refund: ``processed``."""
        with self.lock:
            for refunds in self.state.refunds.values():
                for refund in refunds:
                    if refund["status"] == "pending":
                        refund["status"] = "processed"


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}
