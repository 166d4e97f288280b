"""``qr-terminal say`` (speak or write one announcement) and ``qr-terminal voice-cache`` (make the word clips at
install time). The running terminal's voice is opened from its config in terminal.wiring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from terminal.cli import whole_number
from terminal.core.money import Amount, MoneyError
from terminal.core.speech import LANGUAGES, Phrase, SpeechError, failure, received, vocabulary
from terminal.devices.voice import ClipCache, Voice, VoiceError

#: Where `say` keeps its clips when no config names a cache.
USER_CACHE = Path.home() / ".cache" / "qr-terminal" / "voice"


def add_say_arguments(parser: argparse.ArgumentParser) -> None:
    """say's options."""
    parser.add_argument("--amount", help="the amount received, e.g. 250.00")
    parser.add_argument("--currency", default="INR", help="ISO 4217 code (%(default)s)")
    parser.add_argument("--lang", default="en-IN", choices=list(LANGUAGES), help="language (%(default)s)")
    parser.add_argument("--failure", choices=["failed", "expired"], help="say a failure line instead of an amount")
    parser.add_argument("--voice", default="", help="an espeak-ng voice (default: the language's)")
    parser.add_argument("--volume", type=whole_number(0, 100), default=80, help="0–100 (%(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="write a WAV file instead of playing it")
    parser.add_argument("--cache", type=Path, default=USER_CACHE, help="where word clips are kept (%(default)s)")


def say(args: argparse.Namespace) -> int:
    """Print the phrase, then play it or write it; exit 2 with what to do when it cannot."""
    try:
        phrase = _phrase(args)
    except (MoneyError, SpeechError, ValueError) as exc:
        print(f"qr-terminal say: {exc}", file=sys.stderr)
        return 2
    print(phrase.text, flush=True)
    cache = ClipCache(args.cache, args.lang, args.voice)
    try:
        if args.out is not None:
            args.out.write_bytes(cache.wav(phrase))
            return 0
        voice = Voice(cache, volume=args.volume)
        voice.say(phrase)
        voice.wait_idle(30)
        voice.stop()
        if voice.problem:
            raise VoiceError(voice.problem)
    except (VoiceError, OSError) as exc:
        print(f"qr-terminal say: {_sentence(exc)}", file=sys.stderr)
        return 2
    return 0


def _phrase(args: argparse.Namespace) -> Phrase:
    if args.failure:
        return failure(args.failure, args.lang)
    if not args.amount:
        raise ValueError("give --amount (or --failure failed|expired)")
    return received(Amount.parse(args.amount, args.currency.upper()), args.lang)


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """voice-cache's options."""
    from terminal.config import add_config_argument

    add_config_argument(parser)


def fill_cache(args: argparse.Namespace) -> int:
    """Make every clip the configured language needs (once, at install time)."""
    from terminal.config import load_for

    config = load_for("voice-cache", args.config)
    if config is None:
        return 2
    if config.voice is None:
        print("voice-cache: [voice] enabled = false: nothing to make")
        return 0
    v = config.voice
    cache = ClipCache(v.cache, v.language, v.voice)
    words = vocabulary(v.language, (config.terminal.currency,))
    try:
        made = cache.fill(words)
    except (VoiceError, OSError) as exc:
        print(f"qr-terminal voice-cache: {_sentence(exc)}", file=sys.stderr)
        return 2
    print(f"voice-cache: {len(words)} clips for {v.language} ({cache.voice}) in {cache.folder}; {made} made now")
    return 0


def _sentence(exc: Exception) -> str:
    """``cannot write PATH: reason`` for a file error (not ``[Errno 2] …``), else the error's own message."""
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot write {exc.filename}: {exc.strerror or exc}"
    return str(exc)
