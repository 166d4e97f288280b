"""``qr-terminal payload parse|build``: what an integrator types to see what a QR says."""

import json
import subprocess
import sys

import pytest

from .core.test_payloads import VECTORS


def qr_terminal(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "terminal", "payload", *args], capture_output=True, text=True, input=stdin, timeout=60
    )


def test_parse_prints_what_a_pix_code_says():
    vector = next(v for v in VECTORS["valid"] if v["name"] == "pix_starkbank_static")
    run = qr_terminal("parse", vector["payload"])
    assert run.returncode == 0, run.stderr
    said = json.loads(run.stdout)
    assert said["scheme"] == "emv" and said["profile"] == "pix"
    assert said["payee"] == {"name": "Arya Stark", "ids": ["arya@stark.com"]}
    assert (said["amount"], said["currency"], said["reference"], said["crc_ok"]) == (
        "125.00",
        "BRL",
        "1297364819273409",
        True,
    )
    assert said["fields"]["26"] == {"00": "br.gov.bcb.pix", "01": "arya@stark.com"}


def test_parse_reads_standard_input_for_multi_line_epc():
    run = qr_terminal("parse", "-", stdin=VECTORS["epc069_12"][0]["payload"] + "\n")
    said = json.loads(run.stdout)
    assert said["scheme"] == "epc" and said["amount"] == "12.30" and said["fields"]["bytes"] == 96


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_parse_exits_1_with_a_message_on_an_invalid_payload(vector):
    run = qr_terminal("parse", vector["payload"])
    assert run.returncode == 1
    assert run.stderr.startswith("qr-terminal payload: ") and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "profile", "amount", "currency"),
    [
        (
            [
                "--scheme",
                "pix",
                "--payee",
                "shop@pix.example",
                "--name",
                "Loja",
                "--city",
                "Sao Paulo",
                "--reference",
                "T1000001",
            ],
            "pix",
            "12.50",
            "BRL",
        ),
        (["--scheme", "promptpay", "--payee", "0812345678", "--name", "Shop"], "promptpay", "12.50", "THB"),
        (["--scheme", "paynow", "--payee", "201403121W", "--name", "ACME Pte Ltd"], "paynow", "12.50", "SGD"),
        (
            ["--scheme", "upi", "--payee", "shop@okbank", "--name", "Chai Point", "--reference", "T1-000001"],
            "upi",
            "12.50",
            "INR",
        ),
        (
            ["--scheme", "epc", "--payee", "DE89370400440532013000", "--name", "Shop", "--reference", "T1-000001"],
            "epc",
            "12.50",
            "EUR",
        ),
    ],
)
def test_build_prints_a_payload_that_parses_back(args, profile, amount, currency):
    built = qr_terminal("build", *args, "--amount", "12.50")
    assert built.returncode == 0, built.stderr
    said = json.loads(qr_terminal("parse", "-", stdin=built.stdout).stdout)
    assert (said["profile"], said["amount"], said["currency"]) == (profile, amount, currency)
    assert said["crc_ok"] in (True, None)


def test_build_refuses_what_the_scheme_cannot_carry():
    run = qr_terminal(
        "build", "--scheme", "pix", "--payee", "k", "--name", "x" * 30, "--city", "Rio", "--amount", "1.00"
    )
    assert run.returncode == 1 and "59" in run.stderr and "25 characters" in run.stderr
