"""Training off the GUI thread: a worker that steps a core Trainer on request, and the
GUI-side controller that paces it, keeps what it sent and says when to repaint.

Threads and ownership::

    GUI thread                                   worker thread (QThread + event loop)
    TrainingController ── trainer_sent ───────▶  TrainWorker   (owns the Trainer)
                       ── request (queued) ───▶  steps it, then publishes in ``latest``
                          (a queued signal)      a core.engine.Progress (plain arrays),
                       ◀─ latest, fits, taken    and in ``fits`` the fitted functions when
                          at each timer tick     the request asked (core's predictions; at
                                                 a paced speed with the trail of the last
                                                 few steps)

Nothing the worker does runs in the GUI thread, and nothing of the GUI runs in the
worker: the worker only trains and publishes.  Nothing sleeps: a paced speed is a
number of steps per frame of a 30 Hz QTimer; "full speed" keeps IN_FLIGHT_FULL requests
queued, each about 30 ms of training, so the worker never waits for a repaint.  A
request is cut short between two slices (at most ~30 ms) when it is cancelled (pause,
reset, close), so each of them is answered within a frame.

The worker and the GUI thread share the GIL: every millisecond the GUI thread spends in
Python (or in a Qt call made from Python) is a millisecond of training lost, and so is
every hand-over of the GIL: each costs the training thread a context switch (about 0.1 ms
on a small VM).  Python code hands the GIL over wherever it releases it, and PySide6
releases it more often than one would think: in every ``Signal.emit`` (with or without
receivers), and whenever a Qt object made from Python (a QRectF, a QPainter...) is
deleted.  numpy releases it in loops over more than 500 numbers and in 2-D fancy
indexing.  So reports are published in an attribute that the GUI thread reads at its
next tick (a frame is drawn at a tick anyway), and the views make no Qt objects per
frame.  Requests (gui.background) and the frame signal are ordinary queued and direct
Qt signals: ~30 a second each, and their hand-overs do not show on the window
benchmark.  (They were a posted event and a plain-Python signal; with and without,
interleaved ``bench_gui.py --quick --without posted|pysignal`` runs, 3 rounds, load
average 1.7-3.7: the lowest repaint rate 26-30/s without, 25-30/s with, the longest stall 25-59 ms
without against 28-58 ms with, training 84-89 % of headless without against 77-88 %
with: no goal moved, and the plain versions are the code now.)

So a frame draws only what changed (see gui.plots), and the frame rate is bounded both
by FRAME_MS and by what frames cost: at the tick after a frame, the GUI thread's CPU time
since the frame began (drawing and painting it, ``time.thread_time``) is its cost
(``note_frame_cost``), and frames may use GUI_SHARE of the time on average (a token
bucket).  So when frames get costly (many panels, a huge window) they thin out instead
of starving the training; at least MIN_FPS are drawn whatever they cost, and a costly
frame (a new axis range) is followed by REST times its cost without one, so that input
and timers get the GUI thread in between.  Training runs in ~30 ms slices: a
``Trainer.step`` call has a fixed cost (its outcome bookkeeping), so the fewer the
better.

Why not ``superqt.utils.thread_worker``: its GeneratorWorker is a QRunnable on the
global QThreadPool running a free loop around a generator.  Pausing polls with
``time.sleep(0.01)``, a value sent in is a plain attribute read at the next yield, and
the loop produces as fast as it can, so pacing would need sleeps in the generator and
"exactly one step" a handshake around it; reset means a new worker on the shared pool.
A plain QThread + QObject worker answering requests gives pacing, single steps,
reset and close with ordinary Qt events.

Shared across the threads without a signal (each an atomic store and load under the GIL):
written by the GUI thread and read by the worker, ``cancel_upto``, an int read between
slices, which lets the worker abandon queued work at once, and ``sharpness_wanted``,
read when it reports, which says whether the report carries the sharpness history
(measured only while the tab that shows it is open).  Written by the worker and read by
the GUI thread: ``latest``, the last report (a new tuple each time), ``fits``, the last
fitted functions (a new tuple each time: a report that carries them may be followed by
others before the GUI thread's tick, so they are kept apart), and the loss record, a (K, steps + 1) array made by the controller for each experiment and sent with
its trainer.  The worker writes each batch's losses into the record before it publishes
the report that includes them; the GUI thread reads steps 0 … t of the last report it
took, which are final (a step's loss is written once).  So no batch is copied in the
GUI thread.
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from . import frames
from .background import Background, Worker
from .noise_track import NoiseTrack

FULL_SPEED = 0                 # speed value: as fast as the machine goes
FRAME_MS = 33                  # ~30 repaints a second at most
CHUNK_SECONDS = 0.030          # work per full-speed request (about one per frame: each costs the GUI thread
                               # an event, and the GIL while it handles it)
SLICE_SECONDS = 0.030          # work between two looks at the cancel mark: a Trainer.step call has
                               # ~0.2-1 ms of bookkeeping, so a full-speed chunk is one slice
IN_FLIGHT_FULL = 3             # full-speed requests kept queued at the worker (replenished at each tick,
                               # so a late tick, after a costly frame, does not leave it idle)
FIT_POINTS = 120               # x values the fitted functions are drawn at (~4 px apart)
FITS_EVERY = frames.FITS_EVERY # at full speed, a request asks for the fits this often (as often as shown)
GUI_SHARE = 0.2                # frames are spaced so that the GUI thread uses at most this share of a CPU
MIN_FPS = 4                    # but never fewer frames than this a second
REST = 1.5                     # after a frame that cost c, no frame for REST·c
BUDGET_CAP = 0.010             # s of frame budget kept at most (no burst of frames after a pause)
SHARPNESS_POINTS = 250         # λ_max measurements per budget (the "Why it diverges" tab's curve)
TRAIL = 6                      # at a paced speed, fits of this many previous steps are kept (the trail)

PAUSED, RUNNING, FINISHED = "paused", "running", "finished"

class TrainWorker(Worker):
    """Lives in the worker thread; steps the Trainer it was last sent, on each posted request
    (gui.background), and publishes the report in ``latest``."""

    def __init__(self):
        super().__init__()
        self._trainer = None
        self._record = None                    # the controller's loss record (see module doc)
        self._spec, self._grid = None, None    # the model and the x values of the fitted functions
        self._trail = deque(maxlen=TRAIL)      # (K, G) fits before each of the last steps, oldest first
        self._generation = -1
        self._rate = 0.0                       # steps per second, measured (sizes the slices)
        self.sharpness_wanted = True           # also: reports carry the sharpness history
        # Written by the worker, read by the GUI thread (see module doc): the last report,
        # (request id, generation, Progress | None); and the last fits (see fit_report).
        self.latest = None
        self.fits = None
        self.noise = None                      # the last noise-scale report (gui.noise_track), a new tuple each time
        self._noise, self._batch_record = None, None

    @Slot(int, object, object, object, object)
    def _on_controller_trainer_sent(self, generation: int, trainer, record, fit_on, batch_record) -> None:
        self._trainer, self._record, self._generation, self._rate = trainer, record, generation, 0.0
        self._spec, self._grid = fit_on
        self._batch_record = batch_record      # the mini-batch losses' record (None at full batch)
        self._trail.clear()
        self._noise = NoiseTrack(generation, self._spec, trainer.data, trainer.batch_size)
        self.noise = self._noise.add(trainer.t, trainer.theta)

    def handle(self, request: int, generation: int, n: int, keep: int, fits: bool) -> None:
        """Take ``n`` steps (``n < 0``: about CHUNK_SECONDS of them), then report; with the fits
        if ``fits`` (or the budget is spent), and their trail over the last ``keep`` steps."""
        trainer = self._trainer
        if trainer is None or generation != self._generation:
            self.latest = (request, generation, None)
            return
        start = trainer.t
        recent = self._train(trainer, request, n, keep)
        if n < 0 or trainer.t - start > len(recent):   # the older fits are not of the steps just before
            self._trail.clear()
        if recent:                                     # each θ kept is predicted once
            m, (K, P) = len(recent), recent[0].shape
            self._trail.extend(self._spec.predict(np.array(recent).reshape(m * K, P), self._grid).reshape(m, K, -1))
        progress = trainer.progress(start, sharpness=self.sharpness_wanted)
        self._record[:, start:progress.t + 1] = progress.losses
        if self._batch_record is not None:
            self._batch_record[:, start:progress.t + 1] = progress.batch_losses
        if fits or trainer.done:
            self.fits = fit_report(generation, progress, self._spec, self._grid, self._trail)
        if self._noise.due(force=trainer.done):      # at most every NOISE_EVERY s (gui.noise_track)
            self.noise = self._noise.add(progress.t, progress.theta)
        self.latest = (request, generation, progress)

    def _train(self, trainer, request: int, n: int, keep: int = 0) -> list:
        """Step in slices of about SLICE_SECONDS (the fewer ``Trainer.step`` calls the better:
        each has a fixed cost), looking at the cancel mark between them."""
        clock = time.perf_counter
        start = clock()
        deadline = start + CHUNK_SECONDS if n < 0 else float("inf")
        remaining = n if n >= 0 else trainer.steps
        recent = []
        while remaining > 0 and not trainer.done and request > self.cancel_upto:
            if remaining <= keep:                  # the last few steps one by one, keeping θ before each
                recent.append(trainer.theta.copy())
                if trainer.step(1) < 1:
                    recent.pop()
                remaining -= 1
                continue
            t0 = clock()
            seconds = min(SLICE_SECONDS, deadline - t0)
            size = max(1, min(remaining - keep, int(self._rate * seconds)))
            taken = trainer.step(size)
            now = clock()
            remaining -= taken
            if taken and now > t0:              # steps per second, as the last slices went
                self._rate = taken / (now - t0) if self._rate <= 1 else 0.5 * self._rate + 0.5 * taken / (now - t0)
            if now >= deadline - 0.1 * CHUNK_SECONDS:
                break
        return recent


def fit_grid(x, points: int = FIT_POINTS) -> np.ndarray:
    """The x values the fitted functions are drawn at: the data's range and 8 % on each side."""
    lo, hi = float(np.min(x)), float(np.max(x))
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    return np.linspace(lo - pad, hi + pad, points)


