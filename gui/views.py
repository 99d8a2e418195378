"""The main window's views, each refreshed by one call, ``refresh(snapshot, frame)``.

A ``Snapshot`` is what the training controller holds at a frame (losses, t, outcomes,
diverged steps, progress, the fits the worker computed); a ``gui.frames.Frame`` says what
is due on it.  The tabs — ``OverlayView`` (loss curves, fits, parameters),
``SideBySideView`` (small multiples) and ``WhyView`` (the "Why it diverges" tab) — are
refreshed only while in front; the run list's live columns (``RunColumns``) and the status
bar (``StatusView``) are always in sight.  Each tab's ``parts`` are the scheduled parts it
shows.  Math stays in core: these move numbers to widgets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from . import style
from .controls import SPEEDS, speed_text
from .recipes import recipe_text
from .worker import FINISHED, FULL_SPEED, RUNNING


@dataclass(frozen=True)
class Snapshot:
    """What the controller holds at one frame (arrays are the controller's: read, never write)."""

    experiment: object
    data: object
    progress: object               # core.engine.Progress
    losses: np.ndarray             # (K, t + 1)
    t: int
    steps: int                     # the step budget
    outcomes: tuple
    diverged_steps: np.ndarray
    fits: tuple                    # (x (G,), y (K, G)) as the worker last computed them
    trail: object                  # (m, K, G) or None
    running: bool
    full: bool                     # running at full speed
    state: str
    speed: int
    steps_per_second: float
    batch_losses: np.ndarray | None = None      # (K, t + 1) the mini-batch loss of every update (None at full batch)
    noise: tuple | None = None                  # the noise scale so far (gui.noise_track.NoiseTrack.report)

    @classmethod
    def of(cls, c) -> "Snapshot":
        """The training controller's (gui.worker.TrainingController) numbers now."""
        return cls(c.experiment, c.data, c.progress, c.losses(), c.t, c.steps, c.outcomes, c.diverged_steps,
                   c.fit_curves(), c.fit_trail(), c.running, c.running and c.speed == FULL_SPEED, c.state, c.speed,
                   c.steps_per_second(), c.batch_losses(), c.noise_scale())

    @property
    def learning_rates(self) -> tuple:
        return self.experiment.learning_rates

    @property
    def outcome_key(self) -> tuple:
        """What the run list's outcome column shows: (outcomes, diverged steps)."""
        return self.outcomes, tuple(int(d) for d in self.diverged_steps)


class OverlayView:
    """Every run's loss curve in one plot, beside the data with every run's fit and the chosen
    run's parameters.  ``widget`` is the tab."""

    parts = ("fits", "params")

    def __init__(self):
        from .plots import FitPlot, LossPlot, ParamPanel                    # pyqtgraph: see MainWindow
        self.loss_plot = LossPlot()
        self.loss_plot.set_title("Loss curves")
        self.fit_plot = FitPlot()
        self.fit_plot.set_title("Fitted function")
        self.params = ParamPanel()
        self.side = QSplitter(Qt.Vertical)             # the fit above the chosen run's parameters
        self.side.addWidget(self.fit_plot)
        self.side.addWidget(self.params)
        self.side.setStretchFactor(0, 3)
        self.side.setStretchFactor(1, 2)
        self.widget = QSplitter(Qt.Horizontal)
        self.widget.addWidget(self._loss_with_toggles())
        self.widget.addWidget(self.side)
        self.widget.setStretchFactor(0, 5)
        self.widget.setStretchFactor(1, 4)
        for splitter in (self.side, self.widget):
            splitter.setChildrenCollapsible(False)
        self.widget.setSizes([640, 580])
        self.side.setSizes([520, 380])
        self.selected = 0
        self._single_point = None

    def _loss_with_toggles(self) -> QWidget:
        """The loss plot under its mini-batch toggles: the batch losses, the epochs axis."""
        self.batch_toggle = QCheckBox("batch loss")
        self.batch_toggle.setToolTip("Also draw, faint, the loss of the mini-batch each update descended (the "
                                     "curves stay the loss on all the data). Mini-batch experiments only.")
        self.epochs_toggle = QCheckBox("epochs")
        self.epochs_toggle.setToolTip("Label the step axis in epochs (passes over the data: updates ÷ ceil(N / B)) "
                                      "rather than updates. Mini-batch experiments only.")
        self.batch_toggle.toggled.connect(self._on_batch_toggle_toggled)
        self.epochs_toggle.toggled.connect(self._on_epochs_toggle_toggled)
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 0)
        row.addStretch(1)
        row.addWidget(self.batch_toggle)
        row.addWidget(self.epochs_toggle)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.loss_plot, 1)
        # the toggles must not widen the window's minimum (the plot's own decides; they are clipped below it)
        box.setMinimumWidth(self.loss_plot.minimumSizeHint().width())
        return box

    def _on_batch_toggle_toggled(self, on: bool) -> None:
        self.loss_plot.show_batch_losses(on)

    def _on_epochs_toggle_toggled(self, on: bool) -> None:
        self.loss_plot.show_epochs(on)

    def set_experiment(self, snap: Snapshot, visible: bool = True) -> None:
        colors = style.run_colors(len(snap.learning_rates))
        names = [recipe_text(r) for r in snap.experiment.recipes()]     # "lr=1 · momentum 0.9"
        for view in (self.loss_plot, self.fit_plot):
            view.set_runs(snap.learning_rates, colors, names)
        batches = snap.batch_losses is not None
        self.loss_plot.set_batch_losses(snap.batch_losses, snap.progress.updates_per_epoch)
        for toggle in (self.batch_toggle, self.epochs_toggle):
            toggle.setEnabled(batches)
        self.loss_plot.show_batch_losses(self.batch_toggle.isChecked())
        self.loss_plot.show_epochs(self.epochs_toggle.isChecked())
        self.fit_plot.set_points(snap.data.x, snap.data.y)
        self.selected = min(self.selected, len(colors) - 1)
        single = len(snap.data) == 1                       # the chain rule needs room
        if single != self._single_point:
            self._single_point = single
            total = sum(self.side.sizes()) or 900
            self.side.setSizes([int(total * (0.36 if single else 0.58)), int(total * (0.64 if single else 0.42))])

    def shown(self, snap: Snapshot) -> None:
        """It came into sight (the window's next frame refreshes all of it)."""

    def refresh(self, snap: Snapshot, frame) -> None:
        frame.redrawn(self.show_loss(snap))
        if frame.due("fits"):
            self.show_fits(snap)
        if frame.due("params"):
            self.show_params(snap)

    def show_loss(self, snap: Snapshot) -> bool:
        """The loss curves (and the mini-batch losses, faint, when shown); True if the plot was
        redrawn from scratch."""
        self.loss_plot.set_batch_losses(snap.batch_losses, snap.progress.updates_per_epoch)
        return self.loss_plot.update_data(snap.losses, snap.t, snap.outcomes, snap.diverged_steps, budget=snap.steps)

    def show_fits(self, snap: Snapshot) -> None:
        x, y = snap.fits
        self.fit_plot.update_fits(x, y, snap.progress.stopped, snap.trail)

    def show_params(self, snap: Snapshot) -> None:
        self.params.show_progress(snap.progress, self.selected, snap.experiment, snap.data)
        self.params.show_noise(snap.noise, self.selected)

    def select(self, k: int, snap: Snapshot | None) -> None:
        """The run whose parameters are shown."""
        self.selected = k
        if snap is not None:
            self.show_params(snap)

    def set_dark(self, dark: bool) -> None:
        for view in (self.loss_plot, self.fit_plot, self.params):
            view.set_dark(dark)


