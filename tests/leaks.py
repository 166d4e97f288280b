"""What a test could leave behind: threads, open sockets, child processes (the leak check in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Threads that may outlive a test because they are one per process, started by a library on first use
#: (none so far: add ``name prefix: why``).
SINGLETON_THREADS: dict[str, str] = {}
#: Sockets likewise, by the start of their description.
SINGLETON_SOCKETS = {
    # SDL's udev device monitor (NETLINK_KOBJECT_UEVENT): opened by the first pygame.display.init() of the
    # process to watch for hot-plugged keypads, and kept until the process ends.
    "netlink (protocol 15,": "SDL's hot-plug monitor",
}


@dataclass(frozen=True)
class Resources:
    """What a process holds that a test could forget: live threads, open sockets (by inode), child processes."""

    threads: frozenset[threading.Thread]
    sockets: frozenset[str]
    children: frozenset[int]

    @classmethod
    def now(cls) -> Resources:
        """What the process holds now, less the process-wide singletons above."""
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
