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

import json
import os

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QScrollArea, QSplitter, QStyle, QTabWidget,
                               QToolBar)

from dataclasses import replace

from core.errors import ConfigError
from core.experiment import PRESETS, Experiment, preset
from core.report import write_atomic, write_csv

from . import style
from .controls import DEFAULT_SPEED, SPEEDS, ControlPanel
from .frames import FrameScheduler
from .help import HelpDialog, shortcut, shortcuts_html, views_html
from .icon import icon
from .runs import MAX_RUNS
from .views import RunColumns, Snapshot, StatusView
from .worker import FINISHED, FULL_SPEED, RUNNING, TrainingController

TITLE = "LR Lab"
DEFAULT_SIZE = (1600, 1000)
DEFAULT_PRESET = "exercise4"
SETTINGS_ENV = "LRLAB_SETTINGS"             # an .ini path: tests keep the user's settings clean
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
        self._help = None
        self.error_box = None
        self.frames = FrameScheduler()          # what each frame refreshes (gui.frames)
        self._views = {}                        # tab widget -> its view (gui.views)
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

    def _action(self, text, slot, name=None, tip="", checkable=False, icon_=None) -> QAction:
        """An action; its key, if any, is the one gui.help.SHORTCUTS gives ``name``."""
        a = QAction(text, self)
        key = shortcut(name) if name else None
        if key is not None:
            a.setShortcut(key)
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
        self.start_action = A("Start", self._on_start_action_triggered, "start",
                              "Start or pause training (Space).", icon_=QStyle.SP_MediaPlay)
        self.step_action = A("Step", self._on_step_action_triggered, "step",
                             "Take exactly one gradient-descent step (Right arrow).",
                             icon_=QStyle.SP_MediaSkipForward)
        self.reset_action = A("Reset", self._on_reset_action_triggered, "reset",
                              "Go back to step 0 of this experiment, paused (R).", icon_=QStyle.SP_BrowserReload)
        self.open_action = A("Open experiment…", self._on_open_action_triggered, "open",
                             "Open an experiment saved as JSON (the command line's --config format).")
        self.save_action = A("Save experiment…", self._on_save_action_triggered, "save",
                             "Save this experiment as JSON (the command line's --config format).")
        self.export_png_action = A("Export loss curves PNG…", self._on_export_png_action_triggered, "export_png",
                                   "Save the loss plot, legend included, as a PNG at a width you choose.")
        self.export_csv_action = A("Export loss curves CSV…", self._on_export_csv_action_triggered,
                                   "export_csv", "Save every run's loss after every step as CSV, "
                                   "like `main.py train --csv`.")
        self.export_fit_action = A("Export fit PNG…", self._on_export_fit_action_triggered, None,
                                   "Save the fitted-function plot as a PNG at a width you choose.")
        self.quit_action = A("Quit", self.close, "quit", "Close LR Lab.")
        self.dark_action = A("Dark theme", self._on_dark_action_toggled, "dark",
                             "Switch between the light (projector) and the dark theme.", checkable=True)
        self.log_y_action = A("Log loss axis", self._on_log_y_action_toggled, "log_y",
                              "Show the loss on a logarithmic (checked) or linear axis.", checkable=True)
        self.log_x_action = A("Log step axis", self._on_log_x_action_toggled, None,
                              "Show the steps on a logarithmic (checked) or linear axis.", checkable=True)
        self.shortcuts_action = A("Keyboard shortcuts", self._on_shortcuts_action_triggered, None,
                                  "List the keyboard shortcuts.")
        self.views_action = A("How to read the views", self._on_views_action_triggered, "views",
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
        self.status = StatusView(self.statusBar())
        self.step_label, self.rate_label, self.state_label = (self.status.step_label, self.status.rate_label,
                                                              self.status.state_label)
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

    def _first_experiment(self, experiment):
        if experiment is not None:
            return experiment
        if self.remember:
            text = self.settings.value("experiment", "", type=str)
            if text:
                try:
                    return Experiment.from_dict(json.loads(text), where="last experiment")
                except (ConfigError, ValueError):
                    pass
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
        if self.controller.progress is not None:
            self.overlay_view.show_loss(Snapshot.of(self.controller))
        return self._export_png(self.loss_plot, path, width, "Export loss curves PNG")

    def export_fit_png(self, path, width: int | None = None) -> bool:
        if self.controller.progress is not None:
            self.overlay_view.show_fits(Snapshot.of(self.controller))
        return self._export_png(self.fit_plot, path, width, "Export fit PNG")

    def _export_png(self, view, path, width, flag: str) -> bool:
        from .render import export_png
        return self._guard(path, export_png, view, path, width, flag=flag)

    def export_csv(self, path) -> bool:
        return self._guard(path, write_csv, path, self.controller.learning_rates, self.controller.losses(),
                           flag="Export loss curves CSV")

    def save_experiment(self, path) -> bool:
        exp = self.controller.experiment
        return self._guard(path, write_atomic, path, lambda fh: fh.write(exp.to_json()), "Save experiment")

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
        self.status.show(Snapshot.of(self.controller))

    @Slot(int)
    def _on_runs_selection_changed(self, k: int) -> None:
        if self.plots_built:
            self.overlay_view.select(k, Snapshot.of(self.controller) if self.controller.progress is not None
                                     else None)

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
