"""Background threads have one owner: a stopping event, stop() joins and reports, and a Lane runs jobs by due
time, a retry scheduled rather than slept (terminal/threads.py)."""

import threading
import time

from terminal.threads import BackgroundThread, Lane, steps


def test_stop_sets_the_event_the_thread_waits_on_and_joins_it():
    ticks = []

    def work():
        while not thread.stopping.wait(0.01):
            ticks.append(1)

    thread = BackgroundThread(work, name="ticker")
    thread.start()
    assert thread.stop(timeout=5) is True
    assert not thread.is_alive()


def test_a_thread_that_will_not_stop_is_reported(caplog):
    release = threading.Event()
    thread = BackgroundThread(release.wait, name="stubborn")  # waits on its own event, not on ``stopping``
    thread.start()
    assert thread.stop(timeout=0.05) is False
    assert "thread stubborn did not stop within 0.1 s" in caplog.text
    release.set()
    thread.join()


def test_clean_up_registered_by_the_thread_runs_when_it_ends():
    from terminal.threads import at_thread_exit

    done = []
    thread = BackgroundThread(lambda: at_thread_exit(lambda: done.append("closed")), name="cleaner")
    thread.start()
    thread.join()
    assert done == ["closed"]


def test_a_lane_runs_a_job_due_now_while_another_waits_to_retry():
    lane = Lane("test")
    order = []
    tries = iter([60.0])  # the first job wants to be retried in a minute

    def retried():
        order.append("retried")
        return next(tries, None)

    lane.submit(retried)
    lane.submit(lambda: order.append("next"))
    deadline = time.monotonic() + 5
    while order != ["retried", "next"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert order == ["retried", "next"]  # the next job did not wait for the retry's minute
    assert lane.stop(timeout=5) == []  # and stopping does not wait for it either


def test_a_generator_job_yields_its_waits():
    lane = Lane("test")
    seen = []

    def work():
        seen.append(1)
        yield 0.0
        seen.append(2)

    lane.submit(steps(work()))
    deadline = time.monotonic() + 5
    while seen != [1, 2] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [1, 2]
    lane.stop(timeout=5)


def test_a_job_that_raises_does_not_end_the_lane(caplog):
    lane = Lane("test")
    done = threading.Event()
    lane.submit(lambda: 1 / 0)
    lane.submit(done.set)
    assert done.wait(5)
    assert "lane test: a job failed" in caplog.text
    lane.stop(timeout=5)


def test_jobs_after_stop_are_dropped():
    lane = Lane("test")
    lane.stop(timeout=1)
    ran = []
    lane.submit(lambda: ran.append(1))
    assert ran == [] and not [t for t in threading.enumerate() if t.name.startswith("test-")]


def test_a_started_lane_runs_its_start_up_on_every_thread_before_any_job():
    ready = []
    lane = Lane("test", workers=2, on_start=lambda: ready.append(threading.current_thread().name))
    lane.start()
    deadline = time.monotonic() + 5
    while len(ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(ready) == ["test-0", "test-1"]
    ran = threading.Event()
    lane.submit(ran.set)
    assert ran.wait(5) and len(ready) == 2  # the job found the threads started: no second start-up
    assert lane.stop(timeout=5) == []


def test_a_start_up_that_fails_is_logged_and_the_lane_still_runs_its_jobs(caplog):
    def broken():
        raise OSError("no route to host")

    lane = Lane("test", on_start=broken)
    ran = threading.Event()
    lane.submit(ran.set)
    assert ran.wait(5)
    assert lane.stop(timeout=5) == []
    assert "lane test: its start-up failed" in caplog.text


def test_a_stopped_lane_is_not_started_again():
    lane = Lane("test", on_start=lambda: None)
    assert lane.stop(timeout=5) == []
    lane.start()
    assert lane.stop(timeout=5) == []  # nothing to join: no thread was started
