"""Figures of plots (PNG, SVG, PDF) for the window's File ▸ Export and the command line's
``train --plot`` / ``--png`` and ``lr-find --plot`` / ``--png``.

A figure is drawn by Qt alone (QGraphicsScene.render on a QImage, a QSvgGenerator or a
QPdfWriter; pyqtgraph's exporters are not used: its SVG exporter is broken on Qt ≥ 6.11,
pyqtgraph issue 3485, and its image exporter keeps the widget's aspect and scales text
unevenly).  The plot is laid out on a canvas of at least 800 × 500 points with the asked
aspect (gui.figure.canvas), then drawn scaled to the asked size: a 1600 × 1000 and a
3200 × 2000 export look the same, the second one sharper.

Exports are rendered to memory first and written with ``core.report.write_atomic``:
a path that cannot be written raises ConfigError naming it and leaves no file.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.errors import ConfigError
from core.report import check_writable, write_atomic

from .figure import DEFAULT_SIZE, LOGICAL, MAX_SIZE, MIN_SIZE, canvas, figure_format, figure_size


def ensure_app() -> QtWidgets.QApplication:
    """The QApplication, created if needed (offscreen on a Linux box without a display)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if headless and sys.platform.startswith("linux"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


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


def _view_of(target) -> QtWidgets.QGraphicsView:
    """The graphics view that shows ``target`` (a PlotWidget, a GraphicsLayoutWidget, SmallMultiples)."""
    if isinstance(target, QtWidgets.QGraphicsView):
        return target
    if hasattr(target, "graphics"):                    # SmallMultiples
        return _view_of(target.graphics)
    raise TypeError(f"cannot export {type(target).__name__} as a figure")


def _refresh(view) -> None:
    """Lay the view's scene out at the view's size now, and let the plot place what depends on it."""
    _lay_out(view)
    view.resizeEvent(QtGui.QResizeEvent(view.size(), view.size()))      # (the scene's rectangle follows)
    QtWidgets.QApplication.sendPostedEvents()
    hook = getattr(view, "refresh_layout", None)       # e.g. LossPlot: labels placed for the view's width
    if hook is not None:
        hook()
    scene = view.scene()
    if hasattr(scene, "prepareForPaint"):
        scene.prepareForPaint()


@contextlib.contextmanager
def _at_size(view, width: int, height: int):
    """The view laid out at ``width`` × ``height`` for the time of the block, then at its size again.
    (A view in the window is resized in place without a repaint: the export is drawn before
    the event loop runs again.)"""
    old = view.size()
    updates = view.updatesEnabled()
    view.setUpdatesEnabled(False)
    try:
        view.resize(width, height)
        _refresh(view)
        yield
    finally:
        view.resize(old)
        _refresh(view)
        view.setUpdatesEnabled(updates)


# Cosmetic pens (pyqtgraph's default) are drawn in device pixels whatever the painter's scale:
# for the export, their widths are multiplied by the figure's scale, then put back.
def _scaled_pen(pen, scale: float):
    if pen is None:
        return None
    pen = QtGui.QPen(pen)
    if pen.isCosmetic():
        pen.setWidthF((pen.widthF() or 1.0) * scale)
    return pen


def _scale_pens(scene, scale: float) -> list:
    """Widen every cosmetic pen of the scene's items by ``scale``; returns what puts them back."""
    undo = []
    items = list(scene.items())
    for legend in [i for i in items if isinstance(i, pg.LegendItem)]:
        items += [sample.item for sample, _ in legend.items if sample.item.scene() is not scene]  # its lines
    for item in items:
        if isinstance(item, pg.PlotDataItem):
            pen, symbol_pen = item.opts["pen"], item.opts["symbolPen"]
            if pen is not None:
                item.setPen(_scaled_pen(pg.mkPen(pen), scale))
                undo.append(lambda i=item, p=pen: i.setPen(p))
            if symbol_pen is not None:
                item.setSymbolPen(_scaled_pen(pg.mkPen(symbol_pen), scale))
                undo.append(lambda i=item, p=symbol_pen: i.setSymbolPen(p))
        elif isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem):
            pen = item.opts["pen"]
            item.setPen(_scaled_pen(pen, scale))
            undo.append(lambda i=item, p=pen: i.setPen(p))
        elif isinstance(item, (pg.AxisItem, pg.InfiniteLine)):
            pen = QtGui.QPen(item.pen() if isinstance(item, pg.AxisItem) else item.pen)
            item.setPen(_scaled_pen(pen, scale))
            undo.append(lambda i=item, p=pen: i.setPen(p))
        elif isinstance(item, QtWidgets.QAbstractGraphicsShapeItem):
            pen = item.pen()
            item.setPen(_scaled_pen(pen, scale))
            undo.append(lambda i=item, p=pen: i.setPen(p))
    return undo


