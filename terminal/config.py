"""The TOML config (and the secrets file), loaded once at start into frozen dataclasses.

Every error names the file, the key, the value and what was expected; ``qr-terminal`` exits 2 on it.
Unknown keys are errors too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from terminal.backends.http import check_url
from terminal.core.keys import Key
from terminal.core.money import EXPONENTS, Amount, MoneyError
from terminal.core.offline import SCHEMES as OFFLINE_SCHEMES
from terminal.core.offline import OfflineRules
from terminal.devices.indicators import IndicatorPins
from terminal.devices.matrix_keypad import LAYOUT_4X3, LAYOUT_4X4, MatrixConfig
from terminal.devices.printer import CONNECTIONS, PrinterConfig

TOKEN_ENV = "QR_TERMINAL_DEVICE_TOKEN"


class ConfigError(Exception):
    """A config problem, worded for the integrator: file, key, value, expectation."""

    def __init__(self, path: Path | str, key: str, value: Any, expected: str, *, sentence: str = "") -> None:
        shown = "(missing)" if value is _MISSING else repr(value)
        # ``sentence`` words a problem that is not one key's value (an unreadable file, an unknown section).
        super().__init__(f"{path}: {sentence or f'{key} = {shown}: expected {expected}'}")
        self.path, self.key, self.value, self.expected = path, key, value, expected


@dataclass(frozen=True, slots=True)
class TerminalSection:
    """[terminal]: who this terminal is and its sale rules."""

    id: str
    currency: str
    max_amount: Amount
    sale_ttl: int
    result_seconds: int
    journal: Path


@dataclass(frozen=True, slots=True)
class PayeeSection:
    """[payee]: whom customers pay; the guard refuses any QR that pays anyone else."""

    name: str
    ids: tuple[str, ...]
    url_hosts: tuple[str, ...]
    allow_unknown_formats: bool
    #: GUIs of further EMV networks the shop uses (a template of a network not known here is refused otherwise).
    emv_networks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BackendSection:
    """[backend]: where orders are made."""

    kind: str
    url: str
    timeout: float
    long_poll: int
    poll_interval: float
    allow_plain_http: bool
    ca_file: str | None
    sandbox: bool
    #: Stripe's QR payment method (promptpay, paynow, pix, wechat_pay); empty for other kinds.
    method: str = ""
    #: Razorpay: hosts its hosted QR images may be fetched from (when the account lacks "image content").
    image_hosts: tuple[str, ...] = ()
    #: The provider's smallest sale in the terminal's currency, and whose minimum it is (refused on the keypad).
    minimum: Amount | None = None
    minimum_reason: str = ""
    #: Why refunds cannot be made from the terminal with this provider and method ("" when they can).
    refunds_elsewhere: str = ""


@dataclass(frozen=True, slots=True)
class DisplaySection:
    """[display]: the screen."""

    driver: str
    fullscreen: bool
    width: int
    height: int
    rotate: int
    fps: int
    #: The language of the screen, receipts, reports and menu (en, en-IN, hi, ta, th, pt-BR); amounts are
    #: written in its number format. Default: the currency's country's, like the voice.
    language: str = "en"


@dataclass(frozen=True, slots=True)
class VoiceSection:
    """[voice]: the spoken confirmation (language, espeak-ng voice, volume 0–100, failures spoken, clip cache)."""

    language: str
    voice: str
    volume: int
    failures: bool
    cache: Path


@dataclass(frozen=True, slots=True)
class TillSection:
    """[till]: a till wired to the terminal — its protocol and where: a serial device or ``tcp:PORT``."""

    kind: str
    device: str
    baudrate: int
    bytesize: int
    parity: str
    stopbits: int
    host: str
    #: kind = "pole": the capture's options (command_set, pattern, on_total, passthrough, decimal, width).
    pole: dict[str, Any] = field(default_factory=dict)
    #: kind = "native": the till may REFUND and ask for the REPORT (off: whoever reaches the line could).
    manager_commands: bool = False
    #: kind = "native": which lines must AUTH with ``secret`` first (tcp, all, off: terminal.devices.till_link).
    auth: str = "tcp"
    #: The secret shared with the till (``till_secret`` in the secrets file, or QR_TERMINAL_TILL_SECRET).
    secret: str | None = field(default=None, repr=False)
    #: A TCP connection with no traffic for this many seconds is closed (0: never).
    idle_timeout: int = 600


#: The language a shop most likely wants, by its currency.
VOICE_BY_CURRENCY = {"INR": "en-IN", "BRL": "pt-BR", "THB": "th"}


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, secrets included (never logged)."""

    path: Path
    merchant_name: str
    terminal: TerminalSection
    payee: PayeeSection
    backend: BackendSection
    display: DisplaySection
    device_token: str
    indicators: IndicatorPins | None = None
    gpio_mock: bool = False
    keypad: MatrixConfig | None = None
    buttons: dict[str, int] = field(default_factory=dict)
    printer: PrinterConfig | None = None
    merchant_address: tuple[str, ...] = ()
    store: str = ""
    secrets_path: Path | None = None
    offline: OfflineRules | None = None
    #: A provider's keys from the secrets file (razorpay_key_id/razorpay_key_secret, stripe_secret_key).
    credentials: dict[str, str] = field(default_factory=dict)
    voice: VoiceSection | None = None
    till: TillSection | None = None

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"Config(path={str(self.path)!r}, terminal={self.terminal.id!r}, backend={self.backend.url!r})"


