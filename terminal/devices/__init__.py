"""Devices: one module each (display, QR surface, keypad, …), each drivable by the library's own double."""
