"""LR Lab's main window: composes the controls, the plots and the training controller,
and wires them.  It computes nothing itself: numbers come from core (through the
controller), pictures from gui.plots, files from core.report and gui.render.

What a change does while training (also in Help ▸ How to read the views):
* data, model, a learning rate, the seed or the step budget -> the experiment starts
  again at step 0 with the new settings, and keeps training if it was;
* speed, theme, log/linear axes, the selected run -> at once, no reset;
* Reset (R) -> step 0 of the same experiment, paused.
"""
from __future__ import annotations

import os
import time

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QScrollArea, QSplitter, QStyle, QTabWidget,
                               QToolBar)

from dataclasses import replace

from core.errors import ConfigError
from core.experiment import PRESETS, Experiment, preset
from core.explain import explain
from core.network import unpack
from core.report import write_atomic, write_csv

from . import style
from .controls import DEFAULT_SPEED, SPEEDS, ControlPanel, speed_text
from .help import HelpDialog, shortcuts_html, views_html
from .icon import icon
from .runs import MAX_RUNS
from .worker import FINISHED, FULL_SPEED, RUNNING, TrainingController

TITLE = "LR Lab"
DEFAULT_SIZE = (1600, 1000)
DEFAULT_PRESET = "exercise4"
SETTINGS_ENV = "LRLAB_SETTINGS"             # an .ini path: tests keep the user's settings clean
# While training, the loss curves are drawn at every frame; the other views less often, at
# staggered times (so that their costs do not land on the same frame).  At full speed the
# fits are hundreds of steps apart anyway; at a paced speed they are drawn at every frame
# (with the trail of the last steps).
PARAMS_EVERY = 0.4                          # s between parameter-table refreshes while training
FITS_EVERY = 0.4                            # s between fit-plot refreshes at full speed
STATUS_EVERY = 0.1                          # s between step-counter refreshes while training
OUTCOMES_EVERY = 0.25                       # s between refreshes of the outcomes in the run list at full speed
PANELS_PER_FRAME = 4                        # side by side at full speed: this many panels' curves per frame, in turn
DEFAULT_EXPORT_WIDTH = 1600
CONTROLS_WIDTH = 380


