"""Qt runs headless in the tests: offscreen platform, PySide6 for pyqtgraph (set before any Qt import)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
