"""[backend] for the provider adapters: Razorpay's image hosts, and each provider's limits read at load (its
minimum sale and whether refunds can be made from the terminal, handed to the core's settings; the sale_ttl its
QR expiry allows)."""

from __future__ import annotations

import pytest

from terminal.backends import stripe
from terminal.config import ConfigError, load
from terminal.core.money import Amount
from terminal.wiring import backend_from, settings_from

TEMPLATE = """
[terminal]
id = "T1"
currency = "{currency}"
sale_ttl = {ttl}
[merchant]
name = "Shop"
[payee]
ids = ["shop@okbank"]
[backend]
kind = "{kind}"
{extra}
"""
KEYS = {
    "razorpay": {"QR_TERMINAL_RAZORPAY_KEY_ID": "rzp_test_fixture1", "QR_TERMINAL_RAZORPAY_KEY_SECRET": "s1234567"},
    "stripe": {"QR_TERMINAL_STRIPE_SECRET_KEY": "sk_test_fixture_only"},
}


def load_with(tmp_path, kind, currency, extra="", ttl=300):
    path = tmp_path / "terminal.toml"
    path.write_text(TEMPLATE.format(kind=kind, currency=currency, extra=extra, ttl=ttl))
    return load(path, environ=KEYS[kind])


def test_razorpay_image_hosts_default_to_razorpays_and_reach_the_adapter(tmp_path):
    config = load_with(tmp_path, "razorpay", "INR")
    assert config.backend.image_hosts == ("rzp.io", "razorpay.com")
    custom = load_with(tmp_path, "razorpay", "INR", 'image_hosts = ["rzp.io", "images.proxy.example"]')
    assert backend_from(custom)._image["hosts"] == ("rzp.io", "images.proxy.example")


def test_image_hosts_for_another_backend_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_with(tmp_path, "stripe", "THB", 'image_hosts = ["rzp.io"]')
    assert error.value.key == "backend.image_hosts" and 'kind = "razorpay"' in str(error.value)


@pytest.mark.parametrize(
    ("kind", "currency", "extra", "minimum", "elsewhere"),
    [
        ("razorpay", "INR", "", Amount(100, "INR"), ""),
        ("stripe", "THB", 'method = "promptpay"', Amount(1000, "THB"), stripe.REFUND_REFUSALS["promptpay"]),
        ("stripe", "SGD", 'method = "paynow"', Amount(50, "SGD"), ""),
    ],
)
def test_the_providers_minimum_and_refund_refusal_reach_the_cores_settings(
    tmp_path, kind, currency, extra, minimum, elsewhere
):
    settings = settings_from(load_with(tmp_path, kind, currency, extra))
    assert settings.minimum == minimum and settings.refunds_elsewhere == elsewhere
    assert settings.minimum_reason == f"the smallest amount {kind.capitalize()} accepts"


def test_pix_gets_a_margin_so_the_shortest_sale_ttl_is_within_stripes_bounds(tmp_path):
    config = load_with(tmp_path, "stripe", "BRL", 'method = "pix"', ttl=30)
    assert config.terminal.sale_ttl == 30 and stripe.pix_expiry(30) == 90  # Stripe's floor is 60


@pytest.mark.parametrize(("ttl", "ok"), [(-1, False), (0, True), (1_209_540, True), (1_209_541, False)])
def test_pix_sale_ttl_bounds_are_stripes_less_the_margin(ttl, ok):
    problem = stripe.sale_ttl_problem("pix", ttl)
    assert (problem is None) is ok
    assert ok or "60 to 1209600 seconds" in problem


def test_other_methods_put_no_bound_on_sale_ttl():
    assert stripe.sale_ttl_problem("promptpay", 0) is None
