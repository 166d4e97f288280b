"""Config: the example loads; every broken key is named with its file, value and what was expected."""

import subprocess
import sys
from pathlib import Path

import pytest

from terminal.config import ConfigError, load
from terminal.core.money import Amount

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "terminal.example.toml"
ENV = {"QR_TERMINAL_DEVICE_TOKEN": "token-for-tests"}


def test_the_example_config_loads():
    config = load(EXAMPLE, environ=ENV)
    assert config.terminal.id == "T1"
    assert config.terminal.max_amount == Amount(100_000_00, "INR")
    assert config.payee.ids == ("chaipoint@okbank",)
    assert config.device_token == "token-for-tests"
    assert "token-for-tests" not in repr(config)


def write(tmp_path, text, secrets=None):
    path = tmp_path / "terminal.toml"
    path.write_text(text)
    if secrets is not None:
        (tmp_path / "secrets.toml").write_text(secrets)
    return path


MINIMAL = """
[terminal]
id = "T1"
[merchant]
name = "Shop"
[payee]
ids = ["shop@okbank"]
[backend]
url = "https://pay.example.com"
[secrets]
file = "secrets.toml"
"""


def test_secrets_come_from_the_secrets_file_relative_to_the_config(tmp_path):
    config = load(write(tmp_path, MINIMAL, 'device_token = "token-from-file"'), environ={})
    assert config.device_token == "token-from-file"
    assert config.terminal.journal == Path("/var/lib/qr-terminal/journal.db")


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (('id = "T1"', 'id = "T-1!"'), "terminal.id", "letters or digits"),
        (('id = "T1"', 'id = "T1"\ncurrency = "XYZ"'), "terminal.currency", "one of"),
        (('id = "T1"', 'id = "T1"\nmax_amount = "12.345"'), "terminal.max_amount", "an amount in INR"),
        (('id = "T1"', 'id = "T1"\nsale_ttl = "5 minutes"'), "terminal.sale_ttl", "whole number from 30"),
        (('ids = ["shop@okbank"]', "ids = []"), "payee.ids", "at least one"),
        (('url = "https://pay.example.com"', 'url = "http://10.0.0.5"'), "backend.url", "https"),
        (('url = "https://pay.example.com"', 'url = "https://x"\ntimout = 5'), "backend.timout", "a known key"),
        (("[merchant]", "[merchnat]"), "merchant.name", "a value"),
    ],
)
def test_a_broken_key_names_file_key_value_and_expectation(tmp_path, change, key, expected):
    path = write(tmp_path, MINIMAL.replace(*change), 'device_token = "token-from-file"')
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    message = str(caught.value)
    assert caught.value.key == key
    assert str(path) in message and expected in message


def test_a_missing_token_is_named_without_showing_secrets(tmp_path):
    with pytest.raises(ConfigError, match="device_token") as caught:
        load(write(tmp_path, MINIMAL, 'device_token = "short"'), environ={})
    assert "short" not in str(caught.value)


def test_unreadable_toml_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="valid TOML"):
        load(write(tmp_path, "[terminal\nid="), environ={})


def test_qr_terminal_run_exits_2_with_the_message(tmp_path):
    path = write(tmp_path, MINIMAL.replace('id = "T1"', 'id = ""'))
    result = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"config error: {path}: terminal.id = ''" in result.stderr
    assert "Traceback" not in result.stderr
