"""When receipts print: on paid (always), on Enter (ask), never; reprint and feed keys; printer warnings."""

from dataclasses import replace

import pytest

from terminal.core.effects import FeedPaper, JournalSale, PrintReceipt
from terminal.core.events import KeyPressed, OrderUpdated, PrinterChanged
from terminal.core.keys import Key
from terminal.core.machine import Phase, initial, step
from terminal.core.screen import screen_for

from .helpers import SETTINGS, at, awaiting, paid_update, type_keys


def paid(auto_print, printer=True):
    state = awaiting()
    state = replace(state, settings=replace(state.settings, printer=printer, auto_print=auto_print))
    return step(state, OrderUpdated(state.sale.id, paid_update()), at(30))


def test_always_prints_right_after_the_paid_sale_is_journaled():
    state, effects = paid("always")
    assert [type(e) for e in effects] == [JournalSale, PrintReceipt]
    assert effects[1] == PrintReceipt(state.sale)


@pytest.mark.parametrize(("auto_print", "printer"), [("ask", True), ("never", True), ("always", False)])
def test_nothing_prints_on_paid_otherwise(auto_print, printer):
    _, effects = paid(auto_print, printer)
    assert [type(e) for e in effects] == [JournalSale]


def test_ask_prints_on_enter_and_says_so_on_the_paid_screen():
    state, _ = paid("ask")
    assert screen_for(state, at(31)).hint == "Enter: print receipt"
    after, effects = step(state, KeyPressed(Key.ENTER), at(32))
    assert effects == [PrintReceipt(state.sale)] and after.phase is Phase.IDLE


def test_reprint_prints_a_copy_of_the_last_paid_sale_from_idle():
    state, _ = paid("never")
    state = type_keys(state, "E", at(31))
    _, effects = step(state, KeyPressed(Key.REPRINT), at(32))
    assert effects == [PrintReceipt(state.last_paid, reprint=True)]


def test_reprint_with_nothing_to_reprint_says_so():
    state = replace(initial(SETTINGS), settings=replace(SETTINGS, printer=True))
    state, effects = step(state, KeyPressed(Key.REPRINT), at(0))
    assert effects == [] and screen_for(state, at(0)).notice == "No receipt to reprint yet"


def test_printer_keys_do_nothing_while_a_customer_is_paying_or_without_a_printer():
    state = awaiting()
    with_printer = replace(state, settings=replace(state.settings, printer=True))
    assert step(with_printer, KeyPressed(Key.FEED), at(2)) == (with_printer, [])
    idle = initial(SETTINGS)
    assert step(idle, KeyPressed(Key.FEED), at(2)) == (idle, [])


def test_feed():
    state = replace(initial(SETTINGS), settings=replace(SETTINGS, printer=True))
    assert step(state, KeyPressed(Key.FEED), at(0))[1] == [FeedPaper()]


def test_a_printer_problem_shows_as_a_warning_until_it_clears():
    state, _ = step(initial(SETTINGS), PrinterChanged("out of paper"), at(0))
    assert screen_for(state, at(0)).warning == "Printer: out of paper"
    state, _ = step(state, PrinterChanged(None), at(1))
    assert screen_for(state, at(1)).warning == ""
