"""Shared pyqtgraph building blocks: a view box with given bounds, the log axis, the legend
under the plot, the themed plot widget, and helpers that keep what does not change as pixmaps.
"""
from __future__ import annotations

import contextlib

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from .. import style


# C++ bounding rectangles (BoundedViewBox, LogAxis, LegendStrip here, and the curve layer's
# _Surface): Qt asks every item for its bounding rectangle several times at every repaint, and
# each Python answer takes the GIL from the training thread.  With and without (pyqtgraph's
# Python methods: ``bench_gui.py --quick --without cpp-bounds``), interleaved, 5 rounds: without,
# the lowest repaint rate 21 and 24/s at load average 4.7 and 4.0 (with: 25-27/s) and the
# longest stall 95 and 110 ms (with: 44-71 ms); 59 ms once at load 2.4 (with: 29-31 ms); at
# load 1.4-2.0 nothing moved (without: 23-28 ms, 82-91 % of headless; with: 27-44 ms, 82-91 %),
# nor at full length, load 0.9, 2 rounds (without: 30/s, 28-33 ms, 85 %; with: 29-30/s,
# 27-35 ms, 85-88 %).  A goal failed without them, and only without, in 3 of 7 rounds, all on a
# loaded machine: kept for it.  Noisy: one run's longest stall moves by ±20 ms at the same load.
class BoundedViewBox(pg.ViewBox):
    """A ViewBox whose auto-range uses the owner's ``bounds`` (view coordinates) where given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bounds = [None, None]            # x, y: (lo, hi) or None = from the items
        # It paints nothing (no border): then Qt does not ask for its Python boundingRect and
        # paint on every repaint (see skip_empty); it still finds it under the mouse.
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.setWindowFrameMargins(0, 0, 0.5, 0.5)      # (see boundingRect)

    # It clips the curves to its shape, asked for at every repaint: QGraphicsWidget's own
    # (C++, no GIL) is the same rectangle as pyqtgraph's, less half a pixel right and below.
    shape = QtWidgets.QGraphicsWidget.shape
    # Its bounding rectangle, asked for at every repaint too: pyqtgraph's is its rectangle and
    # half a pixel right and below, which QGraphicsWidget's own (C++) is with those margins.
    boundingRect = QtWidgets.QGraphicsWidget.boundingRect

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):
        if items is None and None not in self.bounds:
            return [list(self.bounds[0]), list(self.bounds[1])]
        b = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        for ax in (0, 1):
            if self.bounds[ax] is not None:
                b[ax] = list(self.bounds[ax])
        return b


def _pen(color, width=2.0, alpha=255, dashed=False, dotted=False):
    """A cosmetic pen (its width in pixels whatever the zoom), solid, dashed or dotted."""
    c = QtGui.QColor(color)
    c.setAlpha(int(alpha))
    Style = QtCore.Qt.PenStyle
    return pg.mkPen(c, width=width, style=Style.DashLine if dashed else Style.DotLine if dotted else Style.SolidLine)


class LogAxis(pg.AxisItem):
    """On a log axis, label whole decades (every n-th when crowded), minor ticks 2…9 unlabelled;
    under two decades, as many of 1…9 × 10^d as have room.

    Its bounding rectangle (which covers the plot when the grid is on) is asked for, several
    times, at every repaint of the plot.  So it is QGraphicsWidget's own (C++: no Python call,
    no GIL taken from the training thread), which is the axis's rectangle widened by its
    window-frame margins; the margins hold pyqtgraph's rectangle, worked out again when the
    axis, its view, the grid or the style change (``_fit_bounds``)."""

    PX_PER_LABEL = 45
    boundingRect = QtWidgets.QGraphicsWidget.boundingRect

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.geometryChanged.connect(self._fit_bounds)

    def linkToView(self, view):
        old = self.linkedView()
        if old is not None:
            with contextlib.suppress(RuntimeError, TypeError):     # (a view already gone, or never hooked)
                old.geometryChanged.disconnect(self._fit_bounds)
        super().linkToView(view)
        view.geometryChanged.connect(self._fit_bounds)
        self._fit_bounds()

    def setGrid(self, grid):
        super().setGrid(grid)
        self._fit_bounds()

    def setStyle(self, **kwargs):
        super().setStyle(**kwargs)
        self._fit_bounds()

    @QtCore.Slot()
    def _fit_bounds(self) -> None:
        want, rect = pg.AxisItem.boundingRect(self), self.rect()
        margins = (rect.left() - want.left(), rect.top() - want.top(),
                   want.right() - rect.right(), want.bottom() - rect.bottom())
        if margins != self.getWindowFrameMargins():
            self.setWindowFrameMargins(*margins)

    def tickStrings(self, values, scale, spacing):
        """Large whole numbers in full, with thousands separators ("500,000", not "500000" / "1e+06");
        on a log axis under two decades, only the ticks ``logTickValues`` chose to label."""
        if not self.logMode and len(values) and max(abs(v * scale) for v in values) >= 1e4 and all(
                float(v * scale).is_integer() for v in values):
            return [f"{int(v * scale):,}" for v in values]
        strings = super().tickStrings(values, scale, spacing)
        if self.logMode and self._labelled is not None:
            strings = [s if round(float(v), 9) in self._labelled else "" for v, s in zip(values, strings)]
        return strings

    # Under two decades the ticks are m × 10^d, m = 1…9, and the labelled m are the densest of
    # these sets whose closest two labels are a label apart on screen.  (pyqtgraph labels all
    # nine, and a short plot, the sharpness plot at 1280 × 720: 1.5 … 22 over 110 px, piled
    # "10 9 8 7 6 5" on each other.)
    LABELLED_MANTISSAS = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 5), (1, 2, 5), (1, 3), (1,))
    _labelled = None

    def _label_room(self) -> float:
        """Pixels from one label's centre to the next: a line of text up a vertical axis, a
        number ("0.05") and a gap along a horizontal one."""
        metrics = QtGui.QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return 1.2 * metrics.height()
        return 1.5 * metrics.horizontalAdvance("0.05")

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        self._labelled = None
        if not np.isfinite(minVal + maxVal) or maxVal <= minVal:
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        lo, hi = int(np.ceil(minVal)), int(np.floor(maxVal))
        if hi - lo < 1:                                          # under two decades
            ticks = [(v, m) for d in range(lo - 1, hi + 2) for m in range(1, 10)
                     if minVal <= (v := d + np.log10(m)) <= maxVal]
            per_decade, room = max(size, 1) / (maxVal - minVal), self._label_room()
            sets = [(np.diff(np.log10(ms + (10,))).min() * per_decade, [v for v, m in ticks if m in ms])
                    for ms in self.LABELLED_MANTISSAS]                # densest first: (closest gap, labelled)
            fits = [ls for gap, ls in sets if gap >= room and len(ls) >= 2]
            labelled = fits[0] if fits else next(       # no room for two: the sparsest set with two
                (ls for _, ls in reversed(sets) if len(ls) >= 2), sets[0][1])
            self._labelled = {round(float(v), 9) for v in labelled}
            return [(None, labelled), (None, [v for v, _ in ticks if round(float(v), 9) not in self._labelled])]
        step = max(1, int(np.ceil((hi - lo + 1) * self.PX_PER_LABEL / max(size, 1))))
        major = [float(d) for d in range(lo, hi + 1) if d % step == 0]
        minor = []
        if hi - lo <= 8:
            minor = [v for d in range(lo - 1, hi + 1) for v in d + np.log10(np.arange(2, 10)) if minVal < v < maxVal]
        return [(float(step), major), (None, minor)]


class LegendStrip(pg.LegendItem):
    """A legend laid out in a row under the plot (never over the curves), several entries per line."""

    SAMPLE_WIDTH = 20         # an ItemSample's width
    # Qt asks for these at every repaint of the plot (the legend clips its entries to its shape);
    # QGraphicsWidget's own give the same rectangle (0, 0, width, height) without Python, so
    # without taking the GIL from the training thread.
    boundingRect = QtWidgets.QGraphicsWidget.boundingRect
    shape = QtWidgets.QGraphicsWidget.shape

    def __init__(self, plot: pg.PlotItem, columns: int = 4):
        super().__init__(offset=None, horSpacing=18, frame=False)
        self.max_columns = columns
        self.plot = plot
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        plot.layout.addItem(self, 4, 1)
        plot.layout.setContentsMargins(4, 4, 16, 6)
        plot.layout.setAlignment(self, QtCore.Qt.AlignmentFlag.AlignHCenter)
        plot.legend = self
        plot.geometryChanged.connect(self.fit_columns)
        # Its entries never leave it: Qt then skips them (and their Python bounding rectangles)
        # whenever a repaint does not touch the legend, as when new points are drawn.
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)

    def addItem(self, item, name):
        super().addItem(item, name)
        sample, label = self.items[-1]
        label.item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)   # text as a pixmap
        self.fit_columns()

    def fit_columns(self) -> None:
        """As many entries to a line as fit under the plot (at most ``max_columns``): a legend wider
        than the plot would widen its column and push the right part of the plot out of view."""
        if not self.items:
            return
        entry = max(self.SAMPLE_WIDTH + label.item.boundingRect().width() for _, label in self.items)
        spacing = self.layout.horizontalSpacing() + 6
        views = self.scene().views() if self.scene() is not None else []
        shown = views[0].viewport().width() if views else self.plot.geometry().width()   # not the plot's own
        width = shown - self.plot.getAxis("left").width() - 30          # width: the legend may have widened it
        fit = int((width + spacing) // (entry + spacing)) if width > 0 else self.max_columns
        columns = max(1, min(len(self.items), self.max_columns, fit))
        if columns != self.columnCount:
            self.setColumnCount(columns)
        if views and views[0].centralWidget is self.plot and self.plot.geometry().width() > shown + 0.5:
            QtCore.QTimer.singleShot(0, self, self._fit_plot)            # once the layout took the legend

    def _fit_plot(self) -> None:
        """Give the plot the view's width again (a wider legend had widened it)."""
        views = self.scene().views() if self.scene() is not None else []
        if views and views[0].centralWidget is self.plot and self.plot.geometry() != views[0].range:
            self.plot.setGeometry(views[0].range)

    def updateSize(self):
        self.updateGeometry()               # the plot's layout places and sizes it

    def mouseDragEvent(self, ev):
        ev.ignore()


