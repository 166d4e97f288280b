"""The config's sections: one frozen dataclass per [table] of terminal.toml, each with its keys (kind and
default, see :mod:`terminal.config.schema`) and, in ``from_toml``, the rules that tie its keys together.

``config/terminal.example.toml`` documents every key declared here (a test keeps the two in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from terminal.backends.http import check_url
from terminal.config.schema import (
    MISSING,
    ConfigError,
    FilePath,
    Flag,
    Group,
    HexId,
    Invalid,
    Kind,
    Known,
    Money,
    OneOf,
    Pin,
    Pins,
    Table,
    Text,
    Texts,
    Whole,
    setting,
)
from terminal.core import speech
from terminal.core.keys import Key
from terminal.core.money import EXPONENTS, Amount
from terminal.core.offline import SCHEMES as OFFLINE_SCHEMES
from terminal.core.offline import OfflineRules
from terminal.core.pole import COMMAND_SETS, DEFAULT_PATTERN
from terminal.devices.indicators import IndicatorPins
from terminal.devices.matrix_keypad import LAYOUT_4X3, LAYOUT_4X4, MatrixConfig
from terminal.devices.printer import CONNECTIONS, PrinterConfig

#: The provider adapters and their public API.
PROVIDERS = {"razorpay": "https://api.razorpay.com", "stripe": "https://api.stripe.com"}
#: Stripe's QR payment methods and the currency each pays in (None: any).
STRIPE_METHODS: dict[str, str | None] = {"promptpay": "THB", "paynow": "SGD", "pix": "BRL", "wechat_pay": None}
#: The language a shop most likely wants, by its currency.
VOICE_BY_CURRENCY = {"INR": "en-IN", "BRL": "pt-BR", "THB": "th"}


def _display_languages() -> tuple[str, ...]:
    from terminal.i18n import LANGUAGES  # Babel's catalogues: read only when the config is

    return tuple(LANGUAGES)


def _display_language(known: Known) -> str:
    from terminal.i18n import default_language

    return default_language(known["currency"])


@dataclass(frozen=True, slots=True)
class TerminalSection:
    """[terminal]: who this terminal is and its sale rules."""

    id: str = setting(Text(r"[A-Za-z0-9]{1,8}", '1 to 8 letters or digits, e.g. "T1"'))
    currency: str = setting(OneOf(sorted(EXPONENTS)), "INR")
    max_amount: Amount = setting(Money(above_zero=True), "100000")
    sale_ttl: int = setting(Whole(30, 3600), 300)
    result_seconds: int = setting(Whole(2, 600), 10)
    journal: Path = setting(FilePath(), "/var/lib/qr-terminal/journal.db")


@dataclass(frozen=True, slots=True)
class MerchantSection:
    """[merchant]: the shop, as screens and receipts name it."""

    name: str = setting(Text())
    address: tuple[str, ...] = setting(Texts(), ())
    store: str = setting(Text(), "")


@dataclass(frozen=True, slots=True)
class PayeeSection:
    """[payee]: whom customers pay; the guard refuses any QR that pays anyone else."""

    name: str = setting(Text(), lambda known: known["merchant_name"])
    ids: tuple[str, ...] = setting(Texts(nonempty=True))
    url_hosts: tuple[str, ...] = setting(Texts(), ())
    allow_unknown_formats: bool = setting(Flag(), False)
    #: GUIs of further EMV networks the shop uses (a template of a network not known here is refused otherwise).
    emv_networks: tuple[str, ...] = setting(Texts(), ())


def _image_hosts(known: Known) -> tuple[str, ...]:
    if known["kind"] != "razorpay":
        return ()
    from terminal.backends import razorpay

    return razorpay.IMAGE_HOSTS


@dataclass(frozen=True, slots=True)
class BackendSection:
    """[backend]: where orders are made (contract v1 over HTTP, or a provider's adapter)."""

    kind: str = setting(OneOf(["http", *PROVIDERS]), "http")
    #: The base URL orders go to: [backend] url for kind = "http", api_base for a provider.
    url: str = setting(Text(), "")
    api_base: str = setting(Text(), lambda known: PROVIDERS.get(known["kind"], ""))
    #: Stripe's QR payment method (promptpay, paynow, pix, wechat_pay); empty for other kinds.
    method: str = setting(OneOf(list(STRIPE_METHODS)), "promptpay")
    timeout: float = setting(Whole(1, 120), 10)
    long_poll: int = setting(Whole(0, 60), 25)
    poll_interval: float = setting(Whole(1, 60), 2)
    allow_plain_http: bool = setting(Flag(), False)
    ca_file: str | None = setting(Text(blank=None), "")
    sandbox: bool = setting(Flag(), False)
    #: Razorpay: hosts its hosted QR images may be fetched from (when the account lacks "image content").
    image_hosts: tuple[str, ...] = setting(Texts(), _image_hosts)
    #: The provider's smallest sale in the terminal's currency, and whose minimum it is (refused on the keypad).
    minimum: Amount | None = None
    minimum_reason: str = ""
    #: Why refunds cannot be made from the terminal with this provider and method ("" when they can).
    refunds_elsewhere: str = ""

    @classmethod
    def from_toml(cls, table: Table, terminal: TerminalSection) -> BackendSection:
        """[backend], with the URL checked and the provider's own limits (each from the adapter that knows them)."""
        backend = table.read(cls)
        if backend.kind == "http":
            table.require("url")
            url_key, url = "url", backend.url
        else:
            url_key, url = "api_base", backend.api_base
        problem = check_url(url, allow_plain_http=backend.allow_plain_http)
        if problem:
            raise table.error(url_key, url, problem)
        if backend.kind != "stripe":
            table.refuse("method", 'the method is read only with kind = "stripe"')
        if backend.kind != "razorpay":
            table.refuse("image_hosts", 'image hosts are read only with kind = "razorpay"')
        backend = replace(backend, url=url, method=backend.method if backend.kind == "stripe" else "")
        return backend._with_provider_rules(table, terminal)

    def _with_provider_rules(self, table: Table, terminal: TerminalSection) -> BackendSection:
        currency = terminal.currency
        pays_in = "INR" if self.kind == "razorpay" else STRIPE_METHODS.get(self.method)
        if self.kind != "http" and pays_in is not None and currency != pays_in:
            where = "Razorpay UPI QR codes" if self.kind == "razorpay" else f"Stripe {self.method}"
            raise ConfigError(table.path, "terminal.currency", currency, f"{pays_in}: {where} pay in {pays_in}")
        if self.kind == "razorpay":
            from terminal.backends import razorpay

            return replace(
                self, minimum=razorpay.minimum(currency), minimum_reason="the smallest amount Razorpay accepts"
            )
        if self.kind == "stripe":
            from terminal.backends import stripe

            problem = stripe.sale_ttl_problem(self.method, terminal.sale_ttl)
            if problem:
                raise ConfigError(table.path, "terminal.sale_ttl", terminal.sale_ttl, problem)
            return replace(
                self,
                minimum=stripe.minimum(currency),
                minimum_reason="the smallest amount Stripe accepts",
                refunds_elsewhere=stripe.REFUND_REFUSALS.get(self.method, ""),
            )
        return self


@dataclass(frozen=True, slots=True)
class DisplaySection:
    """[display]: the screen."""

    driver: str = setting(Text(), "")
    fullscreen: bool = setting(Flag(), True)
    width: int = setting(Whole(0, 7680), 0)
    height: int = setting(Whole(0, 4320), 0)
    rotate: int = setting(OneOf([0, 90, 180, 270]), 0)
    fps: int = setting(Whole(5, 60), 20)
    #: The language of the screen, receipts, reports and menu (en, en-IN, hi, ta, th, pt-BR); amounts are
    #: written in its number format. Default: the currency's country's, like the voice.
    language: str = setting(OneOf(_display_languages), _display_language)


@dataclass(frozen=True, slots=True)
class IndicatorsSection:
    """[indicators]: LEDs (one per colour, or one RGB LED) and a buzzer; a pin left out is a part not fitted."""

    green: int | None = setting(Pin(), None)
    red: int | None = setting(Pin(), None)
    amber: int | None = setting(Pin(), None)
    rgb: tuple[int, ...] | None = setting(Pins((3,)), None)
    active_high: bool = setting(Flag(), True)
    buzzer: int | None = setting(Pin(), None)
    buzzer_type: str = setting(OneOf(["active", "passive"]), "active")
    sound: bool = setting(Flag(), True)

    def pins(self) -> IndicatorPins | None:
        """Where the lamps and the buzzer are, or None when none is fitted."""
        rgb = (self.rgb[0], self.rgb[1], self.rgb[2]) if self.rgb else None
        if all(p is None for p in (self.green, self.red, self.amber, rgb, self.buzzer)):
            return None
        return IndicatorPins(
            self.green, self.red, self.amber, rgb, self.active_high, self.buzzer, self.buzzer_type, self.sound
        )


@dataclass(frozen=True, slots=True)
class GpioSection:
    """[gpio]: ``mock`` puts every GPIO part on gpiozero's MockFactory (a desktop without GPIO; the demo)."""

    mock: bool = setting(Flag(), False)


@dataclass(frozen=True, slots=True)
class KeyActions(Kind):
    """What the keypad's non-digit labels do: a table such as { A = "cancel", D = "enter" }."""

    def read(self, value: Any, known: Known, table: Table) -> tuple[tuple[str, Key], ...]:
        if not isinstance(value, dict):
            raise Invalid('a table such as { A = "cancel", D = "enter" }')
        keys = []
        for label, action in value.items():
            try:
                keys.append((label, Key(action)))
            except ValueError:
                actions = ", ".join(k.value for k in Key if not k.is_digit)
                raise Invalid(f"one of {actions}", key=label, value=action) from None
        return tuple(keys)


def _layout(known: Known) -> tuple[str, ...]:
    return LAYOUT_4X4 if len(known["columns"] or ()) == 4 else LAYOUT_4X3


@dataclass(frozen=True, slots=True)
class KeypadSection:
    """[keypad]: a 4×4 or 4×3 membrane keypad on GPIOs: its lines, its printed labels, what the labels do."""

    rows: tuple[int, ...] | None = setting(Pins((4,)), None)
    columns: tuple[int, ...] | None = setting(Pins((3, 4)), None)
    layout: tuple[str, ...] = setting(Texts(), _layout)
    keys: tuple[tuple[str, Key], ...] = setting(KeyActions(), {})

    @classmethod
    def from_toml(cls, table: Table) -> MatrixConfig | None:
        """The keypad's wiring, or None when there is no [keypad]."""
        if not table.present:
            return None
        keypad = table.read(cls)
        if keypad.rows is None or keypad.columns is None:
            missing = "rows" if keypad.rows is None else "columns"
            raise table.error(missing, MISSING, "the keypad's row and column GPIOs")
        width = len(keypad.columns)
        if len(keypad.layout) != 4 or any(len(row) != width for row in keypad.layout):
            raise table.error("layout", list(keypad.layout), f"4 strings of {width} key labels each")
        return MatrixConfig(keypad.rows, keypad.columns, keypad.layout, keypad.keys)


@dataclass(frozen=True, slots=True)
class ButtonsSection:
    """[buttons]: push buttons between a GPIO and ground; a button left out is not fitted."""

    cancel: int | None = setting(Pin(), None)
    reprint: int | None = setting(Pin(), None)
    feed: int | None = setting(Pin(), None)
    menu: int | None = setting(Pin(), None)
    repeat: int | None = setting(Pin(), None)

    def fitted(self) -> dict[str, int]:
        """Each fitted button's GPIO, by what it does."""
        named = {"cancel": self.cancel, "reprint": self.reprint, "feed": self.feed, "menu": self.menu}
        named["repeat"] = self.repeat
        return {name: pin for name, pin in named.items() if pin is not None}


@dataclass(frozen=True, slots=True)
class PrinterSection:
    """[printer]: the ESC/POS receipt printer (only the keys of the chosen connection are used)."""

    connection: str = setting(OneOf(list(CONNECTIONS)), "none")
    profile: str = setting(Text(), "TM-T20II")
    usb_vendor: int = setting(HexId(), "0")
    usb_product: int = setting(HexId(), "0")
    device: str = setting(Text(), "")
    baudrate: int = setting(OneOf([9600, 19200, 38400, 57600, 115200]), 9600)
    host: str = setting(Text(), "")
    port: int = setting(Whole(1, 65535), 9100)
    timeout: int = setting(Whole(1, 30), 2)
    auto_print: str = setting(OneOf(["always", "ask", "never"]), "ask")
    footer: tuple[str, ...] = setting(Texts(), ())

    #: The keys each connection cannot do without.
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "usb": ("usb_vendor", "usb_product"),
        "serial": ("device",),
        "file": ("device",),
        "directory": ("device",),
        "network": ("host",),
    }

    @classmethod
    def from_toml(cls, table: Table) -> PrinterConfig | None:
        """How the printer is connected, or None without one."""
        printer = table.read(cls)
        if printer.connection == "none":
            return None
        for key in cls.NEEDS.get(printer.connection, ()):
            table.require(key)
        return PrinterConfig(
            connection=printer.connection,
            profile=printer.profile,
            usb_vendor=printer.usb_vendor,
            usb_product=printer.usb_product,
            device=printer.device,
            baudrate=printer.baudrate,
            host=printer.host,
            port=printer.port,
            timeout=float(printer.timeout),
            auto_print=printer.auto_print,
            footer=printer.footer,
        )


