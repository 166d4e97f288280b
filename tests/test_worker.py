"""The order worker runs backend calls in threads and posts core events: never blocks, always answers."""

import queue
import threading
import time
from dataclasses import replace

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


def until(check, timeout=10.0):
    """Wait for ``check()`` (a condition on requests or threads, never on elapsed time)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def requests_of(server):
    return [f"{method} {path.split('?')[0]}" for method, path, _, _ in server.requests]


def test_cancels_told_to_retry_after_a_day_do_not_hold_up_the_next_create(sandbox):
    # Three sales cancelled while the backend's cancel answers "503, come back in a day": before, each
    # cancel slept 86400 s in the shared pool (three threads), and every following sale timed out.
    busy = Reply(503, b'{"error": {"code": "busy", "message": "later"}}', headers={"Retry-After": "86400"})
    with ScriptedServer(upstream=sandbox.url).route("POST /v1/orders/", busy) as backend:
        worker, events = worker_for(backend.url)
        for n in (1, 2, 3):
            worker.cancel(f"s{n}", f"ord_{n}")
        until(lambda: backend.count("POST /v1/orders/") == 3)
        worker.create(REQUEST)
        created = events.get(timeout=10)
        worker.stop()
    assert isinstance(created, OrderCreated)
    assert requests_of(backend)[3:] == ["POST /v1/orders"]  # the create, right after the three cancels
    assert backend.count("POST /v1/orders/") == 3  # and no cancel was retried before the capped minute


def test_watchers_of_sales_whose_status_calls_keep_failing_are_released(sandbox):
    baseline = set(threading.enumerate())
    sandbox.inject(Fault("get", count=10**6, status=500))  # every status call fails, cancels work
    worker, events = worker_for(sandbox.url, long_poll=5, max_backoff=0.2)
    for n in (1, 2, 3):
        request = replace(REQUEST, sale_id=f"T1-ab-00000{n}", reference=f"T1-00000{n}")
        order = worker.backend.create_order(request)
        failed = failed_gets(sandbox)
        worker.watch(request.sale_id, order.id)
        until(lambda failed=failed: failed_gets(sandbox) > failed)  # its watcher is failing
        worker.cancel(request.sale_id, order.id)
        assert events.get(timeout=5).update.status is OrderStatus.CANCELLED
        until(lambda: worker.watching == ())
    until(lambda: not [t for t in threading.enumerate() if t.name.startswith("watch-")])
    assert worker.stop() == []
    until(lambda: set(threading.enumerate()) <= baseline)


def failed_gets(sandbox):
    return 10**6 - next(f.count for f in sandbox.faults if f.route == "get")


def test_watching_the_same_order_twice_starts_one_watcher(sandbox):
    worker, _ = worker_for(sandbox.url, long_poll=5)
    order = worker.backend.create_order(REQUEST)
    worker.watch("T1-ab-000001", order.id)
    worker.watch("T1-ab-000001", order.id)
    assert worker.watching == (order.id,)
    assert [t.name for t in threading.enumerate() if t.name.startswith("watch-")] == [f"watch-{order.id}"]
    worker.stop()


def test_stop_cuts_off_a_long_poll_in_flight_and_joins_its_watcher():
    pending = Reply(200, b'{"id": "ord_1", "status": "pending"}', delay=60)  # a long-poll that does not end
    with ScriptedServer(pending) as server:
        worker, events = worker_for(server.url, long_poll=60)
        worker.watch("s1", "ord_1")
        until(lambda: len(server.requests) == 1)
        assert worker.stop(timeout=10) == []  # every thread joined
    assert events.empty() and len(server.requests) == 1