_MISSING = object()
_SECTIONS = {
    "terminal": {"id", "currency", "max_amount", "sale_ttl", "result_seconds", "journal"},
    "merchant": {"name", "address", "store"},
    "payee": {"name", "ids", "url_hosts", "allow_unknown_formats", "emv_networks"},
    "backend": {
        "kind",
        "url",
        "api_base",
        "method",
        "timeout",
        "long_poll",
        "poll_interval",
        "allow_plain_http",
        "ca_file",
        "sandbox",
        "image_hosts",
    },
    "display": {"driver", "fullscreen", "width", "height", "rotate", "fps", "language"},
    "secrets": {"file"},
    "indicators": {"green", "red", "amber", "rgb", "active_high", "buzzer", "buzzer_type", "sound"},
    "gpio": {"mock"},
    "offline": {"mode", "scheme", "payee", "city", "max_sale", "max_total", "max_count", "max_age_hours"},
    "voice": {"enabled", "language", "voice", "volume", "failures", "cache"},
    "till": {
        "kind",
        "device",
        "baudrate",
        "bytesize",
        "parity",
        "stopbits",
        "host",
        "command_set",
        "pattern",
        "on_total",
        "passthrough",
        "decimal",
        "width",
        "manager_commands",
        "auth",
        "idle_timeout",
    },
    "keypad": {"rows", "columns", "layout", "keys"},
    "buttons": {"cancel", "reprint", "feed", "menu", "repeat"},
    "printer": {
        "connection",
        "profile",
        "usb_vendor",
        "usb_product",
        "device",
        "baudrate",
        "host",
        "port",
        "timeout",
        "auto_print",
        "footer",
    },
}


DEFAULT_PATH = "/etc/qr-terminal/terminal.toml"


def add_config_argument(parser: Any) -> None:
    """The ``--config`` option every command that reads the config has."""
    parser.add_argument("--config", default=DEFAULT_PATH, help="the TOML config (%(default)s)")


def load_for(command: str, path: str | Path) -> Config | None:
    """The config for ``qr-terminal <command>``, or None after printing what to fix (the caller exits 2)."""
    try:
        return load(path)
    except ConfigError as exc:
        print(f"qr-terminal {command}: fix the config first: {exc}", file=sys.stderr)
        return None