def make_settings() -> QSettings:
    """QSettings("LRLab", "LRLab"), or the .ini file named by $LRLAB_SETTINGS."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("LRLab", "LRLab")


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(style.DARK["background"]), QColor("#2B2B2B"), QColor(style.DARK["foreground"])
    for role, color in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                        (QPalette.AlternateBase, window), (QPalette.Text, text), (QPalette.Button, window),
                        (QPalette.ButtonText, text), (QPalette.ToolTipBase, window),
                        (QPalette.ToolTipText, text), (QPalette.Highlight, QColor("#3A6EA5")),
                        (QPalette.HighlightedText, QColor("#FFFFFF")), (QPalette.PlaceholderText, QColor("#909090"))):
        p.setColor(role, color)
    p.setColor(QPalette.Disabled, QPalette.Text, QColor("#808080"))
    p.setColor(QPalette.Disabled, QPalette.WindowText, QColor("#808080"))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor("#808080"))
    return p


class _OnFirstPaint(QObject):
    """Calls ``callback`` once, just after the first paint of ``window`` (its whole first pass)."""

    def __init__(self, window, callback):
        super().__init__(window)
        self.callback = callback
        window.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.callback)
        return False


class MainWindow(QMainWindow):
    """``remember=False`` neither reads nor writes QSettings (the --screenshot mode).

    ``defer_plots=True`` (``python main.py``): the window is first shown without its plots —
    controls, menus and status bar, which need no pyqtgraph — and the plots are built, and
    the experiment loaded, right after that first paint; ``plots_ready`` then fires.  So the
    window is on screen ~0.4 s sooner (pyqtgraph's import).  Otherwise all is built at once.
    """

    plots_ready = Signal()

    def __init__(self, experiment: Experiment | None = None, settings: QSettings | None = None,
                 remember: bool = True, parent=None, defer_plots: bool = False):
        super().__init__(parent)
        self.settings = settings if settings is not None else make_settings()
        self.remember = remember
        self.last_error = ""
        self._selected = 0
        self._params_shown_at = 0.0
        self._fits_shown_at = 0.0
        self._status_shown_at = 0.0
        self._outcomes_at = 0.0
        self._help = None
        self.error_box = None
        self._multiples_stale = True
        self._outcomes_shown = None
        self.setWindowTitle(TITLE)
        self.setWindowIcon(icon())
        font = self.font()
        font.setPointSize(max(font.pointSize(), 11))
        self.setFont(font)

        self.controller = TrainingController(self)
        self.plots_built = False
        try:
            self._build(experiment, defer_plots)
        except BaseException:
            self.controller.shutdown()         # never leave the thread running behind a failure
            raise

    def _build(self, experiment, defer_plots: bool) -> None:
        self._build_controls()
        self._build_actions()
        self._build_menus()
        self._build_status()
        self._connect()
        remember = self.remember
        speed = self.settings.value("speed", DEFAULT_SPEED, type=int) if remember else DEFAULT_SPEED
        self.set_speed(speed if speed in SPEEDS else DEFAULT_SPEED)
        self._restore_geometry()
        self._first = self._first_experiment(experiment)
        if not defer_plots:
            self._build_plots()
            return
        waiting = QLabel("Loading the plots…")
        waiting.setAlignment(Qt.AlignCenter)
        self.setCentralWidget(waiting)
        self.controls.set_experiment(self._first)          # the settings show at once
        self.controls.setEnabled(False)
        for a in self._needs_plots:
            a.setEnabled(False)
        _OnFirstPaint(self, self._build_plots)

    @Slot()
    def _build_plots(self) -> None:
        """The plots (pyqtgraph), the remembered view settings and the first experiment."""
        if self.plots_built:
            return
        self._build_views()
        self.plots_built = True
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.controller.want_sharpness(self.tabs.currentWidget() is self._why_tab)
        remember = self.remember
        dark = remember and self.settings.value("dark", False, type=bool)
        log_x = remember and self.settings.value("log_x", False, type=bool)
        log_y = self.settings.value("log_y", True, type=bool) if remember else True
        self.dark_action.setChecked(bool(dark))
        self.log_y_action.setChecked(bool(log_y))
        self.log_x_action.setChecked(bool(log_x))
        self.controls.setEnabled(True)
        for a in self._needs_plots:
            a.setEnabled(True)
        self.load_experiment(self._first)
        self.plots_ready.emit()

    # -- construction ---------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.controls = ControlPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(CONTROLS_WIDTH)
        self.controls_dock = QDockWidget("Experiment", self)
        self.controls_dock.setObjectName("controls")
        self.controls_dock.setWidget(scroll)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.controls_dock)

    def _build_views(self) -> None:
        from .analysis_views import AnalysisTabs                            # pyqtgraph: see defer_plots
        from .plots import FitPlot, LossPlot, ParamPanel, SmallMultiples
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
        self.overlay = QSplitter(Qt.Horizontal)
        self.overlay.addWidget(self.loss_plot)
        self.overlay.addWidget(self.side)
        self.overlay.setStretchFactor(0, 5)
        self.overlay.setStretchFactor(1, 4)
        for splitter in (self.side, self.overlay):
            splitter.setChildrenCollapsible(False)
        self.overlay.setSizes([640, 580])
        self.side.setSizes([520, 380])
        self.multiples = SmallMultiples()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.overlay, "Overlay")
        self.tabs.addTab(self.multiples, "Side by side")
        self.analysis = AnalysisTabs()
        scroll = QScrollArea()                 # its views are wide: they must not set the window's minimum
        scroll.setWidget(self.analysis)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        self.tabs.addTab(scroll, "Why it diverges")
        self._why_tab = scroll
        self.tabs.setTabToolTip(2, "Curvature: the sharpness of every run against 2/η, the stability "
                                   "forecast, the range test, the loss landscape and the phase diagram.")
        self.analysis.add_rate.connect(self._on_analysis_add_rate)
        self.analysis.add_run.connect(self._on_analysis_add_run)
        self.analysis.critical_lr_changed.connect(self.controls.runs.set_critical_lr)
        self.tabs.setTabToolTip(0, "Every run's loss curve in one plot, beside the data, every run's fit and "
                                   "the chosen run's parameters.")
        self.tabs.setTabToolTip(1, "One panel per learning rate: its loss curve and its fit.")
        self.setCentralWidget(self.tabs)

    def _action(self, text, slot, shortcut=None, tip="", checkable=False, icon_=None) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        if icon_ is not None:
            a.setIcon(self.style().standardIcon(icon_))
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)                      # shortcuts work with the menus closed
        return a

    def _build_actions(self) -> None:
        A = self._action
        self.start_action = A("Start", self._on_start_action_triggered, Qt.Key_Space,
                              "Start or pause training (Space).", icon_=QStyle.SP_MediaPlay)
        self.step_action = A("Step", self._on_step_action_triggered, Qt.Key_Right,
                             "Take exactly one gradient-descent step (Right arrow).",
                             icon_=QStyle.SP_MediaSkipForward)
        self.reset_action = A("Reset", self._on_reset_action_triggered, Qt.Key_R,
                              "Go back to step 0 of this experiment, paused (R).", icon_=QStyle.SP_BrowserReload)
        self.open_action = A("Open experiment…", self._on_open_action_triggered, QKeySequence.Open,
                             "Open an experiment saved as JSON (the command line's --config format).")
        self.save_action = A("Save experiment…", self._on_save_action_triggered, QKeySequence.Save,
                             "Save this experiment as JSON (the command line's --config format).")
        self.export_png_action = A("Export loss curves PNG…", self._on_export_png_action_triggered, "Ctrl+E",
                                   "Save the loss plot, legend included, as a PNG at a width you choose.")
        self.export_csv_action = A("Export loss curves CSV…", self._on_export_csv_action_triggered,
                                   "Ctrl+Shift+E", "Save every run's loss after every step as CSV, "
                                   "like `main.py train --csv`.")
        self.export_fit_action = A("Export fit PNG…", self._on_export_fit_action_triggered, None,
                                   "Save the fitted-function plot as a PNG at a width you choose.")
        self.quit_action = A("Quit", self.close, QKeySequence.Quit, "Close LR Lab.")
        self.dark_action = A("Dark theme", self._on_dark_action_toggled, "Ctrl+D",
                             "Switch between the light (projector) and the dark theme.", checkable=True)
        self.log_y_action = A("Log loss axis", self._on_log_y_action_toggled, "Ctrl+L",
                              "Show the loss on a logarithmic (checked) or linear axis.", checkable=True)
        self.log_x_action = A("Log step axis", self._on_log_x_action_toggled, None,
                              "Show the steps on a logarithmic (checked) or linear axis.", checkable=True)
        self.shortcuts_action = A("Keyboard shortcuts", self._on_shortcuts_action_triggered, None,
                                  "List the keyboard shortcuts.")
        self.views_action = A("How to read the views", self._on_views_action_triggered, QKeySequence.HelpContents,
                              "What each view shows, and what slow, oscillating and diverging runs look like.")

        bar = QToolBar("Run")
        bar.setObjectName("run")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.start_action, self.step_action, self.reset_action):
            bar.addAction(a)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar
        # what needs the plots or an experiment (enabled once the plots are built: see defer_plots)
        self._needs_plots = [self.open_action, self.save_action, self.export_png_action, self.export_csv_action,
                             self.export_fit_action, self.dark_action, self.log_y_action, self.log_x_action]

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        for a in (self.open_action, self.save_action, None, self.export_png_action, self.export_csv_action,
                  self.export_fit_action, None, self.quit_action):
            m.addSeparator() if a is None else m.addAction(a)
        m = self.menuBar().addMenu("&Run")
        for a in (self.start_action, self.step_action, self.reset_action):
            m.addAction(a)
        m = self.menuBar().addMenu("&View")
        for a in (self.dark_action, None, self.log_y_action, self.log_x_action, None):
            m.addSeparator() if a is None else m.addAction(a)
        m.addAction(self.controls_dock.toggleViewAction())
        m = self.menuBar().addMenu("&Help")
        m.addAction(self.shortcuts_action)
        m.addAction(self.views_action)

    def _build_status(self) -> None:
        self.step_label = QLabel()
        self.rate_label = QLabel()
        self.state_label = QLabel()
        for w in (self.step_label, self.rate_label, self.state_label):
            w.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(w)
        self.step_label.setToolTip("Updates done so far, out of the step budget.")
        self.rate_label.setToolTip("Training speed over the last second, in steps per second (each step "
                                   "updates every run).")

    def _connect(self) -> None:
        c = self.controller
        c.frame.connect(self._on_controller_frame)
        c.reset_done.connect(self._on_controller_reset_done)
        c.state_changed.connect(self._on_controller_state_changed)
        self.controls.preset_chosen.connect(self._on_controls_preset_chosen)
        self.controls.experiment_edited.connect(self._on_controls_experiment_edited)
        self.controls.speed_changed.connect(self._on_controls_speed_changed)
        self.controls.runs.selection_changed.connect(self._on_runs_selection_changed)

    def _first_experiment(self, experiment):
        """``experiment``, else the one remembered in the settings, else the default one (with
        a message naming the settings file if the remembered one no longer loads)."""
        if experiment is not None:
            return experiment
        if self.remember:
            text = self.settings.value("experiment", "", type=str)
            if text:
                try:
                    exp = Experiment.parse(text, where="the last experiment")
                    exp.check_working_set(loss_records=2)
                    if exp.data_file is not None:
                        exp.make_data()                    # still there, still readable
                    return exp
                except ConfigError as e:
                    self.show_error("The last experiment could not be loaded",
                                    f"{e} (remembered in {self.settings.fileName()}); "
                                    "starting on the default experiment")
        return preset(DEFAULT_PRESET)

    def _restore_geometry(self) -> None:
        self.resize(*DEFAULT_SIZE)
        if not self.remember:
            return
        geometry = self.settings.value("geometry")
        state = self.settings.value("state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    # -- public commands (tests and menus) -------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        return self.controller.experiment

    def load_experiment(self, exp: Experiment) -> bool:
        """Start ``exp`` at step 0 (keeps training if it was); False and a message if it fails."""
        try:
            exp.check_working_set(loss_records=2)          # the trainer's losses and the controller's
            self.controller.load(exp)
        except ConfigError as e:
            self.show_error("The experiment could not be loaded", str(e))
            if self.controller.experiment is not None:
                self.controls.set_experiment(self.controller.experiment)
            else:                                   # nothing loaded yet: fall back to the default
                self.controller.load(preset(DEFAULT_PRESET))
                self.controls.set_experiment(self.controller.experiment)
            return False
        self.controls.set_experiment(exp)
        if self.remember:
            self.settings.setValue("experiment", exp.to_json())
        return True

    def set_speed(self, speed: int) -> None:
        self.controls.set_speed(speed)
        self.controller.set_speed(self.controls.current_speed())

    def show_error(self, title: str, message: str) -> None:
        """A visible, non-blocking message; never raises."""
        self.last_error = message
        self.statusBar().showMessage(f"⚠ {message}", 15000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    def export_loss_png(self, path, width: int | None = None) -> bool:
        self._draw_overlay(fits=False)
        return self._export_png(self.loss_plot, path, width, "Export loss curves PNG")

    def export_fit_png(self, path, width: int | None = None) -> bool:
        if self.controller.progress is not None:
            self._draw_fits()
        return self._export_png(self.fit_plot, path, width, "Export fit PNG")

    def _export_png(self, view, path, width, flag: str) -> bool:
        from .render import export_png
        return self._guard(path, export_png, view, path, width, flag=flag)

    def export_csv(self, path) -> bool:
        return self._guard(path, write_csv, path, self.controller.learning_rates, self.controller.losses(),
                           flag="Export loss curves CSV")

    def save_experiment(self, path) -> bool:
        exp = self.controller.experiment
        return self._guard(path, write_atomic, path, lambda fh: fh.write(exp.file_text(path)), "Save experiment")

    def open_experiment(self, path) -> bool:
        try:
            exp = Experiment.load(path)
        except ConfigError as e:
            self.show_error("The experiment could not be opened", str(e))
            return False
        ok = self.load_experiment(exp)
        if ok:
            self.statusBar().showMessage(f"Opened {path}", 5000)
        return ok

    def _guard(self, path, fn, *args, **kwargs) -> bool:
        """Write a file with ``fn``; a ConfigError (unwritable path...) becomes a message."""
        try:
            fn(*args, **kwargs)
        except ConfigError as e:
            self.show_error("The file could not be written", str(e))
            return False
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # -- drawing ---------------------------------------------------------------------------
    def draw(self) -> None:
        """Push the controller's latest numbers into the visible views.

        While training at full speed the loss curves (and the step counter) are drawn at
        every frame, and at most one other view is refreshed per frame, each at its own rate
        (see FITS_EVERY...), and none on a frame where the loss plot is redrawn from scratch
        (a new axis range): a frame's work stays small and even.  Otherwise everything is."""
        c = self.controller
        if c.progress is None or not self.plots_built:
            return
        now = time.perf_counter()
        full = c.running and c.speed == FULL_SPEED
        overlay = self.tabs.currentWidget() is self.overlay
        costly = overlay and self.loss_plot.update_data(c.losses(), c.t, c.outcomes, c.diverged_steps,
                                                        budget=c.steps)
        outcomes = (c.outcomes, tuple(int(d) for d in c.diverged_steps))
        if full:
            due = [name for name, at, every in (("fits", self._fits_shown_at, FITS_EVERY),
                                                 ("params", self._params_shown_at, PARAMS_EVERY),
                                                 ("outcomes", self._outcomes_at, OUTCOMES_EVERY))
                   if now - at >= every and (name != "outcomes" or outcomes != self._outcomes_shown)]
            due = set(due[:1]) if not costly else set()
        else:
            due = {"fits", "outcomes"} | ({"params"} if not c.running or now - self._params_shown_at >= PARAMS_EVERY
                                         else set())
        if "fits" in due:
            self._fits_shown_at = now
        if overlay:
            if "fits" in due:
                self._draw_fits()
        else:
            x, y = c.fit_curves() if "fits" in due else (None, None)
            self.multiples.update_data(c.losses(), c.t, c.outcomes, c.diverged_steps, x, y, budget=c.steps,
                                       panels=PANELS_PER_FRAME if full else None)
        if "outcomes" in due and outcomes != self._outcomes_shown:
            self._outcomes_shown, self._outcomes_at = outcomes, now
            self.controls.runs.set_outcomes(*outcomes)
        if "outcomes" in due or not c.running:
            self._draw_analysis()
        if "params" in due:
            self._params_shown_at = now
            self._show_params()
        if not c.running or now - self._status_shown_at >= STATUS_EVERY:
            self._status_shown_at = now
            self._show_status()

    def _draw_overlay(self, fits: bool = True) -> None:
        c = self.controller
        if c.progress is None:
            return
        self.loss_plot.update_data(c.losses(), c.t, c.outcomes, c.diverged_steps, budget=c.steps)
        if fits:
            self._draw_fits()

    def _draw_fits(self) -> None:
        c = self.controller
        x, y = c.fit_curves()
        self.fit_plot.update_fits(x, y, c.progress.stopped, c.fit_trail())

    def _draw_analysis(self) -> None:
        c = self.controller
        if c.progress is None:
            return
        self.analysis.on_progress(c.progress, c.learning_rates,
                                  c.losses() if c.experiment.model == "linear" else None)
        dead = c.progress.dead_units
        self.controls.runs.set_dead_units(dead, c.experiment.hidden if dead is not None else None)

    def _show_params(self) -> None:
        c = self.controller
        if c.progress is None:
            return
        k = min(self._selected, c.progress.theta.shape[0] - 1)
        lr, H, spec = c.learning_rates[k], c.experiment.hidden, c.experiment.model_spec()
        theta = c.progress.theta[k]
        self.params.show_run(lr, theta, c.progress.grad[k], c.progress.delta[k], H, spec.param_names)
        if len(c.data) == 1 and spec.kind == "mlp":
            w1, b1, w2, b2 = unpack(theta, H)
            self.params.show_chain_rule(explain(w1, b1, w2, b2, float(c.data.x[0]), float(c.data.y[0]),
                                                lr, c.experiment.activation))
        else:
            self.params.show_chain_rule(None)

    def _show_status(self) -> None:
        c = self.controller
        rate = c.steps_per_second()
        for label, text in ((self.step_label, f"step {c.t:,} / {c.steps:,}"),
                            (self.rate_label, f"{rate:,.0f} steps/s" if c.running else "—  steps/s"),
                            (self.state_label, {RUNNING: "training", FINISHED: "finished"}.get(c.state, "paused")
                             + f"  ·  speed: {speed_text(c.speed)}")):
            if label.text() != text:
                label.setText(text)

    def _size_status(self) -> None:
        """Status labels as wide as their widest text: a text that changes every frame must not
        make the main window lay itself out again (~10 ms, and a repaint of every widget)."""
        steps = self.controller.steps
        widest = {self.step_label: [f"step {steps:,} / {steps:,}"],
                  self.rate_label: ["99,999,999 steps/s"],
                  self.state_label: [f"{state}  ·  speed: {speed_text(v)}" for state in ("training", "finished")
                                     for v in SPEEDS]}
        for label, texts in widest.items():
            m = label.contentsMargins()
            # a fixed width *and* height: then QLabel.setText does not ask for a new layout at all
            label.setFixedSize(max(label.fontMetrics().horizontalAdvance(t) for t in texts) + m.left() + m.right()
                               + 4, label.sizeHint().height())

    # -- slots -----------------------------------------------------------------------------
    def _on_controller_frame(self) -> None:
        self.draw()                                 # (the controller notes what it costs: gui.worker)

    @Slot()
    def _on_controller_reset_done(self) -> None:
        c = self.controller
        colors = style.run_colors(len(c.learning_rates))
        for view in (self.loss_plot, self.fit_plot):
            view.set_runs(c.learning_rates, colors)
        self.fit_plot.set_points(c.data.x, c.data.y)
        self._multiples_stale = True                  # rebuilt when shown: it is costly (K plots)
        if self.tabs.currentWidget() is self.multiples:
            self._rebuild_multiples()
        self._outcomes_shown = None
        self.analysis.set_experiment(c.experiment, c.data)
        self.controls.runs.set_dead_units(None)
        self._size_status()
        self._selected = min(self._selected, len(colors) - 1)
        single = len(c.data) == 1                       # the chain rule needs room
        if single != getattr(self, "_single_point", None):
            self._single_point = single
            total = sum(self.side.sizes()) or 900
            self.side.setSizes([int(total * (0.36 if single else 0.58)), int(total * (0.64 if single else 0.42))])

    def _rebuild_multiples(self) -> None:
        c = self.controller
        self.multiples.set_runs(c.learning_rates, style.run_colors(len(c.learning_rates)))
        self.multiples.set_points(c.data.x, c.data.y)
        self._multiples_stale = False

    @Slot(str)
    def _on_controller_state_changed(self, state: str) -> None:
        running = state == RUNNING
        if running:                   # the first frames draw the curves; the other views come after
            now = time.perf_counter()
            self._fits_shown_at, self._params_shown_at, self._outcomes_at = now, now - PARAMS_EVERY / 2, now
        self.start_action.setText("Pause" if running else "Start")
        self.start_action.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if running
                                                            else QStyle.SP_MediaPlay))
        self.start_action.setEnabled(state != FINISHED)
        self.step_action.setEnabled(state != FINISHED)
        self._show_status()

    @Slot(str)
    def _on_controls_preset_chosen(self, name: str) -> None:
        if self.load_experiment(preset(name)):
            p = PRESETS[name]
            self.statusBar().showMessage(f"{p.title}: {p.description}", 10000)

    @Slot(object)
    def _on_controls_experiment_edited(self, exp) -> None:
        self.load_experiment(exp)

    @Slot(int)
    def _on_controls_speed_changed(self, speed: int) -> None:
        self.controller.set_speed(speed)
        if self.remember:
            self.settings.setValue("speed", speed)
        self._show_status()

    @Slot(int)
    def _on_runs_selection_changed(self, k: int) -> None:
        self._selected = k
        self._show_params()

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if self.tabs.currentWidget() is self.multiples and self._multiples_stale:
            self._rebuild_multiples()
        # λ_max is measured while the tab that shows it is open (training only notes θ otherwise)
        self.controller.want_sharpness(self.tabs.currentWidget() is self._why_tab)
        self.draw()

    @Slot()
    def _on_start_action_triggered(self) -> None:
        self.controller.toggle()

    @Slot()
    def _on_step_action_triggered(self) -> None:
        self.controller.step()

    @Slot()
    def _on_reset_action_triggered(self) -> None:
        self.controller.reset()

    @Slot(bool)
    def _on_dark_action_toggled(self, dark: bool) -> None:
        style.set_theme(dark)
        for view in (self.loss_plot, self.fit_plot, self.multiples, self.params, self.analysis):
            view.set_dark(dark)
        self.setPalette(dark_palette() if dark else QApplication.style().standardPalette())
        self.controls.runs.set_dark(dark)
        if self.remember:
            self.settings.setValue("dark", dark)

    @Slot(bool)
    def _on_log_y_action_toggled(self, on: bool) -> None:
        self.loss_plot.set_log_y(on)
        if self.remember:
            self.settings.setValue("log_y", on)

    @Slot(bool)
    def _on_log_x_action_toggled(self, on: bool) -> None:
        self.loss_plot.set_log_x(on)
        if self.remember:
            self.settings.setValue("log_x", on)

    def _save_path(self, title: str, name: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, name, filters)
        return path

    def _width(self, title: str) -> int | None:
        width, ok = QInputDialog.getInt(self, title, "Width of the image in pixels:", DEFAULT_EXPORT_WIDTH,
                                        200, 20000, 100)
        return width if ok else None

    @Slot()
    def _on_open_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", "", "LR Lab experiments (*.json);;"
                                              "All files (*)")
        if path:
            self.open_experiment(path)

    @Slot()
    def _on_save_action_triggered(self) -> None:
        path = self._save_path("Save experiment", "experiment.json", "LR Lab experiments (*.json)")
        if path:
            self.save_experiment(path)

    def _ask_png(self, title: str, name: str, export) -> None:
        """Ask for a PNG path and its width, then ``export(path, width)``."""
        path = self._save_path(title, name, "PNG images (*.png)")
        width = self._width(title) if path else None
        if path and width:
            export(path, width)

    @Slot()
    def _on_export_png_action_triggered(self) -> None:
        self._ask_png("Export loss curves PNG", "loss-curves.png", self.export_loss_png)

    @Slot()
    def _on_export_fit_action_triggered(self) -> None:
        self._ask_png("Export fit PNG", "fit.png", self.export_fit_png)

    @Slot()
    def _on_export_csv_action_triggered(self) -> None:
        path = self._save_path("Export loss curves CSV", "losses.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    @Slot()
    def _on_shortcuts_action_triggered(self) -> None:
        self._show_help("Keyboard shortcuts", shortcuts_html())

    @Slot()
    def _on_views_action_triggered(self) -> None:
        self._show_help("How to read the views", views_html())

    def _show_help(self, title: str, html: str) -> None:
        self._help = HelpDialog(title, html, self)
        self._help.setAttribute(Qt.WA_DeleteOnClose)
        self._help.show()

    @Slot(float)
    def _on_analysis_add_rate(self, lr: float) -> None:
        exp = self.experiment
        self._load_changed(exp, learning_rates=exp.learning_rates + (lr,))

    @Slot(float, str, int)
    def _on_analysis_add_run(self, lr: float, row_name: str, value: int) -> None:
        """A phase-diagram cell: its rate as a run, with its width or seed (seeded parameters, as there)."""
        exp = self.experiment
        rates = exp.learning_rates if lr in exp.learning_rates else exp.learning_rates + (lr,)
        self._load_changed(exp, learning_rates=rates, init=None, **{row_name: value})

    def _load_changed(self, exp, **changes) -> None:
        """Load ``exp`` with ``changes`` (a run added from the analysis views), or say why not."""
        if len(changes.get("learning_rates", ())) > MAX_RUNS:
            self.show_error("Run not added", f"at most {MAX_RUNS} runs; remove one first")
            return
        try:
            changed = replace(exp, **changes).validated()
        except ConfigError as e:
            self.show_error("Run not added", str(e))
            return
        self.load_experiment(changed)

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.plots_built:
            self.analysis.shutdown()
        self.controller.shutdown()
        if self.remember:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("state", self.saveState())
            if self.controller.experiment is not None:
                self.settings.setValue("experiment", self.controller.experiment.to_json())
            self.settings.sync()
        super().closeEvent(event)
