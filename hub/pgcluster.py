"""A throwaway PostgreSQL cluster for tests and the load script: ``initdb`` in a temporary directory, listening
only on a Unix socket there, fsync off, removed at the end. As root it runs as the ``postgres`` user (PostgreSQL
refuses root). When the server is not installed, :class:`ClusterUnavailable` names the command that installs it."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

INSTALL = "sudo apt-get install -y postgresql"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL's server programs are missing (the message says how to install them)."""


def server_bin() -> Path:
    """The directory holding initdb and pg_ctl."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    raise ClusterUnavailable(f"PostgreSQL's server (initdb) is not installed; install it with: {INSTALL}")


class Cluster:
    """One cluster; :meth:`database` makes a fresh database and returns its URL."""

    def __init__(self) -> None:
        self.bin = server_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="qrhub-pg-"))
        self.data = self.dir / "data"
        self.socket = self.dir
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "hub", "-E", "UTF8", "--no-sync")
        options = (
            f"-k {self.socket} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        self._options = options
        self.start()

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-o", self._options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, dbname: str) -> str:
        """The URL of ``dbname`` on this cluster (over the Unix socket)."""
        return f"postgresql://hub@/{dbname}?host={self.socket}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server and delete every file."""
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin / program), *args], capture_output=True, text=True, timeout=60, check=False
        )
        if check and done.returncode != 0:
            raise ClusterUnavailable(f"{program} failed: {(done.stderr or done.stdout).strip()[-500:]}")