@contextlib.contextmanager
def _exporting(scene, painter, scale: float):
    """pyqtgraph's export mode on every item (drawn directly, antialiased, no hover buttons),
    item caches off (a cached pixmap would be blurred or embedded in a vector file), pens widened."""
    items = scene.items()
    caches = [(item, item.cacheMode()) for item in items]
    opts = {"antialias": True, "painter": painter, "resolutionScale": 1.0, "pen_scale": scale}
    undo = []
    try:
        for item, _ in caches:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            if hasattr(item, "setExportMode"):
                item.setExportMode(True, opts)
        undo = _scale_pens(scene, scale)
        yield
    finally:
        for put_back in reversed(undo):
            put_back()
        for item, mode in caches:
            if hasattr(item, "setExportMode"):
                item.setExportMode(False)
            item.setCacheMode(mode)


def _paint(view, painter, canvas_w: float, canvas_h: float, scale: float) -> None:
    """Paint the view's scene on ``painter``, whose coordinates are the canvas's (points)."""
    scene = view.scene()
    painter.fillRect(QtCore.QRectF(0, 0, canvas_w, canvas_h), view.backgroundBrush())
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
    source = view.mapToScene(view.viewport().rect()).boundingRect()
    with _exporting(scene, painter, scale):
        scene.render(painter, QtCore.QRectF(0, 0, canvas_w, canvas_h), source,
                     QtCore.Qt.AspectRatioMode.IgnoreAspectRatio)


def _screen_dpi() -> int:
    """The dots per inch fonts were laid out at (point sizes become pixels at this)."""
    screen = QtGui.QGuiApplication.primaryScreen()
    return round(screen.logicalDotsPerInchY()) if screen is not None else 96


def figure_bytes(target, size, fmt: str = "PNG", flag: str = "figure") -> bytes:
    """``target`` drawn as a ``size`` = (width, height) figure in ``fmt`` (PNG, SVG or PDF): laid
    out on its canvas (see gui.figure.canvas), then scaled to the size.  PNG: a ``size``-pixel
    image (the canvas painted at a device pixel ratio); SVG: width and height ``size`` with that
    viewBox (QSvgGenerator); PDF: a page of ``size`` pixels at the screen's dots per inch
    (QPdfWriter).  Vector files keep text as text."""
    w, h = figure_size(size, flag)
    view = _view_of(target)
    cw, ch, scale = canvas((w, h))
    with warnings.catch_warnings(), np.errstate(all="ignore"), _at_size(view, cw, ch):
        warnings.simplefilter("ignore")
        canvas_w, canvas_h = w / scale, h / scale
        if fmt == "PNG":
            image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32)
            image.setDevicePixelRatio(scale)           # the painter draws in points, the image has pixels
            image.fill(QtCore.Qt.GlobalColor.white)
            painter = QtGui.QPainter(image)
            try:
                _paint(view, painter, canvas_w, canvas_h, scale)
            finally:
                painter.end()
            image.setDevicePixelRatio(1.0)
            return png_bytes(image, f"{flag}: the image could not be encoded")
        data = QtCore.QByteArray()
        buf = QtCore.QBuffer(data)
        buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        dpi = _screen_dpi()
        if fmt == "SVG":
            from PySide6.QtSvg import QSvgGenerator
            device = QSvgGenerator()
            device.setOutputDevice(buf)
            device.setResolution(dpi)
            device.setSize(QtCore.QSize(w, h))
            device.setViewBox(QtCore.QRect(0, 0, w, h))
            device.setTitle("LR Lab figure")
        elif fmt == "PDF":
            device = QtGui.QPdfWriter(buf)
            device.setResolution(dpi)
            device.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
            device.setPageSize(QtGui.QPageSize(QtCore.QSizeF(w * 72 / dpi, h * 72 / dpi),
                                               QtGui.QPageSize.Unit.Point, "figure",
                                               QtGui.QPageSize.SizeMatchPolicy.ExactMatch))
            device.setTitle("LR Lab figure")
            device.setCreator("LR Lab")
        else:
            raise ConfigError(f"{flag}: unknown figure format {fmt!r}")
        painter = QtGui.QPainter()
        if not painter.begin(device):
            raise ConfigError(f"{flag}: the {fmt} could not be started")
        try:
            # The painter's window is the canvas (points), its viewport the device: fonts keep
            # the screen's dots per inch, and everything, text included, scales alike.
            painter.setWindow(QtCore.QRect(0, 0, round(canvas_w), round(canvas_h)))
            painter.setViewport(QtCore.QRect(0, 0, w, h) if fmt == "SVG" else painter.viewport())
            _paint(view, painter, canvas_w, canvas_h, scale)
        finally:
            painter.end()
        buf.close()
        out = bytes(data.data())
        if fmt == "SVG":               # QSvgGenerator gives the size in mm (at its dpi): say it in pixels
            out, n = re.subn(rb'\A(<\?xml[^>]*>\s*<svg) width="[0-9.]+mm" height="[0-9.]+mm"',
                             rb'\1 width="%d" height="%d"' % (w, h), out, count=1)
            if n != 1:
                raise ConfigError(f"{flag}: the SVG could not be written (unexpected QSvgGenerator output)")
        return out