@dataclass(frozen=True, slots=True)
class OfflineSection:
    """[offline]: what the terminal does when the backend cannot be reached ("local-qr": its own QR, capped)."""

    mode: str = setting(OneOf(["refuse", "local-qr"]), "refuse")
    scheme: str = setting(OneOf(sorted(OFFLINE_SCHEMES)), "upi")
    payee: str = setting(Text(), lambda known: known["payee"].ids[0])
    city: str = setting(Text(), "")
    max_sale: Amount = setting(Money(), "2000")
    max_total: Amount = setting(Money(), "20000")
    max_count: int = setting(Whole(1, 10000), 500)
    max_age_hours: int = setting(Whole(1, 168), 24)

    @classmethod
    def from_toml(cls, table: Table, currency: str, payee: PayeeSection) -> OfflineRules | None:
        """The offline rules, or None when offline sales are refused."""
        offline = table.read(cls, currency=currency, payee=payee)
        if offline.mode == "refuse":
            return None
        if offline.payee not in payee.ids:
            raise table.error("payee", offline.payee, "one of payee.ids (the guard checks offline QRs too)")
        return OfflineRules(
            scheme=offline.scheme,
            payee_id=offline.payee,
            payee_name=payee.name,
            max_sale=offline.max_sale,
            max_total=offline.max_total,
            max_count=offline.max_count,
            max_age=3600.0 * offline.max_age_hours,
            city=offline.city,
        )


