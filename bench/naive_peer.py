"""The naive peer: what a weekend QR terminal looks like. Redraws every frame at clock.tick(30), builds the QR
with qrcode+PIL and smoothscales it, calls the backend from inside the loop, and polls every 3 s."""

from __future__ import annotations

import time
from collections.abc import Callable

import pygame
import qrcode
import requests


class NaiveTerminal:
    """A single-loop terminal with no worker threads and no change detection."""

    def __init__(self, backend_url: str, token: str, on_frame: Callable[[str], None], currency: str = "INR") -> None:
        pygame.display.init()
        pygame.font.init()
        self.screen = pygame.display.set_mode((800, 480))
        self.font = pygame.font.Font(None, 64)
        self.url, self.headers = backend_url, {"Authorization": f"Bearer {token}"}
        self.on_frame = on_frame
        self.typed = ""
        self.state = "idle"
        self.order: dict | None = None
        self.qr: pygame.Surface | None = None
        self.last_poll = 0.0
        self.seq = 0
        self.running = True
        self.currency = currency

    def run(self) -> None:
        clock = pygame.time.Clock()
        while self.running:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    self.running = False
                elif event.type == pygame.KEYDOWN:
                    self.key(event)
            if self.state == "qr" and time.monotonic() - self.last_poll > 3:
                self.last_poll = time.monotonic()
                got = requests.get(f"{self.url}/v1/orders/{self.order['id']}", headers=self.headers, timeout=10)
                if got.json()["status"] == "paid":
                    self.state = "paid"
            self.draw()
            clock.tick(30)

    def key(self, event: pygame.event.Event) -> None:
        if event.key == pygame.K_ESCAPE:
            self.state, self.typed = "idle", ""
        elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER) and self.typed:
            self.seq += 1
            body = {
                "reference": f"N1-{self.seq:06d}",
                "expires_in": 300,
                "amount": {"value": int(self.typed.replace(".", "")), "currency": self.currency},
            }
            reply = requests.post(
                f"{self.url}/v1/orders",
                json=body,
                timeout=10,
                headers={**self.headers, "Idempotency-Key": f"naive-{time.time_ns()}"},
            )
            self.order = reply.json()
            image = qrcode.make(self.order["qr"]["payload"]).convert("RGB")
            surface = pygame.image.frombytes(image.tobytes(), image.size, "RGB")
            self.qr = pygame.transform.smoothscale(surface, (400, 400))
            self.state, self.typed = "qr", ""
        elif event.unicode and (event.unicode.isdigit() or event.unicode == "."):
            self.state = "entry"
            self.typed += event.unicode

    def draw(self) -> None:
        self.screen.fill((0, 140, 0) if self.state == "paid" else (255, 255, 255))
        if self.state == "qr" and self.qr is not None:
            self.screen.blit(self.qr, (20, 40))
            self.screen.blit(self.font.render("Scan to pay", True, (0, 0, 0)), (440, 100))
        elif self.state == "paid":
            self.screen.blit(self.font.render("PAID", True, (255, 255, 255)), (320, 200))
        else:
            self.screen.blit(self.font.render(self.typed or "Enter amount", True, (0, 0, 0)), (200, 200))
        pygame.display.flip()
        self.on_frame(self.state)
