"""Config: the example loads; every broken key is named with its file, value and what was expected."""

import os
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
        (tmp_path / "secrets.toml").chmod(0o600)  # as install-pi and set-pin leave it
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
        (("[merchant]", "[merchnat]"), "merchnat", "unknown section [merchnat] (did you mean [merchant]?)"),
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


def test_a_toml_syntax_error_says_where_it_is_not_that_a_value_is_missing(tmp_path):
    path = write(tmp_path, MINIMAL.replace('name = "Shop"', "name = Shop"), 'device_token = "token-from-file"')
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert str(caught.value).startswith(f"{path}: not valid TOML: Invalid value (at line 5, column 8)")
    assert "(missing)" not in str(caught.value)


def test_an_unknown_section_is_named_before_the_keys_it_hides(tmp_path):
    path = write(tmp_path, MINIMAL.replace("[terminal]", "[terminl]"), 'device_token = "token-from-file"')
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == "terminl"
    assert str(caught.value).startswith(f"{path}: unknown section [terminl] (did you mean [terminal]?)")


def test_a_missing_config_file_is_said_plainly(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "nowhere.toml", environ={})
    assert str(caught.value) == (
        f"{tmp_path / 'nowhere.toml'}: no such file: expected a TOML config file (see config/terminal.example.toml)"
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604], ids=oct)
def test_qr_terminal_run_refuses_a_secrets_file_others_can_read(tmp_path, mode):
    path = write(
        tmp_path, MINIMAL.replace('id = "T1"', 'id = "T1"\njournal = "journal.db"'), 'device_token = "t0ken-file"'
    )
    (tmp_path / "secrets.toml").chmod(mode)
    result = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    secrets = tmp_path / "secrets.toml"
    assert (
        result.stderr
        == f"qr-terminal: not starting: {secrets} is readable by others (mode {mode:o}): chmod 600 {secrets}\n"
    )
    assert not (tmp_path / "journal.db").exists()  # refused before anything was opened


def test_qr_terminal_run_exits_2_with_the_message(tmp_path):
    path = write(tmp_path, MINIMAL.replace('id = "T1"', 'id = ""'))
    result = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"config error: {path}: terminal.id = ''" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_example_fits_leds_a_buzzer_a_keypad_and_a_cancel_button():
    config = load(EXAMPLE, environ=ENV)
    assert (config.indicators.green, config.indicators.red, config.indicators.amber) == (5, 6, 26)
    assert config.indicators.buzzer == 12 and config.indicators.buzzer_type == "active"
    assert config.keypad.rows == (16, 20, 21, 22) and config.keypad.columns == (19, 13, 27, 4)
    assert dict(config.keypad.keys)["D"].value == "enter"
    assert config.buttons == {"cancel": 23}


def test_without_hardware_sections_nothing_is_fitted(tmp_path):
    config = load(write(tmp_path, MINIMAL, 'device_token = "token-from-file"'), environ={})
    assert (config.indicators, config.keypad, config.buttons) == (None, None, {})


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        ("[indicators]\ngreen = 40", "indicators.green", "from 2 to 27"),
        ("[indicators]\ngreen = 5\nred = 5", "indicators.red", "not already used by indicators.green"),
        ("[indicators]\nrgb = [5, 6]", "indicators.rgb", "a list of 3"),
        ('[indicators]\nbuzzer = 12\nbuzzer_type = "loud"', "indicators.buzzer_type", "one of active, passive"),
        (
            '[keypad]\nrows = [16, 20, 21, 22]\ncolumns = [19, 13, 27, 4]\nlayout = ["123", "456", "789", "*0#"]',
            "keypad.layout",
            "4 strings of 4",
        ),
        (
            '[keypad]\nrows = [16, 20, 21, 22]\ncolumns = [19, 13, 27, 4]\nkeys = { A = "explode" }',
            "keypad.keys.A",
            "one of",
        ),
        ("[keypad]\nrows = [16, 20, 21, 22]", "keypad.columns", "row and column"),
        ("[buttons]\nprint = 23", "buttons.print", "a known key"),
    ],
)
def test_a_broken_hardware_key_is_named(tmp_path, section, key, expected):
    path = write(tmp_path, MINIMAL + section + "\n", 'device_token = "token-from-file"')
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert caught.value.key == key and expected in str(caught.value)