@dataclass(frozen=True, slots=True)
class VoiceSection:
    """[voice]: the spoken confirmation (language, espeak-ng voice, volume 0–100, failures spoken, clip cache)."""

    enabled: bool = setting(Flag(), False)
    language: str = setting(OneOf(list(speech.LANGUAGES)), lambda known: VOICE_BY_CURRENCY.get(known["currency"], "en"))
    voice: str = setting(
        Text(r"[A-Za-z0-9+_-]{0,40}", 'an espeak-ng voice such as "hi" or "en-gb+f3"'),
        lambda known: speech.LANGUAGES[known["language"]],
    )
    volume: int = setting(Whole(0, 100), 80)
    failures: bool = setting(Flag(), True)
    cache: Path = setting(FilePath(), "/var/cache/qr-terminal/voice")

    @classmethod
    def from_toml(cls, table: Table, currency: str) -> VoiceSection | None:
        """The voice, or None when it is off."""
        voice = table.read(cls, currency=currency)
        return voice if voice.enabled else None


@dataclass(frozen=True, slots=True)
class AmountPattern(Kind):
    """A regular expression with a group around the amount."""

    def read(self, value: Any, known: Known, table: Table) -> str:
        pattern: str = Text().read(value, known, table)
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            raise Invalid(f"a regular expression ({exc})") from None
        if groups < 1:
            raise Invalid("a regular expression with a group around the amount")
        return pattern


