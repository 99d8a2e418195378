"""Starting the window: ``run(experiment=None, screenshot=None) -> exit status``.

With ``screenshot``: open the window (offscreen when there is no display), train the
experiment to its step budget at full speed, repaint, grab the whole window and save
it atomically (1600 × 1000, or the size asked for); settings are neither read nor written, so the picture depends only on
the experiment (default: the Exercise 4 preset).  Without: the normal application,
which remembers the last experiment, the window geometry, the speed and the theme.
"""
from __future__ import annotations

import json
import os
import sys
import time

_IMPORTED = time.perf_counter()            # for the first-paint record
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6.QtCore import QObject, QTimer, Slot, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.errors import ConfigError  # noqa: E402
from core.report import write_atomic  # noqa: E402

from .background import collect_garbage_in_gui_thread  # noqa: E402

SCREENSHOT_SIZE = (1600, 1000)            # --screenshot's default size (the README's picture); --screenshot-size W H
SCREENSHOT_MIN, SCREENSHOT_MAX = (800, 600), (7680, 4320)
FIRST_PAINT_ENV = "LRLAB_FIRST_PAINT"     # a .json path: record when the window is first painted, then quit


def has_display() -> bool:
    """False on a Linux box with no X11/Wayland display and no QT_QPA_PLATFORM chosen."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


# Qt's offscreen plugin warns about a feature it lacks each time a dock is laid out;
# it says nothing about LR Lab, so it is dropped.  Every other Qt message goes to stderr.
IGNORED_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)
_handler = {"installed": False, "previous": None}


def _qt_message_handler(mode, context, message) -> None:
    if message in IGNORED_QT_MESSAGES:
        return
    if _handler["previous"] is not None:
        _handler["previous"](mode, context, message)
    else:
        print(message, file=sys.stderr)


def make_app() -> QApplication:
    # Python's switch interval (5 ms) is left as it is.  (make_app set it to 1 ms, so that the
    # GUI thread waited less for the GIL held by the training thread.  With and without,
    # interleaved ``bench_gui.py --quick`` runs, 4 rounds, load average 1.4-2.7: the lowest
    # repaint rate 29-30/s without against 28-31/s with, the longest stall 24-49 ms against
    # 25-45 ms, training 79-84 % of headless against 78-91 % (at load 5.7 both failed the stall
    # goal: 103 against 66-88 ms): no goal moved.)
    if not _handler["installed"]:
        _handler["previous"] = qInstallMessageHandler(_qt_message_handler)
        _handler["installed"] = True
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_in_gui_thread()        # never in a worker thread (gui.background)
    app.setApplicationName("LR Lab")
    app.setOrganizationName("LRLab")
    app.setStyle("Fusion")
    font = app.font()
    font.setPointSize(max(font.pointSize(), 11))
    app.setFont(font)
    return app


TABS = ("overlay", "side", "why")      # the window's tabs, in order, as --tab names them


def screenshot_size(values) -> tuple[int, int]:
    """--screenshot-size W H, checked: whole numbers from 800 × 600 to 7680 × 4320."""
    from core.fields import check_integer
    w, h = values
    return (check_integer("--screenshot-size width", w, SCREENSHOT_MIN[0], SCREENSHOT_MAX[0]),
            check_integer("--screenshot-size height", h, SCREENSHOT_MIN[1], SCREENSHOT_MAX[1]))


def run(experiment=None, screenshot=None, tab: str | None = None, size=SCREENSHOT_SIZE, lesson=None) -> int:
    """``size``: the screenshot's (width, height) in pixels.  ``lesson`` (a course name, a lesson
    file or a core.lessons.Lesson): open the window on it (a malformed one: the window says why
    and keeps its experiment); with ``screenshot``, the panel shows the lab's answer after the run."""
    if not has_display():
        if screenshot is None:
            print("lrlab: error: no display (DISPLAY is not set); use --screenshot FILE.png "
                  "or set QT_QPA_PLATFORM=offscreen", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = make_app()
    from .main_window import MainWindow

    if screenshot is None:
        marks = {"gui.app imported": _IMPORTED, "app made": time.perf_counter()}
        window = MainWindow(experiment=experiment, defer_plots=True)      # on screen first, plots next
        marks["window built"] = time.perf_counter()
        app.aboutToQuit.connect(window.controller.shutdown)
        record = os.environ.get(FIRST_PAINT_ENV)
        if record:
            FirstPaint(window, record, marks)
        if lesson is not None:
            window.lessons.open_when_ready(lesson)
        window.show()
        return app.exec()

    window = MainWindow(experiment=experiment, remember=False)
    window.resize(*size)
    if lesson is not None:
        if not window.lessons.open(lesson):
            print(f"lrlab: error: {window.last_error}", file=sys.stderr)
            window.close()
            return 2
        window.lessons.lock_without_prediction()
    if tab is not None:
        window.tabs.setCurrentIndex(TABS.index(tab))
    shooter = Screenshot(window, screenshot)
    window.show()
    shooter.start()
    app.exec()
    return 0 if shooter.error is None else 2


def process_age() -> float:
    """Seconds since this process started (Linux: /proc/self/stat and /proc/uptime), NaN elsewhere."""
    try:
        with open("/proc/self/stat") as fh:
            start = int(fh.read().rsplit(")", 1)[1].split()[19])       # field 22: starttime, in ticks
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


class FirstPaint(QObject):
    """For the benchmark: record when the window's first paint pass is done and when its plots
    have first been painted with the experiment (``time.perf_counter``, CLOCK_MONOTONIC on
    Linux, and the process's age), write them to ``path`` as JSON and quit."""

    def __init__(self, window, path, marks):
        super().__init__(window)
        self.window, self.path, self.marks = window, path, marks
        self.times = {}
        self.plots = window.plots_built
        window.plots_ready.connect(self._on_window_plots_ready)
        QApplication.instance().installEventFilter(self)

    @Slot()
    def _on_window_plots_ready(self) -> None:
        self.plots = True

    def eventFilter(self, obj, event):
        from PySide6.QtCore import QEvent
        if event.type() == QEvent.Type.Paint and isinstance(obj, QObject) and obj.isWidgetType() \
                and obj.window() is self.window:
            if "painted" not in self.times:
                self.times["painted"] = None
                QTimer.singleShot(0, self._on_timer_painted)
            if self.plots and "ready" not in self.times and obj is self.window.loss_plot.viewport():
                self.times["ready"] = None
                QTimer.singleShot(0, self._on_timer_ready)
        return False

    @Slot()
    def _on_timer_painted(self) -> None:
        self.times["painted"] = time.perf_counter()
        self.marks["first paint done"] = self.times["painted"]

    @Slot()
    def _on_timer_ready(self) -> None:
        now = time.perf_counter()
        self.times["ready"] = now
        age = process_age()
        start = now - age
        info = {"painted": self.times["painted"], "ready": now, "age": self.times["painted"] - start,
                "marks": {k: v - start for k, v in self.marks.items()}}
        QApplication.instance().removeEventFilter(self)
        write_atomic(self.path, lambda fh: fh.write(json.dumps(info)), FIRST_PAINT_ENV)
        self.window.close()
        QApplication.instance().quit()


class Screenshot(QObject):
    """Trains the window's experiment to the end at full speed, then grabs and saves it."""

    def __init__(self, window, path):
        super().__init__(window)
        self.window, self.path, self.error = window, os.fspath(path), None
        window.controller.state_changed.connect(self._on_controller_state_changed)

    def start(self) -> None:
        from .worker import FULL_SPEED
        self.window.set_speed(FULL_SPEED)
        QTimer.singleShot(0, self.window.controller.start)

    @Slot(str)
    def _on_controller_state_changed(self, state: str) -> None:
        from .worker import FINISHED
        if state == FINISHED:
            if self.window.lessons.pending:          # a lesson's verdict is being worked out: grab it too
                self.window.lessons.judged.connect(self._on_lessons_judged)
            else:
                QTimer.singleShot(0, self._on_timer_grab)

    @Slot()
    def _on_lessons_judged(self) -> None:
        QTimer.singleShot(0, self._on_timer_grab)

    @Slot()
    def _on_timer_grab(self) -> None:
        window = self.window
        window.draw()
        window.fit_plot.clear_trail()          # a still picture: the end state, not the last frames' fits
        QApplication.processEvents()
        try:
            from .render import png_bytes                 # (pyqtgraph is loaded by now: the plots are drawn)
            payload = png_bytes(window.grab().toImage(),
                                f"--screenshot {self.path}: the window could not be encoded as PNG")
            write_atomic(self.path, lambda fh: fh.write(payload), "--screenshot", mode="wb")
        except ConfigError as e:
            self.error = str(e)
            print(f"lrlab: error: {e}", file=sys.stderr)
        window.close()
        QApplication.instance().exit(0 if self.error is None else 2)

