"""``qr-terminal sandbox``: the sandbox backend (contract v1 and the customer's pay page) until SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys

from terminal.cli import whole_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """sandbox's options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (%(default)s)")
    parser.add_argument(
        "--port", type=whole_number(0, 65535, "a port"), default=8765, help="port (%(default)s; 0: any free port)"
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="bind all interfaces and put the LAN address into QR links (a phone on the Wi-Fi can pay)",
    )
    parser.add_argument(
        "--scheme",
        choices=["url", "upi", "pix", "promptpay", "paynow", "epc"],
        default="url",
        help="QR payload: a link to the pay page (default) or a format-accurate payload of that scheme",
    )
    parser.add_argument("--token", default=None, help="device token to accept (default: the demo token)")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM (exit 0) or Ctrl-C (KeyboardInterrupt: the CLI exits 130)."""
    from terminal.sandbox.server import DEFAULT_TOKEN, Sandbox, lan_address

    host = "0.0.0.0" if args.lan else args.host
    public = lan_address() if args.lan else None
    try:
        server = Sandbox(host, args.port, public_host=public, token=args.token or DEFAULT_TOKEN, scheme=args.scheme)
    except OSError as exc:
        print(f"qr-terminal sandbox: cannot listen on {host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"sandbox: contract v1 at {server.url}/v1, customer pages at {server.public_url}/pay/<order>", flush=True)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _terminated(*_: object) -> None:
    raise SystemExit(0)
