"""The leak check (tests/leaks.py, run after every test by conftest.py) sees what a test leaves behind."""

import socket
import subprocess
import sys
import threading

from .leaks import Resources


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
