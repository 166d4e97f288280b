"""How a config section is declared and read: a frozen dataclass whose fields are its TOML keys.

A field made with :func:`setting` is a key of its [section]: its *kind* checks the value and turns it into what
the section keeps; its default stands in when the key is absent (no default: the key is required). Defaults go
through the kind like a written value, so a default is checked and converted the same way. A default may be a
function of what is known already: the values passed to :meth:`Table.read` and the keys read before it.

:meth:`Table.read` reads one [table] into such a dataclass; a section's own ``from_toml`` adds the rules that tie
its keys together (or to other sections). Everything refused becomes a :class:`ConfigError` naming the file, the
key, the value and what was expected. Unknown sections and keys come from the same declarations, so the keys a
file may hold and the keys the terminal reads cannot drift apart.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from terminal.core.money import Amount, MoneyError

T = TypeVar("T")
EXAMPLE = "config/terminal.example.toml"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


#: The value of a key that is not in the file (and has no default).
MISSING: Any = _Missing()


class ConfigError(Exception):
    """A config problem, worded for the integrator: file, key, value, expectation."""

    def __init__(self, path: Path | str, key: str, value: Any, expected: str, *, sentence: str = "") -> None:
        shown = "(missing)" if value is MISSING else repr(value)
        # ``sentence`` words a problem that is not one key's value (an unreadable file, an unknown section).
        super().__init__(f"{path}: {sentence or f'{key} = {shown}: expected {expected}'}")
        self.path, self.key, self.value, self.expected = path, key, value, expected


class Invalid(Exception):
    """A value a kind refuses: what was expected. The reader adds the file and the key; ``key`` (below the
    setting's own, e.g. ``"A"`` in ``keypad.keys.A``) and ``value`` name a part of the value instead."""

    def __init__(self, expected: str, *, key: str = "", value: Any = MISSING) -> None:
        super().__init__(expected)
        self.expected, self.key, self.value = expected, key, value


#: What a kind sees besides the value: the values passed to ``Table.read`` and the keys read before.
Known = Mapping[str, Any]


class Kind:
    """What one key accepts. ``read`` returns what the section keeps, or raises :class:`Invalid`."""

    def read(self, value: Any, known: Known, table: Table) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Setting:
    """One key: its kind and its default (a value, a function of what is known, or MISSING: required)."""

    kind: Kind
    default: Any = MISSING


def setting(kind: Kind, default: Any = MISSING) -> Any:
    """A dataclass field that is a TOML key of its section (see the module's docstring)."""
    return field(metadata={"setting": Setting(kind, default)})


def settings(cls: type) -> Iterator[tuple[str, Setting]]:
    """The keys ``cls`` declares, in the order they are read (a :class:`Group`'s keys in its place)."""
    for f in _fields(cls):
        found: Setting = f.metadata["setting"]
        if isinstance(found.kind, Group):
            yield from settings(found.kind.cls)
        else:
            yield f.name, found


def _fields(cls: type) -> list[Field[Any]]:
    return [f for f in fields(cls) if "setting" in f.metadata]


# --- Kinds ---


@dataclass(frozen=True, slots=True)
class Text(Kind):
    """A string; with ``pattern``, one that matches it whole (``expected`` says which); ``blank`` stands for ""."""

    pattern: str = ""
    expected: str = "a string"
    blank: Any = ""

    def read(self, value: Any, known: Known, table: Table) -> Any:
        if not isinstance(value, str):
            raise Invalid("a string")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid(self.expected)
        return value or self.blank


@dataclass(frozen=True, slots=True)
class Texts(Kind):
    """A list of non-empty strings (``nonempty``: at least one), kept as a tuple."""

    nonempty: bool = False

    def read(self, value: Any, known: Known, table: Table) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise Invalid("a list of strings")
        if self.nonempty and not value:
            raise Invalid("at least one entry")
        return tuple(value)


@dataclass(frozen=True, slots=True)
class Whole(Kind):
    """A whole number from ``low`` to ``high`` (``true`` is not 1)."""

    low: int
    high: int

    def read(self, value: Any, known: Known, table: Table) -> int:
        if type(value) is not int or not self.low <= value <= self.high:
            raise Invalid(f"a whole number from {self.low} to {self.high}")
        return value


@dataclass(frozen=True, slots=True)
class Flag(Kind):
    """true or false."""

    def read(self, value: Any, known: Known, table: Table) -> bool:
        if not isinstance(value, bool):
            raise Invalid("true or false")
        return value


@dataclass(frozen=True, slots=True)
class OneOf(Kind):
    """One of ``choices``, of the same type (``"90"`` is not 90); a function of no arguments gives choices that
    live in a module imported only when the key is read."""

    choices: Sequence[Any] | Callable[[], Sequence[Any]]

    def read(self, value: Any, known: Known, table: Table) -> Any:
        choices = list(self.choices() if callable(self.choices) else self.choices)
        if value not in choices or type(value) is not type(choices[0]):
            raise Invalid("one of " + ", ".join(map(str, choices)))
        return value


@dataclass(frozen=True, slots=True)
class FilePath(Kind):
    """A file or folder; a relative path is relative to the config file."""

    def read(self, value: Any, known: Known, table: Table) -> Path:
        path = Path(Text().read(value, known, table))
        return path if path.is_absolute() else table.path.parent / path


@dataclass(frozen=True, slots=True)
class Money(Kind):
    """An amount written as a decimal string in the terminal's currency (``known["currency"]``)."""

    above_zero: bool = False

    def read(self, value: Any, known: Known, table: Table) -> Amount:
        currency = known["currency"]
        text = Text().read(value, known, table)
        try:
            amount = Amount.parse(text, currency)
        except MoneyError as exc:
            raise Invalid(f"an amount in {currency} ({exc})") from None
        if self.above_zero and amount.minor == 0:
            raise Invalid("an amount above zero")
        return amount


@dataclass(frozen=True, slots=True)
class HexId(Kind):
    """A USB vendor or product id written "0x04b8" (as lsusb shows it)."""

    def read(self, value: Any, known: Known, table: Table) -> int:
        try:
            number = int(value, 16) if isinstance(value, str) else -1
        except ValueError:
            number = -1
        if not 0 <= number <= 0xFFFF:
            raise Invalid('a USB id in hex as lsusb shows it, e.g. "0x04b8"')
        return number


@dataclass(frozen=True, slots=True)
class Pin(Kind):
    """A BCM GPIO number (2–27), or None when the key is left out (the part is not fitted)."""

    def read(self, value: Any, known: Known, table: Table) -> int | None:
        if value is None:
            return None
        if type(value) is not int or not 2 <= value <= 27:
            raise Invalid("a BCM GPIO number from 2 to 27 (leave the key out if not fitted)")
        return value


@dataclass(frozen=True, slots=True)
class Pins(Kind):
    """A list of BCM GPIO numbers, as many as one of ``counts``; None when the key is left out."""

    counts: tuple[int, ...]

    def read(self, value: Any, known: Known, table: Table) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = len(value) if isinstance(value, list) and len(value) in self.counts else self.counts[-1]
        if (
            not isinstance(value, list)
            or len(value) != count
            or not all(type(v) is int and 2 <= v <= 27 for v in value)
        ):
            raise Invalid(f"a list of {count} BCM GPIO numbers from 2 to 27")
        return tuple(value)


@dataclass(frozen=True, slots=True)
class Group(Kind):
    """Keys of the same [table] kept together in ``cls`` (a dataclass of settings), handed on as a dict."""

    cls: type

    def read(self, value: Any, known: Known, table: Table) -> dict[str, Any]:
        group: Any = table.read(self.cls, **known)
        return {f.name: getattr(group, f.name) for f in _fields(self.cls)}


# --- Reading ---


class Table:
    """One [section] of the file, read into a section dataclass with :meth:`read`."""

    def __init__(self, path: Path, name: str, data: dict[str, Any] | None, gpios: dict[str, int]) -> None:
        #: Whether the file has this [section] at all (for an optional part: whether it is fitted).
        self.present = data is not None
        self.path, self.name, self.data = path, name, data or {}
        self._gpios = gpios  # every GPIO read so far, by key (shared by the whole file: see Document)

    def error(self, key: str, value: Any, expected: str) -> ConfigError:
        """The error for ``key`` of this section (``value``: MISSING when it was left out)."""
        return ConfigError(self.path, f"{self.name}.{key}", value, expected)

    def require(self, key: str) -> None:
        """Refuse a missing ``key`` that this section needs (given its other keys)."""
        if key not in self.data:
            raise self.error(key, MISSING, f"a value (see {EXAMPLE})")

    def refuse(self, key: str, why: str) -> None:
        """Refuse ``key`` when present: the other keys make it meaningless (``why`` says so)."""
        if key in self.data:
            raise self.error(key, self.data[key], f"no value: {why}")

    def read(self, cls: type[T], **context: Any) -> T:
        """``cls`` from this section: each setting read with its kind, in order (``context``: what the
        defaults and kinds may use besides the keys read before)."""
        known = dict(context)
        values: dict[str, Any] = {}
        for f in _fields(cls):
            found: Setting = f.metadata["setting"]
            if isinstance(found.kind, Group):
                value: Any = None
            else:
                value = self.data.get(f.name, found.default)
                if f.name not in self.data and callable(value):
                    value = value(known)
                if value is MISSING:
                    raise self.error(f.name, MISSING, f"a value (see {EXAMPLE})")
            try:
                values[f.name] = known[f.name] = found.kind.read(value, known, self)
            except Invalid as exc:
                key = f"{f.name}.{exc.key}" if exc.key else f.name
                raise self.error(key, value if exc.value is MISSING else exc.value, exc.expected) from None
            self._note_gpios(f.name, found.kind, values[f.name])
        return cls(**values)

    def _note_gpios(self, key: str, kind: Kind, value: Any) -> None:
        if isinstance(kind, Pin) and value is not None:
            self._gpios[f"{self.name}.{key}"] = value
        elif isinstance(kind, Pins) and value is not None:
            for i, pin in enumerate(value):
                self._gpios[f"{self.name}.{key}[{i}]"] = pin


class Document:
    """A config file: its [sections] checked against ``schema`` (section name → its dataclass) when opened."""

    def __init__(self, path: Path, data: dict[str, Any], schema: Mapping[str, type]) -> None:
        self.path, self.data, self.schema = path, data, schema
        self._gpios: dict[str, int] = {}
        self._reject_unknown()  # first: a misspelt [section] or key is named, not reported as the key it hides

    @classmethod
    def open(cls, path: Path, schema: Mapping[str, type]) -> Document:
        """The file at ``path``, read and checked for unknown sections and keys."""
        return cls(path, read_toml(path), schema)

    def __getitem__(self, name: str) -> Table:
        return Table(self.path, name, self.data.get(name), self._gpios)

    def distinct_pins(self) -> None:
        """Refuse a GPIO given to two parts (in the order the keys were read)."""
        seen: dict[int, str] = {}
        for key, value in self._gpios.items():
            if value in seen:
                raise ConfigError(self.path, key, value, f"a GPIO not already used by {seen[value]}")
            seen[value] = key

    def _reject_unknown(self) -> None:
        for section, table in self.data.items():
            if section not in self.schema:
                known = ", ".join(f"[{s}]" for s in self.schema)
                close = difflib.get_close_matches(section, self.schema, n=1)
                hint = f" (did you mean [{close[0]}]?)" if close else ""
                raise ConfigError(
                    self.path,
                    section,
                    "[table]",
                    f"one of {known}",
                    sentence=f"unknown section [{section}]{hint}; the sections are {known}",
                )
            if not isinstance(table, dict):
                raise ConfigError(self.path, section, table, "a [table]")
            keys = dict(settings(self.schema[section]))
            for key in table:
                if key not in keys:
                    names = ", ".join(sorted(keys))
                    raise ConfigError(self.path, f"{section}.{key}", table[key], f"a known key ({names})")


def read_toml(path: Path, what: str = f"a TOML config file (see {EXAMPLE})") -> dict[str, Any]:
    """The TOML file at ``path``; a missing, unreadable or malformed file is a ConfigError saying which."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "(file)", MISSING, what, sentence=f"no such file: expected {what}") from None
    except OSError as exc:
        raise ConfigError(
            path, "(file)", MISSING, "a readable file", sentence=f"cannot read it ({exc.strerror or exc})"
        ) from None
    except tomllib.TOMLDecodeError as exc:  # its message says where: "… (at line 3, column 7)"
        raise ConfigError(path, "(file)", MISSING, "valid TOML", sentence=f"not valid TOML: {exc}") from None
