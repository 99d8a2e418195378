"""Qt runs headless in the tests: offscreen platform, PySide6 for pyqtgraph (set before any Qt import)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def collect_garbage_between_tests():
    """Collect what a test left behind (closed plots and windows in reference cycles) when it ends,
    not at a random allocation in a later test: the full suite crashed (SIGSEGV) in garbage
    collection in the middle of a later window's paint, 3 runs in 22."""
    yield
    gc.collect()


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
