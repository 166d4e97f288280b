"""Local HTTP servers speaking Razorpay's and Stripe's documented request and response shapes (from their API
references: QR Codes, Payments, Refunds; PaymentIntents, Refunds), including their error bodies, 429 with
Retry-After and idempotent replay. Real servers on 127.0.0.1, driven by the terminal's adapters over HTTP."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from terminal.core.money import Amount
from terminal.core.payloads import emv_profiles, upi

#: Test keys: plainly fake, in the providers' formats.
RAZORPAY_KEY_ID = "rzp_test_qrterminalfixture"
RAZORPAY_KEY_SECRET = "fixture-secret-not-real"
STRIPE_KEY = "sk_test_qrterminal_fixture_not_real"


@dataclass
class Fault:
    """The next ``count`` requests whose path contains ``path`` answer ``status`` (429 with Retry-After)."""

    path: str
    status: int = 429
    count: int = 1
    retry_after: int = 1


class ProviderError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


class FakeProvider(ThreadingHTTPServer):
    """Common plumbing: routes, auth, faults, idempotency keys, every request recorded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.faults: list[Fault] = []
        self.keys: dict[str, tuple[str, int, dict[str, Any]]] = {}  # idempotency key → (body, status, answer)

    def __enter__(self) -> FakeProvider:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None

    def idempotent(self, key: str | None, body: Any, make: Any, conflict: dict[str, Any]) -> tuple[int, Any, bool]:
        """(status, answer, replayed): the same key and body → the same answer; another body → 400."""
        with self.lock:
            digest = json.dumps(body, sort_keys=True)
            if key and key in self.keys:
                known, status, answer = self.keys[key]
                if known != digest:
                    raise ProviderError(400, conflict)
                return status, answer, True
            status, answer = make()
            if key:  # the answer as it was first given, as the providers replay it
                self.keys[key] = (digest, status, copy.deepcopy(answer))
            return status, answer, False

    def authorised(self, headers: Any) -> bool:
        raise NotImplementedError

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def unauthorised(self) -> dict[str, Any]:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    server: FakeProvider

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            body: Any = json.loads(raw or b"{}")
        else:
            body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((self.command, url.path, dict(self.headers), body))
        extra: dict[str, str] = {}
        fault = self.server.fault(url.path)
        if fault is not None:
            status, answer = fault.status, {"error": {"code": "rate_limit", "message": "Too many requests",
                                                      "description": "Too many requests"}}  # fmt: skip
            extra["Retry-After"] = str(fault.retry_after)
        elif not self.server.authorised(self.headers):
            status, answer = 401, self.server.unauthorised()
        else:
            try:
                status, answer = self.server.route(self.command, url.path, query, body, self.headers)
                if isinstance(answer, tuple):
                    answer, replayed = answer
                    if replayed:
                        extra["Idempotent-Replayed"] = "true"
            except ProviderError as exc:
                status, answer = exc.status, exc.body
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


# --- Razorpay ------------------------------------------------------------------------------------


def rzp_error(description: str, code: str = "BAD_REQUEST_ERROR") -> dict[str, Any]:
    return {"error": {"code": code, "description": description, "source": "NA", "step": "NA", "reason": "NA",
                      "metadata": {}}}  # fmt: skip


@dataclass
class RazorpayState:
    qrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # pay id → payment
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # pay id → refunds