def load(path: str | Path, *, environ: dict[str, str] | None = None, secrets: bool = True) -> Config:
    """Read and check the config at ``path`` (and its secrets). Raises ConfigError.

    ``secrets=False`` checks the config alone (no token, keys or PIN hash read): ``doctor`` uses it to go on
    checking the rest when only the secrets file is wrong.
    """
    env = os.environ if environ is None else environ
    path = Path(path)
    data = _read_toml(path)
    r = _Reader(path, data)
    r.reject_unknown()  # first: a misspelt [section] or key is named, not reported as the key it hides
    currency = r.choice("terminal.currency", sorted(EXPONENTS), "INR")
    max_text = r.string("terminal.max_amount", "100000")
    try:
        max_amount = Amount.parse(max_text, currency)
    except MoneyError as exc:
        raise ConfigError(path, "terminal.max_amount", max_text, f"an amount in {currency} ({exc})") from None
    if max_amount.minor == 0:
        raise ConfigError(path, "terminal.max_amount", max_text, "an amount above zero")
    terminal = TerminalSection(
        id=r.matching("terminal.id", r"[A-Za-z0-9]{1,8}", '1 to 8 letters or digits, e.g. "T1"'),
        currency=currency,
        max_amount=max_amount,
        sale_ttl=r.integer("terminal.sale_ttl", 300, low=30, high=3600),
        result_seconds=r.integer("terminal.result_seconds", 10, low=2, high=600),
        journal=r.file_path("terminal.journal", "/var/lib/qr-terminal/journal.db"),
    )
    merchant_name = r.string("merchant.name")
    address = r.strings("merchant.address", default=())
    store = r.string("merchant.store", "")
    payee = PayeeSection(
        name=r.string("payee.name", merchant_name),
        ids=r.strings("payee.ids", nonempty=True),
        url_hosts=r.strings("payee.url_hosts", default=()),
        allow_unknown_formats=r.boolean("payee.allow_unknown_formats", False),
        emv_networks=r.strings("payee.emv_networks", default=()),
    )
    allow_plain_http = r.boolean("backend.allow_plain_http", False)
    kind = r.choice("backend.kind", ["http", *PROVIDERS], "http")
    url_key = "backend.url" if kind == "http" else "backend.api_base"
    url = r.string(url_key) if kind == "http" else r.string(url_key, PROVIDERS[kind])
    problem = check_url(url, allow_plain_http=allow_plain_http)
    if problem:
        raise ConfigError(path, url_key, url, problem)
    method = r.choice("backend.method", list(STRIPE_METHODS), "promptpay") if kind == "stripe" else ""
    pays_in = "INR" if kind == "razorpay" else STRIPE_METHODS.get(method) if kind == "stripe" else None
    if pays_in is not None and currency != pays_in:
        where = "Razorpay UPI QR codes" if kind == "razorpay" else f"Stripe {method}"
        raise ConfigError(path, "terminal.currency", currency, f"{pays_in}: {where} pay in {pays_in}")
    backend = BackendSection(
        kind=kind,
        method=method,
        url=url,
        timeout=r.integer("backend.timeout", 10, low=1, high=120),
        long_poll=r.integer("backend.long_poll", 25, low=0, high=60),
        poll_interval=r.integer("backend.poll_interval", 2, low=1, high=60),
        allow_plain_http=allow_plain_http,
        ca_file=r.string("backend.ca_file", "") or None,
        sandbox=r.boolean("backend.sandbox", False),
        **_provider_rules(r, kind, method, currency, terminal.sale_ttl),
    )
    display = DisplaySection(
        driver=r.string("display.driver", ""),
        fullscreen=r.boolean("display.fullscreen", True),
        width=r.integer("display.width", 0, low=0, high=7680),
        height=r.integer("display.height", 0, low=0, high=4320),
        rotate=r.choice("display.rotate", [0, 90, 180, 270], 0),
        fps=r.integer("display.fps", 20, low=5, high=60),
        language=_display_language(r, currency),
    )
    indicators = IndicatorPins(
        green=r.pin("indicators.green"),
        red=r.pin("indicators.red"),
        amber=r.pin("indicators.amber"),
        rgb=_three(r.pins("indicators.rgb", 3)),
        active_high=r.boolean("indicators.active_high", True),
        buzzer=r.pin("indicators.buzzer"),
        buzzer_type=r.choice("indicators.buzzer_type", ["active", "passive"], "active"),
        sound=r.boolean("indicators.sound", True),
    )
    fitted = any(
        p is not None for p in (indicators.green, indicators.red, indicators.amber, indicators.rgb, indicators.buzzer)
    )
    gpio_mock = r.boolean("gpio.mock", False)
    keypad = _keypad(r)
    buttons = {
        name: pin
        for name in ("cancel", "reprint", "feed", "menu", "repeat")
        if (pin := r.pin(f"buttons.{name}")) is not None
    }
    secrets_file = r.string("secrets.file", "")
    credentials: dict[str, str] = {}
    if not secrets:
        token = ""
    elif kind == "http":
        token = env.get(TOKEN_ENV) or _token_from(path, secrets_file)
    else:
        token, credentials = "", _credentials(path, secrets_file, kind, env)
    secrets_path = _secrets_path(path, secrets_file) if secrets_file else None
    if secrets_path is not None and secrets:
        from terminal.manager_pin import KEY, PinError, read_hash

        try:
            read_hash(secrets_path)
        except PinError:
            raise ConfigError(secrets_path, KEY, "(hidden)", "a hash written by 'qr-terminal set-pin'") from None
    printer = _printer(r)
    offline = _offline(r, currency, payee)
    voice = _voice(r, currency)
    till = _till(r, secrets_file, env, terminal.sale_ttl, secrets=secrets)
    r.distinct_pins()
    return Config(
        path,
        merchant_name,
        terminal,
        payee,
        backend,
        display,
        token,
        indicators if fitted else None,
        gpio_mock,
        keypad,
        buttons,
        printer,
        address,
        store,
        secrets_path,
        offline,
        credentials,
        voice,
        till,
    )


