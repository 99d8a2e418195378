"""Qt runs headless in the tests: offscreen platform, PySide6 for pyqtgraph (set before any Qt import)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


import gc  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


def _qt_app():
    """The QApplication if a test made one (pytest-qt's ``qapp``), else None; never imports Qt."""
    if "PySide6.QtWidgets" not in sys.modules:
        return None
    from PySide6.QtWidgets import QApplication
    return QApplication.instance()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Garbage is collected by the GUI thread only, as in the app (gui.background.GarbageCollector)."""
    if _qt_app() is not None:
        from gui.background import collect_garbage_in_gui_thread
        collect_garbage_in_gui_thread()
    yield


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_protocol(item, nextitem):
    """Destroy what a test made when it ends, not in the middle of a later test.

    pytest-qt closes a test's widgets and calls ``deleteLater`` at teardown, from outside any
    event loop, so Qt does not delete them then; and pytest holds the test's fixtures (the
    windows) until its whole teardown is over, so a collection at teardown cannot free them
    either.  They were destroyed later, by whatever garbage collection came next: in the
    middle of a later test's paint or slot, where the old scene's destructor crashed the
    suite (SIGSEGV) or invalidated items under the running code ("Internal C++ object already
    deleted"), about 1 full run in 5.  Here, after pytest has let go of the fixtures: the
    deferred deletes, then a full collection."""
    yield
    app = _qt_app()
    if app is not None:
        from PySide6.QtCore import QEvent
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    if app is not None:
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def panel(qtbot):
    """The experiment panel alone, showing Exercise 4; ``panel.proposed`` collects what it proposes."""
    from core.experiment import preset
    from gui.controls import ControlPanel
    p = ControlPanel()
    qtbot.addWidget(p)
    p.set_experiment(preset("exercise4").validated())
    p.show()
    qtbot.waitExposed(p)
    p.proposed = []
    p.experiment_edited.connect(p.proposed.append)
    return p


def type_in(widget, text, enter=True):
    """Type ``text`` over a field's contents as a user would, then Enter (unless ``enter`` is False)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    widget.setFocus()
    widget.selectAll()
    QTest.keyClicks(widget, text)
    if enter:
        QTest.keyClick(widget, Qt.Key_Return)


def make_window(qtbot, settings_path, experiment):
    """The main window on ``experiment``, with its own QSettings file, shown."""
    from PySide6.QtCore import QSettings
    from gui.main_window import MainWindow
    w = MainWindow(experiment=experiment, settings=QSettings(str(settings_path), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w
