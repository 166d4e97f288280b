"""Fleet facts: terminals send heartbeats (the hub keeps the last one and a history); settlement and history
answer for one terminal, a shop, or all — behind the hub's admin token."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import requests

from terminal.core.money import Amount
from terminal.core.orders import OrderRequest
from tests.hub.running import RunningHub
from tests.hub.test_terminal_auth import _send

BEAT = {"version": "0.1.0", "uptime": 3600, "queue": 2, "printer": "ok", "till": "linked", "journal_bytes": 81920}


def test_a_heartbeat_is_kept_as_the_last_and_in_the_history(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        token = hub.enroll("T1")
        for queue in (2, 0):
            body = json.dumps({**BEAT, "queue": queue}).encode()
            assert _send(hub, token, "POST", "/v1/heartbeats", body).status_code == 201
        listed = hub.fleet("/fleet/terminals")["terminals"]
        assert [(t["id"], t["shop"], t["state"], t["last_heartbeat"]["queue"]) for t in listed] == [
            ("T1", "Chai Point", "enrolled", 0)
        ]
        history = hub.fleet("/fleet/terminals/T1/heartbeats")["heartbeats"]
        assert [h["queue"] for h in history] == [0, 2] and history[0]["journal_bytes"] == 81920


def test_a_heartbeat_with_a_field_of_the_wrong_type_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = _send(hub, hub.enroll("T1"), "POST", "/v1/heartbeats", json.dumps({"uptime": "long"}).encode())
        assert answer.status_code == 400 and "uptime" in answer.json()["error"]["message"]


def test_settlement_for_a_terminal_a_shop_or_all(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        sales = [("T1", "Chai Point", 1000), ("T2", "Chai Point", 2000), ("T3", "Dosa Corner", 4000)]
        for terminal_id, shop, minor in sales:
            order = hub.terminal(terminal_id, shop).create_order(
                OrderRequest("S1", f"{terminal_id}-S1", Amount(minor, "INR"), 300, "Chai")
            )
            hub.pay(order.id)
        today = datetime.now(UTC).strftime("%Y-%m-%d")

        def gross(**scope: str) -> int:
            return hub.fleet("/fleet/settlements", date=today, **scope)["gross"]

        assert (gross(terminal="T2"), gross(shop="Chai Point"), gross()) == (2000, 3000, 7000)
        assert len(hub.fleet("/fleet/orders", shop="Dosa Corner")["orders"]) == 1


def test_fleet_endpoints_need_the_admin_token(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            answer = requests.get(f"{hub.url}/fleet/terminals", headers=headers, timeout=5)
            assert answer.status_code == 401


def test_the_health_check_answers(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        assert requests.get(f"{hub.url}/healthz", timeout=5).json() == {"ok": True, "waiting": 0}


def test_an_unknown_route_answers_in_the_contracts_error_shape(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = requests.get(f"{hub.url}/v2/orders", timeout=5)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


def test_an_enrolled_terminal_beats_its_facts_to_the_hub(sqlite_url: str, tmp_path) -> None:
    # The terminal's side of the heartbeat: a real terminal (SDL dummy display, real journal) behind the hub sends
    # what the owner's dashboard shows, signed like every other request.
    from terminal.backends.heartbeat import Heartbeat
    from tests.terminal_app import make_terminal

    with RunningHub(sqlite_url) as hub:
        backend = hub.terminal("T1")
        assert backend.hub
        terminal = make_terminal(tmp_path, hub.url, backend=backend)
        assert terminal.app.heartbeat is not None  # a hub's terminal beats (started by the loop)
        beat = Heartbeat(backend, terminal.app.facts, every=0.05).start()
        try:
            terminal.until(lambda: beat.sent >= 2)
        finally:
            assert beat.stop()
        [listed] = hub.fleet("/fleet/terminals")["terminals"]
        last = listed["last_heartbeat"]
        assert last["version"] == "0.1.0" and last["queue"] == 0 and last["till"] == "none"
        assert last["journal_bytes"] == (tmp_path / "journal.db").stat().st_size > 0
        assert len(hub.fleet("/fleet/terminals/T1/heartbeats")["heartbeats"]) >= 2


def test_a_terminal_behind_an_ordinary_backend_sends_no_heartbeat(tmp_path, sandbox) -> None:
    from tests.terminal_app import make_terminal

    assert make_terminal(tmp_path, sandbox.url).app.heartbeat is None
