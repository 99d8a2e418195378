"""AnalysisTabs: the "Why it diverges" tab's four views in tabs, fed by the main window."""
from __future__ import annotations

from PySide6 import QtWidgets
from PySide6.QtCore import Signal, Slot

from .. import style
from ..jobs import JobRunner
from .curvature import CurvatureView, ForecastPanel, SharpnessPlot, forecast_job
from .landscape import LandscapeView
from .phase import PhaseDiagramView
from .range_test import RangeTestView


class AnalysisTabs(QtWidgets.QTabWidget):
    """Curvature, range test, landscape and phase diagram, in tabs.

    The window calls ``set_experiment(exp, data)`` when an experiment (re)starts,
    ``on_progress(progress, learning_rates, losses)`` on every frame, and listens to
    ``add_rate`` (a rate to add as a run), ``add_run`` (a rate and a width or seed) and
    ``critical_lr_changed`` (η*, for the learning-rate slider).
    """

    add_rate = Signal(float)
    add_run = Signal(float, str, int)
    critical_lr_changed = Signal(object)      # η* at the start: 2/λ_max (float), one per run (tuple), or None

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.experiment, self.data, self.forecast = None, None, None
        self.curvature = CurvatureView(dark=dark)
        self.range_test = RangeTestView(dark=dark)
        self.landscape = LandscapeView(dark=dark)
        self.phase = PhaseDiagramView(dark=dark)
        for view, text, tip in (
                (self.curvature, "Curvature", "λ_max of every run against its limit 2/η, and the stability forecast."),
                (self.range_test, "Range test", "The learning-rate range test, beside η* from the curvature."),
                (self.landscape, "Landscape", "The loss around a run's path, with the path drawn on it."),
                (self.phase, "Phase diagram", "Outcome over learning rates × widths or seeds.")):
            self.setTabToolTip(self.addTab(view, text), tip)
        self.runner = JobRunner(self, "lrlab-forecast")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.range_test.add_rate.connect(self.add_rate)
        self.phase.add_run.connect(self.add_run)
        self.currentChanged.connect(self._on_self_current_changed)
        self._outcomes = ()
        self._pending = None

    @property
    def sharpness_plot(self) -> SharpnessPlot:
        return self.curvature.sharpness

    @property
    def forecast_panel(self) -> ForecastPanel:
        return self.curvature.forecast

    def set_experiment(self, experiment, data=None) -> None:
        """A new experiment at step 0: forecast it, and give it to every view."""
        data = experiment.make_data() if data is None else data
        self.experiment, self.data, self.forecast = experiment, data, None
        self._outcomes, self._pending = (), None
        colors = style.run_colors(len(experiment.learning_rates))
        self.curvature.set_experiment(experiment, colors)
        linear = experiment.model_spec().exact_forecast and experiment.runs is None    # its closed form: gd
        self.curvature.predicted.setVisible(linear)
        if linear:
            self.curvature.predicted.set_runs(experiment.learning_rates, colors)
        self.curvature.forecast.show_computing()
        self.runner.submit(forecast_job, experiment, data)
        self.range_test.set_experiment(experiment, data)
        self.landscape.set_experiment(experiment, data)
        self.phase.set_experiment(experiment, data)

    def on_progress(self, progress, learning_rates=None, losses=None) -> None:
        """A core.engine.Progress: sharpness, live outcomes; ``losses`` (K, t+1) for the linear model's
        measured-vs-predicted plot."""
        if progress is None:
            return
        self._outcomes = tuple(progress.outcomes)
        if not self.curvature.isVisible():               # drawn when the tab is shown
            self._pending = (progress, losses)
            return
        self._pending = None
        self.curvature.show_progress(progress)
        self.curvature.forecast.set_outcomes(self._outcomes)
        if losses is not None and self.curvature.predicted.isVisible():
            self.curvature.predicted.set_measured(losses)

    def set_trajectory(self, path, model_spec, x, y, names, color=None, label=None) -> None:
        self.landscape.set_trajectory(path, model_spec, x, y, names, color, label)

    def set_dark(self, dark: bool) -> None:
        for view in (self.curvature.sharpness, self.curvature.predicted, self.range_test, self.landscape,
                     self.phase):
            view.set_dark(dark)

    def shutdown(self) -> None:
        """Stop every background job and wait for its thread (call from the window's closeEvent)."""
        for runner in (self.runner, self.range_test.runner, self.landscape.runner, self.phase.runner):
            runner.shutdown()

    def closeEvent(self, event) -> None:
        """Closed on its own (a test, an embedding): its jobs stop as the window's do, so a late
        forecast never reaches plots that are being torn down."""
        self.shutdown()
        super().closeEvent(event)

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        f, predicted, rates = result
        self.forecast = f
        exp = self.experiment
        colors = style.run_colors(len(f.lrs))
        self.curvature.forecast.show(f, exp.model, colors, exp.recipes())
        self.curvature.forecast.set_outcomes(self._outcomes)
        self.curvature.set_rate_samples(rates)
        if predicted is not None and self.curvature.predicted.isVisibleTo(self.curvature):
            self.curvature.predicted.set_predicted(predicted)
        critical = self.curvature.forecast.critical         # one float, or one per run (None: adaptive)
        first = critical if isinstance(critical, float) else critical[0]
        self.range_test.set_critical_lr(first)               # the range test trains the first run's recipe
        self.critical_lr_changed.emit(critical)

    @Slot(int)
    def _on_self_current_changed(self, index: int) -> None:
        if self._pending is not None and self.widget(index) is self.curvature:
            progress, losses = self._pending
            self.on_progress(progress, None, losses)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.curvature.forecast.show_error(message)
        self.range_test.set_critical_lr(None)
        self.critical_lr_changed.emit(None)
