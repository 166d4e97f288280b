"""Links read the way a browser reads them (the WHATWG URL Standard, via ``ada-url``), and query strings
read so that no reader could read them another way.

A link is accepted only when it is already written exactly as a browser would write it back (its WHATWG
serialisation): then Python's ``urlsplit``, a phone's camera and a browser agree on its host. That one
rule refuses the backslash before ``@`` (``https://evil.example\\@pay.example.test/``: host ``evil.example``
for a browser, ``pay.example.test`` for ``urlsplit``), upper-case and Unicode hosts that only match after
case folding (``ſ`` → ``s``, ``ß`` → ``ss`` or kept), default ports, dot segments and percent-encoding
variants. Userinfo is refused outright, and a host must also be valid IDNA 2008 (the ``idna`` package,
UTS #46 mapping) without the four characters IDNA 2003 and UTS #46 map differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import ada_url
import idna

from terminal.core.payloads.errors import PayloadError

#: UTS #46 "deviation" characters: IDNA 2003 (Python's "idna" codec, old browsers) maps them away, IDNA 2008
#: and browsers today keep them, so paß.example is pass.example for one reader and xn--pa-hia.example for the other.
DEVIATIONS = frozenset("ßς\u200c\u200d")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_KEY = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)


class LinkError(PayloadError):
    """A link or a query string that some reader could read differently."""


@dataclass(frozen=True, slots=True)
class Link:
    """A link as a browser reads it: scheme, host (ASCII, IDNA-encoded), explicit port, path, parameters."""

    href: str
    scheme: str
    host: str
    port: str
    path: str
    params: dict[str, str]

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port``."""
        return f"{self.host}:{self.port}" if self.port else self.host


def read(text: str, *, plain: frozenset[str] = frozenset()) -> Link:
    """Read an ``http(s)`` link; raises LinkError unless every reader reads it the same way.

    ``plain``: query keys whose values are read as money or ids (written without escapes, see ``parameters``).
    """
    if not text.isascii() or not text.isprintable() or " " in text:
        raise LinkError("the link has spaces or characters outside ASCII, which readers encode differently")
    try:
        url = ada_url.URL(text)
    except ValueError:
        raise LinkError(f"{text!r} is not a link a browser can open") from None
    if url.protocol not in ("https:", "http:"):
        raise LinkError(f"the link's scheme {url.protocol!r} is not https or http")
    if url.href != text:
        raise LinkError(f"the link is not written as a browser reads it ({url.href!r}), so readers disagree")
    if url.username or url.password:
        raise LinkError("the link carries a user name or password before its host")
    if url.hash:
        raise LinkError("the link carries a fragment (#…)")
    host = canonical_host(url.hostname)
    params = parameters(url.search[1:], plain=plain, error=LinkError) if url.search[1:] else {}
    return Link(url.href, url.protocol[:-1], host, url.port, url.pathname, params)


def canonical_host(host: str) -> str:
    """``host`` (as a browser serialises it) checked against IDNA 2008; raises LinkError if a reader could
    resolve it elsewhere."""
    if host.startswith("[") or host.replace(".", "").isdigit():
        return host  # an IP literal, already canonical
    try:
        unicode = idna.decode(host)
        again = idna.encode(unicode, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise LinkError(f"the host {host!r} is not a valid IDNA host name: {exc}") from None
    if again != host.rstrip(".") or DEVIATIONS & set(unicode):
        raise LinkError(f"the host {host!r} is read as different names by IDNA 2003 and IDNA 2008 readers")
    return host


def trusted(entry: str) -> tuple[str, str] | None:
    """A configured trusted host (``pay.example.com``, ``Bücher.example``, ``127.0.0.1:8000``) as the
    ``(host, port)`` a link to it carries, after UTS #46 processing; None when it is not a host name."""
    try:
        url = ada_url.URL(f"https://{entry.strip()}/")
        return canonical_host(url.hostname), url.port
    except (ValueError, PayloadError):
        return None


def host_trusted(link_host: str, link_port: str, entries: tuple[str, ...]) -> bool:
    """True when a link's host and explicit port are one of ``entries``. An explicit port must be the
    configured one, except on loopback, where the sandbox listens on a port of the day."""
    for entry in entries:
        wanted = trusted(entry)
        if wanted is None or wanted[0] != link_host:
            continue
        if wanted[1] == link_port or (not wanted[1] and link_host in LOOPBACK):
            return True
    return False


def split_netloc(netloc: str) -> tuple[str, str]:
    """``host:port`` (``[::1]:80`` too) as ``(host, port)``; the port is "" when there is none."""
    host, colon, port = netloc.rpartition(":")
    if not colon or host.endswith(":") or not port.isdigit() or (host.startswith("[") and not host.endswith("]")):
        return netloc, ""
    return host, port


def parameters(query: str, *, plain: frozenset[str], error: type[PayloadError]) -> dict[str, str]:
    """``key=value&…`` as a dict, refusing whatever another reader could read differently.

    Keys are percent-decoded and compared case-insensitively: a key that appears twice in any spelling is
    refused (readers keep the first, the last, or match case-sensitively). ``;`` is refused (old readers split
    on it), and so is an empty or value-less parameter. A key in ``plain`` must be written in lower case
    and its value without ``%`` escapes or ``+``: readers that do not decode, or decode ``+`` differently,
    would otherwise read another payee or amount.
    """
    if ";" in query:
        raise error("a ';' in the parameters: some readers split parameters on it")
    found: dict[str, str] = {}
    for part in query.split("&"):
        raw_key, eq, raw_value = part.partition("=")
        if not raw_key or not eq:
            raise error(f"a parameter without a name or a value: {part!r}")
        key = _decode(raw_key, error).lower()
        if not _KEY.fullmatch(key):
            raise error(f"a parameter name {key!r} that readers may trim or normalise differently")
        if key in found:
            raise error(f"parameter {key!r} appears twice (in any spelling): readers pick different ones")
        if key in plain and (raw_key != key or "%" in raw_value or "+" in raw_value):
            raise error(f"parameter {raw_key!r} is written with escapes or capitals, which some readers do not decode")
        found[key] = _decode(raw_value, error)
    return found


def _decode(text: str, error: type[PayloadError]) -> str:
    if _BAD_ESCAPE.search(text):
        raise error(f"a malformed %-escape in {text!r}")
    try:
        return unquote(text.replace("+", " "), errors="strict")
    except UnicodeDecodeError:
        raise error(f"{text!r} does not decode as UTF-8") from None
