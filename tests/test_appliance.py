"""The appliance: systemd units verified, the Pi installer run into a temp root (twice), the watchdog pinged
from the loop (a fake NOTIFY_SOCKET), and ``qr-terminal doctor`` against good and broken set-ups."""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal.manager_pin import hash_pin
from terminal.service import ServiceNotifier

from .terminal_app import make_terminal

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "qr-terminal.service"


# --- systemd units --------------------------------------------------------------------------------


def analyze(verb, unit_text, tmp_path, *options):
    """``systemd-analyze VERB [OPTIONS] unit`` on ``unit_text``; its output."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (Debian package systemd; scripts/test installs it as root)")
    # verify checks that ExecStart exists: point it at this checkout's qr-terminal instead of /opt's.
    exe = Path(sys.executable).with_name("qr-terminal")
    unit = tmp_path / "qr-terminal.service"
    unit.write_text(unit_text.replace("/opt/qr-terminal/.venv/bin/qr-terminal", str(exe)))
    run = subprocess.run(["systemd-analyze", verb, *options, str(unit)], capture_output=True, text=True, cwd=tmp_path)
    return (run.stdout + run.stderr).strip()


def verify(unit_text, tmp_path):
    return analyze("verify", unit_text, tmp_path)


def exposure(unit_text, tmp_path):
    """The unit's "Overall exposure level" from ``systemd-analyze security`` (0 safest, 10 most exposed)."""
    report = analyze("security", unit_text, tmp_path, "--offline=true", "--no-pager")
    found = re.search(r"Overall exposure level for qr-terminal\.service: (\d+\.\d)", report)
    assert found, report
    return float(found.group(1))


def test_systemd_analyze_verify_prints_nothing_for_the_unit(tmp_path):
    assert verify(UNIT.read_text(), tmp_path) == ""


def test_systemd_analyze_security_rates_the_unit_at_most_3_5(tmp_path):
    assert exposure(UNIT.read_text(), tmp_path) <= 3.5


def test_the_exposure_check_does_catch_a_unit_without_its_hardening(tmp_path):
    text = UNIT.read_text()
    bare = text[: text.index("# Hardening")] + "DevicePolicy=closed\n" + text[text.index("[Install]") :]
    assert exposure(bare, tmp_path) > 7  # as it was before: 7.5 EXPOSED


def test_the_verify_check_does_catch_a_broken_key(tmp_path):
    assert "Unknown key" in verify(UNIT.read_text().replace("Restart=always", "Restart=always\nRestartt=1"), tmp_path)


def test_the_unit_is_what_the_appliance_needs():
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=30",
        "Restart=always",
        "User=qr-terminal",
        "StateDirectory=qr-terminal",
        "CacheDirectory=qr-terminal",
        "RuntimeDirectory=qr-terminal",
        "Environment=LG_WD=/run/qr-terminal",
        "Environment=SDL_VIDEODRIVER=kmsdrm",
        "ProtectSystem=strict",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "DevicePolicy=closed",
        "SupplementaryGroups=video render input gpio dialout lp audio",
        "Environment=SDL_AUDIODRIVER=alsa",
        "CapabilityBoundingSet=",
        "SystemCallErrorNumber=EPERM",  # a call outside the filter fails; it does not kill the terminal mid-sale
        "ProtectProc=invisible",  # not ProcSubset=pid: gpiozero and ALSA read /proc
        "Environment=MALLOC_ARENA_MAX=1",  # one malloc arena for all threads (bench/ measures the saving)
    ):
        assert line in text.splitlines(), line
    for device in (
        "char-drm",
        "char-input",
        "char-gpiochip",
        "char-ttyUSB",
        "char-ttyACM",
        "char-ttyAMA",
        "char-usb",
        "char-alsa",
    ):
        assert f"DeviceAllow={device} " in text


def test_modules_and_udev_rules():
    assert (ROOT / "systemd" / "qr-terminal-modules.conf").read_text().split()[-3:] == ["usbserial", "cdc_acm", "usblp"]
    rules = (ROOT / "systemd" / "99-qr-terminal.rules").read_text()
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules and 'SYMLINK+="qr-terminal/printer"' in rules


# --- the installer --------------------------------------------------------------------------------


def install(root, *args):
    return subprocess.run(
        [str(ROOT / "scripts" / "install-pi"), "--root", str(root), *args], capture_output=True, text=True, timeout=60
    )


