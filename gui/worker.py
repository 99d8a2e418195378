"""Training off the GUI thread: a worker that steps a core Trainer on request, and the
GUI-side controller that paces it, keeps what it sent and says when to repaint.

Threads and ownership::

    GUI thread                                   worker thread (QThread + event loop)
    TrainingController ── trainer_sent ───────▶  TrainWorker   (owns the Trainer)
                       ── step_requested ─────▶  steps it, then
                       ◀─ progressed ─────────── a core.engine.Progress (plain arrays)

Every connection is queued (the worker lives in its own thread) and every worker signal
goes to a slot of the controller, a QObject of the GUI thread, so nothing the worker
emits runs in the worker thread except the training itself.  Nothing sleeps: a paced
speed is a number of steps per frame of a 30 Hz QTimer; "full speed" keeps two
requests in flight, each about 25 ms of training, so the worker never waits for a
repaint.  A request is cut short between two ~8 ms slices when it is cancelled
(pause, reset, close), so each of them is answered well within a frame.

Why not ``superqt.utils.thread_worker``: its GeneratorWorker is a QRunnable on the
global QThreadPool running a free loop around a generator.  Pausing polls with
``time.sleep(0.01)``, a value sent in is a plain attribute read at the next yield, and
the loop produces as fast as it can, so pacing would need sleeps in the generator and
"exactly one step" a handshake around it; reset means a new worker on the shared pool.
A plain QThread + QObject worker answering requests gives pacing, single steps,
reset and close with ordinary queued signals.

The one thing shared across threads without a signal is ``TrainWorker.cancel_upto``,
an int written by the GUI thread and read by the worker between slices (an atomic
store and load under the GIL): it lets the worker abandon queued work at once.
"""
from __future__ import annotations

import time
import weakref
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, QTimer, Signal, Slot

from core.network import predict

FULL_SPEED = 0                 # speed value: as fast as the machine goes
FRAME_MS = 33                  # ~30 repaints a second at most
CHUNK_SECONDS = 0.025          # work per full-speed request
SLICE_SECONDS = 0.008          # work between two looks at the cancel mark (a step() call
                               # costs ~0.6 ms of bookkeeping: slices much shorter lose speed)
IN_FLIGHT_FULL = 2             # full-speed requests kept queued at the worker
FIT_POINTS = 200               # x values the fitted functions are drawn at
FRAME_DUTY = 3.0               # a frame that cost c seconds is followed by >= FRAME_DUTY·c of rest

PAUSED, RUNNING, FINISHED = "paused", "running", "finished"