def fit_report(generation: int, progress, spec, grid, trail=()) -> tuple:
    """(generation, t, grid (G,), every run's function over it (K, G), the ``trail`` of fits
    before the last steps (m, K, G) newest first | None): core's predictions."""
    return (generation, progress.t, grid, spec.predict(progress.theta, grid),
            np.array(trail)[::-1] if len(trail) else None)


class TrainingController(QObject):
    """GUI-thread side of the training: state, pacing, the losses so far, repaint ticks.

    Read-only properties describe the latest batch the worker sent (``t``, ``losses()``,
    ``progress``...).  ``trainer`` is owned by the worker thread: read it only while
    ``idle`` is true (tests do, to compare the window with the engine).
    """

    trainer_sent = Signal(int, object, object, object, object)
    reset_done = Signal()           # a new experiment at step 0: views rebuild their runs
    state_changed = Signal(str)     # PAUSED, RUNNING or FINISHED
    frame = Signal()                # new numbers to draw; at most one per FRAME_MS

    def __init__(self, parent=None):
        super().__init__(parent)
        self._background = Background(self, TrainWorker(), "lrlab-training")
        self._worker, self._thread = self._background.worker, self._background.thread
        self.trainer_sent.connect(self._worker._on_controller_trainer_sent, Qt.QueuedConnection)
        self._report = None             # the worker's last report taken (see _take_report)
        # (If the controller is dropped without shutdown(), its window deleted unclosed, the
        # thread is stopped before the QThread object goes: never "Destroyed while running".)

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
        self._framed_cpu = None                 # the GUI thread's CPU time then (until its cost is noted)
        self._frame_costs = deque(maxlen=15)    # CPU time each of the last frames cost
        self._last_cost = 0.0                   # the last one's
        self._budget = 0.0                      # GUI CPU time the frames may still use (see the timer)
        self._budget_at = time.perf_counter()
        self._rate = deque(maxlen=64)           # (time, t) for steps per second
        self._fits = None                       # the fit_report shown (the worker's, or step 0's)
        self._fits_asked_at = 0.0               # when a full-speed request last asked for the fits
        self._closed = False
        self._state = None

        self.experiment = None
        self.data = None
        self.trainer = None
        self.progress = None
        self._losses = np.empty((0, 1))
        self._batch_losses = None
        self._noise = None

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
        """(K, t + 1) every loss received so far (NaN after a run blew up); a view of the record
        the worker writes (steps 0 … t are final: see the module doc)."""
        return self._losses[:, :self.t + 1]

    def batch_losses(self):
        """(K, t + 1) the mini-batch loss of every update so far (the record the worker writes,
        like ``losses``), or None at full batch."""
        return None if self._batch_losses is None else self._batch_losses[:, :self.t + 1]

    def noise_scale(self):
        """The last noise-scale report of this experiment the worker sent
        (gui.noise_track.NoiseTrack.report), or None before its first."""
        return self._noise

    def steps_per_second(self) -> float:
        """Training rate over the last second of batches (0 when paused)."""
        if not self._running or len(self._rate) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def fit_curves(self):
        """(x_grid (G,), y_grid (K, G)): every run's function over the data's x range, as the
        worker last computed it (core's predictions at step ``fits_t``: at full speed about
        every FITS_EVERY, at a paced speed at every report, and always at the last step)."""
        if self._fits is None:
            return np.zeros(0), np.zeros((0, 0))
        return self._fits[2], self._fits[3]

    @property
    def fits_t(self) -> int:
        """The step the fits are of (-1 before any)."""
        return -1 if self._fits is None else self._fits[1]

    def fit_trail(self):
        """(m, K, G): every run's function at the last m <= TRAIL steps before the fits' step,
        newest first (the grid of ``fit_curves``), or None.  Kept at paced speeds and single
        steps only: at full speed frames are hundreds of steps apart and there is no trail."""
        return None if self._fits is None else self._fits[4]

    # -- commands ------------------------------------------------------------------------
    def load(self, experiment, keep_running: bool | None = None) -> None:
        """Start ``experiment`` (validated) at step 0.  Raises ConfigError (e.g. a bad CSV)
        before anything changes.  Keeps running if it was, unless ``keep_running`` says."""
        data = experiment.make_data()
        # λ_max of every run SHARPNESS_POINTS times over the budget (at most every 10 steps).
        # One measurement of 16 runs costs about 10 steps at H = 2 (benchmarks/bench_sharpness.py):
        # 250 points over 100,000 steps cost ~2.5% of the training, 1000 cost ~10%.  The trainer
        # only notes θ at those steps; they are measured when a report asks for them (while the
        # tab that shows them is open: want_sharpness), in batches.
        every = max(10, experiment.steps // SHARPNESS_POINTS)
        trainer = experiment.trainer(data, sharpness_every=every)
        run = self._running if keep_running is None else keep_running
        self._cancel_pending()
        self._generation += 1
        self.experiment, self.data, self.trainer = experiment, data, trainer
        self.progress = trainer.progress(0)           # before the worker owns it
        self._losses = np.empty((trainer.runs, trainer.steps + 1))      # written by the worker (module doc)
        self._losses[:, :1] = self.progress.losses
        self._batch_losses = None
        if self.progress.batch_losses is not None:
            self._batch_losses = np.empty((trainer.runs, trainer.steps + 1))
            self._batch_losses[:, :1] = self.progress.batch_losses
        spec, grid = experiment.model_spec(), fit_grid(data.x)
        self._fits = fit_report(self._generation, self.progress, spec, grid)    # (the worker's from now on)
        self._rate.clear()
        self.trainer_sent.emit(self._generation, trainer, self._losses, (spec, grid), self._batch_losses)
        self._running = False
        self._state = None                            # always announce the new state
        self._noise = None                            # (the timer takes step 0's noise scale when it comes)
        self.reset_done.emit()
        self._emit_frame()
        if not self._timer.isActive() and not self._closed:
            self._timer.start()
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
        self._request(0)                              # the fits of the step it stops at
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

    def set_speed(self, steps_per_second: int) -> None:
        """Steps per second, or FULL_SPEED; applies at once."""
        self._speed = max(0, int(steps_per_second))
        self._owed = min(self._owed, 1.0)
        self._last_pump = time.perf_counter()
        if self._running:
            self._pump()

    def want_sharpness(self, on: bool) -> None:
        """Whether reports carry the sharpness history (λ_max is then measured as training goes;
        otherwise the trainer only notes the parameters, and measures them when next asked).
        Turned on while idle, it asks for a report at once."""
        on = bool(on)
        if on == self._worker.sharpness_wanted:
            return
        self._worker.sharpness_wanted = on
        if on and self.trainer is not None and not self._pending:
            self._request(0, fits=False)

    def shutdown(self) -> None:
        """Stop training and the thread, and wait for it (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._running = False
        self._timer.stop()
        self._background.stop()

    # -- internals -----------------------------------------------------------------------
    def _request(self, n: int, fits: bool = True) -> None:
        """Ask for ``n`` steps (``n < 0``: a full-speed chunk), and the fits after them if ``fits``."""
        request = self._next_request
        self._next_request += 1
        self._pending.add(request)
        self._background.post(request, self._generation, n, 0 if n < 0 else TRAIL, fits)
        if not self._timer.isActive():                   # (it takes the report)
            self._timer.start()

    def _cancel_pending(self) -> None:
        self._background.cancel(self._next_request - 1)

    def _pump(self) -> None:
        """Queue the work the chosen speed asks for."""
        if not self._running or self.done:
            return
        if self._speed == FULL_SPEED:
            while len(self._pending) < IN_FLIGHT_FULL:
                now = time.perf_counter()
                fits = now - self._fits_asked_at >= FITS_EVERY
                if fits:
                    self._fits_asked_at = now
                self._request(-1, fits)
            return
        now = time.perf_counter()
        cap = max(1.0, 2.0 * self._speed * FRAME_MS / 1000)
        self._owed = min(self._owed + (now - self._last_pump) * self._speed, cap)
        self._last_pump = now
        n = int(self._owed)
        if n >= 1 and not self._pending:
            self._owed -= n
            self._request(n)

    def _take_report(self) -> None:
        """The worker's latest report, if new.  Requests are answered in order, so it also
        answers every earlier one; at a paced speed only one is in flight (nothing is missed),
        at full speed only the latest state matters (the losses are in the record)."""
        report = self._worker.latest
        if report is not None and report is not self._report:
            self._report = report
            self._apply_report(*report)
        noise = self._worker.noise                # a new noise scale (step 0's comes on its own)
        if noise is not None and noise is not self._noise and noise[0] == self._generation and not self._closed:
            self._noise = noise
            self._dirty = True
        fits = self._worker.fits                  # (read after the report: as new as it, or newer)
        if fits is not None and fits is not self._fits and fits[0] == self._generation and not self._closed:
            self._fits = fits
            self._dirty = True

    def _apply_report(self, request: int, generation: int, progress) -> None:
        self._pending = {r for r in self._pending if r > request}
        if generation != self._generation or progress is None or self._closed:
            return
        moved = progress.t != self.t
        news = moved or (progress.sharpness is not None and (self.progress is None or self.progress.sharpness is None))
        self.progress = progress
        if news:
            self._dirty = True
        if moved:
            self._rate.append((time.perf_counter(), progress.t))
            while len(self._rate) > 2 and self._rate[-1][0] - self._rate[0][0] > 1.0:
                self._rate.popleft()
        if self.done:
            self._running = False
            self._emit_state()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._framed_cpu is not None:
            # The last frame's cost: what the GUI thread did since it began (drawing it, then
            # painting it in the event loop, and whatever else came in between); not after a
            # pause of the timer, when that would count the idle time's work.
            cost = time.thread_time() - self._framed_cpu
            self._framed_cpu = None
            if time.perf_counter() - self._frame_at < 4 * FRAME_MS / 1000:
                self.note_frame_cost(cost)
        self._take_report()
        self._pump()
        self._frame_if_due()
        if not self._dirty and not self._running and not self._pending and self._noise is not None:
            self._timer.stop()

    def _frame_if_due(self) -> None:
        now = time.perf_counter()
        # The frames' CPU budget refills at GUI_SHARE of the time (a token bucket, so a frame
        # costing a little more than a tick's share comes every tick or two, not every second).
        self._budget = min(self._budget + (now - self._budget_at) * GUI_SHARE, BUDGET_CAP)
        self._budget_at = now
        if self._dirty:
            since = now - self._frame_at
            # (a tick comes FRAME_MS after the last one, give or take: do not wait for the next)
            if since >= 0.75 * FRAME_MS / 1000 and since >= REST * self._last_cost and (
                    self._budget >= 0 or since >= 1 / MIN_FPS):
                self._emit_frame()

    def note_frame_cost(self, seconds: float) -> None:
        """The GUI thread's CPU time one frame took to draw and paint; it is taken from the
        frames' budget.  A frame far costlier than the others (a new axis range, say) is charged
        at most twice their median, so it does not hold the next ones back for long; it is
        followed by REST times its cost with no frame, so that input and timers get the GUI
        thread between two of them."""
        cost = max(0.0, float(seconds))
        median = self.frame_cost if self._frame_costs else cost
        self._frame_costs.append(cost)
        self._last_cost = cost
        self._budget -= min(cost, 2 * median)

    @property
    def frame_cost(self) -> float:
        """Median CPU time of the last frames (0 before any was reported)."""
        costs = sorted(self._frame_costs)
        n = len(costs)
        return (costs[(n - 1) // 2] + costs[n // 2]) / 2 if n else 0.0

    def _emit_state(self) -> None:
        if self.state != self._state:
            self._state = self.state
            self.state_changed.emit(self._state)

    def _emit_frame(self) -> None:
        """Views draw in ``frame`` (the timer's pacing: see the module doc)."""
        self._dirty = False
        self._frame_at = time.perf_counter()
        self._framed_cpu = time.thread_time()
        self.frame.emit()
