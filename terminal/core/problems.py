"""Why a backend call did not work, in words a shopkeeper can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    """The few kinds of backend trouble the terminal tells apart."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    UNAUTHORISED = "unauthorised"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    SERVER = "server"
    BAD_REPLY = "bad_reply"


_ADVICE = {
    ProblemKind.UNREACHABLE: "No connection to the payment server. Check the network cable or Wi-Fi.",
    ProblemKind.TIMEOUT: "The payment server did not answer in time. Try again.",
    ProblemKind.UNAUTHORISED: "The terminal is not authorised by the payment server. Check its device token.",
    ProblemKind.REJECTED: "The payment server refused the sale.",
    ProblemKind.CONFLICT: "The payment server already has a different sale with this number.",
    ProblemKind.SERVER: "The payment server has a problem. Try again in a minute.",
    ProblemKind.BAD_REPLY: "The payment server sent a reply the terminal cannot read. Try again; "
    "if it keeps happening, call support.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A failed backend call: its kind and the technical detail (for the journal and support)."""

    kind: ProblemKind
    detail: str = ""
    retry_after: float | None = None

    @property
    def advice(self) -> str:
        """One sentence for the shopkeeper."""
        return _ADVICE[self.kind]
