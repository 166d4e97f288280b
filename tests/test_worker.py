"""The order worker runs backend calls in threads and posts core events: never blocks, always answers."""

import queue
import time

from terminal.backends.http import HttpBackend
from terminal.backends.worker import OrderWorker
from terminal.core.events import OrderCreated, OrderNotCreated, OrderUpdated
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from terminal.sandbox.server import DEFAULT_TOKEN, Fault

from .servers import Reply, ScriptedServer, closed_port

REQUEST = OrderRequest("T1-ab-000001", "T1-000001", Amount(1250, "INR"), 300, "Demo")


def worker_for(url, **kw):
    events: queue.Queue = queue.Queue()
    worker = OrderWorker(HttpBackend(url, DEFAULT_TOKEN, timeout=2), events.put, **kw)
    return worker, events


def test_create_posts_the_order(sandbox):
    worker, events = worker_for(sandbox.url)
    started = time.monotonic()
    worker.create(REQUEST)
    assert time.monotonic() - started < 0.05  # the caller never waits for the network
    event = events.get(timeout=5)
    assert isinstance(event, OrderCreated) and event.sale_id == "T1-ab-000001"
    worker.stop()


def test_create_posts_the_problem_when_the_backend_is_down():
    worker, events = worker_for(f"http://127.0.0.1:{closed_port()}")
    worker.create(REQUEST)
    event = events.get(timeout=5)
    assert isinstance(event, OrderNotCreated) and event.problem.kind is ProblemKind.UNREACHABLE
    worker.stop()


def test_watch_posts_paid_once_and_stops(sandbox):
    worker, events = worker_for(sandbox.url, long_poll=5)
    order = worker.backend.create_order(REQUEST)
    worker.watch("T1-ab-000001", order.id)
    time.sleep(0.2)
    sandbox.book.pay(order.id)
    event = events.get(timeout=5)
    assert isinstance(event, OrderUpdated) and event.update.status is OrderStatus.PAID
    time.sleep(0.3)
    assert events.empty()
    worker.stop()


def test_watch_survives_backend_errors_with_backoff(sandbox):
    worker, events = worker_for(sandbox.url, long_poll=5, max_backoff=0.2)
    order = worker.backend.create_order(REQUEST)
    sandbox.inject(Fault("get", count=3, status=503))
    worker.watch("T1-ab-000001", order.id)
    sandbox.book.pay(order.id)
    assert events.get(timeout=5).update.status is OrderStatus.PAID
    worker.stop()


def test_watch_falls_back_to_polling_when_the_backend_does_not_long_poll():
    pending = b'{"id": "ord_1", "status": "pending"}'
    paid = (
        b'{"id": "ord_1", "status": "paid", "paid": {"at": "2026-11-27T10:00:00Z", '
        b'"amount": {"value": 1250, "currency": "INR"}, "provider_ref": "UTR1"}}'
    )
    with ScriptedServer(Reply(200, pending), Reply(200, pending), Reply(200, paid)) as server:
        worker, events = worker_for(server.url, long_poll=5, poll_interval=0.2)
        worker.watch("s1", "ord_1")
        event = events.get(timeout=5)
        worker.stop()
    assert event.update.status is OrderStatus.PAID and event.update.payment.provider_ref == "UTR1"
    assert len(server.requests) == 3


def test_cancel_retries_until_the_backend_answers(sandbox):
    worker, events = worker_for(sandbox.url, max_backoff=0.2)
    order = worker.backend.create_order(REQUEST)
    sandbox.inject(Fault("cancel", count=2, status=500))
    worker.cancel("T1-ab-000001", order.id)
    assert events.get(timeout=5).update.status is OrderStatus.CANCELLED
    worker.stop()


def test_stop_interrupts_waiting_threads_quickly(sandbox):
    worker, _ = worker_for(f"http://127.0.0.1:{closed_port()}", max_backoff=30)
    worker.watch("s1", "ord_1")
    time.sleep(0.3)
    started = time.monotonic()
    worker.stop(timeout=2)
    assert time.monotonic() - started < 1.5
