"""The TOML config (and the secrets file), loaded once at start into frozen dataclasses.

Each [section] is a dataclass in :mod:`terminal.config.sections` that declares its keys, their defaults and its
rules; :mod:`terminal.config.schema` reads them; :mod:`terminal.config.secrets` reads the secrets. Every error
names the file, the key, the value and what was expected; ``qr-terminal`` exits 2 on it. Unknown sections and keys
are errors too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from terminal.config.schema import ConfigError, Document
from terminal.config.secrets import (
    PROVIDER_KEYS,
    TILL_SECRET_ENV,
    TOKEN_ENV,
    Secrets,
    SecretsFile,
    secrets_exposure,
)
from terminal.config.sections import (
    PROVIDERS,
    SECTIONS,
    STRIPE_METHODS,
    VOICE_BY_CURRENCY,
    BackendSection,
    ButtonsSection,
    DisplaySection,
    GpioSection,
    IndicatorsSection,
    KeypadSection,
    MerchantSection,
    OfflineSection,
    PayeeSection,
    PrinterSection,
    SecretsSection,
    TerminalSection,
    TillSection,
    VoiceSection,
)
from terminal.core.offline import OfflineRules
from terminal.devices.indicators import IndicatorPins
from terminal.devices.matrix_keypad import MatrixConfig
from terminal.devices.printer import PrinterConfig

__all__ = [
    "DEFAULT_PATH",
    "PROVIDERS",
    "PROVIDER_KEYS",
    "SECTIONS",
    "STRIPE_METHODS",
    "TILL_SECRET_ENV",
    "TOKEN_ENV",
    "VOICE_BY_CURRENCY",
    "BackendSection",
    "Config",
    "ConfigError",
    "DisplaySection",
    "PayeeSection",
    "TerminalSection",
    "TillSection",
    "VoiceSection",
    "add_config_argument",
    "load",
    "load_for",
    "secrets_exposure",
]

DEFAULT_PATH = "/etc/qr-terminal/terminal.toml"


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


def load(path: str | Path, *, environ: Mapping[str, str] | None = None, secrets: bool = True) -> Config:
    """Read and check the config at ``path`` (and its secrets). Raises ConfigError.

    ``secrets=False`` checks the config alone (no token, keys or PIN hash read): ``doctor`` uses it to go on
    checking the rest when only the secrets file is wrong.
    """
    doc = Document.open(Path(path), SECTIONS)
    terminal = doc["terminal"].read(TerminalSection)
    merchant = doc["merchant"].read(MerchantSection)
    payee = doc["payee"].read(PayeeSection, merchant_name=merchant.name)
    till = TillSection.from_toml(doc["till"], terminal.sale_ttl)
    backend = BackendSection.from_toml(doc["backend"], terminal)
    secrets_path = doc["secrets"].read(SecretsSection).path(doc.path)
    kept = Secrets()
    if secrets:
        needs = None if till is None else till.needs_secret
        env = os.environ if environ is None else environ
        kept = SecretsFile(doc.path, secrets_path, env).read(backend.kind, till_needs_secret=needs)
    config = Config(
        path=doc.path,
        merchant_name=merchant.name,
        merchant_address=merchant.address,
        store=merchant.store,
        terminal=terminal,
        payee=payee,
        backend=backend,
        display=doc["display"].read(DisplaySection, currency=terminal.currency),
        indicators=doc["indicators"].read(IndicatorsSection).pins(),
        gpio_mock=doc["gpio"].read(GpioSection).mock,
        keypad=KeypadSection.from_toml(doc["keypad"]),
        buttons=doc["buttons"].read(ButtonsSection).fitted(),
        printer=PrinterSection.from_toml(doc["printer"]),
        offline=OfflineSection.from_toml(doc["offline"], terminal.currency, payee),
        voice=VoiceSection.from_toml(doc["voice"], terminal.currency),
        till=till if till is None else replace(till, secret=kept.till_secret),
        secrets_path=secrets_path,
        device_token=kept.device_token,
        credentials=kept.credentials,
    )
    doc.distinct_pins()
    return config
