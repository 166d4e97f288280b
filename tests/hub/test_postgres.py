"""Several hub replicas on one PostgreSQL behave as one: a payment recorded by one wakes a terminal long-polling
another (LISTEN/NOTIFY), idempotency holds across replicas (unique constraints), and a database that goes away
mid-request is a clear 503 that the terminal's retry with the same key makes good."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from hub.pgcluster import Cluster
from terminal.backends.base import BackendError
from terminal.backends.http import HttpBackend
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from tests.hub.running import RunningHub

SALE = OrderRequest("S1", "T1-S1", Amount(1250, "INR"), 300, "Chai")


def test_a_payment_on_one_replica_wakes_a_long_poll_on_another(pg_cluster: Cluster) -> None:
    url = pg_cluster.database()
    # reread 60 s: without NOTIFY the poll would only answer after its 20 s wait, still pending
    with RunningHub(url, reread=60) as a, RunningHub(url, reread=60) as b:
        token = a.enroll("T1")
        on_a = HttpBackend(a.url, token, timeout=5)
        order = on_a.create_order(SALE)
        polled: list = []
        poll = threading.Thread(target=lambda: polled.append(on_a.get_order(order.id, wait=20, known="pending")))
        poll.start()
        threading.Event().wait(0.3)
        assert b.pay(order.id).json()["outcome"] == "applied"
        poll.join(timeout=25)
        on_a.close()
        assert polled[0].status is OrderStatus.PAID


def test_the_same_create_sent_to_two_replicas_at_once_makes_one_order(pg_cluster: Cluster) -> None:
    url = pg_cluster.database()
    with RunningHub(url) as a, RunningHub(url) as b:
        token = a.enroll("T1")
        clients = [HttpBackend(hub.url, token, timeout=10) for hub in (a, b, a, b)]
        with ThreadPoolExecutor(4) as pool:
            shown = set(pool.map(lambda c: (lambda o: (o.id, o.qr.payload))(c.create_order(SALE)), clients))
        for client in clients:
            client.close()
        assert len(shown) == 1, shown  # one order, and every answer shows the same QR
        assert len(a.fleet("/fleet/orders")["orders"]) == 1


def test_the_same_webhook_delivered_to_two_replicas_at_once_is_applied_once(pg_cluster: Cluster) -> None:
    from hub.providers import credited_event
    from tests.hub.running import provider_id
    from tests.hub.webhook_events import send_razorpay

    url = pg_cluster.database()
    with RunningHub(url) as a, RunningHub(url) as b:
        order = a.terminal("T1").create_order(SALE)
        _, body = credited_event(provider_id(a, order.id), Amount(1250, "INR"))
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(
                pool.map(lambda hub: send_razorpay(hub.url, body, event_id="evt_Once").json()["outcome"], [a, b] * 3)
            )
        assert sorted(outcomes) == ["applied"] + ["duplicate"] * 5
        assert len(a.fleet("/fleet/orders")["orders"][0]["payments"]) == 1


@pytest.fixture
def own_cluster() -> Cluster:
    cluster = Cluster()
    yield cluster
    cluster.remove()


def test_a_database_gone_mid_run_is_a_clear_503_and_the_retry_loses_nothing(own_cluster: Cluster) -> None:
    url = own_cluster.database()
    with RunningHub(url) as hub:
        terminal = hub.terminal("T1")
        own_cluster.stop("fast")  # every connection dropped, as when the server is restarted under us
        with pytest.raises(BackendError) as caught:
            terminal.create_order(SALE)
        problem = caught.value.problem
        assert problem.kind is ProblemKind.SERVER and "database is not reachable" in problem.detail
        assert problem.retry_after == 2
        own_cluster.start()
        order = terminal.create_order(SALE)  # the terminal's retry: the same Idempotency-Key
        assert terminal.create_order(SALE).id == order.id
        assert [o["id"] for o in hub.fleet("/fleet/orders")["orders"]] == [order.id]
