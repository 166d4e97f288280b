"""A provider's hosted QR image, fetched and read back to the payload it carries.

For providers that answer with a link to an image instead of the QR's text (Razorpay's QR Codes API without the
"image content" feature of an account). The image is fetched only from hosts on an allow-list, over verified TLS,
at most ``max_bytes``, following a redirect only when its target is on the list too; it is then decoded with a
real QR decoder (zxing-cpp). The terminal draws the decoded text itself, after the payload guard accepted it,
exactly as it draws a payload the provider sent as text.

Kept apart from ``transport.py`` (the JSON calls to an API): this is one plain GET of an image, with its own rules.
"""

from __future__ import annotations

import io
from urllib.parse import urljoin, urlsplit

import requests

from terminal import __version__
from terminal.backends.base import BackendError
from terminal.backends.transport import is_loopback
from terminal.core.problems import Problem, ProblemKind

#: Hosted QR images are a few tens of kilobytes; a poster-sized one stays well under this.
MAX_BYTES = 2_000_000
MAX_REDIRECTS = 3
#: Images larger than this (either side, pixels) are refused before decoding: a decompression bomb, not a QR.
MAX_PIXELS = 4096


def host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    """True when ``host`` is one of ``hosts`` or a subdomain of one (``cdn.razorpay.com`` under ``razorpay.com``)."""
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in (h.lower().strip(".") for h in hosts) if h)


def fetch_image(
    url: str,
    *,
    hosts: tuple[str, ...],
    max_bytes: int = MAX_BYTES,
    timeout: float = 10.0,
    ca_file: str | None = None,
    allow_plain_http: bool = False,
) -> bytes:
    """The bytes of the image at ``url``. Raises BackendError (BAD_REPLY for a refused link or image,
    UNREACHABLE/TIMEOUT when it could not be fetched)."""
    with requests.Session() as session:
        session.headers["User-Agent"] = f"qr-terminal/{__version__}"
        session.verify = ca_file or True
        for _ in range(MAX_REDIRECTS + 1):
            _check(url, hosts, allow_plain_http)
            try:
                with session.get(url, timeout=(5.0, timeout), allow_redirects=False, stream=True) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status_code != 200:
                        raise _refused(f"the QR image at {_where(url)} answered HTTP {response.status_code}")
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise _refused(f"the QR image at {_where(url)} is over {max_bytes} bytes")
                    data = b""
                    for chunk in response.iter_content(65536):
                        data += chunk
                        if len(data) > max_bytes:
                            raise _refused(f"the QR image at {_where(url)} is over {max_bytes} bytes")
                    return data
            except requests.Timeout:
                raise BackendError(Problem(ProblemKind.TIMEOUT, f"QR image {_where(url)}: no answer")) from None
            except requests.RequestException as exc:
                raise BackendError(Problem(ProblemKind.UNREACHABLE, f"QR image {_where(url)}: {exc}")) from None
    raise _refused(f"the QR image link redirected more than {MAX_REDIRECTS} times")


def read_qr(data: bytes) -> list[str]:
    """The texts of every QR code in an image (PNG, JPEG, GIF, …), decoded with zxing-cpp."""
    import zxingcpp  # imported on first use: only a shop whose provider sends images needs it
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_PIXELS:
                raise _refused(f"the QR image is {image.size[0]}×{image.size[1]} pixels: too large to be a QR")
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refused("the QR image is not an image the terminal can read") from None
    return [
        b.text for b in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    ]


def _check(url: str, hosts: tuple[str, ...], allow_plain_http: bool) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    plain_ok = parts.scheme == "http" and (allow_plain_http or is_loopback(host))
    if parts.scheme != "https" and not plain_ok:
        raise _refused(f"the QR image link {_where(url)} is not https")
    if not host_allowed(host, hosts):
        allowed = ", ".join(hosts) or "(none)"
        raise _refused(f"the QR image host {host!r} is not in backend.image_hosts ({allowed})")


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _refused(detail: str) -> BackendError:
    return BackendError(Problem(ProblemKind.BAD_REPLY, detail))
