"""Who may look: users with scrypt password hashes, sessions behind an HttpOnly cookie, CSRF tokens, and a limit on
wrong passwords.

- Passwords: ``hashlib.scrypt`` (stdlib; n=2^14, r=8, p=1, a 16-byte salt), stored as
  ``scrypt$n$r$p$salt$hash`` (base64) and compared in constant time. An unknown name is checked against a dummy
  hash, so it costs the same time and gets the same sentence as a wrong password: no user enumeration.
- Sessions: a random 32-byte token in the cookie, only its SHA-256 in the ``sessions`` table (a stolen database
  does not log anyone in); each session has its own CSRF token, sent back in every form and compared in constant
  time. A session ends after ``SESSION_TTL`` or at logout.
- Wrong passwords: at most ``MAX_FAILURES`` in ``FAILURE_WINDOW`` per name (existing or not) and per address; then
  every attempt, even the right password, is refused until the window has passed. Kept in memory, per replica.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.dashboard import tables
from hub.db import Database

ROLES = ("owner", "staff")
NAME_MAX = 64
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
SESSION_TTL = 8 * 3600.0
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60.0
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, n: int = _N) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (constant-time compare; a damaged hash never matches)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        given = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(given, base64.b64decode(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


#: An unknown name is checked against this, so it takes as long as a known one.
_DUMMY = hash_password(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """A user name as stored (trimmed); ValueError with a sentence for one that cannot be."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or any(c.isspace() or not c.isprintable() for c in name):
        raise ValueError(f"a user name is 1-{NAME_MAX} printable characters without spaces")
    return name


def check_new_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"a password is at least {PASSWORD_MIN} characters (and at most {PASSWORD_MAX})")
    return password


@dataclass(frozen=True)
class Session:
    """A logged-in person: name, role, language preference, the session's CSRF token and when it ends."""

    user: str
    role: str
    language: str | None
    csrf: str
    expires_at: float

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


class Users:
    """Users and sessions in the hub's database."""

    def __init__(
        self, database: Database, *, clock: Callable[[], float] = time.time, session_ttl: float = SESSION_TTL
    ) -> None:
        self.db = database
        self._clock = clock
        self.session_ttl = session_ttl

    def add(self, name: str, password: str, role: str, language: str | None = None) -> None:
        """A new user; ValueError for a bad name, password or role, or a name taken."""
        name = check_name(name)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        hashed = hash_password(check_new_password(password))
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    insert(tables.users).values(
                        name=name, password_hash=hashed, role=role, language=language, created_at=self._clock()
                    )
                )
        except IntegrityError:
            raise ValueError(f"there is already a user {name!r}") from None

    def login(self, name: str, password: str) -> str | None:
        """A new session token for the right name and password; None otherwise (same work either way)."""
        with self.db.transaction() as conn:
            row = conn.execute(select(tables.users).where(tables.users.c.name == name.strip()[:NAME_MAX])).first()
        good = check_password(password[:PASSWORD_MAX], row.password_hash if row is not None else _DUMMY)
        if row is None or not good:
            return None
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self.db.transaction() as conn:
            conn.execute(delete(tables.sessions).where(tables.sessions.c.expires_at < now))
            conn.execute(
                insert(tables.sessions).values(
                    id_hash=_digest(token),
                    user_name=row.name,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.session_ttl,
                )
            )
        return token

    def session(self, token: str | None) -> Session | bool | None:
        """The session of a cookie's token: a :class:`Session`, False when it existed but expired, None when
        there is none."""
        if not token or len(token) > 100:
            return None
        join = tables.sessions.join(tables.users, tables.sessions.c.user_name == tables.users.c.name)
        with self.db.transaction() as conn:
            row = conn.execute(
                select(
                    tables.sessions.c.csrf,
                    tables.sessions.c.expires_at,
                    tables.users.c.name,
                    tables.users.c.role,
                    tables.users.c.language,
                )
                .select_from(join)
                .where(tables.sessions.c.id_hash == _digest(token))
            ).first()
        if row is None:
            return None
        if row.expires_at <= self._clock():
            self.logout(token)
            return False
        return Session(row.name, row.role, row.language, row.csrf, row.expires_at)

    def logout(self, token: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(tables.sessions).where(tables.sessions.c.id_hash == _digest(token)))

    def set_language(self, name: str, language: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(update(tables.users).where(tables.users.c.name == name).values(language=language))


class LoginLimits:
    """Failed logins per key (``name:…``, ``addr:…``) within a sliding window (in memory, per replica)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW
    ) -> None:
        self._clock, self.limit, self.window = clock, limit, window
        self._failures: dict[str, deque[float]] = {}

    def wait(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = self._clock()
        longest = 0.0
        for key in keys:
            times = self._failures.get(key)
            while times and times[0] <= now - self.window:
                times.popleft()
            if times is not None and not times:
                del self._failures[key]
            elif times is not None and len(times) >= self.limit:
                longest = max(longest, times[0] + self.window - now)
        return longest

    def failed(self, *keys: str) -> None:
        now = self._clock()
        if len(self._failures) > 100_000:  # a flood of made-up names: forget the oldest half
            for key in list(self._failures)[:50_000]:
                del self._failures[key]
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self.limit * 2)).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
