"""gui.background: requests handled in order in the worker's thread, cancellation, stopping;
garbage collected by the GUI thread only."""
from __future__ import annotations

import gc
import threading
import weakref

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject  # noqa: E402

from gui.background import Background, GarbageCollector, Worker, collect_garbage_in_gui_thread  # noqa: E402


class Recorder(Worker):
    def __init__(self):
        super().__init__()
        self.seen = []

    def handle(self, request, value):
        if request > self.cancel_upto:
            self.seen.append((request, value, threading.current_thread() is threading.main_thread()))


def test_requests_run_in_order_in_the_worker_thread_and_cancelled_ones_are_dropped(qtbot):
    owner = QObject()
    bg = Background(owner, Recorder(), "test-background")
    bg.cancel(2)                                  # before they run: 1 and 2 are abandoned
    for r in range(1, 6):
        bg.post(r, r * 10)
    qtbot.waitUntil(lambda: len(bg.worker.seen) == 3, timeout=5000)
    assert bg.worker.seen == [(3, 30, False), (4, 40, False), (5, 50, False)]
    bg.stop()
    assert bg.thread.isFinished()
    bg.stop()                                     # twice is fine


def test_the_thread_stops_when_its_owner_goes(qtbot):
    owner = QObject()
    bg = Background(owner, Recorder(), "test-background")
    thread = bg.thread
    del owner
    gc.collect()
    assert thread.isFinished()


class Allocator(Worker):
    """Makes reference cycles in its thread, as a training step makes garbage."""

    def handle(self, count):
        for _ in range(count):
            cycle = []
            cycle.append(cycle)
        self.done = True


def _dropped_qobject_in_a_cycle(threads: list) -> None:
    """A QObject the GUI thread made and dropped, kept alive only by a cycle; ``threads`` gets
    whether the thread that finally frees it is the GUI thread."""
    o = QObject()
    o.me = o
    weakref.finalize(o, lambda: threads.append(threading.current_thread() is threading.main_thread()))


def test_a_worker_thread_never_collects_what_the_gui_thread_dropped(qtbot):
    collector = collect_garbage_in_gui_thread()
    collector.timer.stop()                        # (the test says when the GUI thread collects)
    try:
        threads = []
        _dropped_qobject_in_a_cycle(threads)
        owner = QObject()
        bg = Background(owner, Allocator(), "test-allocator")
        bg.post(50 * gc.get_threshold()[0])       # enough to fill generation 0 fifty times over
        qtbot.waitUntil(lambda: getattr(bg.worker, "done", False), timeout=10_000)
        bg.stop()
        assert threads == []                      # with Python's own collection: [False] (freed in the worker)
        collector._on_timer_timeout()
        gc.collect()
        assert threads == [True]
    finally:
        collector.timer.start()


def test_the_collector_replaces_pythons_and_collects_when_cpython_would(qtbot):
    collector = collect_garbage_in_gui_thread()
    assert collect_garbage_in_gui_thread() is collector      # one per application
    assert isinstance(collector, GarbageCollector) and not gc.isenabled()
    gc.collect()
    assert collector.due() is None
    threads = []
    _dropped_qobject_in_a_cycle(threads)
    for _ in range(collector.threshold[0] + 10):   # generation 0 past its threshold: due
        cycle = []
        cycle.append(cycle)
    assert collector.due() == 0
    qtbot.waitUntil(lambda: threads == [True], timeout=5 * GarbageCollector.INTERVAL_MS)
    assert collector.due() is None
