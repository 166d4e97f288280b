"""The USB numeric keypad (or any keyboard): pygame key events → keypad keys.

NumLock off makes a numpad send navigation keys; those are mapped too, so the keypad works either way.
"""

from __future__ import annotations

import pygame

from terminal.core.keys import Key

#: pygame key code → keypad key. Documented in README ("Keys").
KEYMAP: dict[int, Key] = {
    **{getattr(pygame, f"K_{d}"): Key(str(d)) for d in range(10)},
    **{getattr(pygame, f"K_KP{d}"): Key(str(d)) for d in range(10)},
    pygame.K_PERIOD: Key.POINT,
    pygame.K_COMMA: Key.POINT,
    pygame.K_KP_PERIOD: Key.POINT,
    pygame.K_RETURN: Key.ENTER,
    pygame.K_KP_ENTER: Key.ENTER,
    pygame.K_BACKSPACE: Key.BACKSPACE,
    pygame.K_ESCAPE: Key.CANCEL,
    pygame.K_KP_MINUS: Key.CANCEL,
    pygame.K_DELETE: Key.CLEAR,
    pygame.K_KP_DIVIDE: Key.CLEAR,
    pygame.K_c: Key.CLEAR,
    pygame.K_KP_PLUS: Key.DOUBLE_ZERO,
    pygame.K_KP_MULTIPLY: Key.MENU,
    pygame.K_m: Key.MENU,
    pygame.K_r: Key.REPRINT,
    pygame.K_f: Key.FEED,
    pygame.K_v: Key.REPEAT,
    # NumLock off
    pygame.K_INSERT: Key.D0,
    pygame.K_END: Key.D1,
    pygame.K_DOWN: Key.D2,
    pygame.K_PAGEDOWN: Key.D3,
    pygame.K_LEFT: Key.D4,
    pygame.K_RIGHT: Key.D6,
    pygame.K_HOME: Key.D7,
    pygame.K_UP: Key.D8,
    pygame.K_PAGEUP: Key.D9,
}

#: The pygame key code that types each character (used to type an amount through the real key path).
CHAR_KEYS: dict[str, int] = {**{str(d): getattr(pygame, f"K_KP{d}") for d in range(10)}, ".": pygame.K_KP_PERIOD}


def key_for(event: pygame.event.Event) -> Key | None:
    """The keypad key of a KEYDOWN event, or None for keys the terminal does not use."""
    if event.type != pygame.KEYDOWN:
        return None
    return KEYMAP.get(event.key)
