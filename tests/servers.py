"""A real HTTP server on 127.0.0.1 that answers with whatever a test scripts: bad statuses, garbage bodies,
slow replies, redirects, huge bodies. For the failures a well-behaved sandbox never produces on its own.

Routes answer the requests they match (``"POST /v1/orders/"`` matches that method and path prefix); the others
get the plain replies, or are passed to ``upstream`` (a sandbox) unchanged, so a test can make one route of a
working backend misbehave. Every thread and socket it opens is closed when the ``with`` block ends."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One scripted answer. ``length=False`` sends no Content-Length (the body ends when the connection does);
    ``drip`` sends the body a byte at a time, that many seconds apart."""

    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True
    drip: float = 0.0


class ScriptedServer(ThreadingHTTPServer):
    """Answers requests with ``replies`` in order (the last one repeats); records every request."""

    daemon_threads = False  # server_close() joins the handler threads: nothing outlives the ``with`` block
    block_on_close = True

    def __init__(self, *replies: Reply, upstream: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies = list(replies) or [Reply()]
        self.routes: list[tuple[str, list[Reply]]] = []
        self.upstream = upstream
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        #: The paths of requests whose reply the client did not take in full (it hung up first).
        self.undelivered: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._release = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="scripted-server")

    def route(self, start: str, *replies: Reply) -> ScriptedServer:
        """Answer requests whose ``"METHOD /path"`` starts with ``start`` with ``replies`` (the last repeats)."""
        self.routes.append((start, list(replies)))
        return self

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self.shutdown()
        self._thread.join()
        with self._lock:
            for sock in self._open:  # clients kept waiting (long-polls, slow replies) and calls upstream
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def next_reply(self, method: str, path: str) -> Reply | None:
        """The scripted reply for this request, or None to pass it upstream."""
        with self._lock:
            for start, replies in self.routes:
                if f"{method} {path}".startswith(start):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
            if self.upstream is not None:
                return None
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def count(self, start: str) -> int:
        """How many requests whose ``"METHOD /path"`` starts with ``start`` arrived."""
        with self._lock:
            return sum(f"{method} {path}".startswith(start) for method, path, _, _ in self.requests)

    def opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.opened(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.closed(request)


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server._lock:
            self.server.requests.append((self.command, self.path, dict(self.headers), body))
        reply = self.server.next_reply(self.command, self.path)
        if reply is None:
            reply = self._forward(body)
        if reply.delay:
            self.server._release.wait(reply.delay)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.drip:
                for byte in reply.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if self.server._release.wait(reply.drip):
                        break
            else:
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client gave up (a timeout test, a refused reply)
            with self.server._lock:
                self.server.undelivered.append(self.path)

    def _forward(self, body: bytes) -> Reply:
        """The upstream's answer to this request (a 502 when it cannot be reached)."""
        assert self.server.upstream is not None
        parts = urlsplit(self.server.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        try:
            connection.connect()
            assert connection.sock is not None
            self.server.opened(connection.sock)
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            kept = {k: v for k, v in answer.getheaders() if k.lower() in ("content-type", "retry-after", "location")}
            return Reply(answer.status, answer.read(), headers=kept)
        except OSError:
            return Reply(502, b'{"error": {"code": "upstream", "message": "upstream down"}}')
        finally:
            if connection.sock is not None:
                self.server.closed(connection.sock)
            connection.close()

    do_GET = do_POST = _answer


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