def _till(
    r: _Reader, secrets_file: str, env: dict[str, str] | Any, sale_ttl: int, *, secrets: bool = True
) -> TillSection | None:
    if "till" not in r.data:
        return None
    device = r.matching(
        "till.device",
        r"tcp:\d{1,5}|/dev/[^\s]+|(rfc2217|socket|loop)://\S*",
        'a serial device such as "/dev/ttyUSB0" or "/dev/serial/by-id/…", or "tcp:9100"',
    )
    if device.startswith("tcp:") and not 1 <= int(device[4:]) <= 65535:
        raise ConfigError(r.path, "till.device", device, "a TCP port from 1 to 65535")
    idle_timeout = r.integer("till.idle_timeout", max(600, sale_ttl + 60), low=0, high=86400)
    if 0 < idle_timeout <= sale_ttl:
        raise ConfigError(
            r.path,
            "till.idle_timeout",
            idle_timeout,
            f"more than terminal.sale_ttl ({sale_ttl}), so a till waiting for its RESULT is not cut off; "
            "or 0 for never",
        )
    till = TillSection(
        kind=(kind := r.choice("till.kind", ["native", "concert", "pole"], "native")),
        device=device,
        baudrate=r.choice("till.baudrate", [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], 9600),
        bytesize=r.choice("till.bytesize", [7, 8], 8),
        parity=r.choice("till.parity", ["N", "E", "O"], "N"),
        stopbits=r.choice("till.stopbits", [1, 2], 1),
        host=r.string("till.host", "127.0.0.1"),
        pole=_pole(r) if kind == "pole" else {},
        manager_commands=r.boolean("till.manager_commands", False),
        auth=(auth := r.choice("till.auth", ["tcp", "all", "off"], "tcp")),
        idle_timeout=idle_timeout,
    )
    if not secrets:  # load(secrets=False): the till's secret is the secrets file's business
        return till
    required = kind == "native" and (auth == "all" or (auth == "tcp" and device.startswith("tcp:")))
    return replace(till, secret=_till_secret(r.path, secrets_file, env, required=required))


TILL_SECRET_ENV = "QR_TERMINAL_TILL_SECRET"


