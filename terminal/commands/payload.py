"""``qr-terminal payload``: what does this QR say, and what would ours say — for integrators."""

from __future__ import annotations

import argparse
import json
import sys

from terminal.core.money import Amount, MoneyError
from terminal.core.payloads import emv_profiles, epc, upi
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.summary import summarise

CURRENCIES = {"pix": "BRL", "promptpay": "THB", "paynow": "SGD", "upi": "INR", "epc": "EUR"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``payload parse STRING`` and ``payload build …``."""
    verbs = parser.add_subparsers(dest="verb", required=True)
    read = verbs.add_parser("parse", help="print what a payload says, as JSON (exit 1 if it is invalid)")
    read.add_argument("payload", help="the payload text ('-' reads it from standard input)")
    make = verbs.add_parser("build", help="print a payload")
    make.add_argument("--scheme", required=True, choices=sorted(CURRENCIES))
    make.add_argument("--payee", required=True, help="Pix key, PromptPay id, PayNow UEN or +65 mobile, VPA, IBAN")
    make.add_argument("--name", required=True, help="the payee's name as the customer's app shows it")
    make.add_argument("--city", default="", help="merchant city (PIX: required; PayNow: default Singapore)")
    make.add_argument("--amount", required=True, help="a decimal amount, e.g. 12.50")
    make.add_argument("--currency", default=None, help="ISO 4217 code (default: the scheme's)")
    make.add_argument("--reference", default="", help="the payment's reference (PIX txid: letters and digits)")


def run(args: argparse.Namespace) -> int:
    """Exit 0 with the result on stdout, or 1 with a clear message on stderr."""
    try:
        if args.verb == "parse":
            text = sys.stdin.read().rstrip("\n") if args.payload == "-" else args.payload
            print(json.dumps(summarise(text).as_json(), ensure_ascii=False, indent=2))
        else:
            print(_build(args))
    except (PayloadError, MoneyError) as exc:
        print(f"qr-terminal payload: {exc}", file=sys.stderr)
        return 1
    return 0


def _build(args: argparse.Namespace) -> str:
    currency = args.currency or CURRENCIES[args.scheme]
    amount = Amount.parse(args.amount, currency)
    if args.scheme == "pix":
        if not args.city:
            raise PayloadError("PIX needs --city (the merchant's city, up to 15 characters)")
        return emv_profiles.build_pix(
            key=args.payee, name=args.name, city=args.city, amount=amount, txid=args.reference or "***"
        )
    if args.scheme == "promptpay":
        return emv_profiles.build_promptpay(payee=args.payee, amount=amount, reference=args.reference)
    if args.scheme == "paynow":
        return emv_profiles.build_paynow(
            proxy=args.payee, name=args.name, amount=amount, reference=args.reference, city=args.city or "Singapore"
        )
    if args.scheme == "upi":
        return upi.build(pa=args.payee, pn=args.name, amount=amount, tr=args.reference)
    reference, text = (args.reference, "") if args.reference.startswith("RF") else ("", args.reference)
    return epc.build(name=args.name, iban=args.payee, amount=amount, reference=reference, text=text)
