"""FitPlot: the data and every run's current fit (``FitCurves``), with a faded trail of recent fits."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.report import lr_label
from .. import style
from ..format import short
from .items import PixelLabel, _ThemedPlot, _pen, _show_off_chart, set_view_bounds, within_quarter_pixel
from .layer import draw_segments
from .ranges import _median, _polyline, clip_far, fit_bounds, off_chart, quantize_bounds, segments

TRAIL = 6                 # faded previous fits per run in FitPlot


def trail_alpha(age: int, length: int) -> int:
    """Opacity of the fit ``age`` + 1 steps back in a trail of ``length``: fainter with age."""
    return int(150 * (1 - age / max(length, 1)) + 20)


class FitCurves(pg.GraphicsObject):
    """Every run's current fit, and the faded trail of its last few fits, as one item:
    one paint call per frame whatever the number of runs (the fits are drawn as line
    segments, the fastest way Qt draws a wide pen; a stopped run's fit is dashed)."""

    FIT_WIDTH = 3.0
    TRAIL_WIDTH = 1.0

    def __init__(self, trail_length: int = TRAIL):
        super().__init__()
        self.trail_length = int(trail_length)
        self.x = np.zeros(0)
        self.y = np.zeros((0, 0))
        self.trail = np.zeros((0, 0, 0))             # (m, K, G): fits 1 … m steps back
        self.stopped = np.zeros(0, bool)
        self.colors, self.samples, self._pens = [], [], []
        self._rect = QtCore.QRectF()

    def set_runs(self, colors, samples=()) -> None:
        self.colors = [QtGui.QColor(c) for c in colors]
        self._pens = [_pen(c, self.FIT_WIDTH) for c in self.colors]
        self.samples = list(samples)
        for s in self.samples:
            s.visibleChanged.connect(self.update)
        K = len(self.colors)
        self.set_data(np.zeros(0), np.zeros((K, 0)), np.zeros(K, bool), None)

    def set_data(self, x, y, stopped, trail) -> None:
        self.x, self.y = x, y
        self.stopped = stopped
        self.trail = trail if trail is not None and trail.size else np.zeros((0,) + y.shape)
        with np.errstate(all="ignore"):
            ys = np.concatenate((y.ravel(), self.trail.ravel()))
            ys = ys[np.isfinite(ys)]
        self.prepareGeometryChange()
        if x.size and ys.size:
            lo, hi = float(ys.min()), float(ys.max())
            self._rect = QtCore.QRectF(float(x[0]), lo, float(x[-1] - x[0]), max(hi - lo, 1e-300))
        else:
            self._rect = QtCore.QRectF()
        self.update()

    def boundingRect(self):
        return QtCore.QRectF(self._rect)

    def _shown(self, k: int) -> bool:
        return k >= len(self.samples) or self.samples[k].isVisible()

    def paint(self, p, opt, widget):
        if self.x.size < 2:
            return
        aa = bool(self._exportOpts.get("antialias", True)) if self._exportOpts is not False else False
        wide = float(self._exportOpts.get("pen_scale", 1.0)) if self._exportOpts is not False else 1.0  # (an export)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, aa)
        K = min(len(self.colors), self.y.shape[0])
        pen = QtGui.QPen()
        pen.setCosmetic(True)
        for age in reversed(range(min(self.trail.shape[0], self.trail_length))):     # oldest first
            pen.setWidthF(self.TRAIL_WIDTH * wide)
            for k in range(min(K, self.trail.shape[1])):
                if self._shown(k):
                    c = QtGui.QColor(self.colors[k])
                    c.setAlpha(trail_alpha(age, self.trail_length))
                    pen.setColor(c)
                    p.setPen(pen)
                    x, y = _polyline(self.x, self.trail[age, k])
                    if x.size > 1:          # translucent: one polyline, or the joints would show darker
                        p.drawPolyline(pg.functions.arrayToQPolygonF(x, y))
        dashed = np.zeros(K, bool)
        dashed[:min(K, self.stopped.size)] = self.stopped[:K]
        pens = [self._pens[k] if self._shown(k) and not dashed[k] else None for k in range(K)]
        if wide != 1.0:
            pens = [None if pen is None else QtGui.QPen(pen) for pen in pens]
            for pen in pens:
                if pen is not None:
                    pen.setWidthF(self.FIT_WIDTH * wide)
        segs, counts = segments(self.x, self.y[:K])
        draw_segments(p, segs, counts, pens)
        for k in np.flatnonzero(dashed):    # a stopped run: dashed, which needs one polyline
            if self._shown(k):
                x, y = _polyline(self.x, self.y[k])
                if x.size > 1:
                    p.setPen(_pen(self.colors[k], self.FIT_WIDTH * wide, dashed=True))
                    p.drawPolyline(pg.functions.arrayToQPolygonF(x, y))


class FitPlot(_ThemedPlot):
    """The data and every run's current fit; at slow speed, a faded trail of each run's
    fits at the last few steps, so a fit flipping from side to side shows."""

    def __init__(self, parent=None, dark: bool = False, trail: int = TRAIL):
        super().__init__(parent, dark, "x", "y")
        self.trail_length = int(trail)
        # A plain scatter (a PlotDataItem would re-set its points at every change of range),
        # kept as a pixmap: the data never change while training.
        self.points = pg.ScatterPlotItem(symbol="o", size=8, pen=pg.mkPen(None))
        self.points.setZValue(20)
        self.points.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plotItem.addItem(self.points)
        self.legend.addItem(self.points, "data")
        self.curves = FitCurves(self.trail_length)
        self.curves.setZValue(10)
        self.plotItem.addItem(self.curves, ignoreBounds=True)
        self._y_data = np.empty(0)
        self.samples, self.off_labels, self.colors, self.learning_rates = [], [], [], []
        self._x_grid = np.empty(0)
        self._raw = np.empty((0, 0))
        self._stopped = None
        self._labels = {}
        self._style_points()

    # -- what is shown (also for tests) ---------------------------------------------------------
    @property
    def fit_data(self):
        """(x, y (K, G)): the fits drawn."""
        return self.curves.x, self.curves.y

    @property
    def trail_data(self):
        """(m, K, G): the trail drawn, newest first (m <= the trail length)."""
        return self.curves.trail

    def set_points(self, x, y) -> None:
        self.points.setData(x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float))
        self._y_data = np.asarray(y, dtype=float)
        self._update_bounds()

    def set_runs(self, learning_rates, colors, names=None) -> None:
        """``names``: each run's name in the legend (default "lr=<rate>")."""
        self._clear_runs()
        for item in self.samples:
            self.legend.removeItem(item)
        self.colors = list(colors)
        self.samples, self.off_labels = [], []
        self.learning_rates = list(learning_rates)
        names = list(names) if names is not None else [lr_label(lr) for lr in learning_rates]
        for name, color in zip(names, self.colors):
            sample = pg.PlotCurveItem(pen=_pen(color, FitCurves.FIT_WIDTH))    # the legend's line
            self.legend.addItem(sample, name)
            self.samples.append(sample)
            label = PixelLabel(color, style.font(style.LABEL_PT - 1, bold=True))   # "↓ lr=1: fit at y ≈ −19.2"
            label.hide()
            self.off_labels.append(self._add(label, bounds=False))
        self.curves.set_runs(self.colors, self.samples)
        self._stopped = None
        self._labels = {}
        self._x_grid = np.empty(0)
        self._raw = np.empty((0, 0))
        style.style_legend(self.legend, self.dark)

    def update_fits(self, x_grid, y_grid, stopped=None, trail=None) -> None:
        """``y_grid`` (K, G): each run's fit at ``x_grid``; ``trail`` (m, K, G) or None: the fits
        1 … m steps back (newest first), drawn faded; only the first ``trail_length`` are kept."""
        x_grid = np.asarray(x_grid, dtype=float)
        y_grid = np.atleast_2d(np.asarray(y_grid, dtype=float))[:len(self.samples)]
        K = len(self.samples)
        stopped = np.zeros(K, bool) if stopped is None else np.asarray(stopped, bool)[:K]
        far = fit_bounds(self._y_data, np.empty(0))          # what is far off: from the data alone
        if trail is not None:
            trail = np.asarray(trail, dtype=float)[:self.trail_length, :K]
            trail = clip_far(trail, far) if trail.size else None
        shown = clip_far(y_grid, far)
        x_old, y_old = self.curves.x, self.curves.y
        moved = (trail is not None or self.curves.trail.size or x_old.shape != x_grid.shape
                 or y_old.shape != y_grid.shape or not np.array_equal(x_old, x_grid)
                 or not np.array_equal(self.curves.stopped, stopped)
                 or not within_quarter_pixel(self.view_box, y_old, shown))
        self._raw = y_grid                       # the real values, for the range and the off-chart labels
        self._x_grid = x_grid
        if moved:
            self.curves.set_data(x_grid, shown, stopped.copy(), trail)
        self._set_stopped(stopped)
        self._update_bounds()

    def clear_trail(self) -> None:
        c = self.curves
        if c.trail.size:
            c.set_data(c.x, c.y, c.stopped, None)

    def _set_stopped(self, stopped) -> None:
        if self._stopped is not None and np.array_equal(stopped, self._stopped):
            return
        self._stopped = stopped.copy()
        for sample, color, s in zip(self.samples, self.colors, stopped):
            sample.setPen(_pen(color, FitCurves.FIT_WIDTH, dashed=bool(s)))

    def _update_bounds(self) -> None:
        x_grid, fits = self._x_grid, self._raw
        bounds = quantize_bounds(fit_bounds(self._y_data, fits), False)      # the axis changes only now and then
        x_bounds = (float(x_grid[0]), float(x_grid[-1])) if x_grid.size > 1 else None
        set_view_bounds(self.view_box, x_bounds, bounds)
        ranks = {1: 0, -1: 0}
        sides = np.zeros(len(self.off_labels), int)
        if bounds is not None and x_grid.size and len(fits):
            n = min(len(sides), len(fits))
            sides[:n] = off_chart(fits[:n], bounds)
        for k, label in enumerate(self.off_labels):
            side = int(sides[k])
            if side and not self.samples[k].isVisible():
                side = 0
            if side:
                text = f"{lr_label(self.learning_rates[k])}: fit at y ≈ {short(_median(fits[k]))}"
                shown = (side, ranks[side], text, float(np.mean(x_grid[[0, -1]])), bounds)
                if self._labels.get(k) != shown:
                    self._labels[k] = shown
                    _show_off_chart(label, *shown)
                ranks[side] += 1
            elif self._labels.get(k) is not None:
                self._labels[k] = None
                label.hide()

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self._style_points()

    def _style_points(self) -> None:
        fg = QtGui.QColor(style.palette(self.dark)["foreground"])
        fg.setAlpha(170)
        self.points.setBrush(pg.mkBrush(fg))
