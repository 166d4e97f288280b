"""Shared fixtures: real parts only (SDL's dummy driver, a real sandbox on 127.0.0.1, real SQLite files)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import contextlib
import gc
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from terminal.sandbox.server import Sandbox
from terminal.store.journal import Journal

#: Published payment-QR vectors, each with its source (tests/vectors/payment-qr.json): inside the repository.
VECTORS = json.loads((Path(__file__).resolve().parent / "vectors" / "payment-qr.json").read_text(encoding="utf-8"))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A real sandbox server on an ephemeral loopback port."""
    with Sandbox("127.0.0.1", 0) as server:
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal in a temporary SQLite file."""
    j = Journal(tmp_path / "journal.db")
    yield j
    j.close()


@pytest.fixture(autouse=True)
def _stop_background_threads(_nothing_left_behind: None) -> Iterator[None]:
    """Stop the threads of the terminals a test made, as App.run does when it ends (they would log into the
    next tests, and the leak check would fail). It asks for the leak check so that the check runs after it."""
    yield
    from tests.terminal_app import MADE

    while MADE:
        app = MADE.pop()
        app.reachability.stop()
        app.worker.stop(timeout=0.1)
        for device in (app.print_queue, app.voice, app.till):
            if device is not None:
                device.stop()


# --- nothing left behind ---------------------------------------------------------------------------------------

#: How long a test's threads, sockets and child processes get to end after it (a thread in its last call, a
#: server's handler finishing its answer). A test that needs longer is leaving work running.
GRACE = 3.0

#: Threads that may outlive a test because they are one per process, started by a library on first use
#: (none so far: add ``name prefix: why``).
SINGLETON_THREADS: dict[str, str] = {}
#: Sockets likewise, by the start of their description.
SINGLETON_SOCKETS = {
    # SDL's udev device monitor (NETLINK_KOBJECT_UEVENT): opened by the first pygame.display.init() of the
    # process to watch for hot-plugged keypads, and kept until the process ends.
    "netlink (protocol 15,": "SDL's hot-plug monitor",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "leaks(reason): the test is known to leave a thread, socket or child process behind (outside the "
        "code it tests); the leak check then warns instead of failing. Say why in the reason.",
    )


@dataclass(frozen=True)
class Resources:
    """What a process holds that a test could forget: live threads, open sockets (by inode), child processes."""

    threads: frozenset[threading.Thread]
    sockets: frozenset[str]
    children: frozenset[int]

    @classmethod
    def now(cls) -> Resources:
        threads = frozenset(t for t in threading.enumerate() if not t.name.startswith(tuple(SINGLETON_THREADS)))
        sockets = frozenset(s for s in _sockets() if not _describe(s).startswith(tuple(SINGLETON_SOCKETS)))
        return cls(threads, sockets, frozenset(_children()))

    def since(self, before: Resources) -> list[str]:
        """What is here now that was not ``before``, one line each."""
        return (
            [f"thread {t.name!r} ({'daemon' if t.daemon else 'not daemon'})" for t in self.threads - before.threads]
            + [f"socket {_describe(inode)}" for inode in sorted(self.sockets - before.sockets)]
            + [f"child process {pid}: {_command(pid)}" for pid in sorted(self.children - before.children)]
        )


def _sockets() -> Iterator[str]:
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own fd, a thread's socket)
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                yield target


def _describe(socket_link: str) -> str:
    """``socket:[inode]`` with its kind and addresses, read from /proc/net."""
    inode = socket_link[len("socket:[") : -1]
    for table in ("tcp", "tcp6", "udp", "udp6", "unix", "netlink"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if table == "unix" and fields[6] == inode:
                    return f"unix {fields[7] if len(fields) > 7 else '(unnamed)'}"
                if table == "netlink" and fields[9] == inode:
                    return f"netlink (protocol {fields[1]}, groups {fields[3]})"
                if table not in ("unix", "netlink") and fields[9] == inode:
                    return f"{table} {_address(fields[1])} → {_address(fields[2])} (state {fields[3]})"
    return socket_link


def _address(hex_address: str) -> str:
    ip, port = hex_address.split(":")
    if len(ip) == 8:
        return ".".join(str(b) for b in reversed(bytes.fromhex(ip))) + f":{int(port, 16)}"
    return f"[{ip}]:{int(port, 16)}"


def _children() -> Iterator[int]:
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rpartition(")")[2].split()[1]) == me:  # fields after the command: state, ppid
                    yield int(entry)


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


@pytest.fixture(autouse=True)
def _nothing_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a thread (daemon or not), an open socket or a child process behind."""
    before = Resources.now()
    yield
    deadline = time.monotonic() + GRACE
    left = Resources.now().since(before)
    while left and time.monotonic() < deadline:
        gc.collect()  # a socket only its garbage still refers to is closed by collecting it
        time.sleep(0.02)
        left = Resources.now().since(before)
    if not left:
        return
    marker = request.node.get_closest_marker("leaks")
    message = f"left behind after {GRACE:.0f} s: " + "; ".join(left)
    if marker is not None:
        warnings.warn(f"{message} (known: {marker.args[0] if marker.args else 'no reason given'})", stacklevel=1)
    else:
        pytest.fail(message, pytrace=False)
