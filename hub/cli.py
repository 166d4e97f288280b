"""``qr-hub``: serve, migrate, enroll, revoke, terminals. Every command takes ``--db URL`` (default: an SQLite
file ``qr-hub.db`` here, or ``QR_HUB_DB``)."""

from __future__ import annotations

import argparse
import logging
import os
import stat
import sys
import tomllib
from pathlib import Path
from types import FrameType

from hub.dashboard import cli as dashboard_cli
from hub.db import Database, default_url

SECRET_KEYS = (
    "razorpay_webhook_secret",
    "stripe_webhook_secret",
    "admin_token",
    "razorpay_key_id",
    "razorpay_key_secret",
    "stripe_secret_key",
)


def main(argv: list[str] | None = None) -> int:
    """The console script."""
    parser = argparse.ArgumentParser(prog="qr-hub", description="The shop's own backend for QR terminals.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--db",
            default=None,
            help="database URL: sqlite:///path or postgresql://… (default: ./qr-hub.db or QR_HUB_DB)",
        )
        return p

    serve = command("serve", "serve contract v1.1 to terminals, webhooks, fleet endpoints")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (%(default)s)")
    serve.add_argument("--port", type=int, default=8780, help="port (%(default)s)")
    serve.add_argument(
        "--provider",
        choices=["sim", "razorpay", "stripe"],
        default="sim",
        help="who makes the QRs (%(default)s: the simulated provider)",
    )
    serve.add_argument("--provider-url", default=None, help="the provider's API base (a test double or proxy)")
    serve.add_argument("--stripe-method", default="promptpay", help="Stripe's QR method (%(default)s)")
    serve.add_argument("--public-url", default=None, help="where customers' phones reach this hub (pay page)")
    serve.add_argument("--secrets", default=None, help="TOML file with webhook secrets, admin token, provider keys")
    serve.add_argument(
        "--reconcile-after",
        type=float,
        default=120.0,
        help="ask the provider about orders pending this many seconds (%(default)s)",
    )
    serve.add_argument("--reconcile-every", type=float, default=30.0, help="seconds between those rounds")
    serve.add_argument("--rate", type=float, default=20.0, help="requests per second per terminal (%(default)s)")
    serve.add_argument("--burst", type=int, default=40, help="burst per terminal (%(default)s)")
    serve.add_argument("--ssl-certfile", default=None, help="serve TLS directly with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", default=None, help="…and its private key")
    serve.add_argument(
        "--timezone",
        default=os.environ.get("QR_HUB_TIMEZONE") or "UTC",
        help="the chain's time zone, an IANA name such as Asia/Kolkata: the dashboard's days and hours "
        "(default: QR_HUB_TIMEZONE or UTC; the terminals' contract stays UTC)",
    )

    command("migrate", "create or upgrade the database schema")
    enroll = command("enroll", "print a one-time enrollment code for a terminal")
    enroll.add_argument("--terminal", required=True, help="the terminal's id, e.g. T1 (letters, digits, - _)")
    enroll.add_argument("--shop", default="", help="the shop it belongs to")
    enroll.add_argument("--ttl", type=float, default=15 * 60, help="seconds the code stays valid (%(default)s)")
    revoke = command("revoke", "refuse a terminal from now on (also its long-polls in progress)")
    revoke.add_argument("terminal", help="the terminal's id")
    command("terminals", "list the terminals, their state and last heartbeat")
    dashboard_cli.add_commands(command)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    database = Database(args.db or default_url())
    try:
        if args.command == "migrate":
            database.migrate()
            print(f"qr-hub: schema up to date ({_where(database)})")
            return 0
        if args.command == "serve":
            return _serve(args, database)
        from hub.migrations import current

        if current(database.engine) is None:
            print(f"qr-hub: the database has no schema yet; run: qr-hub migrate --db {database.url}", file=sys.stderr)
            return 2
        if args.command == "user":
            return dashboard_cli.run(args, database)
        from hub.fleet import Fleet

        fleet = Fleet(database)
        if args.command == "enroll":
            try:
                code = fleet.new_code(args.terminal, args.shop, args.ttl)
            except ValueError as exc:
                print(f"qr-hub: {exc}", file=sys.stderr)
                return 2
            minutes = int(args.ttl // 60)
            print(
                f"{code}\n(one-time code for terminal {args.terminal}, valid {minutes} min: on the terminal run "
                f"'qr-terminal enroll HUB_URL {code}')"
            )
            return 0
        if args.command == "revoke":
            if not fleet.revoke(args.terminal):
                print(f"qr-hub: no terminal {args.terminal!r}", file=sys.stderr)
                return 1
            print(f"terminal {args.terminal} revoked")
            return 0
        for row in fleet.terminals():
            beat = row["last_heartbeat"] or {}
            print(
                f"{row['id']:<12} {row['shop'] or '-':<20} {row['state']:<17} "
                f"{beat.get('version', '-')} queue={beat.get('queue', '-')}"
            )
        return 0
    except Exception as exc:  # a database that cannot be reached: one sentence, no traceback
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            print(
                f"qr-hub: the database at {_where(database)} cannot be used: {str(exc).splitlines()[0]}",
                file=sys.stderr,
            )
            return 2
        raise
    finally:
        database.close()


def _serve(args: argparse.Namespace, database: Database) -> int:
    import uvicorn

    from hub.app import Hub, Settings
    from hub.dashboard.reports import zone_named
    from hub.migrations import current

    try:
        zone_named(args.timezone)  # refused before the database is touched
    except ValueError as exc:
        print(f"qr-hub: {exc}", file=sys.stderr)
        return 2
    if not database.is_postgres:
        database.migrate()  # the embedded default sets itself up; a fleet migrates once, on purpose
    elif current(database.engine) is None:
        print(f"qr-hub: the database has no schema yet; run: qr-hub migrate --db {database.url}", file=sys.stderr)
        return 2
    try:
        secrets = load_secrets(Path(args.secrets) if args.secrets else None)
    except ValueError as exc:
        print(f"qr-hub: {exc}", file=sys.stderr)
        return 2
    settings = Settings(
        db_url=database.url,
        provider=args.provider,
        provider_url=args.provider_url,
        stripe_method=args.stripe_method,
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        secrets=secrets,
        reconcile_after=args.reconcile_after,
        reconcile_every=args.reconcile_every,
        rate=args.rate,
        burst=args.burst,
        timezone=args.timezone,
    )
    try:
        hub = Hub(settings)
    except ValueError as exc:
        print(f"qr-hub: {exc}", file=sys.stderr)
        return 2
    print(
        f"qr-hub: contract v1.1 at http://{args.host}:{args.port}/v1 ({_where(database)}, provider {args.provider})",
        flush=True,
    )
    config = uvicorn.Config(
        hub.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        timeout_graceful_shutdown=3,
    )

    class Server(uvicorn.Server):
        """uvicorn's server, whose SIGTERM/SIGINT first has the hub's long-polls answer (at once, with what
        they have): otherwise the stop waits out the grace period and cancels them, each logged as an error."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            hub.wakeups.close()
            super().handle_exit(sig, frame)

    Server(config).run()
    return 0


def load_secrets(path: Path | None) -> dict[str, str]:
    """The hub's secrets: the TOML file (readable by its owner only), then ``QR_HUB_<KEY>`` variables."""
    found: dict[str, str] = {}
    if path is not None:
        try:
            mode = path.stat().st_mode
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"secrets file {path}: {exc}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(f"secrets file {path} is readable by others: chmod 600 {path}")
        for key, value in data.items():
            if key not in SECRET_KEYS or not isinstance(value, str):
                raise ValueError(f"secrets file {path}: unknown key or not a string: {key!r}")
            found[key] = value
    for key in SECRET_KEYS:
        if os.environ.get(f"QR_HUB_{key.upper()}"):
            found[key] = os.environ[f"QR_HUB_{key.upper()}"]
    return found


def _where(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=True)
