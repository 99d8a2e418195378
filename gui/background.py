"""One mechanism for work off the GUI thread, shared by the training (gui.worker) and the
analysis jobs (gui.jobs):

* ``Worker``: a QObject living in its own QThread that handles *requests* in order.  A
  request is the worker's ``requested`` signal emitted from the GUI thread (``Worker.post``),
  queued to the worker's thread.  (It was a posted event, as ``postEvent`` keeps the GIL
  where ``Signal.emit`` hands it over; at ~30 requests a second no goal of the window
  benchmark moved without it: see gui.worker's module doc.)  Each request carries an
  increasing id; the GUI thread writes ``cancel_upto`` (an int, an atomic store under the
  GIL) and the worker abandons requests with an id at or below it, between two pieces of work.
* ``Background``: the GUI-side owner of one worker thread: starts it, and stops it (cancel,
  end the event loop, wait) on ``stop()`` or when its owner is garbage-collected, so Qt never
  destroys a running QThread.

How results come back differs, on purpose.  The training publishes its report in an
attribute that the GUI thread reads at its frame timer's tick (no signal per report: 30
reports a second would each hand the GIL over), while a job's result is pushed with a
queued signal: a job reports a few times in all, and nothing ticks while it runs.

* ``GarbageCollector``: Python's cyclic garbage collection, run by the GUI thread only (see
  its doc): a plot item the window dropped is never destroyed by a worker thread.
"""
from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot


class Worker(QObject):
    """Lives in a worker thread; ``handle(*args)`` runs for each posted request, in order."""

    requested = Signal(object)        # (emitted in the GUI thread: a queued connection)

    def __init__(self):
        super().__init__()
        self.cancel_upto = 0          # written by the GUI thread: requests with an id <= it are abandoned
        self.requested.connect(self._on_self_requested)

    def post(self, *args) -> None:
        """(GUI thread) Queue ``handle(*args)`` in the worker's thread."""
        self.requested.emit(args)

    @Slot(object)
    def _on_self_requested(self, args) -> None:
        self.handle(*args)

    def handle(self, *args) -> None:
        raise NotImplementedError


def start_thread(worker: QObject, name: str) -> QThread:
    """Move ``worker`` to a new, started thread called ``name``; the worker is deleted when
    the thread ends."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread


def stop_thread(thread: QThread, worker: QObject, *_) -> None:
    """Cancel whatever the worker has queued, end its event loop and wait for it (safe when
    either is already gone).  Every worker thread is stopped this way before its QThread is
    dropped: never "QThread: Destroyed while thread is still running"."""
    try:
        worker.cancel_upto = 1 << 62
    except RuntimeError:                                   # the worker is already gone
        pass
    try:
        thread.quit()
        thread.wait()
    except RuntimeError:
        pass


class Background:
    """The GUI-side owner of ``worker``'s thread, named ``name``; stopped by ``stop()`` or when
    ``owner`` is garbage-collected."""

    def __init__(self, owner, worker: Worker, name: str):
        self.worker = worker
        self.thread = start_thread(worker, name)
        self._finalizer = weakref.finalize(owner, stop_thread, self.thread, worker)

    def post(self, *args) -> None:
        self.worker.post(*args)

    def cancel(self, upto: int) -> None:
        """Abandon the requests with an id <= ``upto``."""
        self.worker.cancel_upto = upto

    def stop(self) -> None:
        """Cancel, end the thread's event loop and wait for it (safe to call twice)."""
        self._finalizer()


class GarbageCollector(QObject):
    """Python's cyclic garbage collector, run on a timer of the GUI thread instead of at any
    allocation of any thread (pyqtgraph's advice, ``pyqtgraph.util.garbage_collector``).

    Left to itself, Python collects reference cycles in whichever thread happens to allocate
    when a generation fills up: a worker thread, in the middle of a step.  Qt objects are in
    such cycles (a plot item the window removed: pyqtgraph items hold their signals' bound
    methods), and destroying one there runs Qt's destructor outside the GUI thread, racing
    the GUI thread's paint.  Seen: in 8 full test runs, a worker thread ran a collection that
    freed 66 objects, once; and tests/test_background.py shows a QObject the GUI thread
    dropped freed by a worker thread's allocations.  So automatic collection is off, and every
    ``INTERVAL_MS`` the GUI thread collects what CPython would have by then: the oldest
    generation whose count passed its threshold (``gc.get_threshold()``), as CPython does.
    """

    INTERVAL_MS = 500

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start(self.INTERVAL_MS)

    def due(self) -> int | None:
        """The generation CPython would collect now, or None."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                return generation
        return None

    @Slot()
    def _on_timer_timeout(self) -> None:
        generation = self.due()
        if generation is not None:
            gc.collect(generation)


def collect_garbage_in_gui_thread() -> GarbageCollector:
    """Install the application's GarbageCollector (once; call from the GUI thread, after the
    QApplication is made) and return it."""
    app = QCoreApplication.instance()
    collector = app.findChild(GarbageCollector)
    return collector if collector is not None else GarbageCollector(app)