def _till_secret(config_path: Path, secrets_file: str, env: dict[str, str] | Any, *, required: bool) -> str | None:
    """The secret the till proves with AUTH: from the environment or the secrets file; never shown."""
    secret = env.get(TILL_SECRET_ENV) or _MISSING
    where: Path = config_path
    if secret is _MISSING and secrets_file:
        where = _secrets_path(config_path, secrets_file)
        secret = _read_toml(where, "a TOML secrets file").get("till_secret", _MISSING)
    if secret is _MISSING and not required:
        return None
    if not isinstance(secret, str) or len(secret) < 16 or not secret.isascii() or not secret.isprintable():
        raise ConfigError(
            where,
            "till_secret",
            _MISSING if secret is _MISSING else "(hidden)",
            "a secret shared with the till, 16+ printable ASCII characters (openssl rand -hex 32), in "
            f'the secrets file or {TILL_SECRET_ENV}; or [till] auth = "off" for a till that cannot '
            "authenticate (protocol v1)",
        )
    return secret


def _pole(r: _Reader) -> dict[str, Any]:
    from terminal.core.pole import COMMAND_SETS, DEFAULT_PATTERN

    pattern = r.string("till.pattern", DEFAULT_PATTERN)
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise ConfigError(r.path, "till.pattern", pattern, f"a regular expression ({exc})") from None
    if groups < 1:
        raise ConfigError(r.path, "till.pattern", pattern, "a regular expression with a group around the amount")
    passthrough = r.string("till.passthrough", "") or None
    return {
        "command_set": r.choice("till.command_set", list(COMMAND_SETS), "epson"),
        "pattern": pattern,
        "on_total": r.choice("till.on_total", ["sale", "prefill"], "sale"),
        "passthrough": passthrough,
        "decimal": r.choice("till.decimal", [".", ","], "."),
        "width": r.integer("till.width", 20, low=8, high=80),
    }


def _display_language(r: _Reader, currency: str) -> str:
    from terminal.i18n import LANGUAGES, default_language

    return str(r.choice("display.language", list(LANGUAGES), default_language(currency)))


def _voice(r: _Reader, currency: str) -> VoiceSection | None:
    from terminal.core.speech import LANGUAGES

    if not r.boolean("voice.enabled", False):
        return None
    language = r.choice("voice.language", list(LANGUAGES), VOICE_BY_CURRENCY.get(currency, "en"))
    return VoiceSection(
        language=language,
        voice=r.matching("voice.voice", r"[A-Za-z0-9+_-]{0,40}", 'an espeak-ng voice such as "hi" or "en-gb+f3"')
        if "voice" in r.data.get("voice", {})
        else LANGUAGES[language],
        volume=r.integer("voice.volume", 80, low=0, high=100),
        failures=r.boolean("voice.failures", True),
        cache=r.file_path("voice.cache", "/var/cache/qr-terminal/voice"),
    )


def _offline(r: _Reader, currency: str, payee: PayeeSection) -> OfflineRules | None:
    if r.choice("offline.mode", ["refuse", "local-qr"], "refuse") == "refuse":
        return None
    scheme = r.choice("offline.scheme", sorted(OFFLINE_SCHEMES), "upi")
    payee_id = r.string("offline.payee", payee.ids[0])
    if payee_id not in payee.ids:
        raise ConfigError(r.path, "offline.payee", payee_id, "one of payee.ids (the guard checks offline QRs too)")

    def amount(key: str, default: str) -> Amount:
        text = r.string(key, default)
        try:
            return Amount.parse(text, currency)
        except MoneyError as exc:
            raise ConfigError(r.path, key, text, f"an amount in {currency} ({exc})") from None

    return OfflineRules(
        scheme=scheme,
        payee_id=payee_id,
        payee_name=payee.name,
        max_sale=amount("offline.max_sale", "2000"),
        max_total=amount("offline.max_total", "20000"),
        max_count=r.integer("offline.max_count", 500, low=1, high=10000),
        max_age=3600.0 * r.integer("offline.max_age_hours", 24, low=1, high=168),
        city=r.string("offline.city", ""),
    )


