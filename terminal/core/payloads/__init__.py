"""Payment-QR payloads: parse what a backend sends, build what the terminal must make itself."""
