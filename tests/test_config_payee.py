"""[payee] reaches the guard whole: the EMV networks a shop adds are passed to the payload guard (issue #14)."""

from terminal.config import load
from terminal.wiring import settings_from

from .test_config import MINIMAL, write


def test_emv_networks_from_the_config_reach_the_guard(tmp_path):
    text = MINIMAL.replace("[payee]", '[payee]\nemv_networks = ["id.co.example.www"]', 1)
    assert text != MINIMAL
    config = load(write(tmp_path, text, 'device_token = "t0k3n-for-tests-only"'), environ={})
    assert config.payee.emv_networks == ("id.co.example.www",)
    assert settings_from(config).payee.emv_networks == ("id.co.example.www",)


def test_without_the_key_no_further_network_is_trusted(tmp_path):
    config = load(write(tmp_path, MINIMAL, 'device_token = "t0k3n-for-tests-only"'), environ={})
    assert settings_from(config).payee.emv_networks == ()