class SideBySideView:
    """One panel per learning rate: its loss curve and its fit (``widget``: the tab, a SmallMultiples).
    Its K plots are rebuilt for a new experiment only when it comes into sight (they are costly)."""

    parts = ("fits",)

    def __init__(self):
        from .plots import SmallMultiples
        self.widget = self.multiples = SmallMultiples()
        self.stale = True

    def set_experiment(self, snap: Snapshot, visible: bool) -> None:
        self.stale = True
        if visible:
            self.shown(snap)

    def shown(self, snap: Snapshot) -> None:
        if self.stale:
            self.multiples.set_runs(snap.learning_rates, style.run_colors(len(snap.learning_rates)))
            self.multiples.set_points(snap.data.x, snap.data.y)
            self.stale = False

    def refresh(self, snap: Snapshot, frame) -> None:
        x, y = snap.fits if frame.due("fits") else (None, None)
        self.multiples.update_data(snap.losses, snap.t, snap.outcomes, snap.diverged_steps, x, y, budget=snap.steps,
                                   panels=frame.panels)

    def set_dark(self, dark: bool) -> None:
        self.multiples.set_dark(dark)


class WhyView:
    """The "Why it diverges" tab: gui.analysis_views.AnalysisTabs in a scroll area (``widget``):
    its views are wide, they must not set the window's minimum size."""

    parts = ()                       # refreshed with the outcomes ("analysis")

    def __init__(self):
        from .analysis_views import AnalysisTabs
        self.analysis = AnalysisTabs()
        self.widget = QScrollArea()
        self.widget.setWidget(self.analysis)
        self.widget.setWidgetResizable(True)
        self.widget.setFrameShape(QScrollArea.NoFrame)

    def set_experiment(self, snap: Snapshot, visible: bool = True) -> None:
        self.analysis.set_experiment(snap.experiment, snap.data)

    def shown(self, snap: Snapshot) -> None:
        """It came into sight (the window's next frame refreshes it)."""

    def refresh(self, snap: Snapshot, frame) -> None:
        if frame.due("analysis"):
            c = snap
            self.analysis.on_progress(c.progress, c.learning_rates,
                                      c.losses if c.experiment.model_spec().exact_forecast else None)

    def set_dark(self, dark: bool) -> None:
        self.analysis.set_dark(dark)


