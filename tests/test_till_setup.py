"""The [till] section, the till secret and doctor's till check (issue #15, items 8 and 9): real TOML files in a
temporary folder, loaded as `run` loads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from terminal.commands.doctor import _till as doctor_till
from terminal.config import ConfigError, load

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "terminal.example.toml"
SECRET = "fixture-till-secret-not-real"
BASE = """
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
[till]
"""


def till_config(tmp_path, till: str, secrets: str = "", environ=None):
    """The config `run` would load with ``till`` as its [till] section."""
    (tmp_path / "terminal.toml").write_text(BASE + till)
    (tmp_path / "secrets.toml").write_text('device_token = "token-from-file"\n' + secrets)
    return load(tmp_path / "terminal.toml", environ=environ or {})


def test_manager_commands_is_a_till_key_run_accepts(tmp_path):
    till = till_config(tmp_path, 'device = "/dev/ttyUSB0"\nmanager_commands = true\n').till
    assert till.manager_commands is True


def test_the_example_till_keys_load_when_uncommented(tmp_path):
    block = EXAMPLE.read_text().split("# [till]\n", 1)[1]
    keys = re.findall(r"^# ([a-z_]+ = .+)$", block, re.M)
    assert {k.split()[0] for k in keys} >= {"kind", "device", "manager_commands", "host", "auth", "idle_timeout"}
    till = till_config(tmp_path, "\n".join(keys) + "\n").till  # a serial device: no secret needed
    assert (till.host, till.auth, till.idle_timeout, till.manager_commands) == ("127.0.0.1", "tcp", 600, False)


def test_a_tcp_till_listens_on_loopback_unless_told_otherwise(tmp_path):
    till = till_config(tmp_path, 'device = "tcp:9100"\n', f'till_secret = "{SECRET}"\n').till
    assert till.host == "127.0.0.1"


def test_a_tcp_till_needs_a_secret_unless_auth_is_off(tmp_path):
    with pytest.raises(ConfigError) as error:
        till_config(tmp_path, 'device = "tcp:9100"\n')
    assert error.value.key == "till_secret" and 'auth = "off"' in str(error.value)
    assert till_config(tmp_path, 'device = "tcp:9100"\nauth = "off"\n').till.secret is None


def test_the_till_secret_comes_from_the_secrets_file_or_the_environment_and_never_shows(tmp_path):
    config = till_config(tmp_path, 'device = "tcp:9100"\n', f'till_secret = "{SECRET}"\n')
    assert config.till.secret == SECRET
    assert SECRET not in repr(config) and SECRET not in repr(config.till)
    other = "another-fixture-secret-from-env"
    from_env = till_config(tmp_path, 'device = "tcp:9100"\n', environ={"QR_TERMINAL_TILL_SECRET": other})
    assert from_env.till.secret == other


def test_a_short_till_secret_is_refused_without_being_shown(tmp_path):
    with pytest.raises(ConfigError) as error:
        till_config(tmp_path, 'device = "tcp:9100"\n', 'till_secret = "short-one"\n')
    assert error.value.key == "till_secret" and "short-one" not in str(error.value) and "16+" in str(error.value)


def test_a_serial_till_needs_a_secret_only_with_auth_all(tmp_path):
    assert till_config(tmp_path, 'device = "/dev/ttyUSB0"\n').till.secret is None
    with pytest.raises(ConfigError, match="till_secret"):
        till_config(tmp_path, 'device = "/dev/ttyUSB0"\nauth = "all"\n')


def test_the_idle_timeout_outlasts_a_sale_or_is_off(tmp_path):
    with pytest.raises(ConfigError) as error:
        till_config(tmp_path, 'device = "tcp:9100"\nauth = "off"\nidle_timeout = 120\n')
    assert error.value.key == "till.idle_timeout" and "sale_ttl (300)" in str(error.value)
    assert till_config(tmp_path, 'device = "tcp:9100"\nauth = "off"\nidle_timeout = 0\n').till.idle_timeout == 0


@pytest.mark.parametrize(
    ("till", "secrets", "warned"),
    [
        ('device = "tcp:9100"\nhost = "0.0.0.0"\nauth = "off"\n', "", True),
        ('device = "tcp:9100"\nhost = "0.0.0.0"\nkind = "concert"\n', "", True),  # Concert has no AUTH
        ('device = "tcp:9100"\nhost = "0.0.0.0"\n', f'till_secret = "{SECRET}"\n', False),
        ('device = "tcp:9100"\nauth = "off"\n', "", False),  # 127.0.0.1: only this machine
    ],
)
def test_doctor_warns_of_a_till_port_open_to_the_network_without_auth(tmp_path, till, secrets, warned):
    check = doctor_till(till_config(tmp_path, till, secrets))
    assert check.ok and check.warning is warned, check
    assert check.line().startswith("warn" if warned else "ok"), check.line()
    if warned:
        assert "anyone who reaches the port" in check.line() and "till_secret" in check.line()
