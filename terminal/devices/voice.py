"""The spoken confirmation: word clips synthesised once by espeak-ng (an OS package, offline) and cached as WAV,
assembled into an announcement at run time, played through pygame's mixer in a thread of its own.

Nothing here runs on the loop: ``Voice.say`` only queues. Start-up never waits for synthesis (a missing cache is
filled in the voice's thread); the paid screen never waits for audio. A missing or broken audio device is
logged once and the terminal carries on silent (``qr-terminal doctor`` reports it).
"""

from __future__ import annotations

import array
import hashlib
import io
import logging
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from terminal.core.speech import LANGUAGES, Phrase

log = logging.getLogger(__name__)

RATE = 22050  # espeak-ng's output: 22.05 kHz, mono, 16-bit
GAP = 0.07  # seconds of silence between words
SILENCE = 300  # |sample| below this counts as silence when trimming a clip


class VoiceError(Exception):
    """Speech cannot be made or played; the message says what to install or fix."""


def espeak() -> str:
    """The espeak-ng program, or VoiceError naming the package to install."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise VoiceError("espeak-ng is not installed: sudo apt install espeak-ng")
    return found


class ClipCache:
    """One WAV per word, per voice, under ``folder`` (made at install time by ``qr-terminal voice-cache``)."""

    def __init__(self, folder: Path, language: str, voice: str = "") -> None:
        self.language = language
        self.voice = voice or LANGUAGES[language]
        self.folder = Path(folder) / self.voice

    def path(self, word: str) -> Path:
        """Where ``word``'s clip is kept."""
        return self.folder / (hashlib.sha1(word.encode()).hexdigest()[:16] + ".wav")

    def missing(self, words: Iterable[str]) -> list[str]:
        """The words without a clip yet."""
        return sorted({w for w in words if not self.path(w).exists()})

    def fill(self, words: Iterable[str]) -> int:
        """Synthesise every missing clip; returns how many were made."""
        todo = self.missing(words)
        for word in todo:
            self.synthesise(word)
        return len(todo)

    def synthesise(self, word: str) -> Path:
        """Make ``word``'s clip with espeak-ng (trimmed of its leading and trailing silence)."""
        import subprocess  # here: only clips not yet made need it (subprocess is ~0.2 MB held by every start)

        program = espeak()
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(word)
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "word.wav"
            run = subprocess.run(
                [program, "-v", self.voice, "-s", "150", "-w", str(raw), "--", word],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if run.returncode != 0 or not raw.exists():
                raise VoiceError(f"espeak-ng could not say {word!r} with voice {self.voice}: {run.stderr.strip()}")
            samples = _trim(_read(raw))
            partial = target.with_suffix(".tmp")
            _write(partial, samples)
            os.replace(partial, target)
        return target

    def samples(self, phrase: Phrase) -> array.array[int]:
        """The phrase's audio: its words' clips with short gaps (missing clips are made first)."""
        out = array.array("h")
        gap = array.array("h", bytes(2 * int(RATE * GAP)))
        for i, word in enumerate(phrase.words):
            path = self.path(word)
            if not path.exists():
                path = self.synthesise(word)
            if i:
                out.extend(gap)
            out.extend(_read(path))
        return out

    def wav(self, phrase: Phrase) -> bytes:
        """The phrase as a WAV file's bytes."""
        buffer = io.BytesIO()
        _write(buffer, self.samples(phrase))
        return buffer.getvalue()


class Voice:
    """Announcements played one after another in a thread; the last one can be repeated."""

    def __init__(self, cache: ClipCache, *, volume: int = 80, warm: Iterable[str] = ()) -> None:
        self.cache = cache
        self.volume = volume
        self.problem: str | None = None
        #: What it said, newest last (the last 20): for support, and for tests.
        self.played: list[str] = []
        self._queue: queue.Queue[Phrase | None] = queue.Queue(maxsize=8)
        self._mixer = False
        self._thread = threading.Thread(target=self._run, args=(tuple(warm),), name="voice", daemon=True)
        self._thread.start()

    def say(self, phrase: Phrase) -> None:
        """Queue ``phrase`` (never blocks; with eight already waiting, this one is dropped and logged)."""
        try:
            self._queue.put_nowait(phrase)
        except queue.Full:
            log.warning("voice: too many announcements queued; dropped %r", phrase.text)

    def stop(self, timeout: float = 2.0) -> None:
        """Finish what is playing and end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until everything queued has been played (tests, the say command)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self._queue.unfinished_tasks or self._busy()):
            time.sleep(0.02)

    def _busy(self) -> bool:
        if not self._mixer:
            return False
        import pygame

        return bool(pygame.mixer.get_busy())

    def _run(self, warm: tuple[str, ...]) -> None:
        if warm:  # fill the cache off the loop: start-up never waits for synthesis
            try:
                made = self.cache.fill(warm)
                if made:
                    log.info("voice: made %d missing clip(s) for %s", made, self.cache.voice)
            except VoiceError as exc:
                self.problem = str(exc)
                log.error("voice: %s", exc)
        while True:
            phrase = self._queue.get()
            try:
                if phrase is None:
                    return
                self._play(phrase)
            except VoiceError as exc:
                if self.problem != str(exc):
                    log.error("voice: %s", exc)
                self.problem = str(exc)
            except Exception:  # a voice bug must never reach the counter
                log.exception("voice: could not say %r", phrase.text if phrase else None)
            finally:
                self._queue.task_done()

    def _play(self, phrase: Phrase) -> None:
        samples = self.cache.samples(phrase)
        import pygame

        if not self._mixer:
            try:
                pygame.mixer.init(frequency=RATE, size=-16, channels=1)
            except pygame.error as exc:
                raise VoiceError(f"no audio output ({exc}): check the speaker and 'aplay -l'") from None
            self._mixer = True
        sound = pygame.mixer.Sound(buffer=samples.tobytes())
        sound.set_volume(max(0, min(100, self.volume)) / 100)
        while pygame.mixer.get_busy():  # one announcement at a time, in order
            pygame.time.wait(20)
        sound.play()
        self.played = [*self.played[-19:], phrase.text]
        log.info("voice: %s", phrase.text)


def _read(source: Path) -> array.array[int]:
    import wave  # only a terminal that speaks reads sound files

    with wave.open(str(source), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            raise VoiceError(f"{source}: expected {RATE} Hz mono 16-bit audio")
        samples = array.array("h")
        samples.frombytes(w.readframes(w.getnframes()))
        return samples


def _write(target: Path | io.BytesIO, samples: array.array[int]) -> None:
    import wave

    with wave.open(target if isinstance(target, io.BytesIO) else str(target), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def _trim(samples: array.array[int]) -> array.array[int]:
    loud = [i for i, s in enumerate(samples) if abs(s) > SILENCE]
    if not loud:
        return samples
    pad = int(RATE * 0.01)
    return samples[max(0, loud[0] - pad) : loud[-1] + pad]
