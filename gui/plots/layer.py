"""Lines drawn fast: ``draw_segments`` (one QPainter call per curve, straight from an array) and
``CurveLayer``, every run's loss curve in one cached image that only grows.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from .ranges import _bucket_x, _polyline, decimate, segments

# numpy rows -> QLineF[] without a copy (what pyqtgraph's PlotCurveItem does; the layout is
# pinned by tests/test_pinned.py).  The plain version, a list of QLineF made from Python per
# curve, makes Qt objects whose deletion each hands the GIL over.  With and without
# (``bench_gui.py --quick --without wrapped-lines``), interleaved, 5 rounds: without, the GUI
# thread's CPU share 10-15 % (with: 7-12 %), the longest stall 49-65 ms at load average 1.2-3.2
# (with: 27-45 ms, once 71 ms) and 225 ms at 5.6 (with: 53-88 ms), training 78 % of headless at
# load 1.2 (with: 84-87 %).  A goal failed without it, and only without, in 3 of 5 rounds (both
# ways in the other two, at load 3.2 and 5.6): kept.
try:
    from shiboken6 import wrapInstance
except ImportError:     # pragma: no cover
    wrapInstance = None

FAR_PX = 1e6              # device coordinates are clipped this far outside the view (Qt draws 1e300 badly)


def draw_segments(painter: QtGui.QPainter, segs: np.ndarray, counts, pens) -> None:
    """Draw each curve's segments (see ``segments``) with its pen, or skip it where the pen is None;
    one QPainter.drawLines call per curve, straight from the array (fast for opaque pens of any width)."""
    segs = np.ascontiguousarray(segs, dtype=np.float64)
    base, offset = segs.ctypes.data, 0
    for n, pen in zip(counts, pens):
        n = int(n)
        if n and pen is not None:
            painter.setPen(pen)
            if wrapInstance is not None:
                painter.drawLines(wrapInstance(base + 32 * offset, QtCore.QLineF), n)
            else:                                                       # pragma: no cover
                painter.drawLines([QtCore.QLineF(*row) for row in segs[offset:offset + n]])
        offset += n


class _Surface(QtWidgets.QGraphicsRectItem):
    """Where a CurveLayer paints: a C++ item the size of the view, whose paint is the layer's.
    Qt asks an item for its bounding rectangle several times at every repaint; a C++ item's
    answer takes no GIL from the training thread (see gui.worker), a Python item's does
    (measured with the other C++ bounding rectangles: gui.plots.items)."""

    def __init__(self, layer: "CurveLayer"):
        super().__init__(layer)
        self.layer = layer
        self.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))     # (then its bounding rectangle is its rect)

    def paint(self, p, opt, widget=None):
        self.layer.paint(p, opt, widget)


class CurveLayer(pg.GraphicsObject):
    """Every run's loss curve in one item, drawn into a cached image that only grows.

    ``set_data(y)`` gives the curves (``y[k, s]`` at step s; x is the step, or log10 of it on
    a log step axis; y is the loss, or log10 of it on a log loss axis, taken after
    decimation).  Painting decimates to the pixel columns of the view (``decimate``) and
    draws into an image kept while the view, its size and the data's history stay the same:
    then each frame draws only the steps added since the last one (a column's envelope only
    grows, so drawing over it is exact), and the view repaints only the strip they fall in.  Anything else (zoom, resize, new axis range, a
    run hidden from the legend) redraws the image from scratch.  Exports draw directly,
    at the export's resolution.

    A frame makes as few Qt objects from Python as it can: PySide6 releases the GIL when a
    wrapped Qt object (a QRectF, a QPainter...) made from Python is deleted, so each one
    hands the GIL to the training thread and takes it back (see gui.worker).  So the view's
    rectangle is kept as numbers (``_view``), the image has one QPainter for good, and the
    strip is updated and the image drawn through the overloads that take numbers.
    """

    def __init__(self, width: float = 2.0):
        super().__init__()
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)     # _Surface paints
        self.surface = _Surface(self)
        self.width = float(width)
        self.colors, self.samples = [], []     # samples: legend items; hiding one hides its run
        self._pens = []
        self._shown_pens = None
        self._y = np.empty((0, 0))
        self._T = 0
        self._log_x = self._log_y = False
        self._generation = 0                   # bumped when what was drawn is no longer valid
        self._image = None
        self._image_painter = QtGui.QPainter()
        self._view = None                      # (x0, y0, x1, y1): the view's rectangle (view coordinates)
        self._px = 0.0                         # view units per pixel along x, at the last paint
        self._key = None
        self._state = None                     # incremental drawing: see _start
        self.full_renders = 0                  # for tests and benchmarks

    # -- data ----------------------------------------------------------------------------
    def set_runs(self, colors, samples=()) -> None:
        self.colors = [QtGui.QColor(c) for c in colors]
        self._pens = []
        for c in self.colors:
            pen = QtGui.QPen(c)
            pen.setCosmetic(True)
            pen.setWidthF(self.width)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.SquareCap)    # short segments overlap: no gaps between them
            self._pens.append(pen)
        self.samples = list(samples)
        for s in self.samples:
            s.visibleChanged.connect(self.invalidate)
        self._y, self._T = np.empty((len(self.colors), 0)), 0
        self.invalidate()

    def set_data(self, y: np.ndarray, log_x: bool = False, log_y: bool = False, new_history: bool = False) -> None:
        """``y`` (K, T): the curves so far (a view is fine: read at paint time); ``log_x``, ``log_y``:
        the axes' scales.  ``new_history``: earlier steps changed (a new experiment)."""
        T_old = self._T
        if (new_history or (log_x, log_y) != (self._log_x, self._log_y) or y.shape[0] != self._y.shape[0]
                or y.shape[1] < T_old):
            self._generation += 1
        self._y, self._T, self._log_x, self._log_y = y, y.shape[1], bool(log_x), bool(log_y)
        if self._state is not None and self._state["generation"] == self._generation and self._T > T_old:
            self._update_strip(self._state["tail"], self._T)
        else:
            self.update()

    @property
    def generation(self) -> int:
        """Changes when what was drawn no longer holds (new history, another scale, a run hidden or shown)."""
        return self._generation

    def invalidate(self) -> None:
        self._generation += 1
        self._shown_pens = None
        self.update()

    def _vx(self, steps):
        steps = np.asarray(steps, dtype=float)
        if not self._log_x:
            return steps
        with np.errstate(divide="ignore"):
            return np.log10(steps)

    def _update_strip(self, a: int, b: int) -> None:
        """Repaint only the columns of steps a-1 … b-1 (all of the view's height)."""
        if self._view is None:
            return
        x0, x1 = self._vx([max(a - 1, 1 if self._log_x else 0), max(b - 1, 0)])
        top, bottom = self._view[1], self._view[3]
        self.surface.update(float(x0) - 3 * self._px, top, float(x1 - x0) + 6 * self._px, bottom - top)

    def points(self, k: int, width_px: float):
        """Run k's polyline as drawn, in view coordinates, at ``width_px`` columns across the view."""
        vb = self.getViewBox()
        (v0, v1), _ = vb.viewRange() if vb is not None else ((0.0, 1.0), None)
        sx = width_px / (v1 - v0) if v1 > v0 else 1.0
        a, b = self._visible_steps(v0, v1)
        b = min(b, self._T)
        if b - a < 1:
            return np.zeros(0), np.zeros(0)
        vx = self._vx(np.arange(a, b))
        starts, pts = decimate(self._y[k:k + 1, a:b], np.floor((vx - v0) * sx), self._log_y)
        return _polyline(_bucket_x(vx, starts), pts[0])

    # -- geometry ----------------------------------------------------------------------------
    def boundingRect(self):
        return self.surface.rect()                # (the view's rectangle: see viewRangeChanged)

    def viewRangeChanged(self):
        vb = self.getViewBox()
        if vb is not None:
            self.prepareGeometryChange()
            rect = vb.viewRect()
            self.surface.setRect(rect)
            self._view = (rect.left(), rect.top(), rect.right(), rect.bottom())
            self.update()

    def update(self, *rect):
        """Repaint (a rectangle of) the layer: its surface is what paints."""
        self.surface.update(*rect)

    # -- painting ----------------------------------------------------------------------------
    def _visible_steps(self, v0: float, v1: float):
        """Steps [a, b) whose x is in [v0, v1], plus one each side (lines leave the view);
        ``b`` may lie beyond the data (steps still to come)."""
        if self._log_x:
            lo, hi = 10.0 ** max(min(v0, 300.0), -300.0), 10.0 ** max(min(v1, 300.0), -300.0)
            a = max(1, int(math.floor(lo)) - 1)
        else:
            lo, hi = v0, v1
            a = max(0, int(math.floor(lo)) - 1)
        b = int(math.ceil(min(hi, 1e15))) + 2
        return a, max(a, b)

    def _start(self, transform: QtGui.QTransform):
        sx, ox, sy, oy = transform.m11(), transform.dx(), transform.m22(), transform.dy()
        vb = self.getViewBox()
        v0, v1 = (vb.viewRange()[0] if vb is not None else (0.0, float(self._T)))
        a, b = self._visible_steps(v0, v1)
        K = self._y.shape[0]
        return {"generation": self._generation, "map": (sx, ox, sy, oy), "tail": a, "drawn": a, "end": b,
                "prev_x": np.full(K, np.nan), "prev_y": np.full(K, np.nan), "clip": None}

    def _extend(self, painter: QtGui.QPainter, state: dict) -> None:
        """Draw steps state['tail'] … T−1 (up to the view's end) and move state on."""
        a, b = state["tail"], min(self._T, state["end"])
        if b <= state["drawn"] or b - a < 1:
            return
        sx, ox, sy, oy = state["map"]
        cols = np.floor(sx * self._vx(np.arange(a, b)) + ox)
        starts, pts = decimate(self._y[:, a:b], cols, self._log_y)
        K, B, px, py = pts.shape[0], starts.size, state["prev_x"], state["prev_y"]
        lo, hi = state["clip"]
        x = np.empty((K, 4 * B + 1))                          # the last point drawn, then the new ones
        y = np.empty((K, 4 * B + 1))
        x[:, 0], y[:, 0] = px, py
        x[:, 1:] = np.repeat(cols[starts] + 0.5, 4)           # a column's points at its centre
        with np.errstate(all="ignore"):
            np.clip(sy * pts + oy, lo, hi, out=y[:, 1:])
        if self._shown_pens is None:             # (rebuilt when a run is hidden or shown: see invalidate)
            self._shown_pens = [self._pens[k] if k < len(self._pens) and self._shown(k) else None
                                for k in range(K)]
        pens = self._shown_pens
        segs, counts = segments(x, y)
        draw_segments(painter, segs, counts, pens)
        # The next frame goes on from the last point of the bucket before the last (still
        # growing) one, as the whole polyline would; NaN there is a gap, as it would be.
        i = 4 * (B - 1)
        px[:], py[:] = x[:, i], y[:, i]
        state["tail"] = a + int(starts[-1])
        state["drawn"] = b

    def _shown(self, k: int) -> bool:
        return k >= len(self.samples) or self.samples[k].isVisible()

    def _export_paint(self, p, t: QtGui.QTransform, scale: float) -> None:
        """An export (gui.render): decimate to the export's pixels, ``scale`` device pixels to the
        painter's unit, with pens ``scale`` times as wide; the cached image is left alone."""
        t = t * QtGui.QTransform.fromScale(scale, scale)                # view -> the export's pixels
        sx, ox, sy, oy = t.m11(), t.dx(), t.m22(), t.dy()
        xs = (sx * self._view[0] + ox, sx * self._view[2] + ox)
        ys = (sy * self._view[1] + oy, sy * self._view[3] + oy)
        state = self._start(t)
        state["clip"] = (min(ys) - FAR_PX, max(ys) + FAR_PX)
        shown = self._shown_pens
        self._shown_pens = []
        for k in range(self._y.shape[0]):
            pen = None
            if k < len(self._pens) and self._shown(k):
                pen = QtGui.QPen(self._pens[k])
                pen.setWidthF(pen.widthF() * scale)
            self._shown_pens.append(pen)
        p.save()
        try:
            p.resetTransform()
            p.scale(1.0 / scale, 1.0 / scale)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, bool(self._exportOpts.get("antialias", True)))
            p.setClipRect(QtCore.QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)))
            self._extend(p, state)
        finally:
            p.restore()
            self._shown_pens = shown

    def paint(self, p, opt, widget):
        if self._T < 1 or not self.colors or self._view is None:
            return
        t = p.transform()                           # (scale and shift only: the view's rectangle in pixels)
        sx, ox, sy, oy = t.m11(), t.dx(), t.m22(), t.dy()
        xs = (sx * self._view[0] + ox, sx * self._view[2] + ox)
        ys = (sy * self._view[1] + oy, sy * self._view[3] + oy)
        d_left, d_right, d_top, d_bottom = min(xs), max(xs), min(ys), max(ys)
        if d_right - d_left < 1 or d_bottom - d_top < 1:
            return
        if self._exportOpts is not False:                  # an export: draw at its resolution
            self._export_paint(p, t, float(self._exportOpts.get("pen_scale", 1.0)))
            return
        self._px = 1.0 / abs(sx) if sx else 0.0
        left, top = math.floor(d_left), math.floor(d_top)
        w, h = math.ceil(d_right) - left, math.ceil(d_bottom) - top
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        key = (t.m11(), t.dx(), t.m22(), t.dy(), left, top, w, h, dpr, self._generation)
        if key != self._key or self._image is None or self._state is None:
            self._image = QtGui.QImage(max(1, round(w * dpr)), max(1, round(h * dpr)),
                                       QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            self._image.setDevicePixelRatio(dpr)
            self._image.fill(0)
            self._key = key
            self._state = self._start(t)
            self._state["clip"] = (top - FAR_PX, top + h + FAR_PX)
            self.full_renders += 1
        if min(self._T, self._state["end"]) > self._state["drawn"]:
            ip = self._image_painter
            ip.begin(self._image)
            ip.translate(-left, -top)
            self._extend(ip, self._state)
            ip.end()
        p.save()
        p.resetTransform()
        p.drawImage(left, top, self._image)
        p.restore()