def test_qr_terminal_run_without_a_usable_display_exits_2_with_a_message(tmp_path):
    text = MINIMAL.replace('id = "T1"', 'id = "T1"\njournal = "journal.db"') + '[display]\ndriver = "no-such-driver"\n'
    path = write(tmp_path, text, 'device_token = "token-from-file"')
    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    result = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "cannot open the display (driver no-such-driver)" in result.stderr and "Traceback" not in result.stderr


def test_the_example_printer_keys_are_valid_for_each_connection(tmp_path):
    for connection in ("file", "usb", "serial", "network"):
        path = tmp_path / f"{connection}.toml"
        path.write_text(EXAMPLE.read_text().replace('connection = "none"', f'connection = "{connection}"'))
        printer = load(path, environ=ENV).printer
        assert printer.connection == connection and printer.profile == "TM-T20II" and printer.auto_print == "ask"
        assert (printer.usb_vendor, printer.usb_product, printer.footer) == (0x0416, 0x5011, ("Thank you!",))


def test_a_bad_usb_id_is_named(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        EXAMPLE.read_text()
        .replace('connection = "none"', 'connection = "usb"')
        .replace('usb_vendor = "0x0416"', 'usb_vendor = "Epson"')
    )
    with pytest.raises(ConfigError, match=r"printer\.usb_vendor.*in hex as lsusb shows it"):
        load(path, environ=ENV)


def test_offline_local_qr_rules_from_the_example(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(EXAMPLE.read_text().replace('mode = "refuse"', 'mode = "local-qr"'))
    rules = load(path, environ=ENV).offline
    assert (rules.scheme, rules.payee_id, rules.payee_name) == ("upi", "chaipoint@okbank", "Chai Point")
    assert (rules.max_sale, rules.max_total, rules.max_count, rules.max_age) == (
        Amount(200000, "INR"),
        Amount(2000000, "INR"),
        500,
        24 * 3600.0,
    )
    assert load(EXAMPLE, environ=ENV).offline is None  # "refuse" by default


def test_an_offline_payee_that_is_not_the_shops_is_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        EXAMPLE.read_text()
        .replace('mode = "refuse"', 'mode = "local-qr"')
        .replace('payee = "chaipoint@okbank"', 'payee = "someone@else"')
    )
    with pytest.raises(ConfigError, match=r"one of payee\.ids"):
        load(path, environ=ENV)


PROVIDER = """
[terminal]
id = "T1"
currency = "{currency}"
[merchant]
name = "Shop"
[payee]
ids = ["shop@okbank"]
[backend]
kind = "{kind}"
{extra}
[secrets]
file = "secrets.toml"
"""


def test_razorpay_keys_come_from_the_secrets_file_and_never_show(tmp_path):
    text = PROVIDER.format(currency="INR", kind="razorpay", extra="")
    secrets = 'razorpay_key_id = "rzp_test_fixture1"\nrazorpay_key_secret = "fixture-secret-xyz"\n'
    config = load(write(tmp_path, text, secrets), environ={})
    assert config.backend.url == "https://api.razorpay.com" and config.device_token == ""
    assert config.credentials == {"razorpay_key_id": "rzp_test_fixture1", "razorpay_key_secret": "fixture-secret-xyz"}
    assert "fixture-secret-xyz" not in repr(config)


def test_stripe_method_api_base_and_key_from_the_environment(tmp_path):
    text = PROVIDER.format(currency="SGD", kind="stripe", extra='method = "paynow"\napi_base = "http://127.0.0.1:9"')
    env = {"QR_TERMINAL_STRIPE_SECRET_KEY": "rk_test_fixture_only"}
    config = load(write(tmp_path, text, ""), environ=env)
    assert (config.backend.method, config.backend.url) == ("paynow", "http://127.0.0.1:9")
    assert config.credentials == {"stripe_secret_key": "rk_test_fixture_only"}


@pytest.mark.parametrize(
    ("currency", "kind", "extra", "secrets", "key", "expected"),
    [
        (
            "THB",
            "razorpay",
            "",
            'razorpay_key_id = "rzp_test_x1234"\nrazorpay_key_secret = "s1234567"',
            "terminal.currency",
            "INR: Razorpay UPI QR codes pay in INR",
        ),
        (
            "INR",
            "stripe",
            'method = "promptpay"',
            'stripe_secret_key = "sk_test_fixture"',
            "terminal.currency",
            "THB: Stripe promptpay pay in THB",
        ),
        ("THB", "stripe", 'method = "alipay"', 'stripe_secret_key = "sk_test_fixture"', "backend.method", "one of"),
        ("THB", "stripe", "", 'stripe_secret_key = "pk_test_publishable"', "stripe_secret_key", "starts with sk_"),
        ("INR", "razorpay", "", 'razorpay_key_id = "rzp_test_x1234"', "razorpay_key_secret", "dashboard"),
        (
            "THB",
            "stripe",
            'api_base = "http://10.0.0.9"',
            'stripe_secret_key = "sk_test_fixture"',
            "backend.api_base",
            "https",
        ),
    ],
)
def test_provider_config_errors_name_the_key(tmp_path, currency, kind, extra, secrets, key, expected):
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, PROVIDER.format(currency=currency, kind=kind, extra=extra), secrets), environ={})
    assert error.value.key == key and expected in str(error.value)
    assert "pk_test_publishable" not in str(error.value)