class FakeRazorpay(FakeProvider):
    """Razorpay's QR Codes, Payments and Refunds APIs, in memory."""

    def __init__(self, vpa: str = "rzr.qrchaipoint1234@icici", name: str = "Chai Point") -> None:
        super().__init__()
        self.vpa, self.name = vpa, name
        self.state = RazorpayState()
        #: Set to another VPA to play a provider (or a proxy in between) that returns a QR for someone else.
        self.pay_to: str | None = None

    def authorised(self, headers: Any) -> bool:
        expected = base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def unauthorised(self) -> dict[str, Any]:
        return rzp_error("The api key provided is invalid")

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        with self.lock:
            if method == "POST" and path == "/v1/payments/qr_codes":
                return 200, self._create(body)
            if method == "GET" and path == "/v1/payments/qr_codes":
                since = int(query.get("from", "0"))
                count, skip = int(query.get("count", "10")), int(query.get("skip", "0"))
                items = sorted((q for q in self.state.qrs.values() if q["created_at"] >= since),
                               key=lambda q: q["created_at"], reverse=True)[skip : skip + count]  # fmt: skip
                return 200, {"entity": "collection", "count": len(items), "items": items}
            if parts[:3] == ["v1", "payments", "qr_codes"] and len(parts) >= 4:
                qr = self.state.qrs.get(parts[3])
                if qr is None:
                    raise ProviderError(400, rzp_error("The id provided does not exist"))
                if len(parts) == 4 and method == "GET":
                    return 200, qr
                if parts[4:] == ["payments"] and method == "GET":
                    items = [p for p in self.state.payments.values() if p["_qr"] == qr["id"]]
                    return 200, {"entity": "collection", "count": len(items), "items": [_public(p) for p in items]}
                if parts[4:] == ["close"] and method == "POST":
                    if qr["status"] == "closed":
                        raise ProviderError(400, rzp_error("QR code is already closed"))
                    qr.update(status="closed", close_reason="on_demand", closed_at=int(time.time()))
                    return 200, qr
            if parts[:2] == ["v1", "payments"] and len(parts) == 4 and parts[2] in self.state.payments:
                payment = self.state.payments[parts[2]]
                if parts[3] == "refund" and method == "POST":
                    key = headers.get("X-Refund-Idempotency")
                    conflict = rzp_error("Different request with the same idempotency key has already been processed.")
                    status, answer, _ = self.idempotent(key, body, lambda: self._refund(payment, body), conflict)
                    return status, answer
                if parts[3] == "refunds" and method == "GET":
                    items = self.state.refunds.get(payment["id"], [])
                    return 200, {"entity": "collection", "count": len(items), "items": items}
        raise ProviderError(400, rzp_error("The requested URL was not found on the server."))

    def _create(self, body: Any) -> dict[str, Any]:
        if body.get("type") != "upi_qr" or body.get("usage") not in ("single_use", "multiple_use"):
            raise ProviderError(400, rzp_error("type must be upi_qr and usage single_use or multiple_use"))
        amount = body.get("payment_amount")
        if body.get("fixed_amount") is not True or type(amount) is not int or amount < 100:
            raise ProviderError(400, rzp_error("payment_amount is required for a fixed amount QR (at least 100)"))
        now = int(time.time())
        if not isinstance(body.get("close_by"), int) or body["close_by"] < now + 15 * 60:
            raise ProviderError(400, rzp_error("close_by should be at least 15 minutes after current time"))
        qr_id = "qr_" + secrets.token_urlsafe(10).replace("-", "A").replace("_", "B")[:14]
        content = upi.build(pa=self.pay_to or self.vpa, pn=self.name, amount=Amount(amount, "INR"),
                            tr=f"RZP{qr_id[3:]}qrv2", tn=f"Payment to {self.name}", mc="5411")  # fmt: skip
        qr = {"id": qr_id, "entity": "qr_code", "created_at": now, "name": body.get("name"), "usage": body["usage"],
              "type": "upi_qr", "image_url": f"https://rzp.io/i/{qr_id[3:9]}", "payment_amount": amount,
              "status": "active", "description": body.get("description"), "fixed_amount": True,
              "payments_amount_received": 0, "payments_count_received": 0, "notes": body.get("notes") or {},
              "customer_id": None, "close_by": body["close_by"], "image_content": content}  # fmt: skip
        self.state.qrs[qr_id] = qr
        return qr

    def _refund(self, payment: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        amount = body.get("amount", payment["amount"] - payment["amount_refunded"])
        if type(amount) is not int or amount <= 0 or payment["amount_refunded"] + amount > payment["amount"]:
            raise ProviderError(400, rzp_error("The refund amount provided is greater than amount captured"))
        refund = {"id": "rfnd_" + secrets.token_hex(7), "entity": "refund", "amount": amount, "currency": "INR",
                  "payment_id": payment["id"], "notes": body.get("notes") or {}, "receipt": body.get("receipt"),
                  "status": "processed", "speed_requested": body.get("speed", "normal"),
                  "created_at": int(time.time())}  # fmt: skip
        self.state.refunds.setdefault(payment["id"], []).append(refund)
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        return 200, refund

    # --- the customer ---

    def pay(self, qr_id: str, vpa: str = "customer@okbank") -> dict[str, Any]:
        """The customer pays the QR: a captured payment, and a single-use QR closes."""
        with self.lock:
            qr = self.state.qrs[qr_id]
            pay_id = "pay_" + secrets.token_hex(7)
            payment = {"id": pay_id, "entity": "payment", "amount": qr["payment_amount"], "currency": "INR",
                       "status": "captured", "method": "upi", "amount_refunded": 0, "refund_status": None,
                       "captured": True, "vpa": vpa, "created_at": int(time.time()),
                       "acquirer_data": {"rrn": f"{secrets.randbelow(10**12):012d}"}, "_qr": qr_id}  # fmt: skip
            self.state.payments[pay_id] = payment
            qr["payments_amount_received"] += qr["payment_amount"]
            qr["payments_count_received"] += 1
            if qr["usage"] == "single_use":
                qr.update(status="closed", close_reason="paid", closed_at=int(time.time()))
            return payment


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


# --- Stripe --------------------------------------------------------------------------------------


def stripe_error(message: str, type_: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


class FakeStripe(FakeProvider):
    """Stripe's PaymentIntents (QR next actions for PromptPay, PayNow, PIX) and Refunds, in memory."""

    def __init__(self, *, promptpay_id: str = "0105556000000", paynow_uen: str = "201912345K",
                 pix_key: str = "pix@stripe.example", name: str = "Chai Point") -> None:  # fmt: skip
        super().__init__()
        self.accounts = {"promptpay": promptpay_id, "paynow": paynow_uen, "pix": pix_key}
        self.name = name
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        #: Another account id to play a QR that pays someone else.
        self.pay_to: str | None = None

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Bearer {STRIPE_KEY}"

    def unauthorised(self) -> dict[str, Any]:
        return stripe_error("Invalid API Key provided: sk_test_****")

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        key = headers.get("Idempotency-Key")
        conflict = stripe_error("Keys for idempotent requests can only be used with the same parameters they were "
                                "first used with.", "idempotency_error")  # fmt: skip
        with self.lock:
            if method == "POST" and path == "/v1/payment_intents":
                status, answer, replayed = self.idempotent(key, body, lambda: (200, self._create(body)), conflict)
                return status, (answer, replayed)
            if method == "GET" and path == "/v1/payment_intents":
                since = int(query.get("created[gte]", "0"))
                chosen = sorted((i for i in self.intents.values() if i["created"] >= since),
                                key=lambda i: i["created"], reverse=True)  # fmt: skip
                after = query.get("starting_after")
                if after:
                    ids = [i["id"] for i in chosen]
                    chosen = chosen[ids.index(after) + 1 :] if after in ids else []
                limit = int(query.get("limit", "10"))
                return 200, {"object": "list", "data": chosen[:limit], "has_more": len(chosen) > limit,
                             "url": "/v1/payment_intents"}  # fmt: skip
            if parts[:2] == ["v1", "payment_intents"] and len(parts) >= 3:
                intent = self.intents.get(parts[2])
                if intent is None:
                    raise ProviderError(404, stripe_error(f"No such payment_intent: '{parts[2]}'",
                                                          code="resource_missing"))  # fmt: skip
                if len(parts) == 3 and method == "GET":
                    return 200, intent
                if parts[3:] == ["cancel"] and method == "POST":
                    if intent["status"] in ("succeeded", "canceled"):
                        raise ProviderError(400, stripe_error(
                            f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                            code="payment_intent_unexpected_state"))  # fmt: skip
                    intent.update(status="canceled", cancellation_reason=body.get("cancellation_reason"),
                                  canceled_at=int(time.time()), next_action=None)  # fmt: skip
                    return 200, intent
            if method == "POST" and path == "/v1/refunds":
                status, answer, replayed = self.idempotent(key, body, lambda: (200, self._refund(body)), conflict)
                return status, (answer, replayed)
            if method == "GET" and path == "/v1/refunds":
                data = [r for r in self.refunds.values() if r["payment_intent"] == query.get("payment_intent")]
                return 200, {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"}
        raise ProviderError(404, stripe_error(f"Unrecognized request URL ({method}: {path}).", code=None))

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        method = form.get("payment_method_types[]")
        if method not in self.accounts or form.get("payment_method_data[type]") != method:
            raise ProviderError(400, stripe_error(f"The payment method type {method!r} is invalid.",
                                                  code="payment_method_invalid_parameter"))  # fmt: skip
        try:
            amount = Amount(int(form["amount"]), form["currency"].upper())
        except (KeyError, ValueError):
            raise ProviderError(
                400, stripe_error("Missing required param: amount.", code="parameter_missing")
            ) from None
        intent_id = "pi_" + secrets.token_hex(12)
        account = self.pay_to or self.accounts[method]
        if method == "promptpay":
            data = emv_profiles.build_promptpay(payee=account, amount=amount)
        elif method == "paynow":
            data = emv_profiles.build_paynow(proxy=account, name=self.name, amount=amount)
        else:
            data = emv_profiles.build_pix(key=account, name=self.name, city="SAO PAULO", amount=amount,
                                          txid=intent_id[3:28])  # fmt: skip
        now = int(time.time())
        action = {"data": data, "hosted_instructions_url": f"https://payments.stripe.com/qr/instructions/{intent_id}",
                  "image_url_png": f"https://qr.stripe.com/{intent_id}.png",
                  "image_url_svg": f"https://qr.stripe.com/{intent_id}.svg"}  # fmt: skip
        if method == "pix":
            action["expires_at"] = now + int(form.get("payment_method_options[pix][expires_after_seconds]", "3600"))
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        intent = {"id": intent_id, "object": "payment_intent", "amount": amount.minor, "amount_received": 0,
                  "currency": amount.currency.lower(), "status": "requires_action", "created": now,
                  "description": form.get("description"), "metadata": metadata, "payment_method_types": [method],
                  "next_action": {"type": f"{method}_display_qr_code", f"{method}_display_qr_code": action},
                  "latest_charge": None, "last_payment_error": None, "cancellation_reason": None}  # fmt: skip
        self.intents[intent_id] = intent
        return intent

    def _refund(self, form: dict[str, str]) -> dict[str, Any]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            raise ProviderError(400, stripe_error("This PaymentIntent does not have a successful charge to refund.",
                                                  code="charge_not_refundable"))  # fmt: skip
        done = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        amount = int(form.get("amount", intent["amount_received"] - done))
        if amount <= 0 or done + amount > intent["amount_received"]:
            raise ProviderError(400, stripe_error(f"Refund amount ({amount}) is greater than unrefunded amount on "
                                                  "charge.", code="amount_too_large"))  # fmt: skip
        refund = {"id": "re_" + secrets.token_hex(12), "object": "refund", "amount": amount,
                  "currency": intent["currency"], "payment_intent": intent["id"], "status": "succeeded",
                  "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                  "created": int(time.time())}  # fmt: skip
        self.refunds[refund["id"]] = refund
        return refund

    # --- the customer ---

    def pay(self, intent_id: str) -> None:
        with self.lock:
            intent = self.intents[intent_id]
            intent.update(status="succeeded", amount_received=intent["amount"], next_action=None,
                          latest_charge="ch_" + secrets.token_hex(12))  # fmt: skip

    def decline(self, intent_id: str) -> None:
        with self.lock:
            self.intents[intent_id].update(status="requires_payment_method", next_action=None,
                                           last_payment_error={"code": "payment_method_provider_decline",
                                                               "message": "The customer's bank declined."})  # fmt: skip
