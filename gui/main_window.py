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

from dataclasses import replace

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QScrollArea, QStyle,
                               QTabWidget, QToolBar)

from core.errors import ConfigError
from core.experiment import ALL_PRESETS, Experiment, preset

from . import style
from .actions import MENUS, NEEDS_PLOTS, TOOLBAR, action, build_actions
from .controls import DEFAULT_SPEED, SPEEDS, ControlPanel
from .files import FileCommands
from .frames import FrameScheduler
from .help import HelpDialog, shortcuts_html, views_html
from .lessons import LessonCommands
from .icon import icon
from .projector import FontScale
from .runs import MAX_RUNS
from .views import RunColumns, Snapshot, StatusView
from .worker import FINISHED, RUNNING, TrainingController

TITLE = "LR Lab"
DEFAULT_SIZE = (1600, 1000)                 # the first size, if the screen has room for it
SCREEN_MARGIN = (16, 40)                    # room left on the screen for the window's frame and title bar
DEFAULT_PRESET = "exercise4"
SETTINGS_ENV = "LRLAB_SETTINGS"             # an .ini path: tests keep the user's settings clean
CONTROLS_WIDTH = 380


def make_settings() -> QSettings:
    """QSettings("LRLab", "LRLab"), or the .ini file named by $LRLAB_SETTINGS."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("LRLab", "LRLab")


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
        self._help = None
        self.error_box = None
        self.frames = FrameScheduler()          # what each frame refreshes (gui.frames)
        self._views = {}                        # tab widget -> its view (gui.views)
        self.setWindowTitle(TITLE)
        self.setWindowIcon(icon())
        self.font_scale = FontScale(self, self.settings if remember else None)   # (before anything is built)

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
        from .views import OverlayView, SideBySideView, WhyView              # pyqtgraph: see defer_plots
        self.overlay_view, self.side_view, self.why_view = OverlayView(), SideBySideView(), WhyView()
        self.tabs = QTabWidget()
        for view, text, tip in (
                (self.overlay_view, "Overlay", "Every run's loss curve in one plot, beside the data, every run's "
                                               "fit and the chosen run's parameters."),
                (self.side_view, "Side by side", "One panel per learning rate: its loss curve and its fit."),
                (self.why_view, "Why it diverges", "Curvature: the sharpness of every run against 2/η, the "
                                                   "stability forecast, the range test, the loss landscape and "
                                                   "the phase diagram.")):
            self.tabs.setTabToolTip(self.tabs.addTab(view.widget, text), tip)
            self._views[view.widget] = view
        # the views' widgets, by the names tests and exports use
        o = self.overlay_view
        self.loss_plot, self.fit_plot, self.params, self.overlay, self.side = (o.loss_plot, o.fit_plot, o.params,
                                                                               o.widget, o.side)
        self.multiples, self.analysis, self._why_tab = self.side_view.multiples, self.why_view.analysis, \
            self.why_view.widget
        self.analysis.add_rate.connect(self._on_analysis_add_rate)
        self.analysis.add_run.connect(self._on_analysis_add_run)
        self.analysis.critical_lr_changed.connect(self.controls.runs.set_critical_lr)
        self.setCentralWidget(self.tabs)

    def _build_actions(self) -> None:
        self.files = FileCommands(self)
        self.lessons = LessonCommands(self)        # the lesson panel (gui.lessons), built when first opened
        build_actions(self)
        bar = QToolBar("Run")
        bar.setObjectName("run")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for name in TOOLBAR:
            bar.addAction(action(self, name))
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar
        # what needs the plots or an experiment (enabled once the plots are built: see defer_plots)
        self._needs_plots = [action(self, name) for name in NEEDS_PLOTS]
        for title, names in MENUS:
            m = self.menuBar().addMenu(title)
            for name in names:
                m.addSeparator() if name is None else m.addAction(action(self, name))
            if title == "&View":
                m.addAction(self.controls_dock.toggleViewAction())
        # the file commands, by the names tests use
        self.open_experiment, self.save_experiment = self.files.open_experiment, self.files.save_experiment
        self.export_loss_png, self.export_fit_png = self.files.export_loss_png, self.files.export_fit_png
        self.export_csv = self.files.export_csv

    def _build_status(self) -> None:
        self.status = StatusView(self.statusBar())
        self.step_label, self.rate_label, self.state_label = (self.status.step_label, self.status.rate_label,
                                                              self.status.state_label)
        self.epoch_label = self.status.epoch_label
        self.run_columns = RunColumns(self.controls.runs)

    def _connect(self) -> None:
        c = self.controller
        c.frame.connect(self._on_controller_frame)
        c.reset_done.connect(self._on_controller_reset_done)
        c.state_changed.connect(self._on_controller_state_changed)
        self.controls.preset_chosen.connect(self._on_controls_preset_chosen)
        self.controls.experiment_edited.connect(self._on_controls_experiment_edited)
        self.controls.speed_changed.connect(self._on_controls_speed_changed)
        self.controls.runs.selection_changed.connect(self._on_runs_selection_changed)
        self.font_scale.changed.connect(self._on_font_scale_changed)

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
        """The first size fits the screen the window opens on (at most DEFAULT_SIZE); a remembered
        geometry is brought back onto the screen (shrunk if it is larger)."""
        self.fit_on_screen(QSize(*DEFAULT_SIZE), center=True)
        if not self.remember:
            return
        geometry = self.settings.value("geometry")
        state = self.settings.value("state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
            self.fit_on_screen(self.size())
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def fit_on_screen(self, size: QSize, center: bool = False) -> None:
        """Resize to ``size``, at most the available area of the window's screen less its frame,
        and move the window into that area (to its middle with ``center``)."""
        screen = QApplication.screenAt(self.geometry().center()) or self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(size)
            return
        area = screen.availableGeometry()
        w = min(size.width(), area.width() - SCREEN_MARGIN[0])
        h = min(size.height(), area.height() - SCREEN_MARGIN[1])
        self.resize(w, h)
        if center:
            x, y = area.left() + (area.width() - w) // 2, area.top() + (area.height() - h - SCREEN_MARGIN[1]) // 2
        else:
            pos = self.pos()
            x = min(max(pos.x(), area.left()), area.right() + 1 - w - SCREEN_MARGIN[0])
            y = min(max(pos.y(), area.top()), area.bottom() + 1 - h - SCREEN_MARGIN[1])
        self.move(max(x, area.left()), max(y, area.top()))

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

    # -- drawing ---------------------------------------------------------------------------
    def draw(self, everything: bool = False) -> None:
        """Refresh the views in sight with the controller's latest numbers: the tab in front, the
        run list's live columns, the status bar; the scheduler (gui.frames) says what is due on
        this frame.  ``everything``: all of them (the tab just came into sight)."""
        c = self.controller
        if c.progress is None or not self.plots_built:
            return
        snap = Snapshot.of(c)
        view = self._views[self.tabs.currentWidget()]
        frame = self.frames.begin(snap.running, snap.full, snap.outcome_key, view.parts + ("outcomes",), everything)
        view.refresh(snap, frame)
        self.run_columns.refresh(snap, frame)
        self.status.refresh(snap, frame)

    # -- slots -----------------------------------------------------------------------------
    def _on_controller_frame(self) -> None:
        self.draw()                                 # (the controller notes what it costs: gui.worker)

    @Slot()
    def _on_controller_reset_done(self) -> None:
        snap = Snapshot.of(self.controller)
        self.frames.forget_outcomes()
        for view in (*self._views.values(), self.run_columns, self.status):
            view.set_experiment(snap, visible=view is self._views.get(self.tabs.currentWidget()))

    @Slot(str)
    def _on_controller_state_changed(self, state: str) -> None:
        running = state == RUNNING
        if running:                   # the first frames draw the curves; the other views come after
            self.frames.training_started()
        self.start_action.setText("Pause" if running else "Start")
        self.start_action.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if running
                                                            else QStyle.SP_MediaPlay))
        self.start_action.setEnabled(state != FINISHED)
        self.step_action.setEnabled(state != FINISHED)
        self.status.show(Snapshot.of(self.controller))

    @Slot(str)
    def _on_controls_preset_chosen(self, name: str) -> None:
        if self.load_experiment(preset(name)):
            p = ALL_PRESETS[name]
            self.statusBar().showMessage(f"{p.title}: {p.description}", 10000)

    @Slot(object)
    def _on_controls_experiment_edited(self, exp) -> None:
        self.load_experiment(exp)

    @Slot(int)
    def _on_controls_speed_changed(self, speed: int) -> None:
        self.controller.set_speed(speed)
        if self.remember:
            self.settings.setValue("speed", speed)
        self.status.show(Snapshot.of(self.controller))

    @Slot(int)
    def _on_runs_selection_changed(self, k: int) -> None:
        if self.plots_built:
            self.overlay_view.select(k, Snapshot.of(self.controller) if self.controller.progress is not None
                                     else None)

    @Slot(float)
    def _on_font_scale_changed(self, scale: float) -> None:
        if self.controller.progress is not None:          # the status labels are as wide as their text
            snap = Snapshot.of(self.controller)
            self.status.set_experiment(snap)
            self.status.show(snap)

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if self.controller.progress is not None:
            self._views[self.tabs.currentWidget()].shown(Snapshot.of(self.controller))
        # λ_max is measured while the tab that shows it is open (training only notes θ otherwise)
        self.controller.want_sharpness(self.tabs.currentWidget() is self._why_tab)
        self.draw(everything=True)

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
        for view in self._views.values():
            view.set_dark(dark)
        self.setPalette(style.dark_palette() if dark else QApplication.style().standardPalette())
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
        """A phase-diagram cell: its rate as a run, with its width or seed (seeded parameters, as there),
        or its batch size (0: full batch; the parameters as they were, as there)."""
        exp = self.experiment
        rates = exp.learning_rates if lr in exp.learning_rates else exp.learning_rates + (lr,)
        if row_name == "batch_size":
            self._load_changed(exp, learning_rates=rates, batch_size=value or None)
            return
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
        self.lessons.shutdown()
        self.controller.shutdown()
        if self.remember:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("state", self.saveState())
            if self.controller.experiment is not None:
                self.settings.setValue("experiment", self.controller.experiment.to_json())
            self.settings.sync()
        super().closeEvent(event)
