"""Layers cross one way (issue #19 item 4): nothing below the command line imports a command (the reconciliation
the worker and the App use lives in the core and the store, not in a CLI module), and the sandbox, a server of the
contract, never uses the terminal's client (its own serialisation, so a bug shared by both ends cannot pass); nor
does the hub, the other server of the contract (hub/contract.py), which uses none of the sandbox's privates either."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports import ROOT, imports_of_file, module_name


def is_command(module: str) -> bool:
    """A command-line module: an entry point, a subcommand, or one of the tools not yet moved under commands/."""
    name = module.split(".")
    entries = ("terminal.cli", "terminal.__main__", "terminal.demo", "terminal.doctor")
    entries += ("hub.cli", "hub.__main__", "hub.dashboard.cli")
    return module in entries or (
        len(name) >= 2 and name[0] == "terminal" and (name[1] == "commands" or name[1].endswith("_tool"))
    )


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_nothing_below_the_command_line_imports_a_command():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: import {name}"
        for path in modules("terminal", "hub")
        if not is_command(module_name(path))
        for line, name in imports_of_file(path)
        if is_command(name)
    ]
    assert problems == []
    assert len(modules("terminal", "hub")) >= 80  # the scan did look at the packages


def test_the_sandbox_never_uses_the_terminals_client():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: import {name}"
        for path in modules("terminal/sandbox")
        for line, name in imports_of_file(path)
        if name == "terminal.backends" or name.startswith("terminal.backends.")
    ]
    assert problems == []
    assert len(modules("terminal/sandbox")) >= 2


def crosses_into_the_terminals_contract(name: str) -> bool:
    """An import the hub, another server of the contract, may not make: the terminal's client serialisation
    (``terminal.backends.contract``) or anything private (``_name``) of the sandbox."""
    parts = name.split(".")
    client = parts[:3] == ["terminal", "backends", "contract"]
    return client or (parts[:2] == ["terminal", "sandbox"] and any(p.startswith("_") for p in parts[2:]))


def test_the_hub_never_uses_the_terminals_client_nor_the_sandboxs_privates():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: import {name}"
        for path in modules("hub")
        for line, name in imports_of_file(path)
        if crosses_into_the_terminals_contract(name)
    ]
    assert problems == []
    assert len(modules("hub")) >= 10


@pytest.mark.parametrize(
    ("name", "crosses"),
    [
        ("terminal.backends.contract", True),
        ("terminal.backends.contract.amount_json", True),
        ("terminal.sandbox.book._digest", True),
        ("terminal.sandbox._private", True),
        ("terminal.sandbox.book.SandboxError", False),
        ("terminal.backends.razorpay", False),
        ("terminal.backends.base.BackendError", False),
        ("terminal.core.money.Amount", False),
        ("hub.contract.amount_json", False),
    ],
)
def test_what_crosses_into_the_terminals_contract(name, crosses):
    assert crosses_into_the_terminals_contract(name) is crosses


@pytest.mark.parametrize(
    ("module", "command"),
    [
        ("terminal.reconcile_tool", True),
        ("terminal.commands.reconcile", True),
        ("terminal.cli", True),
        ("hub.cli", True),
        ("terminal.demo", True),
        ("terminal.reconciliation", False),
        ("terminal.backends.worker", False),
        ("terminal.store.journal", False),
    ],
)
def test_what_counts_as_a_command(module, command):
    assert is_command(module) is command
