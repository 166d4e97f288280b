"""The event loop (its parts are built from the config in terminal.wiring): turns pygame events and
worker results into core events, executes the core's effects, and redraws only when the screen changed.

One thread (this one) owns pygame, the screen and the journal. Workers only post events.

One event is one step, and one step is one journal transaction: its writes commit together or not at all, and
a step the journal refused is undone whole (state, backend calls, till lines, print jobs). A payment the journal
refused is kept and tried again until it is written ("Payment received — saving…"); nothing else moves meanwhile.
Stopping (SIGTERM, the end of ``demo --sales N``) takes no new sale and hands over what is pending first.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import pygame

from terminal import __version__
from terminal.backends.base import Backend
from terminal.backends.heartbeat import Heartbeat
from terminal.backends.http import HttpBackend
from terminal.backends.reachability import Reachability
from terminal.backends.worker import OrderWorker
from terminal.core.clock import Now
from terminal.core.effects import (
    Announce,
    CancelOrder,
    CheckPin,
    CreateOrder,
    Effect,
    FeedPaper,
    FindSaleForTill,
    JournalRefund,
    JournalSale,
    JournalSecurity,
    LoadRecent,
    MakeReport,
    PrintReceipt,
    PrintRefundSlip,
    PrintReport,
    Reconcile,
    RequestRefund,
    SavePinLock,
    SaveVoice,
    TillReply,
    TillReportLines,
    WatchOrder,
)
from terminal.core.events import (
    Event,
    KeyPressed,
    OrderUpdated,
    PinChecked,
    RecentLoaded,
    ReportReady,
    Resumed,
    SaleRecord,
    Tick,
    TillCommanded,
    TillRefundFound,
)
from terminal.core.i18n import Text
from terminal.core.keys import Key
from terminal.core.machine import Phase, Settings, TerminalState, initial, step
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, QrCode
from terminal.core.receipt import Receipt, ShopDetails, receipt_for, refund_slip_for, report_slip_for
from terminal.core.refund import Refund
from terminal.core.report import as_lines
from terminal.core.sale import Sale, SaleStatus
from terminal.core.screen import Icon, ScreenModel, Tone, screen_for
from terminal.core.signals import CLICK, pattern_for
from terminal.core.till import TillSale, TillStatus, event_for, refund_event, report_reply, undone
from terminal.devices.display import Display
from terminal.devices.indicators import Indicators
from terminal.devices.keypad import key_for
from terminal.devices.printer import (
    PrintJobDone,
    PrintJobFailed,
    PrintQueue,
)
from terminal.devices.till_link import TillLink
from terminal.devices.voice import Voice
from terminal.report_worker import ReportMade, ReportWorker
from terminal.reports import build_report, close_period
from terminal.service import ServiceNotifier
from terminal.store.journal import Journal, JournalError
from terminal.threads import BackgroundThread

log = logging.getLogger(__name__)

CORE_EVENT = pygame.event.custom_type()
_APPS = itertools.count(1)
#: After a key press the loop polls input fast, so typing and Enter → QR feel instant: a USB keypad's keys reach
#: SDL's queue only when the loop pumps it (a GPIO keypad's wake the loop at once). 2 kHz costs about 5 % of a
#: core for the few seconds after a key, and takes 0.25 ms on average off every key.
ACTIVE_HZ = 2000
ACTIVE_SECONDS = 3.0
#: How long a stop may spend handing over what is pending (the unit's TimeoutStopSec is 10 s).
STOP_WITHIN = 8.0
#: Seconds between tries at journaling a payment the journal refused.
SAVE_RETRY = 0.5
#: What the screen says while a payment is not written yet (Text: English in logs, the shop's language on screen).
STORAGE_FULL = Text("Storage full: call support")
JOURNAL_BROKEN = Text("Cannot write the journal: call support")
SAVING = Text("Payment received — saving…")
#: The "Preparing QR…" frame is drawn only when the order takes longer than this: a frame that the QR replaces
#: a few milliseconds later is never seen (a panel refreshes every 16 ms), and drawing it holds the interpreter
#: the create's thread needs to send the order (0.7 ms of every key→QR).
CREATING_FRAME_AFTER = 0.1
#: What the QR drawn at start (where nobody sees it) carries.
WARM_UP_QR = "https://example.invalid/warm-up?am=1234.56&tr=T0-000000"


def read_clock() -> Now:
    """The shell's one clock reading, handed to the core."""
    return Now(wall=datetime.now(UTC), mono=time.monotonic())


@dataclass(frozen=True, slots=True)
class JournalDamaged:
    """The journal's check (after the ready screen) found it damaged: ``problem`` says how."""

    problem: str