def snapshot(root):
    return {
        str(p.relative_to(root)): (oct(p.stat().st_mode & 0o777), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_installer_writes_every_file_with_its_mode_and_a_second_run_changes_nothing(tmp_path):
    (tmp_path / "boot" / "firmware").mkdir(parents=True)
    (tmp_path / "boot" / "firmware" / "cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=1\n")
    first = install(tmp_path)
    assert first.returncode == 0, first.stderr
    files = snapshot(tmp_path)
    assert files["etc/systemd/system/qr-terminal.service"][0] == "0o644"
    assert files["etc/qr-terminal/secrets.toml"][0] == "0o600"
    assert "etc/modules-load.d/qr-terminal.conf" in files and "etc/udev/rules.d/99-qr-terminal.rules" in files
    assert (tmp_path / "etc/systemd/system/qr-terminal.service").read_text() == UNIT.read_text()
    cmdline = (tmp_path / "boot/firmware/cmdline.txt").read_text().split()
    assert "consoleblank=0" in cmdline and "vt.global_cursor_default=0" in cmdline and "console=tty3" in cmdline
    assert "would run: useradd" in first.stdout  # the system itself was not touched
    second = install(tmp_path)
    assert snapshot(tmp_path) == files
    assert "wrote:" not in second.stdout and "Done: nothing changed." in second.stdout


def test_the_installer_keeps_an_edited_config(tmp_path):
    install(tmp_path)
    config = tmp_path / "etc/qr-terminal/terminal.toml"
    config.write_text("# edited by the integrator\n")
    install(tmp_path)
    assert config.read_text() == "# edited by the integrator\n"


def test_uninstall_removes_the_service_and_keeps_config_and_journal(tmp_path):
    install(tmp_path)
    run = install(tmp_path, "--uninstall")
    assert run.returncode == 0
    assert not (tmp_path / "etc/systemd/system/qr-terminal.service").exists()
    assert (tmp_path / "etc/qr-terminal/terminal.toml").exists()


# --- sd_notify and the watchdog --------------------------------------------------------------------


def test_the_loop_says_ready_and_pings_the_watchdog_itself(tmp_path, sandbox):
    address = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(2)
    systemd = ServiceNotifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
    terminal = make_terminal(tmp_path, sandbox.url, service=systemd)
    end = time.monotonic() + 0.7
    terminal.app.run(until=lambda app: time.monotonic() > end)
    messages = []
    listener.setblocking(False)
    while True:
        try:
            messages.append(listener.recv(4096).decode())
        except BlockingIOError:
            break
    listener.close()
    assert messages[0].startswith("READY=1\nSTATUS=ready: terminal T1")
    assert 5 <= messages.count("WATCHDOG=1") <= 9  # every 0.1 s (half the watchdog period) for 0.7 s
    assert messages[-1] == "STOPPING=1\nSTATUS=stopping"


def test_outside_systemd_nothing_is_sent():
    notifier = ServiceNotifier({})
    assert not notifier.active and notifier.watchdog_interval == 0
    notifier.ready("x")  # must not raise


# --- doctor ---------------------------------------------------------------------------------------

GOOD = """
[terminal]
id = "T1"
journal = "journal.db"
[merchant]
name = "Shop"
[payee]
ids = ["demo-shop@sandbox"]
[backend]
url = "{url}"
[display]
driver = "dummy"
[keypad]
rows = [16, 20, 21, 22]
columns = [19, 13, 27, 4]
[gpio]
mock = true
[secrets]
file = "secrets.toml"
"""


def run_doctor(tmp_path, url, *, secrets_mode=0o600, text=None, pin=True, secrets=True):
    config = tmp_path / "terminal.toml"
    config.write_text(text if text is not None else GOOD.format(url=url))
    if secrets:
        path = tmp_path / "secrets.toml"
        path.write_text('device_token = "sandbox-device-token"\n' + (f'manager_pin = "{hash_pin("2580")}"\n' * pin))
        path.chmod(secrets_mode)
    env = {k: v for k, v in os.environ.items() if k != "QR_TERMINAL_DEVICE_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "terminal", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def doctor(tmp_path, url, **options):
    run = run_doctor(tmp_path, url, **options)
    return run.returncode, {line.split()[1]: line for line in run.stdout.splitlines()}


def test_doctor_passes_a_good_setup(tmp_path, sandbox):
    code, lines = doctor(tmp_path, sandbox.url)
    assert code == 0, lines
    assert list(lines) == [
        "config",
        "secrets",
        "display",
        "keypad",
        "gpio",
        "printer",
        "pin",
        "till",
        "backend",
        "clock",
        "disk",
        "journal",
    ]
    assert all(line.startswith("ok") for line in lines.values())
    assert "token accepted" in lines["backend"] and "within" in lines["clock"]


def test_doctor_names_a_broken_config_key(tmp_path, sandbox):
    code, lines = doctor(tmp_path, sandbox.url, text=GOOD.format(url=sandbox.url).replace('id = "T1"', 'id = ""'))
    assert code == 1 and lines["config"].startswith("FAIL config") and "terminal.id" in lines["config"]


def test_doctor_fails_a_world_readable_secrets_file(tmp_path, sandbox):
    code, lines = doctor(tmp_path, sandbox.url, secrets_mode=0o644)
    assert code == 1 and lines["secrets"].startswith("FAIL") and "chmod 600" in lines["secrets"]
    assert "sandbox-device-token" not in "".join(lines.values())


def test_doctor_fails_an_unreachable_backend(tmp_path):
    from .servers import closed_port

    code, lines = doctor(tmp_path, f"http://127.0.0.1:{closed_port()}")
    assert code == 1 and lines["backend"].startswith("FAIL backend") and "unreachable" in lines["backend"]


def test_doctor_fails_a_refused_token(tmp_path, sandbox):
    sandbox.token = "another-device-token"
    code, lines = doctor(tmp_path, sandbox.url)
    assert code == 1 and "refused the device token" in lines["backend"]


@pytest.mark.parametrize("damage", [b"not a database at all" * 100])
def test_doctor_fails_a_damaged_journal(tmp_path, sandbox, damage):
    (tmp_path / "journal.db").write_bytes(damage)
    code, lines = doctor(tmp_path, sandbox.url)
    assert code == 1 and lines["journal"].startswith("FAIL journal")


def test_doctor_fails_a_journal_path_that_run_could_not_create(tmp_path, sandbox):
    (tmp_path / "plain").write_text("a file, not a folder")
    text = GOOD.format(url=sandbox.url).replace('journal = "journal.db"', 'journal = "plain/journal.db"')
    code, lines = doctor(tmp_path, sandbox.url, text=text)
    assert code == 1 and lines["journal"].startswith(f"FAIL journal   {tmp_path}/plain/journal.db cannot be created")


def test_doctor_says_a_journal_will_be_created_where_it_can_be(tmp_path, sandbox):
    text = GOOD.format(url=sandbox.url).replace('journal = "journal.db"', 'journal = "new/folder/journal.db"')
    code, lines = doctor(tmp_path, sandbox.url, text=text)
    assert (
        code == 0
        and lines["journal"] == f"ok   journal   {tmp_path}/new/folder/journal.db will be created at the first start"
    )
    assert not (tmp_path / "new").exists()  # the doctor looked, and made nothing


@pytest.mark.parametrize("till", ["", '[till]\ndevice = "tcp:9100"\n'])  # a TCP till's secret is in it too
def test_doctor_checks_everything_else_when_the_secrets_file_is_missing(tmp_path, sandbox, till):
    code, lines = doctor(tmp_path, sandbox.url, secrets=False, text=GOOD.format(url=sandbox.url) + till)
    assert code == 1 and lines["config"].startswith("ok")
    assert lines["secrets"].startswith(f"FAIL secrets   {tmp_path}/secrets.toml: no such file")
    assert list(lines) == [
        "config",
        "secrets",
        "display",
        "keypad",
        "gpio",
        "printer",
        "pin",
        "till",
        "backend",
        "clock",
        "disk",
        "journal",
    ]
    assert lines["backend"].startswith("FAIL backend   not checked")


def test_doctor_warns_but_passes_when_no_manager_pin_is_set(tmp_path, sandbox):
    code, lines = doctor(tmp_path, sandbox.url, pin=False)
    assert code == 0 and lines["pin"].startswith("warn pin       not set") and "→ qr-terminal set-pin" in lines["pin"]


def test_doctor_folds_gpiozeros_fallback_warnings_into_its_gpio_line(tmp_path, sandbox):
    text = GOOD.format(url=sandbox.url).replace("mock = true", "mock = false") + "[indicators]\ngreen = 5\n"
    run = run_doctor(tmp_path, sandbox.url, text=text)
    [gpio] = [line for line in run.stdout.splitlines() if line.split()[1] == "gpio"]
    assert "PinFactoryFallback" not in run.stderr and "warnings.warn" not in run.stderr, run.stderr
    assert "lgpio:" in gpio  # what each factory said, on the gpio line (FAIL on a PC, "skipped …" on a Pi)
