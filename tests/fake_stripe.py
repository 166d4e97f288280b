"""A local server playing Stripe's PaymentIntents (QR next actions) and Refunds, with the shapes Stripe publishes,
and the check of a request against the parameters Stripe's OpenAPI spec allows.

Sources, cited beside each shape below:
- stripe/openapi ``openapi/spec3.json``: ``components/schemas/payment_intent``, ``charge``, ``refund``,
  ``payment_intent_next_action_{promptpay,paynow,pix,wechat_pay}_display_qr_code``, ``error``; the request
  parameters of the endpoints the adapter calls, extracted for API version 2026-10-28.endive into
  ``tests/data/stripe-api-2026-10-28.endive.json``; ``openapi/fixtures3.json`` (``payment_intent``, ``refund``);
- Stripe's error codes: ``parameter_unknown``, ``parameter_invalid_integer``, ``amount_too_small``,
  ``idempotency_key_in_use`` (HTTP 409), ``payment_intent_unexpected_state``, ``resource_missing``, ``rate_limit``
  (HTTP 429), and ``payment_intent_payment_attempt_expired`` (a QR whose payment attempt expired);
- Stripe's minimum charge amounts (docs.stripe.com/currencies: USD 0.50 or the equivalent; THB 10, SGD 0.50);
- versioning: ``latest_charge`` exists from 2022-11-15; before it an intent lists its ``charges``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from terminal.core.money import Amount
from terminal.core.payloads import emv_profiles

from .providers import STRIPE_KEY, FakeProvider, ProviderError, Request

SPEC_FILE = Path(__file__).parent / "data" / "stripe-api-2026-10-28.endive.json"
SPEC = json.loads(SPEC_FILE.read_text())
#: docs.stripe.com/currencies, "Minimum and maximum charge amounts" (minor units).
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "brl": 50, "sgd": 50, "inr": 50, "thb": 1000, "jpy": 50}
_ENDPOINTS = [
    (re.compile(r"^/v1/payment_intents$"), "/v1/payment_intents"),
    (re.compile(r"^/v1/payment_intents/[^/]+$"), "/v1/payment_intents/{intent}"),
    (re.compile(r"^/v1/payment_intents/[^/]+/cancel$"), "/v1/payment_intents/{intent}/cancel"),
    (re.compile(r"^/v1/refunds$"), "/v1/refunds"),
]


def endpoint(method: str, path: str) -> str | None:
    """The spec's name for a request (``POST /v1/payment_intents/{intent}/cancel``), or None."""
    return next((f"{method} {name}" for pattern, name in _ENDPOINTS if pattern.match(path)), None)


def spec_problems(name: str, fields: list[tuple[str, str]]) -> list[str]:
    """What in ``fields`` (form or query, bracketed names) the spec extract does not allow for endpoint ``name``."""
    allowed = SPEC["endpoints"].get(name)
    if allowed is None:
        return [f"{name} is not an endpoint of the spec extract"]
    problems = []
    for key, value in fields:
        head, rest = key.split("[", 1)[0], re.findall(r"\[([^\]]*)\]", key)
        node: dict[str, Any] | None = allowed.get(head)
        if node is None:
            problems.append(f"{key}: unknown parameter")
            continue
        for segment in rest:
            if node is None:
                break
            if node.get("type") == "array" and (segment == "" or segment.isdigit()):
                node = node.get("items", {})
            elif node.get("type") == "object" and "properties" in node:
                node = node["properties"].get(segment)
                if node is None:
                    problems.append(f"{key}: unknown member {segment!r}")
            elif node.get("type") == "object":
                node = None  # an open object (metadata): any member, string values
            else:
                problems.append(f"{key}: {head} has no members")
                node = None
        if node is not None:
            problems += [f"{key}={value!r}: {p}" for p in _value_problems(node, value)]
    return problems


def _value_problems(node: dict[str, Any], value: str) -> list[str]:
    kind = node.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return ["not an integer"]
        low, high = node.get("minimum"), node.get("maximum")
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            return [f"outside {low}…{high}"]
    if kind == "boolean" and value not in ("true", "false"):
        return ["not a boolean"]
    if kind in ("object", "array"):
        return [f"a {kind} given as a plain value"]
    if "enum" in node and value not in node["enum"]:
        return [f"not one of {node['enum']}"]
    return []


