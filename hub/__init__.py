"""qr-hub: the shop\x27s own server."""
