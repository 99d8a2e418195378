"""PNG export of plots (pyqtgraph's ImageExporter) and the command line's ``train --png``.

Exports are rendered to memory first and written with ``core.report.write_atomic``:
a path that cannot be written raises ConfigError naming it and leaves no file.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.errors import ConfigError
from core.report import check_writable, write_atomic

MAX_WIDTH = 20000


def ensure_app() -> QtWidgets.QApplication:
    """The QApplication, created if needed (offscreen on a Linux box without a display)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if headless and sys.platform.startswith("linux"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


def _export_item(target):
    """The graphics item to export: a PlotItem (legend included) or a layout's central item."""
    if isinstance(target, QtWidgets.QGraphicsItem):
        return target
    for name in ("plotItem", "ci"):
        if hasattr(target, name):
            return getattr(target, name)
    if hasattr(target, "graphics"):                    # SmallMultiples
        return _export_item(target.graphics)
    raise TypeError(f"cannot export {type(target).__name__} as PNG")


def _lay_out(target) -> None:
    """A widget never shown (or in a hidden tab) has not laid out its plot yet: do it now."""
    if isinstance(target, QtWidgets.QWidget) and not target.isVisible():
        for w in [target] + target.findChildren(QtWidgets.QGraphicsView):
            if isinstance(w, pg.GraphicsView):         # a scroll area: a sent resize event stops short
                w.resizeEvent(QtGui.QResizeEvent(w.size(), w.size()))
        QtWidgets.QApplication.sendPostedEvents()
        target.grab()                                  # one paint: text items place themselves


def png_bytes(image, failure: str = "PNG: the image could not be encoded") -> bytes:
    """A QImage as PNG bytes (written by the caller with core.report.write_atomic); ConfigError
    with ``failure`` if Qt cannot encode it."""
    data = QtCore.QByteArray()
    buf = QtCore.QBuffer(data)
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buf, "PNG")
    buf.close()
    if not ok:
        raise ConfigError(failure)
    return bytes(data.data())


def export_png(target, path, width=None, flag: str = "PNG") -> None:
    """Render ``target`` (a PlotWidget, PlotItem or layout) to ``path``, ``width`` px wide if given."""
    from pyqtgraph.exporters import ImageExporter
    if width is not None:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or not 1 <= width <= MAX_WIDTH:
            raise ConfigError(f"{flag} width must be a whole number of pixels from 1 to {MAX_WIDTH}; got {width!r}")
    check_writable(path, flag)
    _lay_out(target)
    exporter = ImageExporter(_export_item(target))
    if width is not None:
        exporter.parameters()["width"] = int(width)
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise ConfigError(f"{flag} {path}: the image could not be rendered")
    data = png_bytes(image)
    write_atomic(path, lambda fh: fh.write(data), flag, mode="wb")


def save_loss_png(path, learning_rates, losses, outcomes, diverged_steps, title=None, width=1200,
                  flag: str = "--png") -> None:
    """The loss curves of a finished run as a PNG (light theme, log loss axis, lr and outcome in the legend)."""
    from . import style
    from .plots import LossPlot
    check_writable(path, flag)
    ensure_app()
    losses = np.asarray(losses, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        plot = LossPlot(dark=False, legend_outcomes=True)
        try:
            plot.resize(1000, 600)                     # never shown: export_png lays it out
            if title:
                plot.set_title(title)
            plot.set_runs(learning_rates, style.run_colors(len(learning_rates)))
            plot.update_data(losses, losses.shape[1] - 1, outcomes, diverged_steps)
            export_png(plot, path, width, flag)
        finally:
            plot.close()
            plot.deleteLater()


def save_range_test_png(path, result, critical_lr, title=None, width=1200, flag: str = "--png") -> None:
    """The range test (``lr-find --png``): loss and smoothed loss against η on a log axis, η* as a
    vertical line, the suggestions marked — the plot of the window's Range test tab."""
    from .analysis_views import RangeTestPlot
    check_writable(path, flag)
    ensure_app()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        plot = RangeTestPlot(dark=False)
        try:
            plot.resize(1000, 620)                     # never shown: export_png lays it out
            if title:
                plot.set_title(title)
            crit = None if critical_lr is None or not np.isfinite(critical_lr) else float(critical_lr)
            plot.show_result(result, crit)
            export_png(plot, path, width, flag)
        finally:
            plot.close()
            plot.deleteLater()