# pyqtgraph's own views paint (its Python GraphicsView.paintEvent prepares the scene, then
# paints).  (They painted in C++, prepared by a paint event filter, so that the GIL was not held
# through all the painting.  With and without, interleaved: ``bench_gui.py`` at full length,
# 2 rounds, load average 0.9: without, repaints 30/s, the longest stall 25-30 ms, training 84-87 %
# of headless; with, 29-30/s, 27-33 ms, 85-88 %; ``--quick``, 5 rounds, load 1.5-4.7: the same
# but for one run at load 2.4 (a 55 ms stall against 29 ms; one run's stall moves by ±20 ms).
# The plain version is as good.)
_LayoutWidget = pg.GraphicsLayoutWidget            # (the side-by-side panels' view)


class ThemedPlot(pg.PlotWidget):
    """Every plot's base: a PlotWidget with a BoundedViewBox, log-capable axes
    (``left_axis`` / ``bottom_axis``, LogAxis by default), projector fonts, axis labels, an
    optional legend strip and a light/dark theme (``set_dark``)."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = "", left_axis=None,
                 bottom_axis=None, legend_columns: int | None = 4, menu: bool = True):
        super().__init__(parent, background=style.palette(dark)["background"], viewBox=BoundedViewBox(),
                         axisItems={"left": left_axis or LogAxis("left"), "bottom": bottom_axis or LogAxis("bottom")})
        self.dark = dark
        self.plotItem.setLabel("bottom", xlabel)
        self.plotItem.setLabel("left", ylabel)
        if not menu:
            self.plotItem.setMenuEnabled(False)
        self.style_axes()
        self.legend = None
        if legend_columns:
            self.legend = LegendStrip(self.plotItem, columns=legend_columns)
            style.style_legend(self.legend, dark)

    @property
    def view_box(self) -> BoundedViewBox:
        return self.plotItem.vb

    def set_title(self, text: str) -> None:
        style.set_title(self.plotItem, text, self.dark)

    def style_axes(self) -> None:
        style.style_axes(self.plotItem, self.dark, style.TICK_PT, style.LABEL_PT)       # (no SI prefix)

    def set_dark(self, dark: bool) -> None:
        self.dark = bool(dark)
        style.apply_theme(self, self.dark)


class _ThemedPlot(ThemedPlot):
    """The training plots' base: a ThemedPlot with cached axes, a fixed left-axis width and per-run items."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = ""):
        super().__init__(parent, dark, xlabel, ylabel, legend_columns=None)
        cache_axes(self.plotItem)
        skip_empty(self.plotItem, self.plotItem.titleLabel)
        # A fixed width: otherwise each new set of tick labels resizes the view (and every frame
        # redraws from scratch while the axis settles).  Room for "10⁻¹⁰" or "−2500" and the title.
        self.plotItem.getAxis("left").setWidth(round(4.6 * style.font(style.TICK_PT).pointSizeF() + 20))
        self.legend = LegendStrip(self.plotItem)
        style.style_legend(self.legend, dark)
        self.run_items = []                   # every per-run item, removed by set_runs

    def _clear_runs(self) -> None:
        for item in self.run_items:
            self.plotItem.removeItem(item)
        self.run_items = []

    def _add(self, item, bounds=True, legend: str | None = None):
        self.plotItem.addItem(item, ignoreBounds=not bounds)
        if legend:
            self.legend.addItem(item, legend)
        self.run_items.append(item)
        return item

    def _set_bounds(self, x, y) -> None:
        set_view_bounds(self.view_box, x, y)