def _printer(r: _Reader) -> PrinterConfig | None:
    connection = r.choice("printer.connection", list(CONNECTIONS), "none")
    if connection == "none":
        return None
    needs = {
        "usb": ("printer.usb_vendor", "printer.usb_product"),
        "serial": ("printer.device",),
        "file": ("printer.device",),
        "directory": ("printer.device",),
        "network": ("printer.host",),
    }
    for key in needs.get(connection, ()):
        r._get(key, _MISSING)  # required for this connection: names the key when it is missing
    return PrinterConfig(
        connection=connection,
        profile=r.string("printer.profile", "TM-T20II"),
        usb_vendor=r.hex_id("printer.usb_vendor"),
        usb_product=r.hex_id("printer.usb_product"),
        device=r.string("printer.device", ""),
        baudrate=r.choice("printer.baudrate", [9600, 19200, 38400, 57600, 115200], 9600),
        host=r.string("printer.host", ""),
        port=r.integer("printer.port", 9100, low=1, high=65535),
        timeout=float(r.integer("printer.timeout", 2, low=1, high=30)),
        auto_print=r.choice("printer.auto_print", ["always", "ask", "never"], "ask"),
        footer=r.strings("printer.footer", default=()),
    )


def _keypad(r: _Reader) -> MatrixConfig | None:
    if "keypad" not in r.data:
        return None
    rows = r.pins("keypad.rows", 4)
    columns = r.pins("keypad.columns", (3, 4))
    if rows is None or columns is None:
        raise ConfigError(
            r.path, "keypad.rows" if rows is None else "keypad.columns", _MISSING, "the keypad's row and column GPIOs"
        )
    default = LAYOUT_4X4 if len(columns) == 4 else LAYOUT_4X3
    layout = r.strings("keypad.layout", default=default)
    if len(layout) != 4 or any(len(row) != len(columns) for row in layout):
        raise ConfigError(r.path, "keypad.layout", list(layout), f"4 strings of {len(columns)} key labels each")
    table = r._get("keypad.keys", {})
    if not isinstance(table, dict):
        raise ConfigError(r.path, "keypad.keys", table, 'a table such as { A = "cancel", D = "enter" }')
    keys = []
    for label, action in table.items():
        try:
            keys.append((label, Key(action)))
        except ValueError:
            actions = ", ".join(k.value for k in Key if not k.is_digit)
            raise ConfigError(r.path, f"keypad.keys.{label}", action, f"one of {actions}") from None
    return MatrixConfig(rows, columns, tuple(layout), tuple(keys))


def _read_toml(path: Path, what: str = "a TOML config file (see config/terminal.example.toml)") -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "(file)", _MISSING, what, sentence=f"no such file: expected {what}") from None
    except OSError as exc:
        raise ConfigError(
            path, "(file)", _MISSING, "a readable file", sentence=f"cannot read it ({exc.strerror or exc})"
        ) from None
    except tomllib.TOMLDecodeError as exc:  # its message says where: "… (at line 3, column 7)"
        raise ConfigError(path, "(file)", _MISSING, "valid TOML", sentence=f"not valid TOML: {exc}") from None


