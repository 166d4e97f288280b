"""The secrets: the device token, a provider's keys and the till's secret, from the environment or the secrets
file named by [secrets] file (mode 0600, owned by the service user). Never shown: an error says "(hidden)"."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal.config.schema import MISSING, ConfigError, read_toml

TOKEN_ENV = "QR_TERMINAL_DEVICE_TOKEN"
TILL_SECRET_ENV = "QR_TERMINAL_TILL_SECRET"
#: Each provider's keys in the secrets file and how each key starts ("": anyhow).
PROVIDER_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "razorpay": {"razorpay_key_id": ("rzp_",), "razorpay_key_secret": ("",)},
    "stripe": {"stripe_secret_key": ("sk_", "rk_")},  # a secret or a restricted key
}


@dataclass(frozen=True, slots=True)
class Secrets:
    """What the secrets file and the environment hold for this config (never logged)."""

    device_token: str = field(default="", repr=False)
    #: A provider's keys (razorpay_key_id/razorpay_key_secret, stripe_secret_key).
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    till_secret: str | None = field(default=None, repr=False)


class SecretsFile:
    """The secrets file named by the config at ``config_path`` (``path`` None: none named), read once."""

    def __init__(self, config_path: Path, path: Path | None, env: Mapping[str, str]) -> None:
        self.config_path, self.path, self.env = config_path, path, env
        self._data: dict[str, Any] | None = None

    def data(self, what: str) -> dict[str, Any]:
        """The file's keys (``what`` words the file expected, should it be missing); none without a file."""
        if self.path is None:
            return {}
        if self._data is None:
            self._data = read_toml(self.path, what)
        return self._data

    def read(self, backend_kind: str, *, till_needs_secret: bool | None) -> Secrets:
        """The token (kind "http") or the provider's keys, the till's secret (``till_needs_secret`` None: no
        till), and a check that the manager PIN's hash, if any, is one ``set-pin`` wrote."""
        token, credentials = (
            ("", self.credentials(backend_kind)) if backend_kind in PROVIDER_KEYS else (self.token(), {})
        )
        till_secret = None if till_needs_secret is None else self.till_secret(required=till_needs_secret)
        self.check_pin_hash()
        return Secrets(token, credentials, till_secret)

    def token(self) -> str:
        """The backend's device token: QR_TERMINAL_DEVICE_TOKEN, or device_token in the secrets file."""
        if self.env.get(TOKEN_ENV):
            return self.env[TOKEN_ENV]
        if self.path is None:
            raise ConfigError(
                self.config_path,
                "secrets.file",
                MISSING,
                f"the path of a secrets file with device_token (or the {TOKEN_ENV} environment variable)",
            )
        data = self.data(f'a TOML secrets file with device_token = "…" (or the {TOKEN_ENV} environment variable)')
        token = data.get("device_token", MISSING)
        if not isinstance(token, str) or len(token) < 8:
            shown = MISSING if token is MISSING else "(hidden)"
            raise ConfigError(self.path, "device_token", shown, "the backend's device token, a string of 8+ characters")
        return token

    def credentials(self, kind: str) -> dict[str, str]:
        """The provider's keys, from the environment (QR_TERMINAL_<KEY>) or the secrets file."""
        wanted = PROVIDER_KEYS[kind]
        data = self.data(f"a TOML secrets file with {', '.join(wanted)}")
        found: dict[str, str] = {}
        for key, prefixes in wanted.items():
            value = self.env.get(f"QR_TERMINAL_{key.upper()}") or data.get(key, MISSING)
            if not isinstance(value, str) or len(value) < 8 or not value.startswith(prefixes):
                shown = MISSING if value is MISSING else "(hidden)"
                starts = " or ".join(p for p in prefixes if p)
                expected = f"the {kind} API key from its dashboard" + (f" (it starts with {starts})" if starts else "")
                raise ConfigError(
                    self.path or self.config_path,
                    key,
                    shown,
                    f"{expected}, in the secrets file or QR_TERMINAL_{key.upper()}",
                )
            found[key] = value
        return found

    def till_secret(self, *, required: bool) -> str | None:
        """The secret the till proves with AUTH: QR_TERMINAL_TILL_SECRET, or till_secret in the secrets file."""
        secret = self.env.get(TILL_SECRET_ENV) or MISSING
        where = self.config_path
        if secret is MISSING and self.path is not None:
            where = self.path
            secret = self.data("a TOML secrets file").get("till_secret", MISSING)
        if secret is MISSING and not required:
            return None
        if not isinstance(secret, str) or len(secret) < 16 or not secret.isascii() or not secret.isprintable():
            raise ConfigError(
                where,
                "till_secret",
                MISSING if secret is MISSING else "(hidden)",
                "a secret shared with the till, 16+ printable ASCII characters (openssl rand -hex 32), in "
                f'the secrets file or {TILL_SECRET_ENV}; or [till] auth = "off" for a till that cannot '
                "authenticate (protocol v1)",
            )
        return secret

    def check_pin_hash(self) -> None:
        """Refuse a manager PIN hash that ``qr-terminal set-pin`` did not write (none at all is fine)."""
        if self.path is None:
            return
        from terminal.manager_pin import KEY, PinError, read_hash

        try:
            read_hash(self.path)
        except PinError:
            raise ConfigError(self.path, KEY, "(hidden)", "a hash written by 'qr-terminal set-pin'") from None


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