def cross_marker(color, radius: float = 7.0) -> QtWidgets.QGraphicsPathItem:
    """An ✗ of constant size on screen (``setPos`` in view coordinates), drawn by Qt alone: no
    Python is called when the plot repaints around it."""
    path = QtGui.QPainterPath()
    path.moveTo(-radius, -radius)
    path.lineTo(radius, radius)
    path.moveTo(-radius, radius)
    path.lineTo(radius, -radius)
    item = QtWidgets.QGraphicsPathItem(path)
    item.setPen(_pen(color, 3.5))
    item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    return item


class PixelLabel(QtWidgets.QGraphicsRectItem):
    """A text at a point of the plot, at a fixed size on screen, optionally in a box: what
    ``pg.TextItem`` draws, made of plain Qt items.  A TextItem is a Python item: each repaint
    near it calls its Python ``boundingRect``, ``paint`` and ``updateTransform`` (~4 calls a
    frame each, and each call must take the GIL from the training thread); this one paints
    in C++ alone.  ``anchor`` is TextItem's: (0, 0) puts the box's top-left corner at the
    point, (1, 1) its bottom-right corner."""

    PAD = 3                                   # px between the text and the box

    def __init__(self, color, font: QtGui.QFont, anchor=(0, 0)):
        super().__init__()
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.text_item = QtWidgets.QGraphicsSimpleTextItem(self)
        self.text_item.setFont(font)
        self.text_item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setColor(color)
        self.set_frame(None, None)
        self.anchor = pg.Point(*anchor)
        self._place()

    def setText(self, text: str) -> None:
        if text != self.text_item.text():
            self.text_item.setText(text)
            self._place()

    def toPlainText(self) -> str:
        return self.text_item.text()

    def set_font(self, font: QtGui.QFont) -> None:
        self.text_item.setFont(font)
        self._place()

    def setColor(self, color) -> None:
        self.text_item.setBrush(pg.mkBrush(color))

    def setAnchor(self, anchor) -> None:
        self.anchor = pg.Point(*anchor)
        self._place()

    def set_frame(self, fill, border) -> None:
        """The box's brush and pen (None: none)."""
        self.setBrush(fill if fill is not None else QtGui.QBrush(QtCore.Qt.BrushStyle.NoBrush))
        self.setPen(border if border is not None else QtGui.QPen(QtCore.Qt.PenStyle.NoPen))

    def text_width(self) -> float:
        return self.rect().width()

    def _place(self) -> None:
        text = self.text_item.boundingRect()
        w, h = text.width() + 2 * self.PAD, text.height() + 2 * self.PAD
        x, y = -self.anchor[0] * w, -self.anchor[1] * h
        self.setRect(QtCore.QRectF(x, y, w, h))
        self.text_item.setPos(x + self.PAD, y + self.PAD)