def test_voice_section_defaults_its_language_from_the_currency_and_names_bad_keys(tmp_path):
    text = MINIMAL.replace('id = "T1"', 'id = "T1"\ncurrency = "BRL"') + "[voice]\nenabled = true\n"
    voice = load(write(tmp_path, text, 'device_token = "token-from-file"'), environ={}).voice
    assert (voice.language, voice.voice, voice.volume, voice.failures) == ("pt-BR", "pt-br", 80, True)
    off = load(write(tmp_path, MINIMAL, 'device_token = "token-from-file"'), environ={})
    assert off.voice is None
    for line, key in (
        ('language = "ml"', "voice.language"),
        ("volume = 120", "voice.volume"),
        ('voice = "hi; rm -rf /"', "voice.voice"),
    ):
        with pytest.raises(ConfigError) as error:
            load(
                write(tmp_path, MINIMAL + f"[voice]\nenabled = true\n{line}\n", 'device_token = "t0ken-file"'),
                environ={},
            )
        assert error.value.key == key


def test_display_language_defaults_from_the_currency_like_the_voice_and_names_a_bad_one(tmp_path):
    secrets = 'device_token = "token-from-file"'
    brl = MINIMAL.replace('id = "T1"', 'id = "T1"\ncurrency = "BRL"')
    assert load(write(tmp_path, brl, secrets), environ={}).display.language == "pt-BR"
    assert load(write(tmp_path, MINIMAL, secrets), environ={}).display.language == "en-IN"
    chosen = load(write(tmp_path, MINIMAL + '[display]\nlanguage = "hi"\n', secrets), environ={})
    assert chosen.display.language == "hi"
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, MINIMAL + '[display]\nlanguage = "klingon"\n', secrets), environ={})
    assert error.value.key == "display.language"


def test_till_section(tmp_path):
    text = MINIMAL + '[till]\ndevice = "/dev/serial/by-id/usb-FTDI-if00"\nbaudrate = 19200\nparity = "E"\n'
    till = load(write(tmp_path, text, 'device_token = "token-from-file"'), environ={}).till
    assert (till.kind, till.device, till.baudrate, till.parity, till.bytesize) == (
        "native",
        "/dev/serial/by-id/usb-FTDI-if00",
        19200,
        "E",
        8,
    )
    for line, key in (
        ('device = "COM3"', "till.device"),
        ('device = "tcp:99999"', "till.device"),
        ('device = "tcp:9100"\nbaudrate = 1000', "till.baudrate"),
        ('device = "tcp:9100"\nkind = "fax"', "till.kind"),
        ('device = "tcp:9100"\nkind = "pole"\npattern = "TOTAL"', "till.pattern"),
    ):
        with pytest.raises(ConfigError) as error:
            load(write(tmp_path, MINIMAL + f"[till]\n{line}\n", 'device_token = "t0ken-file"'), environ={})
        assert error.value.key == key


def test_a_stripe_method_with_another_backend_is_named_not_ignored(tmp_path):
    text = MINIMAL.replace('url = "https://pay.example.com"', 'url = "https://pay.example.com"\nmethod = "pix"')
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, text, 'device_token = "token-from-file"'), environ={})
    assert error.value.key == "backend.method"
    assert str(error.value).endswith('expected no value: the method is read only with kind = "stripe"')


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("[voice]\nenabled = false\nvolume = 500", "voice.volume"),
        ('[printer]\nconnection = "none"\nport = 0', "printer.port"),
        ('[offline]\nmode = "refuse"\nmax_sale = "12.345"', "offline.max_sale"),
    ],
)
def test_a_bad_value_in_a_part_switched_off_is_named_before_it_is_switched_on(tmp_path, section, key):
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, MINIMAL + section + "\n", 'device_token = "token-from-file"'), environ={})
    assert error.value.key == key
