"""The manager PIN: a slow salted hash (scrypt, from the standard library) kept in the secrets file as
``manager_pin = "scrypt$16384$8$1$<salt>$<hash>"`` (``qr-terminal set-pin``, terminal.commands.pin, writes it).

The terminal reads the hash from the secrets file at each check, so a PIN set with ``set-pin`` works at once,
without a restart. The PIN itself is never stored, logged or kept after the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import secrets
import tomllib
from pathlib import Path

from terminal.core.pin import PIN_DIGITS

#: scrypt's cost: 16 MiB of memory and ~50 ms on a desktop core, a few hundred ms on a Pi Zero 2 W — cheap
#: for one check at the counter, slow for anyone trying all 10⁸ PINs from a stolen secrets file.
N, R, P = 2**14, 8, 1
KEY = "manager_pin"


class PinError(ValueError):
    """A PIN or stored hash that cannot be used; the message says why."""


def check_new_pin(pin: str) -> None:
    """Refuse PINs that are not 4–8 digits, or that anyone would try first (1111, 1234, 4321…)."""
    low, high = PIN_DIGITS
    if not pin.isdigit() or not low <= len(pin) <= high:
        raise PinError(f"the PIN must be {low} to {high} digits")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        raise PinError("that PIN is too easy to guess (all the same digit, or a run like 1234): choose another")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``pin``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, digest) of a stored hash; PinError when it is not one of ours."""
    parts = stored.split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise PinError("not a manager PIN hash: set it with 'qr-terminal set-pin'") from None
    if n < 2**10 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or len(salt) < 8 or len(digest) < 16:
        raise PinError("a manager PIN hash with unusable parameters: set it again with 'qr-terminal set-pin'")
    return n, r, p, salt, digest


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored`` (compared in constant time)."""
    n, r, p, salt, digest = parse_hash(stored)
    candidate = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=len(digest))
    return hmac.compare_digest(candidate, digest)


def read_hash(secrets_file: Path) -> str | None:
    """The stored hash in the secrets file, or None when none is set (PinError when it is damaged)."""
    try:
        data = tomllib.loads(secrets_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PinError(f"cannot read {secrets_file}: {exc}") from None
    stored = data.get(KEY)
    if stored is None:
        return None
    if not isinstance(stored, str):
        raise PinError(f"{secrets_file}: {KEY} must be a string: set it with 'qr-terminal set-pin'")
    parse_hash(stored)
    return stored


def write_hash(secrets_file: Path, stored: str) -> None:
    """Put ``manager_pin = "…"`` into the secrets file, keeping every other line, atomically, mode 0600."""
    write_secret(secrets_file, KEY, stored)


def write_secret(secrets_file: Path, key: str, value: str) -> None:
    """Put ``key = "value"`` into the secrets file, keeping every other line, atomically, mode 0600."""
    try:
        lines = secrets_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    kept = [line for line in lines if not line.replace(" ", "").startswith(f"{key}=")]
    text = "\n".join([*kept, f'{key} = "{value}"']) + "\n"
    tomllib.loads(text)  # never leave a file the terminal cannot read
    temporary = secrets_file.with_name(f".{secrets_file.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if secrets_file.exists():  # keep the owner (the service user) of the file it replaces
            st = secrets_file.stat()
            if hasattr(os, "chown") and os.geteuid() == 0:
                os.chown(temporary, st.st_uid, st.st_gid)
        os.replace(temporary, secrets_file)
    finally:
        if temporary.exists():
            temporary.unlink()


class PinChecker:
    """Checks a typed PIN against the secrets file's hash: True, False, or None when no PIN is set."""

    def __init__(self, secrets_file: Path | None) -> None:
        self.secrets_file = secrets_file

    def __call__(self, pin: str) -> bool | None:
        if self.secrets_file is None:
            return None
        stored = read_hash(self.secrets_file)
        return None if stored is None else verify_pin(pin, stored)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