def secrets_exposure(path: Path) -> str | None:
    """Why the secrets file is not private to its owner (its group or others may use it), or None when it is
    (or is absent). ``run`` refuses to start on it; ``doctor`` reports it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path}: cannot check its mode ({exc.strerror or exc})"
    if mode & 0o077:
        return f"{path} is readable by others (mode {mode:o})"
    return None


def _secrets_path(config_path: Path, secrets_file: str) -> Path:
    path = Path(secrets_file)
    return path if path.is_absolute() else config_path.parent / path


#: The provider adapters and their public API.
PROVIDERS = {"razorpay": "https://api.razorpay.com", "stripe": "https://api.stripe.com"}
STRIPE_METHODS: dict[str, str | None] = {"promptpay": "THB", "paynow": "SGD", "pix": "BRL", "wechat_pay": None}
PROVIDER_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "razorpay": {"razorpay_key_id": ("rzp_",), "razorpay_key_secret": ("",)},
    "stripe": {"stripe_secret_key": ("sk_", "rk_")},  # a secret or a restricted key
}


def _provider_rules(r: _Reader, kind: str, method: str, currency: str, sale_ttl: int) -> dict[str, Any]:
    """[backend]'s provider-specific keys and the provider's own limits (its minimum sale, whether refunds can be
    made from the terminal, the sale_ttl its QR expiry allows), each from the adapter that knows them."""
    if kind == "razorpay":
        from terminal.backends import razorpay

        hosts = r.strings("backend.image_hosts", default=razorpay.IMAGE_HOSTS)
        return {
            "image_hosts": hosts,
            "minimum": razorpay.minimum(currency),
            "minimum_reason": "the smallest amount Razorpay accepts",
        }
    if "image_hosts" in r.data.get("backend", {}):
        raise ConfigError(
            r.path,
            "backend.image_hosts",
            r.data["backend"]["image_hosts"],
            'no value: image hosts are read only with kind = "razorpay"',
        )
    if kind == "stripe":
        from terminal.backends import stripe

        problem = stripe.sale_ttl_problem(method, sale_ttl)
        if problem:
            raise ConfigError(r.path, "terminal.sale_ttl", sale_ttl, problem)
        return {
            "minimum": stripe.minimum(currency),
            "minimum_reason": "the smallest amount Stripe accepts",
            "refunds_elsewhere": stripe.REFUND_REFUSALS.get(method, ""),
        }
    return {}


def _credentials(config_path: Path, secrets_file: str, kind: str, env: dict[str, str] | Any) -> dict[str, str]:
    """The provider's keys, from the environment (QR_TERMINAL_<KEY>) or the secrets file; never shown."""
    wanted = PROVIDER_KEYS[kind]
    data: dict[str, Any] = {}
    if secrets_file:
        data = _read_toml(_secrets_path(config_path, secrets_file), f"a TOML secrets file with {', '.join(wanted)}")
    found: dict[str, str] = {}
    for key, prefixes in wanted.items():
        value = env.get(f"QR_TERMINAL_{key.upper()}") or data.get(key, _MISSING)
        where = _secrets_path(config_path, secrets_file) if secrets_file else config_path
        if not isinstance(value, str) or len(value) < 8 or not value.startswith(prefixes):
            shown = _MISSING if value is _MISSING else "(hidden)"
            starts = " or ".join(p for p in prefixes if p)
            expected = f"the {kind} API key from its dashboard" + (f" (it starts with {starts})" if starts else "")
            raise ConfigError(where, key, shown, f"{expected}, in the secrets file or QR_TERMINAL_{key.upper()}")
        found[key] = value
    return found


def _token_from(config_path: Path, secrets_file: str) -> str:
    if not secrets_file:
        raise ConfigError(
            config_path,
            "secrets.file",
            _MISSING,
            f"the path of a secrets file with device_token (or the {TOKEN_ENV} environment variable)",
        )
    path = Path(secrets_file)
    if not path.is_absolute():
        path = config_path.parent / path
    data = _read_toml(path, f'a TOML secrets file with device_token = "…" (or the {TOKEN_ENV} environment variable)')
    token = data.get("device_token", _MISSING)
    if not isinstance(token, str) or len(token) < 8:
        shown = _MISSING if token is _MISSING else "(hidden)"
        raise ConfigError(path, "device_token", shown, "the backend's device token, a string of 8+ characters")
    return token