class RunColumns:
    """The run list's live columns (gui.runs): each run's outcome, and its dead units."""

    def __init__(self, runs):
        self.runs = runs

    def set_experiment(self, snap: Snapshot = None, visible: bool = True) -> None:
        self.runs.set_dead_units(None)

    def refresh(self, snap: Snapshot, frame) -> None:
        if frame.outcomes_changed:
            self.runs.set_outcomes(*frame.outcomes)
        if frame.due("analysis"):
            dead = snap.progress.dead_units
            self.runs.set_dead_units(dead, snap.experiment.hidden if dead is not None else None)


def epoch_text(t: int, steps: int, per_epoch: int) -> str:
    """Epochs done after ``t`` of ``steps`` updates at ``per_epoch`` = ceil(N/B) updates an epoch."""
    return f"epoch {t / per_epoch:,.{2 if per_epoch > 10 else 1}f} / {steps / per_epoch:,.{2 if per_epoch > 10 else 1}f}"


class StatusView:
    """The status bar's step counter, epoch counter (mini-batches only: at full batch an
    update is an epoch), training rate and state."""

    def __init__(self, status_bar):
        self.step_label = QLabel()
        self.epoch_label = QLabel()
        self.rate_label = QLabel()
        self.state_label = QLabel()
        self.epoch_label.hide()
        for w in (self.step_label, self.epoch_label, self.rate_label, self.state_label):
            w.setContentsMargins(8, 0, 8, 0)
            status_bar.addPermanentWidget(w)
        self.step_label.setToolTip("Updates done so far, out of the step budget.")
        self.epoch_label.setToolTip("Passes over the data so far: updates ÷ updates per epoch (ceil(N / B)).")
        self.rate_label.setToolTip("Training speed over the last second, in steps per second (each step "
                                   "updates every run).")

    def set_experiment(self, snap: Snapshot, visible: bool = True) -> None:
        """Labels as wide as their widest text: a text that changes every frame must not make the
        main window lay itself out again (~10 ms, and a repaint of every widget)."""
        steps, per_epoch = snap.steps, snap.progress.updates_per_epoch
        self.epoch_label.setVisible(per_epoch > 1)
        widest = {self.step_label: [f"step {steps:,} / {steps:,}"],
                  self.epoch_label: [epoch_text(steps, steps, per_epoch)],
                  self.rate_label: ["99,999,999 steps/s"],
                  self.state_label: [f"{state}  ·  speed: {speed_text(v)}" for state in ("training", "finished")
                                     for v in SPEEDS]}
        for label, texts in widest.items():
            m = label.contentsMargins()
            # a fixed width *and* height: then QLabel.setText does not ask for a new layout at all
            label.setFixedSize(max(label.fontMetrics().horizontalAdvance(t) for t in texts) + m.left() + m.right()
                               + 4, label.sizeHint().height())

    def refresh(self, snap: Snapshot, frame) -> None:
        if frame.due("status"):
            self.show(snap)

    def show(self, snap: Snapshot) -> None:
        for label, text in ((self.step_label, f"step {snap.t:,} / {snap.steps:,}"),
                            (self.epoch_label, epoch_text(snap.t, snap.steps, snap.progress.updates_per_epoch)),
                            (self.rate_label, f"{snap.steps_per_second:,.0f} steps/s" if snap.running
                             else "—  steps/s"),
                            (self.state_label, {RUNNING: "training", FINISHED: "finished"}.get(snap.state, "paused")
                             + f"  ·  speed: {speed_text(snap.speed)}")):
            if label.text() != text:
                label.setText(text)
