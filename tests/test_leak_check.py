"""The leak check (tests/leaks.py, run after every test by conftest.py) sees what a test leaves behind."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .leaks import Resources

ROOT = Path(__file__).resolve().parents[1]


def test_it_sees_a_thread_left_running():
    before = Resources.now()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="forgotten", daemon=True)
    thread.start()
    try:
        assert Resources.now().since(before) == ["thread 'forgotten' (daemon)"]
    finally:
        release.set()
        thread.join()
    assert Resources.now().since(before) == []


def test_it_sees_a_socket_left_open_with_its_addresses():
    before = Resources.now()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        [left] = Resources.now().since(before)
        assert left.startswith("socket tcp 127.0.0.1:") and f":{port} → 0.0.0.0:0" in left
    assert Resources.now().since(before) == []


def test_it_sees_a_child_process_left_running():
    before = Resources.now()
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        [left] = Resources.now().since(before)
        assert left.startswith(f"child process {child.pid}: ") and "sys.stdin.read()" in left
    finally:
        child.communicate(b"")
    assert Resources.now().since(before) == []


# --- the fixture itself: a test that leaves something behind fails (issue #19 item 13) --------------------------

INNER_TESTS = """
import socket, subprocess, sys, threading

import pytest

NEVER = threading.Event()


def test_clean():
    threading.Thread(target=lambda: None, name="finished").start()


def test_thread():
    threading.Thread(target=NEVER.wait, name="forgotten", daemon=True).start()


def test_socket():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    test_socket.kept = listener


def test_child():
    # reads its stdin until this session ends (then its pipe closes and it exits)
    test_child.kept = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)


@pytest.mark.leaks("a test of the marker")
def test_marked():
    threading.Thread(target=NEVER.wait, name="known", daemon=True).start()
"""


@pytest.fixture(scope="module")
def inner_session(tmp_path_factory):
    """The project's leak check (tests/conftest.py's fixture and marker) run by pytest on INNER_TESTS: each
    test's outcome (and the message of its failure) from the session's JUnit XML."""
    where = tmp_path_factory.mktemp("inner")
    (where / "conftest.py").write_text("from tests.conftest import _nothing_left_behind, pytest_configure  # noqa\n")
    (where / "test_inner.py").write_text(INNER_TESTS)
    report = where / "report.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "always", f"--junitxml={report}"]
    done = subprocess.run(
        [*command, "--rootdir", str(where), str(where / "test_inner.py")],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcomes[case.get("name")] = "passed" if failed is None else failed.get("message", "")
    return done, outcomes


def test_a_test_that_leaves_nothing_passes(inner_session):
    assert inner_session[1]["test_clean"] == "passed"


def test_a_test_that_leaves_a_thread_running_fails(inner_session):
    assert "left behind after 3 s: thread 'forgotten' (daemon)" in inner_session[1]["test_thread"]


def test_a_test_that_leaves_a_socket_open_fails(inner_session):
    assert "left behind after 3 s: socket tcp 127.0.0.1:" in inner_session[1]["test_socket"]


def test_a_test_that_leaves_a_child_process_fails(inner_session):
    assert "left behind after 3 s: child process " in inner_session[1]["test_child"]


def test_a_test_marked_as_leaking_passes_with_a_warning_that_says_why(inner_session):
    done, outcomes = inner_session
    assert outcomes["test_marked"] == "passed"
    assert "thread 'known' (daemon) (known: a test of the marker)" in done.stdout
    assert done.returncode == 1 and "3 errors" in done.stdout  # the session as a whole fails
