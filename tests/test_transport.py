"""The backends' HTTP transport (http.client) on what requests used to give for free: TLS verified against real
certificates (made with the openssl command line), one kept-alive connection per thread, and a kept-alive
connection the server closed meanwhile replaced without the call failing. The contract's own guarantees (no
redirect followed, the 1 MiB cap, Retry-After capped, timeouts) are in test_http_backend.py."""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from terminal.backends.base import BackendError
from terminal.backends.transport import Transport
from terminal.core.problems import ProblemKind

from .servers import Reply, ScriptedServer


def certificate(folder: Path, name: str, alt: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``alt`` (e.g. ``IP:127.0.0.1``) and its key."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}", "-addext", f"subjectAltName={alt}"],
        check=True,
        capture_output=True,
    )
    return cert, key


class TlsServer(ScriptedServer):
    """The scripted server behind TLS with ``cert``."""

    def __init__(self, cert: Path, key: Path, *replies: Reply) -> None:
        super().__init__(*replies)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.url = self.url.replace("http://", "https://")

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client refusing our certificate hangs up mid-handshake: expected here


def problem_of(transport: Transport):
    with pytest.raises(BackendError) as caught:
        transport.call("GET", "/v1/orders")
    return caught.value.problem


def test_a_backend_whose_certificate_no_authority_vouches_for_is_unreachable(tmp_path):
    cert, key = certificate(tmp_path, "backend", "IP:127.0.0.1")
    with TlsServer(cert, key, Reply(200, b'{"orders": []}')) as server:
        problem = problem_of(Transport(server.url, {}, timeout=3))
    assert problem.kind is ProblemKind.UNREACHABLE and "CERTIFICATE_VERIFY_FAILED" in problem.detail
    assert server.requests == []  # nothing was sent to it, the token least of all


def test_the_authority_in_ca_file_is_trusted(tmp_path):
    cert, key = certificate(tmp_path, "backend", "IP:127.0.0.1")
    with TlsServer(cert, key, Reply(200, b'{"orders": []}')) as server:
        assert Transport(server.url, {}, ca_file=str(cert), timeout=3).call("GET", "/v1/orders") == {"orders": []}
    assert server.requests[0][:2] == ("GET", "/v1/orders")


def test_a_trusted_certificate_for_another_host_is_refused(tmp_path):
    cert, key = certificate(tmp_path, "elsewhere", "DNS:pay.elsewhere.example")
    with TlsServer(cert, key, Reply(200, b'{"orders": []}')) as server:
        problem = problem_of(Transport(server.url, {}, ca_file=str(cert), timeout=3))
    assert problem.kind is ProblemKind.UNREACHABLE and "IP address mismatch" in problem.detail
    assert server.requests == []


class KeepAliveServer(ThreadingHTTPServer):
    """HTTP/1.1 with keep-alive; counts the connections it accepted. ``close_after_reply``: it hangs up each
    connection once it answered (as a server whose idle timeout ran out does), and says so on ``hung_up``."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, *, close_after_reply: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAlive)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.connections = 0
        self.close_after_reply = close_after_reply
        self.hung_up = threading.Semaphore(0)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="keep-alive-server")

    def process_request(self, request: socket.socket, client_address: object) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    def __enter__(self) -> KeepAliveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self._thread.join()
        self.server_close()


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveServer
    timeout = 5

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if self.server.close_after_reply:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            self.server.hung_up.release()


def test_one_thread_s_calls_share_one_kept_alive_connection():
    with KeepAliveServer() as server:
        transport = Transport(server.url, {})
        for _ in range(3):
            assert transport.call("GET", "/v1/orders") == {"ok": True}
        transport.close()
    assert server.connections == 1


def test_a_kept_alive_connection_the_server_closed_is_replaced_without_failing_the_call():
    with KeepAliveServer(close_after_reply=True) as server:
        transport = Transport(server.url, {})
        assert transport.call("GET", "/v1/orders") == {"ok": True}
        assert server.hung_up.acquire(timeout=5)
        assert transport.call("GET", "/v1/orders") == {"ok": True}
        transport.close()
    assert server.connections == 2


def test_each_thread_has_its_own_connection():
    with KeepAliveServer() as server:
        transport = Transport(server.url, {})
        answers: list[object] = []
        threads = [threading.Thread(target=lambda: answers.append(transport.call("GET", "/x"))) for _ in range(2)]
        for thread in threads:
            thread.start()
            thread.join()
        transport.call("GET", "/x")
        transport.close()
    assert answers == [{"ok": True}] * 2 and server.connections == 3


def test_a_connection_opened_ahead_is_the_one_the_thread_s_first_call_uses():
    with KeepAliveServer() as server:
        transport = Transport(server.url, {})
        transport.connect_ahead()
        deadline = time.monotonic() + 5
        while server.connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections == 1  # connected before any call
        assert transport.call("GET", "/v1/orders") == {"ok": True}
        transport.close()
    assert server.connections == 1


def test_connecting_ahead_to_a_backend_that_is_not_there_is_only_logged(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = Transport(f"http://127.0.0.1:{port}", {})
    with caplog.at_level(logging.INFO, logger="terminal.backends.transport"):
        transport.connect_ahead()
    transport.close()
    assert "could not connect ahead to 127.0.0.1" in caplog.text
