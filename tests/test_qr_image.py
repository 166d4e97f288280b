"""Fetching a provider's hosted QR image: only from allow-listed hosts (lookalikes refused), only over https
(plain http to loopback for tests), a bounded number of redirects — refused before any connection is made."""

from __future__ import annotations

import pytest

from terminal.backends.base import BackendError
from terminal.backends.qr_image import fetch_image, host_allowed, read_qr
from terminal.core.problems import ProblemKind

from .fake_razorpay import qr_png

HOSTS = ("rzp.io", "razorpay.com")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("rzp.io", True),
        ("cdn.razorpay.com", True),
        ("RZP.IO.", True),
        ("evilrazorpay.com", False),
        ("razorpay.com.evil.example", False),
        ("rzp.io.example", False),
        ("", False),
    ],
)
def test_only_listed_hosts_and_their_subdomains_are_allowed(host, allowed):
    assert host_allowed(host, HOSTS) is allowed


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://rzp.io/i/abc", "is not https"),
        ("https://rzp.io.attacker.example/i/abc", "not in backend.image_hosts"),
        ("ftp://rzp.io/i/abc", "is not https"),
    ],
)
def test_a_link_off_the_rules_is_refused_before_any_connection(url, said):
    with pytest.raises(BackendError) as refused:
        fetch_image(url, hosts=HOSTS)
    assert refused.value.problem.kind is ProblemKind.BAD_REPLY and said in str(refused.value)


def test_the_decoder_reads_a_real_qr_png():
    assert read_qr(qr_png("upi://pay?pa=shop@okbank&am=12.50&cu=INR")) == ["upi://pay?pa=shop@okbank&am=12.50&cu=INR"]
