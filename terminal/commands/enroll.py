"""``qr-terminal enroll HUB_URL CODE``: exchange a hub's one-time enrollment code for this terminal's own secret,
kept in the secrets file (mode 600) as the device token ``qrhub1:<terminal id>:<secret>``. From then on every
request to the hub is signed with it (``terminal/backends/signing.py``) and the secret never travels again."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

import requests

from terminal.backends import signing

TOKEN_KEY = "device_token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """enroll's options."""
    from terminal.config import add_config_argument

    parser.add_argument("hub_url", metavar="HUB_URL", help="the hub's address, e.g. https://hub.example.com")
    parser.add_argument("code", metavar="CODE", help="the one-time code 'qr-hub enroll' printed")
    add_config_argument(parser)
    parser.add_argument(
        "--secrets", default=None, help="the secrets file to write (default: the config's [secrets] file)"
    )
    parser.add_argument("--ca-file", default=None, help="a CA bundle for the hub's TLS certificate")


def run(args: argparse.Namespace) -> int:
    """Ask the hub for the secret and store it."""
    from terminal.backends.transport import check_url
    from terminal.manager_pin import write_secret

    url = args.hub_url.rstrip("/")
    problem = check_url(url)
    if problem:
        print(f"qr-terminal enroll: HUB_URL {url!r}: expected {problem}", file=sys.stderr)
        return 2
    path = Path(args.secrets) if args.secrets else _secrets_file(Path(args.config))
    if path is None:
        return 2
    try:
        answer = requests.post(
            f"{url}/v1/enroll",
            json={"code": args.code},
            timeout=(5, 15),
            allow_redirects=False,
            verify=args.ca_file or True,
        )
    except requests.RequestException as exc:
        print(f"qr-terminal enroll: cannot reach the hub at {url}: {exc}", file=sys.stderr)
        return 1
    body = _json(answer)
    if not isinstance(body, dict):
        body = {}
    if answer.status_code != 200:
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else f"HTTP {answer.status_code}"
        print(f"qr-terminal enroll: the hub refused the code: {message}", file=sys.stderr)
        return 1
    terminal_id, secret = body.get("terminal_id"), body.get("secret")
    if not isinstance(terminal_id, str) or not isinstance(secret, str):
        print("qr-terminal enroll: the hub's answer has no terminal_id and secret", file=sys.stderr)
        return 1
    token = signing.token(terminal_id, secret)
    if signing.parse_token(token) is None:
        print("qr-terminal enroll: the hub sent a terminal id or secret of the wrong shape", file=sys.stderr)
        return 1
    try:
        write_secret(path, TOKEN_KEY, token)
    except OSError as exc:
        print(f"qr-terminal enroll: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    shop = body.get("shop") or "-"
    print(
        f"Enrolled as terminal {terminal_id} (shop {shop}); its secret is in {path}.\n"
        f'Point the config at the hub: [backend] kind = "http", url = "{url}"'
    )
    return 0


def _secrets_file(config: Path) -> Path | None:
    """The config's ``[secrets] file`` (read without checking the rest: the token may not exist yet)."""
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"qr-terminal enroll: cannot read {config}: {exc} (or give --secrets PATH)", file=sys.stderr)
        return None
    name = (data.get("secrets") or {}).get("file") if isinstance(data.get("secrets"), dict) else None
    if not isinstance(name, str) or not name:
        print(f"qr-terminal enroll: {config} names no [secrets] file (or give --secrets PATH)", file=sys.stderr)
        return None
    path = Path(name)
    return path if path.is_absolute() else config.parent / path


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None
