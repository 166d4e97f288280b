"""The hub's terminals: enrollment codes, per-terminal secrets, signed-request checks, revocation, heartbeats.

A code is shown once (``qr-hub enroll``) and only its SHA-256 is stored; it works once, before it expires. The
exchange gives the terminal a fresh secret. A request is accepted when its signature (see
``terminal/backends/signing.py``) matches, its timestamp is within five minutes and its nonce is new — the nonce
is a row with a unique key, so a replay is refused by every replica alike.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub import db as t
from hub.contract import ContractError
from hub.db import Database, EnrollmentCodeRow, HeartbeatRow, Record, TerminalRow
from terminal.backends import signing

#: How far a request's timestamp may be from the hub's clock, either way (and how long nonces are kept).
SKEW = 300
CODE_TTL = 15 * 60
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
#: Heartbeat fields and their types: what a terminal reports about itself.
HEARTBEAT_FIELDS = {"version": str, "uptime": int, "queue": int, "printer": str, "till": str, "journal_bytes": int}


@dataclass(frozen=True, slots=True)
class _Keys(Record):
    """What a signed request needs of its terminal's row."""

    secret: str | None
    revoked_at: float | None


class Fleet:
    """Terminals of the hub (any number of shops)."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = database
        self._clock = clock

    # --- enrollment (the CLI, then the terminal) -------------------------------------------------

    def new_code(self, terminal_id: str, shop: str = "", ttl: float = CODE_TTL) -> str:
        """A one-time code for ``terminal_id`` (created, or re-enrolled: its old secret stops working at once)."""
        if not signing.TERMINAL_ID.match(terminal_id):
            raise ValueError(f"terminal id {terminal_id!r}: use 1-40 letters, digits, '-' or '_'")
        code = "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(3))
        now = self._clock()
        with self.db.transaction() as conn:
            known = conn.execute(select(t.terminals.c.id).where(t.terminals.c.id == terminal_id)).first()
            if known is None:
                conn.execute(insert(t.terminals).values(id=terminal_id, shop=shop, created_at=now))
            else:
                values: dict[str, Any] = {"secret": None, "revoked_at": None}
                if shop:
                    values["shop"] = shop
                conn.execute(update(t.terminals).where(t.terminals.c.id == terminal_id).values(**values))
                self.db.notify(conn, f"terminal:{terminal_id}")
            conn.execute(
                insert(t.enrollment_codes).values(code_hash=_hash(code), terminal_id=terminal_id, expires_at=now + ttl)
            )
        return code

    def enroll(self, code: object) -> dict[str, str]:
        """Exchange a code for the terminal's secret: ``{"terminal_id", "secret", "shop"}``."""
        if not isinstance(code, str) or not 1 <= len(code) <= 40:
            raise ContractError(400, "invalid_code", "'code' must be the enrollment code qr-hub printed")
        now = self._clock()
        with self.db.transaction() as conn:
            found = conn.execute(
                select(t.enrollment_codes).where(t.enrollment_codes.c.code_hash == _hash(code.strip().upper()))
            ).first()
            if found is None:
                raise ContractError(400, "unknown_code", "no such enrollment code (check it, or ask for a new one)")
            row = EnrollmentCodeRow.of(found)
            if row.used_at is not None:
                raise ContractError(400, "code_used", "this enrollment code was used already; ask for a new one")
            if now >= row.expires_at:
                raise ContractError(400, "code_expired", "this enrollment code has expired; ask for a new one")
            done = conn.execute(
                update(t.enrollment_codes)
                .where(t.enrollment_codes.c.code_hash == row.code_hash, t.enrollment_codes.c.used_at.is_(None))
                .values(used_at=now)
            )
            if done.rowcount != 1:  # another replica took it between our read and our write
                raise ContractError(400, "code_used", "this enrollment code was used already; ask for a new one")
            secret = secrets.token_urlsafe(32)
            conn.execute(
                update(t.terminals)
                .where(t.terminals.c.id == row.terminal_id)
                .values(secret=secret, enrolled_at=now, revoked_at=None)
            )
            shop: str = conn.execute(select(t.terminals.c.shop).where(t.terminals.c.id == row.terminal_id)).scalar_one()
        return {"terminal_id": row.terminal_id, "secret": secret, "shop": shop}

    def revoke(self, terminal_id: str) -> bool:
        """Refuse the terminal from now on (also its long-polls in progress); False when there is no such one."""
        with self.db.transaction() as conn:
            done = conn.execute(
                update(t.terminals).where(t.terminals.c.id == terminal_id).values(revoked_at=self._clock(), secret=None)
            )
            self.db.notify(conn, f"terminal:{terminal_id}")
        return done.rowcount == 1

    def terminals(self, shop: str | None = None) -> list[dict[str, Any]]:
        """Every terminal (of ``shop``) with its state and last heartbeat."""
        with self.db.transaction() as conn:
            query = select(t.terminals).order_by(t.terminals.c.id)
            if shop:
                query = query.where(t.terminals.c.shop == shop)
            rows = [TerminalRow.of(r) for r in conn.execute(query)]
        state = {True: "revoked", False: "enrolled"}
        return [
            {
                "id": r.id,
                "shop": r.shop,
                "state": state[r.revoked_at is not None] if r.enrolled_at or r.revoked_at else "waiting for code",
                "enrolled_at": r.enrolled_at,
                "revoked_at": r.revoked_at,
                "last_heartbeat_at": r.last_heartbeat_at,
                "last_heartbeat": json.loads(r.last_heartbeat) if r.last_heartbeat else None,
            }
            for r in rows
        ]

    # --- signed requests ----------------------------------------------------------------------

    def authenticate(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> str:
        """The terminal id of a correctly signed, fresh request; ContractError 401/403 otherwise."""
        terminal_id = headers.get(signing.HEADER_TERMINAL) or ""
        stamp = headers.get(signing.HEADER_TIMESTAMP) or ""
        nonce = headers.get(signing.HEADER_NONCE) or ""
        given = headers.get(signing.HEADER_SIGNATURE) or ""
        if not (terminal_id and stamp and nonce and given):
            raise ContractError(
                401, "unsigned", "the request is not signed: enroll the terminal with 'qr-terminal enroll HUB_URL CODE'"
            )
        if not stamp.isdigit() or abs(self._clock() - int(stamp)) > SKEW:
            raise ContractError(
                401,
                "stale_request",
                f"the request's time is more than {SKEW} s from the hub's (a replay, or the terminal's clock is wrong)",
            )
        if len(nonce) > 64:
            raise ContractError(401, "bad_signature", "the nonce is longer than 64 characters")
        secret = self._secret(terminal_id)
        expected = signing.signature(secret or "-", method, path, stamp, nonce, body)
        if not hmac.compare_digest(expected.encode(), given.encode()) or secret is None:
            raise ContractError(
                401,
                "bad_signature",
                "the request's signature does not match (wrong secret, or the request was changed on the way)",
            )
        try:
            with self.db.transaction() as conn:
                conn.execute(insert(t.nonces).values(terminal_id=terminal_id, nonce=nonce, seen_at=self._clock()))
        except IntegrityError:
            raise ContractError(401, "replayed", "this request was seen already (a replay)") from None
        return terminal_id

    def _keys(self, terminal_id: str) -> _Keys | None:
        with self.db.transaction() as conn:
            row = conn.execute(
                select(t.terminals.c.secret, t.terminals.c.revoked_at).where(t.terminals.c.id == terminal_id)
            ).first()
        return None if row is None else _Keys.of(row)

    def _secret(self, terminal_id: str) -> str | None:
        row = self._keys(terminal_id)
        if row is not None and row.revoked_at is not None:
            raise ContractError(403, "revoked", f"terminal {terminal_id} was revoked at the hub")
        return row.secret if row is not None else None

    def is_revoked(self, terminal_id: str) -> bool:
        """True once the terminal was revoked (or re-enrolled: its old secret is gone)."""
        row = self._keys(terminal_id)
        return row is None or row.revoked_at is not None or row.secret is None

    def revoked_since(self, since: float) -> list[str]:
        """Terminals revoked at or after ``since`` (a replica's poll for revocations made by other processes)."""
        with self.db.transaction() as conn:
            return list(conn.execute(select(t.terminals.c.id).where(t.terminals.c.revoked_at >= since)).scalars())

    def forget_nonces(self) -> None:
        """Drop nonces older than the skew window (a replay that old is refused by its timestamp)."""
        with self.db.transaction() as conn:
            conn.execute(delete(t.nonces).where(t.nonces.c.seen_at < self._clock() - 2 * SKEW))

    # --- heartbeats ---------------------------------------------------------------------------

    def heartbeat(self, terminal_id: str, body: object) -> dict[str, Any]:
        """Keep a terminal's heartbeat (the last one on the terminal, every one in the history)."""
        if not isinstance(body, dict):
            raise ContractError(400, "invalid_request", "body must be a JSON object")
        facts: dict[str, Any] = {}
        for key, kind in HEARTBEAT_FIELDS.items():
            value = body.get(key)
            if value is None:
                continue
            if type(value) is not kind or (isinstance(value, str) and len(value) > 200):
                raise ContractError(400, "invalid_request", f"heartbeat '{key}' must be a {kind.__name__}")
            facts[key] = value
        now = self._clock()
        text = json.dumps(facts, sort_keys=True)
        with self.db.transaction() as conn:
            conn.execute(insert(t.heartbeats).values(terminal_id=terminal_id, at=now, body=text))
            conn.execute(
                update(t.terminals)
                .where(t.terminals.c.id == terminal_id)
                .values(last_heartbeat_at=now, last_heartbeat=text)
            )
        return {"at": now, **facts}

    def heartbeats(self, terminal_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """A terminal's heartbeats, newest first."""
        with self.db.transaction() as conn:
            query = (
                select(t.heartbeats)
                .where(t.heartbeats.c.terminal_id == terminal_id)
                .order_by(t.heartbeats.c.at.desc())
                .limit(max(1, min(limit, 1000)))
            )
            rows = [HeartbeatRow.of(r) for r in conn.execute(query)]
        return [{"at": r.at, **json.loads(r.body)} for r in rows]


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