@dataclass(frozen=True, slots=True)
class PoleCapture:
    """[till] kind = "pole": how the till's customer-display line is read (docs/till-protocol.md)."""

    command_set: str = setting(OneOf(COMMAND_SETS), "epson")
    pattern: str = setting(AmountPattern(), DEFAULT_PATTERN)
    on_total: str = setting(OneOf(["sale", "prefill"]), "sale")
    passthrough: str | None = setting(Text(blank=None), "")
    decimal: str = setting(OneOf([".", ","]), ".")
    width: int = setting(Whole(8, 80), 20)


@dataclass(frozen=True, slots=True)
class TillSection:
    """[till]: a till wired to the terminal — its protocol and where: a serial device or ``tcp:PORT``."""

    kind: str = setting(OneOf(["native", "concert", "pole"]), "native")
    device: str = setting(
        Text(
            r"tcp:\d{1,5}|/dev/[^\s]+|(rfc2217|socket|loop)://\S*",
            'a serial device such as "/dev/ttyUSB0" or "/dev/serial/by-id/…", or "tcp:9100"',
        )
    )
    baudrate: int = setting(OneOf([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]), 9600)
    bytesize: int = setting(OneOf([7, 8]), 8)
    parity: str = setting(OneOf(["N", "E", "O"]), "N")
    stopbits: int = setting(OneOf([1, 2]), 1)
    host: str = setting(Text(), "127.0.0.1")
    #: kind = "pole": the capture's options (command_set, pattern, on_total, passthrough, decimal, width).
    pole: dict[str, Any] = setting(Group(PoleCapture))
    #: kind = "native": the till may REFUND and ask for the REPORT (off: whoever reaches the line could).
    manager_commands: bool = setting(Flag(), False)
    #: kind = "native": which lines must AUTH with ``secret`` first (tcp, all, off: terminal.devices.till_link).
    auth: str = setting(OneOf(["tcp", "all", "off"]), "tcp")
    #: A TCP connection with no traffic for this many seconds is closed (0: never).
    idle_timeout: int = setting(Whole(0, 86400), lambda known: max(600, known["sale_ttl"] + 60))
    #: The secret shared with the till (``till_secret`` in the secrets file, or QR_TERMINAL_TILL_SECRET).
    secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_toml(cls, table: Table, sale_ttl: int) -> TillSection | None:
        """The till's line (its secret comes from the secrets file later), or None when there is no [till]."""
        if not table.present:
            return None
        till = table.read(cls, sale_ttl=sale_ttl)
        if till.device.startswith("tcp:") and not 1 <= int(till.device[4:]) <= 65535:
            raise table.error("device", till.device, "a TCP port from 1 to 65535")
        if 0 < till.idle_timeout <= sale_ttl:
            raise table.error(
                "idle_timeout",
                till.idle_timeout,
                f"more than terminal.sale_ttl ({sale_ttl}), so a till waiting for its RESULT is not cut off; "
                "or 0 for never",
            )
        return till if till.kind == "pole" else replace(till, pole={})

    @property
    def needs_secret(self) -> bool:
        """Whether the till must prove ``till_secret`` (so the terminal cannot start without one)."""
        tcp = self.device.startswith("tcp:")
        return self.kind == "native" and (self.auth == "all" or (self.auth == "tcp" and tcp))


@dataclass(frozen=True, slots=True)
class SecretsSection:
    """[secrets]: the file with the device token, the provider's keys, the till's secret and the PIN hash."""

    file: str = setting(Text(), "")

    def path(self, config_path: Path) -> Path | None:
        """The secrets file (relative to the config file), or None when none is named."""
        if not self.file:
            return None
        path = Path(self.file)
        return path if path.is_absolute() else config_path.parent / path


#: Every section terminal.toml may have, by name, in the order they are read.
SECTIONS: dict[str, type] = {
    "terminal": TerminalSection,
    "merchant": MerchantSection,
    "payee": PayeeSection,
    "backend": BackendSection,
    "display": DisplaySection,
    "secrets": SecretsSection,
    "indicators": IndicatorsSection,
    "gpio": GpioSection,
    "offline": OfflineSection,
    "voice": VoiceSection,
    "till": TillSection,
    "keypad": KeypadSection,
    "buttons": ButtonsSection,
    "printer": PrinterSection,
}
