"""gui.background: requests handled in order in the worker's thread, cancellation, stopping."""
from __future__ import annotations

import gc
import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject  # noqa: E402

from gui.background import Background, Worker  # noqa: E402


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
