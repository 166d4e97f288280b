"""Paid orders are followed for a second payment by one shared follow-up lane, not by a thread each.

A busy shop (a sale every 30 s, QRs valid for 10-15 min) used to hold 20-30 watcher threads, each with its own
kept-alive connection and long-poll at the backend, only in case one of the paid QRs was paid again. Now an
order's own watcher thread ends once it is paid in full, and the lane's one thread looks at every paid order
until its QR expires.
"""

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from terminal.core.events import OrderUpdated
from terminal.core.orders import OrderStatus
from terminal.sandbox.server import Fault

from .servers import Reply, ScriptedServer
from .test_worker import REQUEST, until, worker_for

LANE = "backend-follow-up-0"


def worker_threads(baseline):
    """The threads started since ``baseline`` but the servers' (the sandbox has one per connection)."""
    return sorted(t.name for t in set(threading.enumerate()) - baseline if "process_request" not in t.name)


def watchers():
    return [t.name for t in threading.enumerate() if t.name.startswith("watch-")]


def sell(worker, events, sandbox_book, n, until_=None):
    """Order ``n`` created, watched and paid: its PAID update is posted and its watcher thread has ended."""
    request = replace(REQUEST, sale_id=f"T1-ab-{n:06d}", reference=f"T1-{n:06d}")
    order = worker.backend.create_order(request)
    worker.watch(request.sale_id, order.id, until=until_ or order.expires_at)
    sandbox_book.pay(order.id)
    event = events.get(timeout=10)
    assert isinstance(event, OrderUpdated) and event.update.status is OrderStatus.PAID
    until(lambda: f"watch-{order.id}" not in watchers())
    return request.sale_id, order.id


def test_paid_orders_are_followed_by_one_thread_however_many_were_paid(sandbox):
    baseline = set(threading.enumerate())
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=60)
    paid = []
    for n in range(1, 9):
        paid.append(sell(worker, events, sandbox.book, n)[1])
        assert worker_threads(baseline) == [LANE]  # the lane only: no watcher is left per paid sale
    assert sorted(worker.watching) == sorted(paid)  # and every paid order is still followed
    assert worker.stop() == []


def test_a_second_payment_of_a_paid_order_is_posted_by_the_follow_up_lane(sandbox):
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=0.2)
    sale_id, order_id = sell(worker, events, sandbox.book, 1)
    assert watchers() == [] and worker.watching == (order_id,)
    sandbox.book.pay(order_id)  # the customer's app looked stuck: they paid again
    event = events.get(timeout=10)
    assert worker.stop() == []
    assert event.sale_id == sale_id and event.update.status is OrderStatus.PAID and len(event.update.payments) == 2


def test_the_follow_up_ends_when_the_qr_expires(sandbox):
    with ScriptedServer(upstream=sandbox.url) as backend:
        worker, events = worker_for(backend.url, long_poll=5, follow_up_every=0.1)
        _, order_id = sell(worker, events, sandbox.book, 1, until_=datetime.now(UTC) + timedelta(seconds=3))
        until(lambda: worker.watching == ())
        looks = backend.count(f"GET /v1/orders/{order_id}")
        sandbox.book.pay(order_id)  # (the sandbox still takes it: its own expiry is minutes away)
        time.sleep(1.0)  # ten follow-up intervals
        assert backend.count(f"GET /v1/orders/{order_id}") == looks and events.empty()
        assert worker.stop() == []


def test_stop_drops_the_follow_ups_and_joins_the_lane(sandbox):
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=600)
    for n in (1, 2, 3):
        sell(worker, events, sandbox.book, n)
    assert len(worker.watching) == 3
    assert worker.stop(timeout=5) == []  # joined although the next look is ten minutes away
    assert worker.watching == () and LANE not in [t.name for t in threading.enumerate()]


def test_a_failing_look_at_a_paid_order_is_retried_until_the_backend_answers(sandbox):
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=0.1, max_backoff=0.2)
    sale_id, order_id = sell(worker, events, sandbox.book, 1)
    sandbox.inject(Fault("get", count=3, status=503))
    until(lambda: failed_gets(sandbox) == 3)  # three looks failed, each one tried again
    sandbox.book.pay(order_id)
    event = events.get(timeout=10)
    assert worker.stop() == []
    assert (event.sale_id, len(event.update.payments)) == (sale_id, 2)


def test_a_paid_order_whose_looks_keep_failing_does_not_hold_up_the_others(sandbox):
    broken = Reply(503, b'{"error": {"code": "busy", "message": "later"}}')
    with ScriptedServer(upstream=sandbox.url) as backend:
        worker, events = worker_for(backend.url, long_poll=5, follow_up_every=0.1, max_backoff=0.2)
        _, first = sell(worker, events, sandbox.book, 1)
        second_sale, second = sell(worker, events, sandbox.book, 2)
        backend.route(f"GET /v1/orders/{first}", broken)  # every look at the first order fails from now on
        looks = backend.count(f"GET /v1/orders/{first}")
        until(lambda: backend.count(f"GET /v1/orders/{first}") >= looks + 3)  # tried again after each failure
        sandbox.book.pay(second)
        again = events.get(timeout=10)  # the other order's second payment is still seen
        assert set(worker.watching) == {first, second}
        assert worker.stop() == []
    assert (again.sale_id, len(again.update.payments)) == (second_sale, 2)


def failed_gets(sandbox):
    return 3 - next(f.count for f in sandbox.faults if f.route == "get")


def test_a_paid_order_whose_cancel_gives_up_is_no_longer_followed(sandbox):
    sandbox.inject(Fault("cancel", count=10**6, status=500))
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=600, cancel_for=0)
    _, order_id = sell(worker, events, sandbox.book, 1)
    worker.cancel("T1-ab-000001", order_id)
    until(lambda: worker.watching == ())
    assert worker.stop() == []


def test_an_underpaid_order_keeps_its_watcher_thread_until_the_rest_arrives(sandbox):
    # The customer is being asked for the rest: it must show as fast as the first payment did, not at the
    # follow-up lane's next look (set ten minutes away here, so only the watcher can see it in time).
    worker, events = worker_for(sandbox.url, long_poll=5, follow_up_every=600)
    order = worker.backend.create_order(REQUEST)
    worker.watch(REQUEST.sale_id, order.id, until=order.expires_at)
    sandbox.book.pay(order.id, amount_minor=1)
    assert len(events.get(timeout=10).update.payments) == 1
    sandbox.book.pay(order.id, amount_minor=1249)
    rest = events.get(timeout=10)
    until(lambda: watchers() == [])  # paid in full: handed over to the lane
    assert worker.watching == (order.id,)
    assert worker.stop() == []
    assert [p.amount.minor for p in rest.update.payments] == [1, 1249]