def export_figure(target, path, size=DEFAULT_SIZE, flag: str = "figure", fmt: str | None = None) -> None:
    """Draw ``target`` as a ``size`` figure into ``path``: ``fmt``, or PNG, SVG or PDF by its
    extension; written atomically (a failure leaves no file and no temporary file)."""
    check_writable(path, flag)
    fmt = fmt or figure_format(path, flag)
    size = figure_size(size, flag)
    data = figure_bytes(target, size, fmt, flag)
    write_atomic(path, lambda fh: fh.write(data), flag, mode="wb")


def export_png(target, path, width=None, flag: str = "PNG") -> None:
    """Render ``target`` to a PNG ``width`` px wide (default 1600), LOGICAL's aspect (8:5)."""
    if width is None:
        width = DEFAULT_SIZE[0]
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or not MIN_SIZE <= width <= MAX_SIZE:
        raise ConfigError(f"{flag} width must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}; "
                          f"got {width!r}")
    height = max(MIN_SIZE, round(int(width) * LOGICAL[1] / LOGICAL[0]))
    check_writable(path, flag)
    export_figure(target, path, (int(width), height), flag, "PNG")


def save_loss_plot(path, learning_rates, losses, outcomes, diverged_steps, title=None, size=DEFAULT_SIZE,
                   flag: str = "--plot", fmt: str | None = None, recipes=None) -> None:
    """The loss curves of a finished run as a figure (``fmt``, or PNG, SVG or PDF by the
    extension; light theme, log loss axis, each run's lr — its recipe, given ``recipes`` — and
    outcome in the legend)."""
    from . import style
    from .plots import LossPlot
    from .recipes import recipe_text
    fmt = fmt or figure_format(path, flag)
    check_writable(path, flag)
    ensure_app()
    losses = np.asarray(losses, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        plot = LossPlot(dark=False, legend_outcomes=True)
        try:
            plot.resize(*canvas(figure_size(size, flag))[:2])     # never shown: laid out by the export
            _lay_out(plot)
            if title:
                plot.set_title(title)
            plot.set_runs(learning_rates, style.run_colors(len(learning_rates)),
                          None if recipes is None else [recipe_text(r) for r in recipes])
            plot.update_data(losses, losses.shape[1] - 1, outcomes, diverged_steps)
            export_figure(plot, path, size, flag, fmt)
        finally:
            plot.close()
            plot.deleteLater()


def save_loss_png(path, learning_rates, losses, outcomes, diverged_steps, title=None, width=1200,
                  flag: str = "--png", recipes=None) -> None:
    """``train --png``: the loss figure as a PNG ``width`` pixels wide (and 3/5 of that high)."""
    save_loss_plot(path, learning_rates, losses, outcomes, diverged_steps, title, (width, round(width * 0.6)),
                   flag, "PNG", recipes)


def save_range_test_plot(path, result, critical_lr, title=None, size=DEFAULT_SIZE, flag: str = "--plot",
                         fmt: str | None = None) -> None:
    """The range test (``lr-find --plot``): loss and smoothed loss against η on a log axis, η* as a
    vertical line, the suggestions marked — the plot of the window's Range test tab."""
    from .analysis_views import RangeTestPlot
    fmt = fmt or figure_format(path, flag)
    check_writable(path, flag)
    ensure_app()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        plot = RangeTestPlot(dark=False)
        try:
            plot.resize(*canvas(figure_size(size, flag))[:2])     # never shown: laid out by the export
            _lay_out(plot)
            if title:
                plot.set_title(title)
            crit = None if critical_lr is None or not np.isfinite(critical_lr) else float(critical_lr)
            plot.show_result(result, crit)
            export_figure(plot, path, size, flag, fmt)
        finally:
            plot.close()
            plot.deleteLater()


def save_range_test_png(path, result, critical_lr, title=None, width=1200, flag: str = "--png") -> None:
    """``lr-find --png``: the range test as a PNG ``width`` pixels wide (and 0.62 of that high)."""
    save_range_test_plot(path, result, critical_lr, title, (width, round(width * 0.62)), flag, "PNG")
