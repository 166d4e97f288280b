"""Why a backend call did not work, in words a shopkeeper can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from terminal.core.i18n import N_, Text


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
    ProblemKind.UNREACHABLE: N_("No connection to the payment server. Check the network cable or Wi-Fi."),
    ProblemKind.TIMEOUT: N_("The payment server did not answer in time. Try again."),
    ProblemKind.UNAUTHORISED: N_("The terminal is not authorised by the payment server. Check its device token."),
    ProblemKind.REJECTED: N_("The payment server refused the sale."),
    ProblemKind.CONFLICT: N_("The payment server already has a different sale with this number."),
    ProblemKind.SERVER: N_("The payment server has a problem. Try again in a minute."),
    ProblemKind.BAD_REPLY: N_(
        "The payment server sent a reply the terminal cannot read. Try again; if it keeps happening, call support."
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A failed backend call: its kind and the technical detail (for the journal and support)."""

    kind: ProblemKind
    detail: str = ""
    retry_after: float | None = None

    @property
    def advice(self) -> Text:
        """One sentence for the shopkeeper."""
        return Text(_ADVICE[self.kind])