def stripe_error(
    message: str, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """``components/schemas/error``: ``{"error": {type, code, message, param}}``."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}


class FakeStripe(FakeProvider):
    """Stripe's PaymentIntents (QR next actions for PromptPay, PayNow, PIX, WeChat Pay) and Refunds, in memory.
    Every request is checked against the spec extract (an unknown parameter is Stripe's 400 parameter_unknown)."""

    def __init__(
        self,
        *,
        promptpay_id: str = "0105556000000",
        paynow_uen: str = "201912345K",
        pix_key: str = "pix@stripe.example",
        name: str = "Chai Point",
    ) -> None:
        super().__init__()
        self.accounts = {"promptpay": promptpay_id, "paynow": paynow_uen, "pix": pix_key, "wechat_pay": "wx"}
        self.name = name
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        #: Another account id to play a QR that pays someone else.
        self.pay_to: str | None = None

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Bearer {STRIPE_KEY}"

    def unauthorised(self) -> dict[str, Any]:
        return stripe_error("Invalid API Key provided: sk_test_****")

    def error_for(self, status: int) -> dict[str, Any]:
        if status == 409:
            return stripe_error(
                "There is currently another in-progress request using this Idempotent Key (that "
                "probably means you submitted twice, and the other request is still going "
                "through). Please retry your request.",
                code="idempotency_key_in_use",
            )
        if status == 429:
            return stripe_error(
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                code="rate_limit",
            )
        return stripe_error("An unknown error occurred", type_="api_error")

    def route(self, request: Request) -> tuple[int, Any]:
        method, path = request.method, request.path
        name = endpoint(method, path)
        fields = request.form if method == "POST" else request.query
        if name is not None:
            problems = spec_problems(name, fields)
            if problems:
                param, _, why = problems[0].partition(": ")
                param = param.split("=")[0]
                if why.startswith("unknown"):
                    raise ProviderError(
                        400, stripe_error(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)
                    )
                if why == "not an integer":
                    value = dict(fields).get(param, "")
                    raise ProviderError(
                        400, stripe_error(f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)
                    )
                raise ProviderError(400, stripe_error(f"Invalid {param}: {why}", param=param))
        form, query = dict(request.form), dict(request.query)
        expand = {v for k, v in [*request.form, *request.query] if k.startswith("expand[")}
        old = "Stripe-Version" not in request.headers  # the account's default: an old version here
        parts = path.strip("/").split("/")
        key = request.headers.get("Idempotency-Key")
        conflict = stripe_error(
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            "idempotency_error",
        )
        with self.lock:
            if method == "POST" and path == "/v1/payment_intents":
                status, answer, replayed = self.idempotent(key, form, lambda: (200, self._create(form)), conflict)
                return status, (self._shown(answer["id"], expand, old) if not replayed else answer, replayed)
            if method == "GET" and path == "/v1/payment_intents":
                since = int(query.get("created[gte]", "0"))
                chosen = sorted(
                    (i for i in self.intents.values() if i["created"] >= since),
                    key=lambda i: i["created"],
                    reverse=True,
                )
                after = query.get("starting_after")
                if after:
                    ids = [i["id"] for i in chosen]
                    chosen = chosen[ids.index(after) + 1 :] if after in ids else []
                limit = int(query.get("limit", "10"))
                inner = {e.removeprefix("data.") for e in expand if e.startswith("data.")}
                data = [self._shown(i["id"], inner, old) for i in chosen[:limit]]
                return 200, {
                    "object": "list",
                    "data": data,
                    "has_more": len(chosen) > limit,
                    "url": "/v1/payment_intents",
                }
            if parts[:2] == ["v1", "payment_intents"] and len(parts) >= 3:
                intent = self.intents.get(parts[2])
                if intent is None:
                    raise ProviderError(
                        404,
                        stripe_error(f"No such payment_intent: '{parts[2]}'", code="resource_missing", param="intent"),
                    )
                if len(parts) == 3 and method == "GET":
                    return 200, self._shown(intent["id"], expand, old)
                if parts[3:] == ["cancel"] and method == "POST":
                    if intent["status"] in ("succeeded", "canceled"):
                        raise ProviderError(
                            400,
                            stripe_error(
                                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                                "Only a PaymentIntent with one of the following statuses may be canceled: "
                                "requires_payment_method, requires_capture, requires_confirmation, requires_action, "
                                "processing.",
                                code="payment_intent_unexpected_state",
                            ),
                        )
                    intent.update(
                        status="canceled",
                        cancellation_reason=form.get("cancellation_reason"),
                        canceled_at=int(time.time()),
                        next_action=None,
                    )
                    return 200, self._shown(intent["id"], expand, old)
            if method == "POST" and path == "/v1/refunds":
                status, answer, replayed = self.idempotent(key, form, lambda: (200, self._refund(form)), conflict)
                return status, (answer if replayed else dict(self.refunds[answer["id"]]), replayed)
            if method == "GET" and path == "/v1/refunds":
                data = [r for r in self.refunds.values() if r["payment_intent"] == query.get("payment_intent")]
                return 200, {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"}
        raise ProviderError(404, stripe_error(f"Unrecognized request URL ({method}: {path}).", code=None))

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        method = form.get("payment_method_data[type]")
        if method not in self.accounts or form.get("allowed_payment_method_types[0]") not in (None, method):
            raise ProviderError(
                400,
                stripe_error(
                    f"The payment method type {method!r} is invalid.", code="payment_method_invalid_parameter"
                ),
            )
        raw, currency = form.get("amount", ""), form.get("currency", "")
        if not raw:
            raise ProviderError(
                400, stripe_error("Missing required param: amount.", code="parameter_missing", param="amount")
            )
        if not raw.isdigit():
            raise ProviderError(
                400, stripe_error(f"Invalid integer: {raw}", code="parameter_invalid_integer", param="amount")
            )
        amount = Amount(int(raw), currency.upper())
        least = MINIMUM_CHARGE.get(currency)
        if least is not None and amount.minor < least:
            shown = Amount(least, currency.upper()).format()
            raise ProviderError(
                400,
                stripe_error(f"Amount must be at least {shown} {currency}", code="amount_too_small", param="amount"),
            )
        intent_id = "pi_" + secrets.token_hex(12)
        account = self.pay_to or self.accounts[method]
        now = int(time.time())
        # payment_intent_next_action_<method>_display_qr_code
        action: dict[str, Any] = {
            "hosted_instructions_url": f"https://payments.stripe.com/qr/instructions/{intent_id}",
            "image_url_png": f"https://qr.stripe.com/{intent_id}.png",
            "image_url_svg": f"https://qr.stripe.com/{intent_id}.svg",
        }
        if method == "promptpay":
            action["data"] = emv_profiles.build_promptpay(payee=account, amount=amount)
        elif method == "paynow":
            action["data"] = emv_profiles.build_paynow(proxy=account, name=self.name, amount=amount)
        elif method == "pix":
            action["data"] = emv_profiles.build_pix(
                key=account, name=self.name, city="SAO PAULO", amount=amount, txid=intent_id[3:28]
            )
            action["expires_at"] = now + int(form.get("payment_method_options[pix][expires_after_seconds]", "14400"))
        else:  # WeChat Pay: an opaque weixin:// link, and the image as a data URL too
            action["data"] = f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"
            action["image_data_url"] = "data:image/png;base64,iVBORw0KGgo="
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        # components/schemas/payment_intent (fixtures3.json payment_intent), the fields a QR intent has
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount.minor,
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_fixture",
            "confirmation_method": "automatic",
            "created": now,
            "currency": currency,
            "customer": None,
            "description": form.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": {"type": f"{method}_display_qr_code", f"{method}_display_qr_code": action},
            "on_behalf_of": None,
            "payment_method": f"pm_{secrets.token_hex(12)}",
            "payment_method_options": {method: {}},
            "payment_method_types": [method],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_action",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.intents[intent_id] = intent
        return intent

    def _shown(self, intent_id: str, expand: set[str], old: bool) -> dict[str, Any]:
        """The intent as the request's version and expand ask: ``latest_charge`` an id or the charge object;
        before 2022-11-15 (no Stripe-Version: this account's old default) ``charges`` instead."""
        intent = dict(self.intents[intent_id])
        charge = self.charges.get(intent["latest_charge"] or "")
        if old:
            del intent["latest_charge"]
            intent["charges"] = {
                "object": "list",
                "data": [charge] if charge else [],
                "has_more": False,
                "url": f"/v1/charges?payment_intent={intent_id}",
            }
        elif charge is not None and "latest_charge" in expand:
            intent["latest_charge"] = dict(charge)
        return intent

    def _refund(self, form: dict[str, str]) -> dict[str, Any]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            raise ProviderError(
                400,
                stripe_error(
                    "This PaymentIntent does not have a successful charge to refund.", code="charge_not_refundable"
                ),
            )
        method = intent["payment_method_types"][0]
        if method == "promptpay" and not form.get("instructions_email"):
            # POST /v1/refunds instructions_email: "For payment methods without native refund support (e.g.,
            # Konbini, PromptPay), use this email from the customer to receive refund instructions."
            raise ProviderError(
                400,
                stripe_error(
                    "instructions_email is required to refund a promptpay payment.",
                    code="parameter_missing",
                    param="instructions_email",
                ),
            )
        done = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == intent["id"] and r["status"] not in ("failed", "canceled")
        )
        amount = int(form.get("amount", intent["amount_received"] - done))
        if amount <= 0 or done + amount > intent["amount_received"]:
            raise ProviderError(
                400,
                stripe_error(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge.",
                    code="amount_too_large",
                    param="amount",
                ),
            )
        # components/schemas/refund (fixtures3.json refund); PayNow refunds settle later (pending → succeeded);
        # a PromptPay refund waits for the customer's bank details (requires_action, instructions emailed)
        status = {"paynow": "pending", "promptpay": "requires_action"}.get(method, "succeeded")
        refund: dict[str, Any] = {
            "id": "re_" + secrets.token_hex(12),
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "destination_details": {"type": method, method: {}},
            "failure_reason": None,
            "instructions_email": form.get("instructions_email"),
            "next_action": None,
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "payment_intent": intent["id"],
            "reason": form.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": status,
            "transfer_reversal": None,
        }
        if status == "requires_action":
            refund["next_action"] = {
                "type": "display_details",
                "display_details": {
                    "email_sent": {"email_sent_at": int(time.time()), "email_sent_to": form["instructions_email"]},
                    "expires_at": int(time.time()) + 45 * 86400,
                },
            }
        self.refunds[refund["id"]] = refund
        return refund

    # --- the customer, the bank, and Stripe's own clock ---

    def pay(self, intent_id: str, *, name: str | None = None, email: str | None = None) -> dict[str, Any]:
        """The customer pays: the intent succeeds with a charge (components/schemas/charge)."""
        with self.lock:
            intent = self.intents[intent_id]
            method = intent["payment_method_types"][0]
            details = {
                "promptpay": {"reference": f"{secrets.randbelow(10**12):012d}"},
                "paynow": {"reference": f"PN{secrets.token_hex(6)}", "location": None, "reader": None},
                "pix": {"bank_transaction_id": f"E{secrets.token_hex(10)}", "fingerprint": None, "mandate": None},
                "wechat_pay": {
                    "transaction_id": f"42{secrets.randbelow(10**16):016d}",
                    "fingerprint": None,
                    "location": None,
                    "reader": None,
                },
            }[method]
            charge_id = "ch_" + secrets.token_hex(12)
            charge = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "balance_transaction": None,
                "billing_details": {"address": None, "email": email, "name": name, "phone": None},
                "captured": True,
                "created": int(time.time()),
                "currency": intent["currency"],
                "description": intent["description"],
                "metadata": {},
                "paid": True,
                "payment_intent": intent_id,
                "payment_method": intent["payment_method"],
                "payment_method_details": {"type": method, method: details},
                "receipt_email": None,
                "receipt_number": None,
                "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge_id}",
                "refunded": False,
                "status": "succeeded",
            }
            self.charges[charge_id] = charge
            intent.update(
                status="succeeded", amount_received=intent["amount"], next_action=None, latest_charge=charge_id
            )
            return charge

    def decline(self, intent_id: str) -> None:
        """The customer's bank declines: back to requires_payment_method with last_payment_error."""
        with self.lock:
            self.intents[intent_id].update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "code": "payment_method_provider_decline",
                    "message": "The customer's bank declined.",
                    "type": "card_error",
                },
            )

    def expire(self, intent_id: str) -> None:
        """Stripe's own expiry on current versions: canceled, cancellation_reason ``expired``."""
        with self.lock:
            self.intents[intent_id].update(
                status="canceled", cancellation_reason="expired", canceled_at=int(time.time()), next_action=None
            )

    def attempt_expired(self, intent_id: str) -> None:
        """The QR's payment attempt expired: requires_payment_method with payment_intent_payment_attempt_expired."""
        with self.lock:
            self.intents[intent_id].update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "code": "payment_intent_payment_attempt_expired",
                    "message": "The payment attempt expired.",
                    "type": "invalid_request_error",
                },
            )

    def settle_refunds(self) -> None:
        """The bank confirms the pending refunds: ``succeeded``."""
        with self.lock:
            for refund in self.refunds.values():
                if refund["status"] == "pending":
                    refund["status"] = "succeeded"