@dataclass
class Observer:
    """Hooks for the demo's automation form, tests and bench: every journaled change and every frame."""

    transition: Callable[[JournalSale, Now], None] | None = None
    frame: Callable[[ScreenModel, Display], None] | None = None


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where a step began: what undoing it goes back to."""

    state: TerminalState
    calls: int
    lines: int
    journaled: int


#: How a part that talks back to the loop (the till's link, the print queue) is given the App's ``post``.
Post = Callable[[Event | PrintJobDone | PrintJobFailed | ReportMade | JournalDamaged], None]


class App:
    """The running terminal: one loop, one state, effects executed in order. It is built with its parts
    (terminal.wiring builds it from the config); the till's link and the print queue, which post back to the
    loop, are given as openers called with the App's ``post``."""

    def __init__(
        self,
        *,
        settings: Settings,
        backend: Backend,
        journal: Journal,
        display: Display,
        long_poll: float = 25.0,
        poll_interval: float = 2.0,
        fps: int = 20,
        observer: Observer | None = None,
        clock: Callable[[], Now] = read_clock,
        indicators: Indicators | None = None,
        shop: ShopDetails | None = None,
        service: ServiceNotifier | None = None,
        probe_every: tuple[float, float] = (30.0, 3.0),
        pin_checker: Callable[[str], bool | None] | None = None,
        voice: Voice | None = None,
        till: Callable[[Callable[[Event], None]], TillLink] | None = None,
        printer: Callable[[Post], PrintQueue] | None = None,
    ) -> None:
        self.journal = journal
        self.display = display
        self.indicators = indicators
        self.print_queue: PrintQueue | None = None
        self.service = service or ServiceNotifier({})
        self.shop = shop or ShopDetails(settings.merchant_name, terminal_id=settings.terminal_id)
        self._paper_reports: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.observer = observer or Observer()
        self.fps = fps
        self.clock = clock
        self.sandbox = backend.sandbox
        self.voice = voice
        #: The till's line, when one is wired (terminal.devices.till_link): opened last, with :meth:`post`.
        self.till: TillLink | None = None
        self._till_lines: list[str] = []
        volume = voice.volume if voice is not None else 80
        self.state: TerminalState = initial(
            settings,
            next_seq=journal.next_seq(),
            pin_lock=journal.pin_lock(),
            voice=journal.voice_setting((True, volume)),
        )
        if voice is not None:
            voice.volume = self.state.volume
        #: Checks a typed manager PIN: True, False, or None when no PIN is set (see terminal.manager_pin).
        self.pin_checker = pin_checker or (lambda pin: None)
        self._token = next(_APPS)
        online, offline = probe_every
        self.reachability = Reachability(backend, self.post, online_interval=online, offline_interval=offline)
        self.worker = OrderWorker(
            backend,
            self.post,
            long_poll=long_poll,
            poll_interval=poll_interval,
            observe=self.reachability.observe,
        )
        #: Behind a hub: the facts its dashboard shows, every minute (started with the loop).
        self.heartbeat = Heartbeat(backend, self.facts) if isinstance(backend, HttpBackend) and backend.hub else None
        self._started = time.monotonic()
        #: What the journal's check found wrong ("" while nothing): the terminal then takes no more sales.
        self.damaged = ""
        self._checking: BackgroundThread | None = None
        #: X and Z reports are made on a thread of their own (see terminal.report_worker).
        self.reports = ReportWorker(journal, self.post, settings.terminal_id)
        self._wake = threading.Event()
        self._running = False
        self._last_key = -1e9
        #: The journal's changes when the report worker was last asked to checkpoint its WAL.
        self._checkpointed = 0
        self._calls: list[Callable[[], None]] = []
        #: A create is among this pass's calls: hand them over before drawing (see :meth:`pump`).
        self._creating = False
        #: Answers to the core's questions to the journal (LoadRecent, MakeReport), handled after the step.
        self._answers: list[Event] = []
        self._modelled: TerminalState | None = None
        self._remodel_at = 0.0
        self._last_tick = -1e9
        self._depth = 0
        #: Where this step's TillReply goes: before the lines the step caused, after those of earlier steps.
        self._reply_at = 0
        #: Sale changes of this step, told to the log, systemd and the observer once the step committed.
        self._journaled: list[tuple[JournalSale, Now]] = []
        #: Order updates (a payment above all) whose step the journal refused: tried again until written.
        self._unsaved: list[OrderUpdated] = []
        self._unsaved_full = False
        self._retry_at = 0.0
        #: Print jobs handed to the printer whose outcome is not journaled yet.
        self._printing: set[int] = set()
        self.stop_within = STOP_WITHIN
        self._stopping = False
        self._hurry = False
        # Last: these post to the loop (post() needs the token and the wake-up above).
        if printer is not None:
            self.attach_printer(printer(self.post))
        if till is not None:
            self.till = till(self.post)

    def resume(self) -> None:
        """Pick up the sales the journal says were interrupted (the core decides how)."""
        unfinished, unconfirmed = self.journal.unfinished_sales(), self.journal.unconfirmed_sales()
        refunds = self.journal.open_refunds()
        if unfinished or refunds:
            log.warning(
                "resuming %d unfinished sale(s) and %d refund(s) after a restart", len(unfinished), len(refunds)
            )
        if unfinished or unconfirmed or refunds:
            self.handle(Resumed(unfinished, unconfirmed, refunds))

    def warm_up(self) -> None:
        """Once the ready screen is up: connect the create threads to the backend, journal the start (the
        journal's first write waits for its log's header to reach the disk: not in the first sale's step), and
        draw the QR screen of :meth:`warm_up_screen` where nobody sees it (its fonts, the QR encoder)."""
        self.worker.prepare()
        now = self.clock()
        try:
            self.journal.record_start(f"qr-terminal {__version__}", now.wall)
        except JournalError as exc:  # the first sale's step says so on the screen
            log.error("could not journal the start: %s", exc)
        self.display.warm_up(self.warm_up_screen(now))

    def warm_up_screen(self, now: Now) -> ScreenModel:
        """The core's own screen for a sale awaiting payment, with the shop's payee: it has every line a sale's QR
        screen has (a line more or less lays the words out in other sizes, whose fonts the first sale would load)."""
        settings = self.state.settings
        reference, amount = f"{settings.terminal_id}-000000", Amount(123456, settings.currency)
        payee = Payee(settings.payee.name, next(iter(settings.payee.ids), ""))
        qr = QrCode("url", WARM_UP_QR)
        order = Order("warm-up", OrderStatus.PENDING, reference, amount, qr, payee, now.wall, sandbox=self.sandbox)
        deadline = now.mono + settings.sale_ttl
        sale = Sale("warm-up", 0, reference, amount, SaleStatus.AWAITING_PAYMENT, now.wall, deadline, order)
        unseen = replace(self.state, phase=Phase.SALE, sale=sale, notice="")
        return screen_for(unseen, now, sandbox=self.sandbox, words=self.shop.words)

    def check_journal(self) -> None:
        """Check the journal (``PRAGMA quick_check``) on a thread of its own, after the ready screen: at 100,000
        sales it reads every page. A damaged journal is told as :class:`JournalDamaged`."""

        def check() -> None:
            if problem := self.journal.damage():
                self.post(JournalDamaged(problem))

        self._checking = BackgroundThread(check, name="journal-check")
        self._checking.start()

    def post(self, event: Event | PrintJobDone | PrintJobFailed | ReportMade | JournalDamaged) -> None:
        """Queue a core event from any thread and wake the loop (pygame's queue is thread-safe)."""
        try:
            if not pygame.event.post(pygame.event.Event(CORE_EVENT, event=event, owner=self._token)):
                log.error("event queue refused %r", event)
        except pygame.error:  # the loop and its display are gone (shutting down): nobody to tell
            log.debug("dropped %r after shutdown", event)
            return
        self._wake.set()

    def stop(self) -> None:
        """End the loop (from any thread, or a signal handler): no new sales, and what is pending is handed over
        first (see :meth:`hand_over`). Asked a second time, it ends without waiting."""
        self._hurry = self._stopping
        self._stopping = True
        self._wake.set()

    def facts(self) -> dict[str, Any]:
        """What a heartbeat tells the hub, from the loop's latest state (immutable: safe to read from a thread)."""
        state = self.state
        try:
            journal_bytes = self.journal.path.stat().st_size
        except OSError:
            journal_bytes = 0
        return {
            "version": __version__,
            "uptime": int(time.monotonic() - self._started),
            "queue": len(state.unconfirmed),
            "printer": (state.printer_problem or "ok") if self.print_queue is not None else "none",
            "till": (state.till_problem or "ok") if self.till is not None else "none",
            "journal_bytes": journal_bytes,
        }

    def run(self, until: Callable[[App], bool] | None = None) -> None:
        """Run until QUIT, :meth:`stop`, or ``until(app)`` is true; then hand over what is pending and stop."""
        self._running = True
        self.resume()
        self.render()
        self.service.ready(f"ready: terminal {self.state.settings.terminal_id}, journal {self.journal.path}")
        self.check_journal()
        self.warm_up()
        # The start's own writes are checkpointed at the first pause after a sale, not at the first tick: that
        # would open the report worker's connection and write the journal's file beside the first sale.
        self._checkpointed = self.journal.changes
        if self.heartbeat is not None:
            self.heartbeat.start()
        while self._running and not self._stopping:
            self.pump()
            if until is not None and until(self):
                break
            busy = time.monotonic() - self._last_key < ACTIVE_SECONDS
            self._wake.wait(1 / ACTIVE_HZ if busy else 1 / self.fps)
            self._wake.clear()
        self.hand_over()

    def hand_over(self) -> None:
        """Before the loop ends (SIGTERM, the end of ``demo --sales N``): take no new sale; deliver the till's
        pending answers and events, journal any payment still unsaved and the outcome of print jobs in the
        printer's hands — for at most ``stop_within`` seconds. Then stop every thread."""
        self._stopping = True
        self.service.stopping()
        deadline = time.monotonic() + self.stop_within
        while not self._hurry and (left := self._pending_work()):
            if time.monotonic() >= deadline:
                log.warning("stopped with %s not handed over (the journal keeps what it can)", ", ".join(left))
                break
            self.pump()
            self._wake.wait(0.02)
            self._wake.clear()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        self.reachability.stop()
        self.worker.stop()
        self.reports.stop()
        if self._checking is not None:
            self._checking.stop(1.0)
        if self.print_queue is not None:
            self.print_queue.stop()
        if self.voice is not None:
            self.voice.stop()
        if self.till is not None:
            self.till.stop()
        self.display.stop()

    def _pending_work(self) -> list[str]:
        left = []
        if self._unsaved:
            left.append("a payment not journaled")
        if self._till_lines or (self.till is not None and self.till.delivering):
            left.append("the till's answers")
        if self._printing:
            left.append(f"{len(self._printing)} print job(s)")
        return left

    def pump(self) -> None:
        """One pass of the loop: events → core → effects, the once-a-second tick, redraw if changed."""
        self._save_payments()
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self._running = False
            elif event.type == CORE_EVENT:
                if getattr(event, "owner", None) != self._token:
                    continue  # posted for another App (tests run many in one process)
                if isinstance(event.event, KeyPressed):  # from the GPIO keypad or buttons
                    self.press(event.event.key)
                elif isinstance(event.event, PrintJobDone | PrintJobFailed):
                    self._print_job(event.event)
                elif isinstance(event.event, TillCommanded) and (why := self._refusal(event.event)):
                    self._till_lines.append(f"ERR 503 {why}")
                elif isinstance(event.event, OrderUpdated) and self._unsaved:
                    self._unsaved.append(event.event)  # behind the kept one: updates are written in order
                elif isinstance(event.event, ReportMade):
                    self._report_made(event.event)
                elif isinstance(event.event, JournalDamaged):
                    log.error("%s: no more sales until it is restored", event.event.problem)
                    self.damaged, self._modelled = event.event.problem, None
                else:
                    self.handle(event.event)
            elif (key := key_for(event)) is not None:
                self.press(key)
        now = self.clock()
        if now.mono - self._last_tick >= 1.0 and not self._unsaved:  # time stands still while a payment waits
            self._last_tick = now.mono
            self.handle(Tick(), now)
            self.journal.restore_reserve()
            self._checkpoint_between_sales()
        if self._creating:
            # The create's round trip waits on the network, not the interpreter: it overlaps the "Preparing QR…"
            # frame instead of following it (the sale was journaled before either).
            self.dispatch()
        self.render(now)
        self.dispatch()
        self.service.ping(now.mono)  # from the loop itself: a hung loop stops pinging and gets restarted

    def _checkpoint_between_sales(self) -> None:
        """Once the journal was written and the shop pauses (no sale under way — none, or its result on screen —
        and no key for :data:`ACTIVE_SECONDS`), have the report worker copy the WAL into the journal's file
        (:meth:`Journal.checkpoint`). Not while the next amount is typed: the checkpoint's writes and fsync would
        run beside the commits that open its sale (measured: they made those commits' p95 2–3× slower)."""
        sale = self.state.sale
        if (
            self.journal.changes != self._checkpointed
            and (sale is None or sale.status.is_final)
            and time.monotonic() - self._last_key >= ACTIVE_SECONDS
        ):
            self._checkpointed = self.journal.changes
            self.reports.checkpoint()

    def _refusal(self, command: TillCommanded) -> str:
        """Why a till command is not taken now ("" when it is)."""
        if self._unsaved and not isinstance(command.command, TillStatus):
            return "busy: saving a payment"
        if self.damaged and isinstance(command.command, TillSale):
            return "the journal is damaged: call support"
        if self._stopping and isinstance(command.command, TillSale):
            return "the terminal is stopping: send the sale again in a moment"
        return ""

    def _print_job(self, outcome: PrintJobDone | PrintJobFailed) -> None:
        try:
            if isinstance(outcome, PrintJobDone):
                self.journal.print_job_done(outcome.job_id, self.clock().wall)
            else:
                self.journal.print_job_failed(outcome.job_id, outcome.error)
        except JournalError as exc:
            log.error("could not journal print job %s: %s", outcome.job_id, exc)
        self._printing.discard(outcome.job_id)  # done, or still pending in the journal for the next try

    def _report_made(self, made: ReportMade) -> None:
        """The report worker's answer: to the screen (the core), its paper words kept for printing, and the day
        handed to the backend's reconciliation."""
        if made.paper:
            self._paper_reports = {made.lines: made.paper}
        self.handle(ReportReady(made.kind, made.lines))
        if made.ours is not None:
            self.worker.reconcile_report(made.kind, made.ours)

    def _on_paper(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        """A report's lines in the printer's words (the reconciliation's lines, added below them, as they are)."""
        for screen, paper in self._paper_reports.items():
            if lines[: len(screen)] == screen:
                return paper + lines[len(screen) :]
        return lines

    def press(self, key: Key) -> None:
        """A key from any keypad: a click when it did something, and fast input polling for a while. Keys do
        nothing while a payment is being saved or the terminal is stopping."""
        if self._unsaved or self._stopping or self.damaged:  # a damaged journal: its screen says so
            return
        self._last_key = time.monotonic()
        before = self.state
        self.handle(KeyPressed(key))
        if self.state is not before and self.indicators is not None:
            self.indicators.play(CLICK)

    def handle(self, event: Event, now: Now | None = None) -> None:
        """Step the core and execute its effects, as one journal transaction. A journal failure undoes the
        whole step (state, backend calls, till lines, print jobs); an order update it undid is kept and tried
        again until the journal takes it. A bug also undoes the step, and is logged and journaled while the
        counter keeps working."""
        self._handle(event, now or self.clock())

    def _handle(self, event: Event, now: Now) -> JournalError | None:
        self._depth += 1
        try:
            failure = self._step(event, now)
            if failure is not None and failure.freed:  # the disk reserve just made room: the same step again
                failure = self._step(event, now)
        finally:
            self._depth -= 1
        if failure is not None:
            self._not_journaled(event, failure)
        if self._depth == 0:
            self._tell_journaled()
        return failure

    def _step(self, event: Event, now: Now) -> JournalError | None:
        mark = _Mark(self.state, len(self._calls), len(self._till_lines), len(self._journaled))
        try:
            state, effects = step(self.state, event, now)  # pure: how the commit must wait depends on its effects
            with self.journal.step(wait_for_disk=must_wait_for_disk(effects)):  # a nested step: its outer one's
                self.state = state
                self._reply_at = mark.lines
                for effect in effects:
                    self.execute(effect, now)
                answers, self._answers = self._answers, []
                for answer in answers:
                    self.handle(answer, now)
                if self._depth == 1 and len(self._journaled) > mark.journaled:
                    self._paint_ahead(now)
        except JournalError as exc:
            self._undo(mark)
            return exc
        except Exception as exc:  # the loop's last line of defence: never a traceback on the counter
            log.exception("internal error while handling %r; step undone", event)
            self._undo(mark, "Internal error (logged): that last step was not taken")
            self._refuse_till(event, "internal error (logged)")
            try:
                self.journal.record_error(f"{type(event).__name__}: {exc!r}", now.wall)
            except JournalError as journal_exc:
                log.error("could not journal the internal error either: %s", journal_exc)
        return None

    def _undo(self, mark: _Mark, notice: str | None = None) -> None:
        """Back to where the step began; what earlier steps queued (till lines, calls) stays."""
        self.state = mark.state if notice is None else replace(mark.state, notice=notice)
        del self._calls[mark.calls :]
        del self._till_lines[mark.lines :]
        del self._journaled[mark.journaled :]
        self._answers.clear()

    def _not_journaled(self, event: Event, failure: JournalError) -> None:
        if isinstance(event, OrderUpdated):
            # The watcher has moved on: this update (a payment, above all) exists nowhere else. Keep it.
            if event not in self._unsaved:
                log.error(
                    "journal write failed; kept %s of %s to write again: %s",
                    event.update.status,
                    event.sale_id,
                    failure,
                )
                self._unsaved.append(event)
            self._unsaved_full = failure.full
            self._modelled = None
            return
        log.error("journal write failed, step undone: %s", failure)
        self.state = replace(self.state, notice=STORAGE_FULL if failure.full else JOURNAL_BROKEN)
        self._refuse_till(event, "the terminal could not write its journal")

    def _save_payments(self) -> None:
        """Try the kept order updates again, oldest first (at most every SAVE_RETRY seconds)."""
        if not self._unsaved or time.monotonic() < self._retry_at:
            return
        self._retry_at = time.monotonic() + SAVE_RETRY
        while self._unsaved:
            kept = self._unsaved[0]
            if self._handle(kept, self.clock()) is not None:
                return  # still refused: the rest wait behind it, in order
            self._unsaved.pop(0)
            log.warning("the journal works again: the kept %s of %s is written", kept.update.status, kept.sale_id)
            # and the order is read again at once: whatever changed while the journal could not write is seen now
            self.worker.watch(kept.sale_id, kept.update.order_id)
        self._modelled = None

    def _tell_journaled(self) -> None:
        """The step committed: now the log, systemd and the observer hear of its sale changes."""
        told, self._journaled = self._journaled, []
        for effect, now in told:
            sale = effect.sale
            log.info("sale %s: %s → %s (%s)", sale.reference, effect.previous, sale.status, effect.cause)
            self.service.status(f"sale {sale.reference} {sale.status} ({sale.amount.format_code()})")
            if self.observer.transition:
                self.observer.transition(effect, now)

    def _refuse_till(self, event: Event, what: str) -> None:
        """A till's command whose step was undone still gets its answer: an ERR (it must never wait for nothing)."""
        if isinstance(event, TillCommanded):
            self._till_lines.append(undone(what))

    def execute(self, effect: Effect, now: Now) -> None:
        """Do one effect, by its executor (see ``EXECUTORS``; an effect without one raises TypeError). Journal
        effects are written (committed) before the next effect runs; backend calls, print jobs and speech are
        queued in ``_calls`` and handed over after the frame (see :meth:`dispatch`)."""
        run = EXECUTORS.get(type(effect))
        if run is None:
            raise TypeError(f"no executor for the effect {effect!r}")
        run(self, effect, now)

    # --- the journal: written now, in this step's transaction -------------------------------------

    def _journal_sale(self, effect: JournalSale, now: Now) -> None:
        sale, previous = effect.sale, effect.previous
        self.journal.record_sale(sale, previous, effect.cause, now.wall)
        if self.till is not None and (line := event_for(sale, previous, again=effect.again)) is not None:
            self._till_lines.append(line)
        self._journaled.append((effect, now))

    def _journal_security(self, effect: JournalSecurity, now: Now) -> None:
        self.journal.record_security(effect.sale_id, effect.message, effect.payload, now.wall)
        log.warning("SECURITY: sale %s: %s", effect.sale_id, effect.message)

    def _journal_refund(self, effect: JournalRefund, now: Now) -> None:
        refund = effect.refund
        self.journal.record_refund(refund, effect.cause, now.wall)
        if self.till is not None and (line := refund_event(refund)) is not None:
            self._till_lines.append(line)
        log.info("refund %s (%s): %s (%s)", refund.id, refund.amount.format_code(), refund.status, effect.cause)

    def _save_voice(self, effect: SaveVoice, now: Now) -> None:
        self.journal.save_voice(effect.on, effect.volume, now.wall)
        if self.voice is not None:
            self.voice.volume = effect.volume

    def _save_pin_lock(self, effect: SavePinLock, now: Now) -> None:
        self.journal.save_pin_lock(effect.lock, now.wall)

    # --- the backend: calls queued for the workers ------------------------------------------------

    def _create_order(self, effect: CreateOrder, now: Now) -> None:
        self._calls.append(lambda: self.worker.create(effect.request))
        self._creating = True

    def _watch_order(self, effect: WatchOrder, now: Now) -> None:
        self._calls.append(lambda: self.worker.watch(effect.sale_id, effect.order_id, until=effect.until))

    def _cancel_order(self, effect: CancelOrder, now: Now) -> None:
        self._calls.append(lambda: self.worker.cancel(effect.sale_id, effect.order_id))

    def _request_refund(self, effect: RequestRefund, now: Now) -> None:
        self._calls.append(lambda: self.worker.refund(effect.refund))

    def _reconcile(self, effect: Reconcile, now: Now) -> None:
        self._calls.append(lambda: self.worker.reconcile(effect.since, effect.references))

    # --- the printer: journaled as a print job now, printed when the printer can ------------------

    def _print_receipt(self, effect: PrintReceipt, now: Now) -> None:
        if (queue := self.print_queue) is None:
            return
        sale = effect.sale
        paid_at = sale.payment.at if sale.payment and sale.payment.at else now.wall  # the payment's time, if known
        receipt = receipt_for(
            sale, shop=self.shop, local_time=_local(paid_at), columns=queue.printer.columns, reprint=effect.reprint
        )
        self._print(queue, receipt, now)

    def _print_refund_slip(self, effect: PrintRefundSlip, now: Now) -> None:
        if (queue := self.print_queue) is None:
            return
        slip = refund_slip_for(
            effect.refund, shop=self.shop, local_time=_local(now.wall), columns=queue.printer.columns
        )
        self._print(queue, slip, now)

    def _print_report(self, effect: PrintReport, now: Now) -> None:
        if (queue := self.print_queue) is None:
            return
        lines = self._on_paper(effect.lines)
        self._print(queue, report_slip_for(effect.kind, lines, shop=self.shop, columns=queue.printer.columns), now)

    def _feed_paper(self, effect: FeedPaper, now: Now) -> None:
        if self.print_queue is not None:
            self._calls.append(self.print_queue.feed)

    def _print(self, queue: PrintQueue, receipt: Receipt, now: Now) -> None:
        job_id = self.journal.add_print_job(receipt, now.wall)
        self._calls.append(lambda: self._submit(queue, job_id, receipt))

    # --- the till: lines sent after the frame -----------------------------------------------------

    def _till_reply(self, effect: TillReply, now: Now) -> None:
        self._till_lines.insert(self._reply_at, effect.line)  # the answer, before the events its command caused

    def _find_sale_for_till(self, effect: FindSaleForTill, now: Now) -> None:
        found = self.journal.sale_by_reference(effect.reference)
        record = _record(*found) if found is not None else None
        self._answers.append(TillRefundFound(effect.reference, record, effect.amount))

    def _till_report_lines(self, effect: TillReportLines, now: Now) -> None:
        self._till_lines += report_reply(as_lines(build_report(self.journal, "x", now.wall)))

    # --- the voice --------------------------------------------------------------------------------

    def _announce(self, effect: Announce, now: Now) -> None:
        if self.voice is not None:  # after the frame is drawn: the paid screen never waits for audio
            voice = self.voice
            self._calls.append(lambda: voice.say(effect.phrase))

    # --- the manager's menu: the PIN, recent sales, reports ---------------------------------------

    def _check_pin(self, effect: CheckPin, now: Now) -> None:
        # scrypt is slow on purpose: check in a thread so the "Checking…" screen is drawn meanwhile.
        checker, post, pin = self.pin_checker, self.post, effect.pin
        self._calls.append(
            lambda: threading.Thread(
                target=lambda: post(PinChecked(_check(checker, pin))), name="pin", daemon=True
            ).start()
        )

    def _load_recent(self, effect: LoadRecent, now: Now) -> None:
        records = tuple(_record(sale, refunds) for sale, refunds in self.journal.recent_sales(effect.limit))
        self._answers.append(RecentLoaded(records))

    def _make_report(self, effect: MakeReport, now: Now) -> None:
        # Made on the report worker; a Z's period is closed here, by the journal's one writer, in this step.
        shop = self.shop
        if effect.kind == "z":
            number, since, closed = close_period(self.journal, now.wall)
            self._calls.append(lambda: self.reports.z(number, since, closed, now.wall, shop))
        else:
            self._calls.append(lambda: self.reports.x(now.wall, shop))

    def _submit(self, queue: PrintQueue, job_id: int, receipt: Receipt) -> None:
        self._printing.add(job_id)
        queue.submit(job_id, receipt)

    def dispatch(self) -> None:
        """Hand this pass's backend calls and print jobs to their threads, and tell the till — after the screen
        was drawn, so those threads do not compete with the drawing for the interpreter."""
        self._creating = False
        lines, self._till_lines = self._till_lines, []
        if self.till is not None:
            for line in lines:
                self.till.send(line)
        calls, self._calls = self._calls, []
        for call in calls:
            call()

    def attach_printer(self, queue: PrintQueue) -> None:
        """Print through ``queue`` from now on, starting with the jobs an earlier run left unprinted."""
        self.print_queue = queue
        self.state = replace(self.state, settings=replace(self.state.settings, printer=True))
        for job_id, receipt in self.journal.pending_print_jobs():
            self._submit(queue, job_id, receipt)

    #: How late an order must be for the "Preparing QR…" frame to be drawn (see :data:`CREATING_FRAME_AFTER`).
    creating_frame_after = CREATING_FRAME_AFTER
    #: The sale being created and when the loop first saw it so.
    _creating_since: tuple[str, float] = ("", 0.0)

    def render(self, now: Now | None = None) -> None:
        """Draw the screen if its model changed. The model is only rebuilt when the state changed, or a
        quarter second passed (the countdown), so an idle loop costs almost nothing."""
        now = now or self.clock()
        if self.state is self._modelled and now.mono < self._remodel_at:
            return
        sale = self.state.sale
        if sale is not None and sale.status is SaleStatus.CREATING and not (self.damaged or self.state.notice):
            if self._creating_since[0] != sale.id:
                self._creating_since = (sale.id, now.mono)
            if now.mono < (shown_at := self._creating_since[1] + self.creating_frame_after):
                self._modelled, self._remodel_at = self.state, shown_at  # drawn then, if still creating
                return
        self._modelled, self._remodel_at = self.state, now.mono + 0.25
        model = self._screen(now)
        if model != self.display.shown:
            previous = self.display.shown
            self.display.draw(model)
            pattern = pattern_for(previous, model)
            if pattern is not None and self.indicators is not None:
                self.indicators.play(pattern)
            if self.observer.frame:
                self.observer.frame(model, self.display)

    def _paint_ahead(self, now: Now) -> None:
        """This step changed a sale: while its commit waits for the disk (an fsync, which holds no interpreter
        lock), the frame it leads to is painted on the display's own thread. :meth:`render` flips it once the
        commit is done (a step undone leads to another frame, which is painted over it)."""
        sale = self.state.sale
        if sale is not None and sale.status is SaleStatus.CREATING:
            return  # its frame is drawn only if the order is late (see creating_frame_after)
        model = self._screen(now)
        if model != self.display.shown:
            self.display.paint_ahead(model)

    def _screen(self, now: Now) -> ScreenModel:
        """What the screen shows at ``now``: the core's model of the state, told what the journal cannot do."""
        model = self._journal_said(screen_for(self.state, now, sandbox=self.sandbox, words=self.shop.words))
        if self.damaged:
            words = self.shop.words  # the shell's sentences: English until a catalog has them
            model = ScreenModel(
                "damaged",
                words("Journal damaged: call support"),
                model.merchant,
                tone=Tone.BAD,
                lines=(words("No sales can be taken"), self.damaged),
                icon=Icon.FAILED,
            )
        return model

    def _journal_said(self, model: ScreenModel) -> ScreenModel:
        """The screen, told what the journal cannot do: a payment received but not yet written (never "Paid"
        before it is, and no QR to pay again), or a disk that filled up."""
        words = self.shop.words
        paid = [u.update for u in self._unsaved if u.update.status is OrderStatus.PAID or u.update.payments]
        if paid:
            amount = words.money(paid[0].payment.amount) if paid[0].payment is not None else model.amount
            why = words.show(STORAGE_FULL if self._unsaved_full else JOURNAL_BROKEN)
            return replace(
                model,
                name="saving",
                title=words.show(SAVING),
                tone=Tone.ATTENTION,
                amount=amount,
                lines=(why,),
                qr=None,
                countdown="",
                hint="",
            )
        if self.journal.storage_low:
            return replace(model, warning=" · ".join(w for w in (model.warning, words.show(STORAGE_FULL)) if w))
        return model


F = TypeVar("F")
#: An executor: the App, its kind of effect, the time of the step.
Executor = Callable[[App, Any, Now], None]


def _does(kind: type[F], run: Callable[[App, F, Now], None]) -> tuple[type, Executor]:
    """One row of ``EXECUTORS`` (mypy checks that ``run`` takes ``kind``)."""
    return kind, run


#: Every kind of effect, and the App's executor for it.
EXECUTORS: dict[type, Executor] = dict(
    [
        _does(JournalSale, App._journal_sale),
        _does(JournalSecurity, App._journal_security),
        _does(JournalRefund, App._journal_refund),
        _does(SaveVoice, App._save_voice),
        _does(SavePinLock, App._save_pin_lock),
        _does(CreateOrder, App._create_order),
        _does(WatchOrder, App._watch_order),
        _does(CancelOrder, App._cancel_order),
        _does(RequestRefund, App._request_refund),
        _does(Reconcile, App._reconcile),
        _does(PrintReceipt, App._print_receipt),
        _does(PrintRefundSlip, App._print_refund_slip),
        _does(PrintReport, App._print_report),
        _does(FeedPaper, App._feed_paper),
        _does(TillReply, App._till_reply),
        _does(FindSaleForTill, App._find_sale_for_till),
        _does(TillReportLines, App._till_report_lines),
        _does(Announce, App._announce),
        _does(CheckPin, App._check_pin),
        _does(LoadRecent, App._load_recent),
        _does(MakeReport, App._make_report),
    ]
)


def _local(when: datetime) -> str:
    """``when`` in the terminal's local time, as receipts and slips print it."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _record(sale: Sale, refunds: tuple[Refund, ...]) -> SaleRecord:
    """A journaled sale as the menu and the till's REFUND see it: with its local start time."""
    return SaleRecord(sale, refunds, sale.started_at.astimezone().strftime("%d %b %H:%M"))


def must_wait_for_disk(effects: list[Effect]) -> bool:
    """Whether a step's commit must reach the disk before anything goes on. Every step's must, except one that
    only opens a sale (journaled "creating") and asks the backend for its order: nothing is shown, told or
    printed on it, and the order's own step, committed before its QR is shown, takes it to the disk with itself.
    A power cut between the two loses a sale no customer was shown (the backend's order for it is never paid,
    and each start numbers its sales afresh), so the key→QR path waits for the disk once, not twice."""
    return not effects or not all(
        isinstance(e, CreateOrder) or (isinstance(e, JournalSale) and e.sale.status is SaleStatus.CREATING)
        for e in effects
    )


def _check(checker: Callable[[str], bool | None], pin: str) -> bool | None:
    """The checker's answer; a damaged hash or unreadable secrets file counts as no PIN set (logged): the
    shopkeeper is told to set it again, and a damaged file never uses up their tries."""
    try:
        return checker(pin)
    except Exception as exc:
        log.error("manager PIN not checked: %s", exc)
        return None
