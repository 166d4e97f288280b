"""The spoken confirmation with real parts: espeak-ng making the clips, WAVs read back, pygame's mixer on SDL's
dummy audio driver, the running terminal announcing a payment after the paid screen is drawn."""

from __future__ import annotations

import array
import os
import subprocess
import sys
import wave

import pytest
import requests

from terminal.config import VoiceSection
from terminal.core.speech import vocabulary
from terminal.devices.voice import ClipCache

from .terminal_app import make_terminal

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def qr_terminal(*args, env=ENV):
    return subprocess.run(
        [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize(
    ("amount", "currency", "lang", "text", "words"),
    [
        ("250.00", "INR", "hi", "दो सौ पचास रुपये प्राप्त हुए", 6),
        ("12.50", "BRL", "pt-BR", "Recebido doze reais e cinquenta centavos", 6),
        ("100000.00", "INR", "en-IN", "Received one lakh rupees", 4),
        ("250.00", "THB", "th", "ได้รับเงิน สองร้อยห้าสิบบาท", 6),
        ("250.00", "INR", "ta", "இருநூற்று ஐம்பது ரூபாய் பெறப்பட்டது", 4),
    ],
)
def test_say_out_writes_a_valid_non_silent_wav_about_as_long_as_the_phrase(
    tmp_path, amount, currency, lang, text, words
):
    out = tmp_path / "said.wav"
    run = qr_terminal(
        "say",
        "--amount",
        amount,
        "--currency",
        currency,
        "--lang",
        lang,
        "--out",
        str(out),
        "--cache",
        str(tmp_path / "clips"),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == text
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        seconds = w.getnframes() / w.getframerate()
        samples = array.array("h", w.readframes(w.getnframes()))
    assert 0.2 * words <= seconds <= 1.2 * words, seconds  # each word a short clip, with short gaps
    loud = sum(1 for s in samples if abs(s) > 1000)
    assert loud > 0.2 * len(samples)  # speech, not silence


def test_say_plays_on_the_dummy_audio_driver_and_a_missing_device_is_a_clear_error(tmp_path):
    cache = str(tmp_path / "clips")
    played = qr_terminal("say", "--amount", "1.00", "--lang", "en", "--cache", cache)
    assert played.returncode == 0 and played.stdout.strip() == "Received one rupee", played.stderr
    broken = qr_terminal(
        "say", "--amount", "1.00", "--lang", "en", "--cache", cache, env={**ENV, "SDL_AUDIODRIVER": "no-such-driver"}
    )
    assert broken.returncode == 2 and "no audio output" in broken.stderr and "Traceback" not in broken.stderr
    bad = qr_terminal("say", "--amount", "1.00", "--lang", "ml", "--cache", cache)
    assert bad.returncode == 2 and "invalid choice: 'ml'" in bad.stderr


def test_the_cache_is_made_once_and_then_reused(tmp_path):
    cache = ClipCache(tmp_path, "en-IN")
    words = vocabulary("en-IN", ("INR",))
    assert cache.fill(words) == len(words)
    assert cache.missing(words) == [] and cache.fill(words) == 0


def test_the_terminal_announces_a_payment_after_the_paid_screen_and_repeats_it(tmp_path, sandbox):
    speaking = VoiceSection(
        enabled=True, language="en-IN", voice="en-gb", volume=50, failures=True, cache=tmp_path / "clips"
    )
    terminal = make_terminal(tmp_path, sandbox.url, voice=speaking)
    voice = terminal.app.voice
    assert voice is not None
    seen_at_paid: list[object] = []
    recorder_frame = terminal.app.observer.frame

    def frame(model, display):
        if model.name == "paid":
            seen_at_paid.append((list(voice.played), voice._queue.qsize()))
        recorder_frame(model, display)

    terminal.app.observer.frame = frame
    terminal.press("250E")
    requests.post(f"{terminal.until_screen('qr').qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")
    assert seen_at_paid[0] == ([], 0)  # the paid screen was drawn before anything was handed to the voice
    terminal.until(lambda: voice.played == ["Received two hundred fifty rupees"], timeout=20)
    terminal.press("v")  # repeat
    terminal.until(lambda: len(voice.played) == 2, timeout=20)
    assert voice.problem is None
    voice.stop()


def test_voice_cache_command_and_doctor(tmp_path, sandbox):
    config = tmp_path / "terminal.toml"
    config.write_text(f"""
[terminal]
id = "T1"
journal = "journal.db"
[merchant]
name = "Shop"
[payee]
ids = ["demo-shop@sandbox"]
[backend]
url = "{sandbox.url}"
[display]
driver = "dummy"
[voice]
enabled = true
language = "hi"
cache = "clips"
[secrets]
file = "secrets.toml"
""")
    (tmp_path / "secrets.toml").write_text('device_token = "sandbox-device-token"\n')
    (tmp_path / "secrets.toml").chmod(0o600)
    before = qr_terminal("doctor", "--config", str(config))
    assert "FAIL voice" in before.stdout and "qr-terminal voice-cache" in before.stdout
    made = qr_terminal("voice-cache", "--config", str(config))
    assert made.returncode == 0 and "clips for hi (hi)" in made.stdout, made.stderr
    again = qr_terminal("voice-cache", "--config", str(config))
    assert "0 made now" in again.stdout
    after = qr_terminal("doctor", "--config", str(config))
    assert "ok   voice" in after.stdout or "ok voice" in after.stdout, after.stdout
    no_audio = qr_terminal("doctor", "--config", str(config), env={**ENV, "SDL_AUDIODRIVER": "no-such-driver"})
    assert "no audio output" in no_audio.stdout