class _Reader:
    """Typed access to ``section.key`` values that records what was read (to find unknown keys)."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data = path, data
        self._pins: dict[str, int] = {}

    def _get(self, dotted: str, default: Any) -> Any:
        section, key = dotted.split(".")
        table = self.data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(self.path, section, table, "a [table]")
        value = table.get(key, default)
        if value is _MISSING:
            raise ConfigError(self.path, dotted, _MISSING, "a value (see config/terminal.example.toml)")
        return value

    def string(self, dotted: str, default: Any = _MISSING) -> str:
        value = self._get(dotted, default)
        if not isinstance(value, str):
            raise ConfigError(self.path, dotted, value, "a string")
        return value

    def matching(self, dotted: str, pattern: str, expected: str) -> str:
        value = self.string(dotted)
        if not re.fullmatch(pattern, value):
            raise ConfigError(self.path, dotted, value, expected)
        return value

    def file_path(self, dotted: str, default: str) -> Path:
        value = Path(self.string(dotted, default))
        return value if value.is_absolute() else self.path.parent / value

    def integer(self, dotted: str, default: int, *, low: int, high: int) -> int:
        value = self._get(dotted, default)
        if type(value) is not int or not low <= value <= high:
            raise ConfigError(self.path, dotted, value, f"a whole number from {low} to {high}")
        return value

    def boolean(self, dotted: str, default: bool) -> bool:
        value = self._get(dotted, default)
        if not isinstance(value, bool):
            raise ConfigError(self.path, dotted, value, "true or false")
        return value

    def choice(self, dotted: str, choices: list[Any], default: Any) -> Any:
        value = self._get(dotted, default)
        if value not in choices or type(value) is not type(choices[0]):
            raise ConfigError(self.path, dotted, value, "one of " + ", ".join(map(str, choices)))
        return value

    def strings(self, dotted: str, *, default: Any = _MISSING, nonempty: bool = False) -> tuple[str, ...]:
        value = self._get(dotted, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.path, dotted, value, "a list of strings")
        if nonempty and not value:
            raise ConfigError(self.path, dotted, value, "at least one entry")
        return tuple(value)

    def hex_id(self, dotted: str) -> int:
        """A USB vendor or product id written "0x04b8" (as lsusb shows it), or 0 when absent."""
        value = self._get(dotted, "0")
        try:
            number = int(value, 16) if isinstance(value, str) else -1
        except ValueError:
            number = -1
        if not 0 <= number <= 0xFFFF:
            raise ConfigError(self.path, dotted, value, 'a USB id in hex as lsusb shows it, e.g. "0x04b8"')
        return number

    def pin(self, dotted: str) -> int | None:
        """A BCM GPIO number (2–27), or None when the key is absent (the part is not fitted)."""
        value = self._get(dotted, None)
        if value is None:
            return None
        if type(value) is not int or not 2 <= value <= 27:
            raise ConfigError(
                self.path, dotted, value, "a BCM GPIO number from 2 to 27 (leave the key out if not fitted)"
            )
        self._pins[dotted] = value
        return value

    def pins(self, dotted: str, count: int | tuple[int, ...]) -> tuple[int, ...] | None:
        """A list of ``count`` BCM GPIO numbers (one of the counts, given several), or None when absent."""
        value = self._get(dotted, None)
        if value is None:
            return None
        counts = (count,) if isinstance(count, int) else count
        count = len(value) if isinstance(value, list) and len(value) in counts else counts[-1]
        if (
            not isinstance(value, list)
            or len(value) != count
            or not all(type(v) is int and 2 <= v <= 27 for v in value)
        ):
            raise ConfigError(self.path, dotted, value, f"a list of {count} BCM GPIO numbers from 2 to 27")
        for i, v in enumerate(value):
            self._pins[f"{dotted}[{i}]"] = v
        return tuple(value)

    def distinct_pins(self) -> None:
        seen: dict[int, str] = {}
        for key, value in self._pins.items():
            if value in seen:
                raise ConfigError(self.path, key, value, f"a GPIO not already used by {seen[value]}")
            seen[value] = key

    def reject_unknown(self) -> None:
        for section, table in self.data.items():
            if section not in _SECTIONS:
                known = ", ".join(f"[{s}]" for s in _SECTIONS)
                close = difflib.get_close_matches(section, _SECTIONS, n=1)
                hint = f" (did you mean [{close[0]}]?)" if close else ""
                raise ConfigError(
                    self.path,
                    section,
                    "[table]",
                    f"one of {known}",
                    sentence=f"unknown section [{section}]{hint}; the sections are {known}",
                )
            if not isinstance(table, dict):
                raise ConfigError(self.path, section, table, "a [table]")
            for key in table:
                if key not in _SECTIONS[section]:
                    known = ", ".join(sorted(_SECTIONS[section]))
                    raise ConfigError(self.path, f"{section}.{key}", table[key], f"a known key ({known})")


def _three(pins: tuple[int, ...] | None) -> tuple[int, int, int] | None:
    """The three pins of an RGB LED (``pins`` was read as exactly three)."""
    return (pins[0], pins[1], pins[2]) if pins else None