def cache_axes(plot: pg.PlotItem) -> None:
    """Keep each axis (its ticks, labels and grid lines) as a pixmap, redrawn only when the axis
    changes: a frame that draws new points then repaints the grid from the pixmap."""
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def skip_empty(*items) -> None:
    """Mark pyqtgraph containers that paint nothing themselves (a PlotItem, its title, a layout)
    as having no contents: Qt then never calls their Python ``boundingRect`` while painting.
    Each such call has to take the GIL from the training thread (see gui.worker), and a frame
    made ~10 of them for these items alone.  Their children paint as before."""
    for item in items:
        item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)


def within_quarter_pixel(vb: pg.ViewBox, old, new) -> bool:
    """True if curve values ``new`` are those drawn (``old``, same shape) give or take a quarter
    of a pixel of ``vb``'s y axis: then redrawing would change nothing on screen."""
    tol = 0.25 * abs(vb.viewPixelSize()[1]) if vb.width() > 0 and vb.height() > 0 else 0.0
    with np.errstate(all="ignore"):
        return bool(np.all((np.abs(new - old) <= tol) | (np.isnan(old) & np.isnan(new))))


def set_view_bounds(vb: BoundedViewBox, x, y) -> None:
    """Give the auto-range its x and y bounds (view coordinates); re-range only if they changed."""
    if vb.bounds != [x, y]:
        vb.bounds = [x, y]
        if any(vb.state["autoRange"]):
            vb.updateAutoRange()


def _show_off_chart(item, side: int, rank: int, text: str, x: float, bounds) -> None:
    """Put ``item`` at the top (side +1) or bottom (−1) edge of ``bounds``, ``rank`` lines in."""
    if side == 0:
        item.hide()
        return
    item.setText(("↑ " if side > 0 else "↓ ") + text)
    item.setAnchor((0.5, -1.1 * rank if side > 0 else 1 + 1.1 * rank))
    item.setPos(x, bounds[1] if side > 0 else bounds[0])
    item.show()
