"""Run a core function off the GUI thread and hand its result to a GUI-thread slot.

    runner = JobRunner(parent)                 # one worker thread, one job at a time
    runner.finished.connect(self._on_runner_finished)     # (result)
    runner.failed.connect(self._on_runner_failed)         # (message: str)
    runner.submit(core.range_test.range_test, exp, data, 1e-6, 10.0, 100)

Threads and ownership (as gui.worker)::

    GUI thread                          worker thread (QThread + event loop)
    JobRunner ── posted (id, call) ───▶ _JobWorker: calls fn(*args, **kwargs)
              ◀─ done(id, result) ───── (a generator function: one ``partial`` per
              ◀─ part(id, value) ──────  value it yields, and its return value last)
              ◀─ error(id, message) ───

The thread, the request (a queued signal) and its cancellation are gui.background's, as
for the training.  Every worker signal goes, queued, to a slot of the runner, a QObject
of the GUI thread, so the slots the views connect run in the GUI thread.  A new
``submit`` supersedes the job before it: the old one is cancelled (a generator stops at
its next ``yield``, a function with ``should_stop`` at its next look, any other function
runs to its end) and its results are dropped, so a
view only ever sees the answer to its latest question.  ``shutdown()`` — also run when
the runner is garbage-collected or its C++ object destroyed — cancels, ends the thread's
event loop and waits for it, so Qt never destroys a running QThread.

Cancelling reaches inside a job too: a function with a ``should_stop`` parameter (the range
test, the phase diagram, a trajectory: core.cancel) is given one that answers True once its
job is superseded, cancelled or the runner shut down; it raises core.cancel.Cancelled between
two chunks of steps, and the job ends with no signal.  So a close, a reset or a new request
ends the job within a chunk (≤ ~0.1 s), not at its end.

A ConfigError (bad input) is reported as its message, which names the field and the
value; any other exception as "<Type>: <message>" — never raised into the GUI.
"""
from __future__ import annotations

import inspect
import traceback
from functools import partial

from PySide6.QtCore import QObject, Qt, Signal, Slot

from core.cancel import Cancelled
from core.errors import ConfigError

from .background import Background, Worker, start_thread, stop_thread  # noqa: F401 (start/stop: also here)


def describe_error(e: BaseException) -> str:
    if isinstance(e, ConfigError):
        return str(e)
    if isinstance(e, MemoryError):
        return "not enough memory for this computation: try fewer samples, hidden units or grid points"
    return f"{type(e).__name__}: {e}"


def takes_should_stop(fn) -> bool:
    """True if ``fn`` has a ``should_stop`` parameter (core.cancel's hook)."""
    try:
        return "should_stop" in inspect.signature(fn).parameters
    except (TypeError, ValueError):                      # a builtin without a signature
        return False


class _JobWorker(Worker):
    """Lives in the worker thread; runs one call at a time."""

    def cancelled(self, job: int) -> bool:
        """(Any thread) True once job ``job`` is abandoned: the ``should_stop`` its call is given."""
        return job <= self.cancel_upto

    done = Signal(int, object)
    part = Signal(int, object)
    error = Signal(int, str)

    def handle(self, job: int, call) -> None:
        if job <= self.cancel_upto:
            return
        fn, args, kwargs = call
        if takes_should_stop(fn):
            kwargs = {**kwargs, "should_stop": partial(self.cancelled, job)}
        try:
            if inspect.isgeneratorfunction(fn):
                gen = fn(*args, **kwargs)
                while True:
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if job <= self.cancel_upto:
                        gen.close()
                        return
                    self.part.emit(job, value)
            else:
                result = fn(*args, **kwargs)
        except Cancelled:
            return
        except Exception as e:                            # noqa: BLE001 — reported as text
            if not isinstance(e, ConfigError):
                traceback.print_exc()
            self.error.emit(job, describe_error(e))
            return
        if job > self.cancel_upto:
            self.done.emit(job, result)


class JobRunner(QObject):
    """One background thread running the latest submitted call; results come back as signals."""

    finished = Signal(object)            # the result of the latest job
    partial = Signal(object)             # a value the latest job (a generator) yielded
    failed = Signal(str)                 # why the latest job failed, as a sentence
    busy_changed = Signal(bool)

    def __init__(self, parent=None, name: str = "lrlab-job"):
        super().__init__(parent)
        self._background = Background(self, _JobWorker(), name)
        self._worker, self._thread = self._background.worker, self._background.thread
        self._worker.done.connect(self._on_worker_done, Qt.QueuedConnection)
        self._worker.part.connect(self._on_worker_part, Qt.QueuedConnection)
        self._worker.error.connect(self._on_worker_error, Qt.QueuedConnection)
        self.destroyed.connect(partial(stop_thread, self._thread, self._worker))
        self._latest = 0
        self._busy = False
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, fn, *args, **kwargs) -> int:
        """Run ``fn(*args, **kwargs)`` in the worker thread, superseding any earlier job."""
        if self._closed:
            return 0
        self._background.cancel(self._latest)
        self._latest += 1
        self._set_busy(True)
        self._background.post(self._latest, (fn, args, kwargs))
        return self._latest

    def cancel(self) -> None:
        """Drop the current job (it stops at its next look at ``should_stop``, or a generator
        at its next yield)."""
        self._background.cancel(self._latest)
        self._set_busy(False)

    def shutdown(self) -> None:
        """Cancel, stop the thread and wait for it (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._set_busy(False)
        self._background.stop()

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    @Slot(int, object)
    def _on_worker_done(self, job: int, result) -> None:
        if job == self._latest and not self._closed and self._busy:
            self._set_busy(False)
            self.finished.emit(result)

    @Slot(int, object)
    def _on_worker_part(self, job: int, value) -> None:
        if job == self._latest and not self._closed and self._busy:
            self.partial.emit(value)

    @Slot(int, str)
    def _on_worker_error(self, job: int, message: str) -> None:
        if job == self._latest and not self._closed and self._busy:
            self._set_busy(False)
            self.failed.emit(message)
