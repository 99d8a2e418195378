"""Starting the window: ``run(experiment=None, screenshot=None) -> exit status``.

With ``screenshot``: open the window (offscreen when there is no display), train the
experiment to its step budget at full speed, repaint, grab the whole window and save
it atomically; settings are neither read nor written, so the picture depends only on
the experiment (default: the Exercise 4 preset).  Without: the normal application,
which remembers the last experiment, the window geometry, the speed and the theme.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6.QtCore import (QBuffer, QByteArray, QIODevice, QObject, QTimer, Slot,  # noqa: E402
                            qInstallMessageHandler)
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.errors import ConfigError  # noqa: E402
from core.report import write_atomic  # noqa: E402

SCREENSHOT_SIZE = (1600, 1000)


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
    if not _handler["installed"]:
        _handler["previous"] = qInstallMessageHandler(_qt_message_handler)
        _handler["installed"] = True
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LR Lab")
    app.setOrganizationName("LRLab")
    app.setStyle("Fusion")
    font = app.font()
    font.setPointSize(max(font.pointSize(), 11))
    app.setFont(font)
    return app


def run(experiment=None, screenshot=None) -> int:
    if not has_display():
        if screenshot is None:
            print("lrlab: error: no display (DISPLAY is not set); use --screenshot FILE.png "
                  "or set QT_QPA_PLATFORM=offscreen", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = make_app()
    from .main_window import MainWindow

    if screenshot is None:
        window = MainWindow(experiment=experiment)
        app.aboutToQuit.connect(window.controller.shutdown)
        window.show()
        return app.exec()

    window = MainWindow(experiment=experiment, remember=False)
    window.resize(*SCREENSHOT_SIZE)
    shooter = Screenshot(window, screenshot)
    window.show()
    shooter.start()
    app.exec()
    return 0 if shooter.error is None else 2


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
            QTimer.singleShot(0, self._on_timer_grab)

    @Slot()
    def _on_timer_grab(self) -> None:
        window = self.window
        window.draw()
        window.fit_plot.clear_trail()          # a still picture: the end state, not the last frames' fits
        QApplication.processEvents()
        try:
            write_atomic(self.path, self._png(window.grab().toImage()), "--screenshot", mode="wb")
        except ConfigError as e:
            self.error = str(e)
            print(f"lrlab: error: {e}", file=sys.stderr)
        window.close()
        QApplication.instance().exit(0 if self.error is None else 2)

    def _png(self, image):
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.WriteOnly)
        ok = image.save(buf, "PNG")
        buf.close()
        if not ok:
            raise ConfigError(f"--screenshot {self.path}: the window could not be encoded as PNG")
        payload = bytes(data.data())
        return lambda fh: fh.write(payload)
