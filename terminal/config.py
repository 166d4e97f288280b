"""The TOML config (and the secrets file), loaded once at start into frozen dataclasses.

Every error names the file, the key, the value and what was expected; ``qr-terminal`` exits 2 on it.
Unknown keys are errors too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.backends.http import check_url
from terminal.core.money import EXPONENTS, Amount, MoneyError

TOKEN_ENV = "QR_TERMINAL_DEVICE_TOKEN"


class ConfigError(Exception):
    """A config problem, worded for the integrator: file, key, value, expectation."""

    def __init__(self, path: Path | str, key: str, value: Any, expected: str) -> None:
        shown = "(missing)" if value is _MISSING else repr(value)
        super().__init__(f"{path}: {key} = {shown}: expected {expected}")
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


@dataclass(frozen=True, slots=True)
class DisplaySection:
    """[display]: the screen."""

    driver: str
    fullscreen: bool
    width: int
    height: int
    rotate: int
    fps: int


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

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"Config(path={str(self.path)!r}, terminal={self.terminal.id!r}, backend={self.backend.url!r})"


_MISSING = object()
_SECTIONS = {
    "terminal": {"id", "currency", "max_amount", "sale_ttl", "result_seconds", "journal"},
    "merchant": {"name"},
    "payee": {"name", "ids", "url_hosts", "allow_unknown_formats"},
    "backend": {"kind", "url", "timeout", "long_poll", "poll_interval", "allow_plain_http", "ca_file", "sandbox"},
    "display": {"driver", "fullscreen", "width", "height", "rotate", "fps"},
    "secrets": {"file"},
}


def load(path: str | Path, *, environ: dict[str, str] | None = None) -> Config:
    """Read and check the config at ``path`` (and its secrets). Raises ConfigError."""
    env = os.environ if environ is None else environ
    path = Path(path)
    data = _read_toml(path)
    r = _Reader(path, data)
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
    payee = PayeeSection(
        name=r.string("payee.name", merchant_name),
        ids=r.strings("payee.ids", nonempty=True),
        url_hosts=r.strings("payee.url_hosts", default=()),
        allow_unknown_formats=r.boolean("payee.allow_unknown_formats", False),
    )
    allow_plain_http = r.boolean("backend.allow_plain_http", False)
    url = r.string("backend.url")
    problem = check_url(url, allow_plain_http=allow_plain_http)
    if problem:
        raise ConfigError(path, "backend.url", url, problem)
    backend = BackendSection(
        kind=r.choice("backend.kind", ["http"], "http"),
        url=url,
        timeout=r.integer("backend.timeout", 10, low=1, high=120),
        long_poll=r.integer("backend.long_poll", 25, low=0, high=60),
        poll_interval=r.integer("backend.poll_interval", 2, low=1, high=60),
        allow_plain_http=allow_plain_http,
        ca_file=r.string("backend.ca_file", "") or None,
        sandbox=r.boolean("backend.sandbox", False),
    )
    display = DisplaySection(
        driver=r.string("display.driver", ""),
        fullscreen=r.boolean("display.fullscreen", True),
        width=r.integer("display.width", 0, low=0, high=7680),
        height=r.integer("display.height", 0, low=0, high=4320),
        rotate=r.choice("display.rotate", [0, 90, 180, 270], 0),
        fps=r.integer("display.fps", 20, low=5, high=60),
    )
    secrets_file = r.string("secrets.file", "")
    token = env.get(TOKEN_ENV) or _token_from(path, secrets_file)
    r.reject_unknown()
    return Config(path, merchant_name, terminal, payee, backend, display, token)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "(file)", _MISSING, "a TOML config file (see config/terminal.example.toml)") from None
    except OSError as exc:
        raise ConfigError(path, "(file)", _MISSING, f"a readable file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(file)", _MISSING, f"valid TOML ({exc})") from None


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
    data = _read_toml(path)
    token = data.get("device_token", _MISSING)
    if not isinstance(token, str) or len(token) < 8:
        shown = _MISSING if token is _MISSING else "(hidden)"
        raise ConfigError(path, "device_token", shown, "the backend's device token, a string of 8+ characters")
    return token


class _Reader:
    """Typed access to ``section.key`` values that records what was read (to find unknown keys)."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path, self.data = path, data

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

    def reject_unknown(self) -> None:
        for section, table in self.data.items():
            if section not in _SECTIONS:
                raise ConfigError(self.path, section, "[table]", "one of " + ", ".join(f"[{s}]" for s in _SECTIONS))
            for key in table:
                if key not in _SECTIONS[section]:
                    known = ", ".join(sorted(_SECTIONS[section]))
                    raise ConfigError(self.path, f"{section}.{key}", table[key], f"a known key ({known})")