class TrainWorker(QObject):
    """Lives in the worker thread; steps the Trainer it was last sent."""

    progressed = Signal(int, int, object)      # request id, generation, Progress | None

    def __init__(self):
        super().__init__()
        self._trainer = None
        self._generation = -1
        self._slice = 1                        # steps per slice, adapted to ~SLICE_SECONDS
        self.cancel_upto = 0                   # written by the GUI thread (see module doc)

    @Slot(int, object)
    def _on_controller_trainer_sent(self, generation: int, trainer) -> None:
        self._trainer, self._generation, self._slice = trainer, generation, 1

    @Slot(int, int, int)
    def _on_controller_step_requested(self, request: int, generation: int, n: int) -> None:
        """Take ``n`` steps (``n < 0``: about CHUNK_SECONDS of them), then report."""
        trainer = self._trainer
        if trainer is None or generation != self._generation:
            self.progressed.emit(request, generation, None)
            return
        start = trainer.t
        self._train(trainer, request, n)
        self.progressed.emit(request, generation, trainer.progress(start))

    def _train(self, trainer, request: int, n: int) -> None:
        clock = time.perf_counter
        deadline = clock() + CHUNK_SECONDS if n < 0 else float("inf")
        remaining = n if n >= 0 else trainer.steps
        while remaining > 0 and not trainer.done and request > self.cancel_upto:
            t0 = clock()
            remaining -= trainer.step(min(remaining, self._slice))
            now = clock()
            if now - t0 < SLICE_SECONDS / 2:
                self._slice = min(2 * self._slice, 1 << 20)
            elif now - t0 > 2 * SLICE_SECONDS:
                self._slice = max(1, self._slice // 2)
            if now >= deadline:
                break


def _stop_thread(thread: QThread, worker: TrainWorker) -> None:
    """Cancel whatever the worker has queued, end its event loop and wait for it."""
    try:
        worker.cancel_upto = 1 << 62
    except RuntimeError:                        # the worker was already deleted
        pass
    thread.quit()
    thread.wait()


class TrainingController(QObject):
    """GUI-thread side of the training: state, pacing, the losses so far, repaint ticks.

    Read-only properties describe the latest batch the worker sent (``t``, ``losses()``,
    ``progress``...).  ``trainer`` is owned by the worker thread: read it only while
    ``idle`` is true (tests do, to compare the window with the engine).
    """

    trainer_sent = Signal(int, object)
    step_requested = Signal(int, int, int)
    frame = Signal()                # new numbers to draw; at most one per FRAME_MS
    reset_done = Signal()           # a new experiment at step 0: views rebuild their runs
    state_changed = Signal(str)     # PAUSED, RUNNING or FINISHED

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("lrlab-training")
        self._worker = TrainWorker()
        self._worker.moveToThread(self._thread)
        self.trainer_sent.connect(self._worker._on_controller_trainer_sent, Qt.QueuedConnection)
        self.step_requested.connect(self._worker._on_controller_step_requested, Qt.QueuedConnection)
        self._worker.progressed.connect(self._on_worker_progressed, Qt.QueuedConnection)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        # If the controller is dropped without shutdown() (its window deleted unclosed),
        # stop the thread before the QThread object goes: never "Destroyed while running".
        self._finalizer = weakref.finalize(self, _stop_thread, self._thread, self._worker)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

        self._generation = 0
        self._next_request = 1
        self._pending: set[int] = set()
        self._running = False
        self._speed = FULL_SPEED
        self._owed = 0.0
        self._last_pump = time.perf_counter()
        self._dirty = False
        self._frame_at = 0.0                    # when the last frame was emitted
        self._frame_cost = 0.0                  # smoothed seconds a frame keeps the GUI thread busy
        self._rate = deque(maxlen=64)           # (time, t) for steps per second
        self._fit_cache = None
        self._closed = False
        self._state = None

        self.experiment = None
        self.data = None
        self.trainer = None
        self.progress = None
        self._losses = np.empty((0, 1))

    # -- what the views read -------------------------------------------------------------
    @property
    def t(self) -> int:
        return 0 if self.progress is None else self.progress.t

    @property
    def steps(self) -> int:
        return 0 if self.experiment is None else self.experiment.steps

    @property
    def learning_rates(self) -> tuple:
        return () if self.experiment is None else self.experiment.learning_rates

    @property
    def outcomes(self) -> tuple:
        return () if self.progress is None else self.progress.outcomes

    @property
    def diverged_steps(self) -> np.ndarray:
        return np.zeros(0, int) if self.progress is None else self.progress.diverged_step

    @property
    def running(self) -> bool:
        return self._running

    @property
    def done(self) -> bool:
        return self.experiment is not None and self.t >= self.steps

    @property
    def idle(self) -> bool:
        """No request is queued at or running in the worker."""
        return not self._pending

    @property
    def state(self) -> str:
        return FINISHED if self.done else RUNNING if self._running else PAUSED

    @property
    def speed(self) -> int:
        return self._speed

    def losses(self) -> np.ndarray:
        """(K, t + 1) every loss received so far (NaN after a run blew up); a view."""
        return self._losses[:, :self.t + 1]

    def steps_per_second(self) -> float:
        """Training rate over the last second of batches (0 when paused)."""
        if not self._running or len(self._rate) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def fit_curves(self, points: int = FIT_POINTS):
        """(x_grid (G,), y_grid (K, G)): every run's current function over the data's x range."""
        if self.progress is None:
            return np.zeros(0), np.zeros((0, 0))
        key = (self._generation, self.t, points)
        if self._fit_cache is None or self._fit_cache[0] != key:
            x = self.data.x
            lo, hi = float(np.min(x)), float(np.max(x))
            pad = 0.08 * (hi - lo) if hi > lo else 1.0
            grid = np.linspace(lo - pad, hi + pad, points)
            y = predict(self.progress.theta, grid, self.experiment.hidden, self.experiment.activation)
            self._fit_cache = (key, grid, y)
        return self._fit_cache[1], self._fit_cache[2]

    # -- commands ------------------------------------------------------------------------
    def load(self, experiment, keep_running: bool | None = None) -> None:
        """Start ``experiment`` (validated) at step 0.  Raises ConfigError (e.g. a bad CSV)
        before anything changes.  Keeps running if it was, unless ``keep_running`` says."""
        data = experiment.make_data()
        trainer = experiment.trainer(data)
        run = self._running if keep_running is None else keep_running
        self._cancel_pending()
        self._generation += 1
        self.experiment, self.data, self.trainer = experiment, data, trainer
        self.progress = trainer.progress(0)           # before the worker owns it
        self._losses = np.empty((trainer.runs, trainer.steps + 1))
        self._losses[:, :1] = self.progress.losses
        self._fit_cache = None
        self._rate.clear()
        self.trainer_sent.emit(self._generation, trainer)
        self._running = False
        self._state = None                            # always announce the new state
        self.reset_done.emit()
        self._emit_frame()
        if run:
            self.start()
        if not self._running:
            self._emit_state()

    def reset(self) -> None:
        """Back to step 0 of the same experiment, paused."""
        if self.experiment is not None:
            self.load(self.experiment, keep_running=False)

    def start(self) -> None:
        if self._closed or self._running or self.experiment is None or self.done:
            return
        self._running = True
        self._owed = 1.0                              # the first step comes at once
        self._last_pump = time.perf_counter()
        self._rate.clear()
        self._rate.append((time.perf_counter(), self.t))
        self._timer.start()
        self._emit_state()
        self._pump()

    def pause(self) -> None:
        if not self._running:
            return
        self._running = False
        self._cancel_pending()
        self._emit_state()

    def toggle(self) -> None:
        self.pause() if self._running else self.start()

    def step(self) -> None:
        """Exactly one update (pauses first if running)."""
        if self._closed or self.experiment is None:
            return
        self.pause()
        if self.done:
            return
        self._request(1)
        self._timer.start()

    def set_speed(self, steps_per_second: int) -> None:
        """Steps per second, or FULL_SPEED; applies at once."""
        self._speed = max(0, int(steps_per_second))
        self._owed = min(self._owed, 1.0)
        self._last_pump = time.perf_counter()
        if self._running:
            self._pump()

    def shutdown(self) -> None:
        """Stop training and the thread, and wait for it (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._running = False
        self._timer.stop()
        self._finalizer()

    # -- internals -----------------------------------------------------------------------
    def _request(self, n: int) -> None:
        request = self._next_request
        self._next_request += 1
        self._pending.add(request)
        self.step_requested.emit(request, self._generation, n)

    def _cancel_pending(self) -> None:
        self._worker.cancel_upto = self._next_request - 1

    def _pump(self) -> None:
        """Queue the work the chosen speed asks for."""
        if not self._running or self.done:
            return
        if self._speed == FULL_SPEED:
            while len(self._pending) < IN_FLIGHT_FULL:
                self._request(-1)
            return
        now = time.perf_counter()
        cap = max(1.0, 2.0 * self._speed * FRAME_MS / 1000)
        self._owed = min(self._owed + (now - self._last_pump) * self._speed, cap)
        self._last_pump = now
        n = int(self._owed)
        if n >= 1 and not self._pending:
            self._owed -= n
            self._request(n)

    @Slot(int, int, object)
    def _on_worker_progressed(self, request: int, generation: int, progress) -> None:
        self._pending.discard(request)
        if generation != self._generation or progress is None or self._closed:
            return
        # FIFO: every batch of this generation continues the last one
        self._losses[:, progress.start:progress.t + 1] = progress.losses
        moved = progress.t != self.t
        self.progress = progress
        if moved:
            self._dirty = True
            self._rate.append((time.perf_counter(), progress.t))
            while len(self._rate) > 2 and self._rate[-1][0] - self._rate[0][0] > 1.0:
                self._rate.popleft()
        if self.done:
            self._running = False
            self._emit_state()
        else:
            self._pump()
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._pump()
        if self._dirty:
            if time.perf_counter() - self._frame_at >= max(FRAME_MS / 1000, FRAME_DUTY * self._frame_cost):
                self._emit_frame()
        elif not self._running and not self._pending:
            self._timer.stop()

    def _emit_state(self) -> None:
        if self.state != self._state:
            self._state = self.state
            self.state_changed.emit(self._state)

    def _emit_frame(self) -> None:
        """Views draw in ``frame``; a zero timer then measures draw + repaint, so that when
        drawing is slow (many runs, long curves) frames thin out instead of starving the
        training and the input events."""
        self._dirty = False
        self._frame_at = time.perf_counter()
        self.frame.emit()
        QTimer.singleShot(0, self._on_frame_painted)

    @Slot()
    def _on_frame_painted(self) -> None:
        cost = time.perf_counter() - self._frame_at
        self._frame_cost = cost if cost > self._frame_cost else 0.8 * self._frame_cost + 0.2 * cost
