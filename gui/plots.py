"""The plot widgets: loss curves, fitted functions, small multiples, parameter panel.

Plot items are created once per set of runs (``set_runs``) and updated with new data;
nothing is recreated per frame.  The auto-range of the loss plot follows the healthy
runs only, so one exploding run cannot flatten the others.

Drawing is kept to what a screen can show, so that repainting ~30 times a second
leaves the training thread (which shares the GIL with the painting) most of the time:

* A loss curve is decimated to the pixel columns of the view ("M4": in each column the
  first, lowest, highest and last value), so a zigzag's envelope stays visible at any
  zoom while at most a few points per column are drawn (``decimate``).
* Every run's loss curve is drawn into one cached image (``CurveLayer``).  While the
  view stays the same, a frame draws only the steps that arrived since the last one;
  the axes grow in coarse steps (``nice_ceil``, ``quantize_bounds``), so the image is
  redrawn from scratch only now and then.
* Every run's fit, and at slow speed the faded trail of its last few fits, is one item
  (``FitCurves``): one paint call whatever the number of runs.
* What does not change while training is kept as a pixmap (axes with their grid, label
  texts, the data points), legend entries are skipped when a repaint does not touch the
  legend, markers are plain Qt items: a repaint of new points calls little Python.
* Lines are drawn non-antialiased as segments (``draw_segments``): Qt strokes a wide,
  antialiased zigzag polyline ~100 times slower.
"""
from __future__ import annotations

import math
import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.network import PARAM_NAMES, unpack
from core.report import lr_label
from . import style

try:                    # numpy rows -> QLineF[] without a copy (what pyqtgraph's PlotCurveItem does)
    from shiboken6 import wrapInstance
except ImportError:     # pragma: no cover
    wrapInstance = None

OUTLIER_FACTOR = 1e3      # a run whose peak loss is this far above the others' median is left out
HEADROOM_DECADES = 2.0    # log axis: diverged runs may raise the top this far above the healthy runs
TRAIL = 6                 # faded previous fits per run in FitPlot
FIT_MARGIN = 1.0          # fit view: at most this many data spans beyond the data, each side
LOSS_LABEL = "loss (mean squared error)"
NICE = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)   # the step axis grows through these × 10^k
FAR_PX = 1e6              # device coordinates are clipped this far outside the view (Qt draws 1e300 badly)
AXIS_HOLD = 0.5           # s: a new range within this long of the last grows faster (fewer redraws)
LOG_GRID = 0.5            # decades: a log loss axis's ends move in these steps


def _median(a) -> float:
    """np.median without its lazy import of numpy.ma (30 ms at the first frame)."""
    s = np.sort(np.asarray(a, dtype=float))
    n = s.size
    return float("nan") if n == 0 else float((s[(n - 1) // 2] + s[n // 2]) / 2)




# -- ranges (pure numpy) ------------------------------------------------------------------
def _row_ranges(a: np.ndarray, log: bool):
    """Per-row (lo, hi) of the finite values (positive ones on a log axis), in view coordinates."""
    a = np.atleast_2d(a)
    with np.errstate(all="ignore"):
        ok = np.isfinite(a) & (a > 0) if log else np.isfinite(a)
        lo = np.min(a, axis=1, where=ok, initial=np.inf)
        hi = np.max(a, axis=1, where=ok, initial=-np.inf)
        if log:
            lo, hi = np.log10(lo), np.log10(hi)
    return lo, hi


def healthy_runs(peaks: np.ndarray, diverged_steps) -> np.ndarray:
    """(K,) bool: not diverged, and peak loss not OUTLIER_FACTOR × above the median of the other such runs."""
    peaks = np.asarray(peaks, dtype=float)
    ok = (np.asarray(diverged_steps) < 0) & np.isfinite(peaks)
    out = ok.copy()
    idx = np.flatnonzero(ok)
    n = idx.size
    if n < 2:
        return out
    order = np.argsort(peaks[idx], kind="stable")
    s = peaks[idx][order]
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    m = n - 1                                    # the others of each run: s without its own rank
    i1, i2 = (m - 1) // 2, m // 2
    median = (s[i1 + (i1 >= rank)] + s[i2 + (i2 >= rank)]) / 2
    out[idx[peaks[idx] > OUTLIER_FACTOR * median]] = False
    return out


def _pad(lo: float, hi: float, log: bool, min_decades: float = 1.0):
    """Widen a too-narrow range: at least ``min_decades`` on a log axis (no crowded minor labels)."""
    if log and hi - lo < min_decades:
        mid = (lo + hi) / 2
        return mid - min_decades / 2, mid + min_decades / 2
    if hi - lo > 1e-12 * max(1.0, abs(hi)):
        return lo, hi
    half = max(0.1 * abs(hi), 1e-12)
    return lo - half, hi + half


def loss_bounds(lo_k, hi_k, peaks, diverged_steps, log: bool, headroom: bool = True, min_decades: float = 1.0):
    """(lo, hi) of the loss axis in view coordinates (log10 units on a log axis), or None.

    ``lo_k``, ``hi_k``: each run's range in view coordinates; ``peaks``: each run's
    largest finite loss.  From the healthy runs; with ``headroom``, diverged runs may
    raise the top by at most HEADROOM_DECADES (log) or one healthy span (linear).
    """
    healthy = healthy_runs(peaks, diverged_steps)
    base = healthy & np.isfinite(hi_k) if healthy.any() else np.isfinite(hi_k)
    if not base.any():
        return None
    lo, hi = float(lo_k[base].min()), float(hi_k[base].max())
    rest = hi_k[~base & np.isfinite(hi_k)]
    if rest.size and headroom:
        cap = hi + (HEADROOM_DECADES if log else max(hi - lo, abs(hi), 1e-12))
        hi = max(hi, min(float(rest.max()), cap))
    return _pad(lo, hi, log, min_decades)


class LossSeries:
    """Growing loss curves seen incrementally: each frame only the new steps are scanned.

    Keeps log10 of every loss (NaN where not positive and finite), each run's range on
    a linear and a log axis, and its last finite step.  Steps already seen are taken as
    final (a step's loss is written once); a shorter or different history starts over.
    """

    def __init__(self):
        self.generation = -1
        self.reset(0)

    def reset(self, runs: int) -> None:
        self.generation += 1                    # the curves start over: views redraw them from scratch
        self.runs, self.n, self.first = runs, 0, None
        self.log = np.empty((runs, 0))
        self.lo, self.hi, self.lo_log, self.hi_log = (np.full(runs, v) for v in (np.inf, -np.inf, np.inf, -np.inf))
        self.last, self.last_pos = np.full(runs, -1), np.full(runs, -1)     # last finite / finite positive step

    def update(self, losses: np.ndarray) -> None:
        K, T = losses.shape
        if K != self.runs or T < self.n or (self.n and not np.array_equal(losses[:, 0], self.first, equal_nan=True)):
            self.reset(K)
        if T <= self.n:
            return
        if self.log.shape[1] < T:
            grown = np.empty((K, max(T, 2 * self.log.shape[1])))
            grown[:, :self.n] = self.log[:, :self.n]
            self.log = grown
        new = losses[:, self.n:T]
        with np.errstate(all="ignore"):
            finite = np.isfinite(new)
            positive = finite & (new > 0)
            lg = np.log10(new, out=self.log[:, self.n:T], where=positive)
            lg[~positive] = np.nan
        self.lo = np.minimum(self.lo, np.min(new, axis=1, where=finite, initial=np.inf))
        self.hi = np.maximum(self.hi, np.max(new, axis=1, where=finite, initial=-np.inf))
        self.lo_log = np.minimum(self.lo_log, np.min(lg, axis=1, where=positive, initial=np.inf))
        self.hi_log = np.maximum(self.hi_log, np.max(lg, axis=1, where=positive, initial=-np.inf))
        for last, mask in ((self.last, finite), (self.last_pos, positive)):
            at_end = mask[:, -1]                       # the usual case: the newest step is finite
            last[at_end] = T - 1
            rest = ~at_end & mask.any(axis=1)
            if rest.any():
                last[rest] = self.n + mask.shape[1] - 1 - np.argmax(mask[rest, ::-1], axis=1)
        self.first = losses[:, 0].copy()
        self.n = T

    def ranges(self, log: bool):
        """Each run's (lo, hi) in view coordinates."""
        return (self.lo_log, self.hi_log) if log else (self.lo, self.hi)

    def bounds(self, diverged_steps, log: bool, **kwargs):
        lo, hi = self.ranges(log)
        return loss_bounds(lo, hi, self.hi, diverged_steps, log, **kwargs)


def fit_bounds(y_data, y_fits, margin: float = FIT_MARGIN):
    """(lo, hi) of the fit plot's y axis: the data and the fits, at most ``margin`` data spans beyond the data."""
    d_lo, d_hi = _row_ranges(np.ravel(y_data), False)
    f_lo, f_hi = _row_ranges(np.ravel(y_fits), False) if np.size(y_fits) else (np.array([np.inf]), np.array([-np.inf]))
    if not np.isfinite(d_lo[0]):
        if not np.isfinite(f_lo[0]):
            return None
        d_lo, d_hi = f_lo, f_hi
    lo, hi = float(d_lo[0]), float(d_hi[0])
    span = (hi - lo) or max(abs(hi), 1.0)
    lo2 = max(min(lo, float(f_lo[0])), lo - margin * span)
    hi2 = min(max(hi, float(f_hi[0])), hi + margin * span)
    return _pad(lo2, hi2, False)


def off_chart(fit, bounds) -> int:
    """+1 if all of a fit lies above ``bounds``, −1 if all below, 0 if some of it shows."""
    lo, hi = _row_ranges(fit, False)
    if bounds is None or not np.isfinite(lo[0]):
        return 0
    return 1 if lo[0] > bounds[1] else -1 if hi[0] < bounds[0] else 0


def _show_off_chart(item, side: int, rank: int, text: str, x: float, bounds) -> None:
    """Put ``item`` at the top (side +1) or bottom (−1) edge of ``bounds``, ``rank`` lines in."""
    if side == 0:
        item.hide()
        return
    item.setText(("↑ " if side > 0 else "↓ ") + text)
    item.setAnchor((0.5, -1.1 * rank if side > 0 else 1 + 1.1 * rank))
    item.setPos(x, bounds[1] if side > 0 else bounds[0])
    item.show()


def format_number(v) -> str:
    v = float(v)
    if np.isnan(v):
        return "—"
    if np.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.6g}"


def _fit_runs(K: int, losses, t: int, diverged_steps):
    """losses[:, :t+1] and diverged steps for exactly K runs (missing runs: NaN / −1; extra ones dropped)."""
    losses = np.asarray(losses, dtype=float)
    losses = losses if losses.ndim == 2 else np.empty((0, 0))
    T = max(0, min(losses.shape[1], int(t) + 1))
    ds = np.full(K, -1)
    if diverged_steps is not None:
        given = np.ravel(diverged_steps)[:K]
        ds[:given.size] = given
    if losses.shape[0] == K:
        return losses[:, :T], ds
    out = np.full((K, T), np.nan)
    n = min(K, losses.shape[0])
    out[:n] = losses[:n, :T]
    return out, ds


# -- drawing only what the screen shows (pure numpy) ----------------------------------------
def nice_ceil(v: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 × 10^k that is >= ``v`` (1 if v <= 1)."""
    v = float(v)
    if not v > 1:
        return 1.0
    e = 10.0 ** math.floor(math.log10(v))
    for m in NICE:
        if m * e >= v * (1 - 1e-12):
            return m * e
    return 10 * e                                              # pragma: no cover (m = 10 always fits)


def quantize_bounds(bounds, log: bool):
    """Widen ``(lo, hi)`` outwards to a coarse grid — LOG_GRID decades on a log axis, half the
    span's decade on a linear one — so the axes change only now and then while curves grow."""
    if bounds is None:
        return None
    lo, hi = bounds
    step = LOG_GRID if log else 10.0 ** math.floor(math.log10(max(hi - lo, 1e-300))) / 2
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def decimate(values: np.ndarray, cols: np.ndarray):
    """Column-envelope ("M4") decimation of curves that share their x.

    ``values`` (K, n): the curves; ``cols`` (n,): the non-decreasing pixel column of each
    point.  Returns ``(starts, points)``: ``starts`` (B,) the index of the first point of each
    column's bucket, ``points`` (K, 4B) for each curve ``first, a, b, last`` of every bucket,
    where ``(a, b)`` is ``(max, min)`` if the bucket ends lower than it starts, else
    ``(min, max)``.  A polyline through them, each bucket drawn at one x, lights the pixels
    the full curve lights: a zigzag's envelope stays visible however many points fall in a
    column.  NaN are ignored; a bucket without a finite value gives NaN.
    """
    values = np.asarray(values, dtype=float)
    K, n = values.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.empty((K, 0))
    starts = np.concatenate(([0], np.flatnonzero(np.diff(cols)) + 1))
    ends = np.append(starts[1:], n) - 1
    with np.errstate(all="ignore"):
        lo = np.fmin.reduceat(values, starts, axis=1)
        hi = np.fmax.reduceat(values, starts, axis=1)
    first, last = values[:, starts], values[:, ends]
    first = np.where(np.isnan(first), hi, first)
    last = np.where(np.isnan(last), lo, last)
    down = first >= last
    points = np.stack([first, np.where(down, hi, lo), np.where(down, lo, hi), last], axis=-1)
    return starts, points.reshape(K, -1)


def _bucket_x(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """x of the points ``decimate`` gives: a bucket's first three at its first x, its last at its last x."""
    bx = np.repeat(x[starts], 4)
    bx[3::4] = x[np.append(starts[1:], x.size) - 1]
    return bx


def _polyline(x: np.ndarray, y: np.ndarray):
    """The finite points of a polyline, without repeats of the same point."""
    ok = np.isfinite(y) & np.isfinite(x)
    x, y = x[ok], y[ok]
    if x.size > 1:
        keep = np.ones(x.size, bool)
        keep[1:] = (np.diff(x) != 0) | (np.diff(y) != 0)
        x, y = x[keep], y[keep]
    return x, y


def segments(x: np.ndarray, y: np.ndarray):
    """Line segments of K polylines (x (K, n) or (n,), y (K, n)) between consecutive finite,
    distinct points.  Returns ``(segs, counts)``: segs (N, 4) rows x0, y0, x1, y1, curve by
    curve; counts (K,) how many belong to each curve.  A non-finite point leaves a gap."""
    x = np.broadcast_to(x, y.shape)
    x0, y0, x1, y1 = x[:, :-1], y[:, :-1], x[:, 1:], y[:, 1:]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(y0) & np.isfinite(y1) & np.isfinite(x0) & np.isfinite(x1) & ((x0 != x1) | (y0 != y1))
    segs = np.empty((int(np.count_nonzero(ok)), 4))
    for i, a in enumerate((x0, y0, x1, y1)):
        segs[:, i] = a[ok]
    return segs, np.count_nonzero(ok, axis=1)


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


class CurveLayer(pg.GraphicsObject):
    """Every run's loss curve in one item, drawn into a cached image that only grows.

    ``set_data(y)`` gives the curves in view coordinates (``y[k, s]`` at step s; x is the
    step, or log10 of it on a log step axis).  Painting decimates to the pixel columns of
    the view (``decimate``) and draws into an image kept while the view, its size and the
    data's history stay the same: then each frame draws only the steps added since the
    last one (a column's envelope only grows, so drawing over it is exact), and the view
    repaints only the strip they fall in.  Anything else (zoom, resize, new axis range, a
    run hidden from the legend) redraws the image from scratch.  Exports draw directly,
    at the export's resolution.
    """

    def __init__(self, width: float = 2.0):
        super().__init__()
        self.width = float(width)
        self.colors, self.samples = [], []     # samples: legend items; hiding one hides its run
        self._pens = []
        self._shown_pens = None
        self._y = np.empty((0, 0))
        self._T = 0
        self._log_x = False
        self._generation = 0                   # bumped when what was drawn is no longer valid
        self._rect = QtCore.QRectF()
        self._image = None
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

    def set_data(self, y: np.ndarray, log_x: bool = False, new_history: bool = False) -> None:
        """``y`` (K, T): the curves so far in view coordinates (a view is fine: read at paint
        time).  ``new_history``: earlier steps changed (a new experiment, another axis scale)."""
        T_old = self._T
        if new_history or log_x != self._log_x or y.shape[0] != self._y.shape[0] or y.shape[1] < T_old:
            self._generation += 1
        self._y, self._T, self._log_x = y, y.shape[1], bool(log_x)
        if self._state is not None and self._state["generation"] == self._generation and self._T > T_old:
            self._update_strip(self._state["tail"], self._T)
        else:
            self.update()

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
        vb = self.getViewBox()
        if vb is None:
            return
        x0, x1 = self._vx([max(a - 1, 1 if self._log_x else 0), max(b - 1, 0)])
        r = self._rect
        width = vb.width()
        px = r.width() / width if width > 0 else 0.0
        self.update(QtCore.QRectF(x0 - 3 * px, r.top(), x1 - x0 + 6 * px, r.height()))

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
        starts, pts = decimate(self._y[k:k + 1, a:b], np.floor((vx - v0) * sx))
        return _polyline(_bucket_x(vx, starts), pts[0])

    # -- geometry ----------------------------------------------------------------------------
    def boundingRect(self):
        return QtCore.QRectF(self._rect)

    def viewRangeChanged(self):
        vb = self.getViewBox()
        if vb is not None:
            self.prepareGeometryChange()
            self._rect = QtCore.QRectF(vb.viewRect())
            self.update()

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
                "prev": np.full((K, 2), np.nan), "clip": None}

    def _extend(self, painter: QtGui.QPainter, state: dict) -> None:
        """Draw steps state['tail'] … T−1 (up to the view's end) and move state on."""
        a, b = state["tail"], min(self._T, state["end"])
        if b <= state["drawn"] or b - a < 1:
            return
        sx, ox, sy, oy = state["map"]
        cols = np.floor(sx * self._vx(np.arange(a, b)) + ox)
        starts, pts = decimate(self._y[:, a:b], cols)
        K, B, prev = pts.shape[0], starts.size, state["prev"]
        lo, hi = state["clip"]
        x = np.empty((K, 4 * B + 1))                          # the last point drawn, then the new ones
        y = np.empty((K, 4 * B + 1))
        x[:, 0], y[:, 0] = prev[:, 0], prev[:, 1]
        x[:, 1:] = np.repeat(cols[starts] + 0.5, 4)           # a column's points at its centre
        with np.errstate(all="ignore"):
            np.clip(sy * pts + oy, lo, hi, out=y[:, 1:])
        if self._shown_pens is None:             # (rebuilt when a run is hidden or shown: see invalidate)
            self._shown_pens = [self._pens[k] if k < len(self._pens) and self._shown(k) else None
                                for k in range(K)]
        pens = self._shown_pens
        segs, counts = segments(x, y)
        draw_segments(painter, segs, counts, pens)
        body = np.isfinite(y[:, :1 + 4 * (B - 1)])          # before the last (still growing) bucket
        seen = body.any(axis=1)
        last = body.shape[1] - 1 - np.argmax(body[:, ::-1], axis=1)
        rows = np.flatnonzero(seen)
        prev[rows, 0], prev[rows, 1] = x[rows, last[rows]], y[rows, last[rows]]
        state["tail"] = a + int(starts[-1])
        state["drawn"] = b

    def _shown(self, k: int) -> bool:
        return k >= len(self.samples) or self.samples[k].isVisible()

    def paint(self, p, opt, widget):
        if self._T < 1 or not self.colors:
            return
        t = p.transform()
        vb = self.getViewBox()
        if vb is None:
            return
        dev = t.mapRect(vb.viewRect())
        if dev.width() < 1 or dev.height() < 1:
            return
        if self._exportOpts is not False:                  # an export: draw at its resolution
            state = self._start(t)
            state["clip"] = (dev.top() - FAR_PX, dev.bottom() + FAR_PX)
            p.save()
            p.resetTransform()
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, bool(self._exportOpts.get("antialias", True)))
            p.setClipRect(dev)
            self._extend(p, state)
            p.restore()
            return
        left, top = math.floor(dev.left()), math.floor(dev.top())
        w, h = math.ceil(dev.right()) - left, math.ceil(dev.bottom()) - top
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
            ip = QtGui.QPainter(self._image)
            ip.translate(-left, -top)
            self._extend(ip, self._state)
            ip.end()
        p.save()
        p.resetTransform()
        p.drawImage(QtCore.QPointF(left, top), self._image)
        p.restore()


class BoundedViewBox(pg.ViewBox):
    """A ViewBox whose auto-range uses the owner's ``bounds`` (view coordinates) where given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bounds = [None, None]            # x, y: (lo, hi) or None = from the items

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):
        if items is None and None not in self.bounds:
            return [list(self.bounds[0]), list(self.bounds[1])]
        b = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        for ax in (0, 1):
            if self.bounds[ax] is not None:
                b[ax] = list(self.bounds[ax])
        return b


def _pen(color, width=2.0, alpha=255, dashed=False):
    c = QtGui.QColor(color)
    c.setAlpha(int(alpha))
    return pg.mkPen(c, width=width, style=QtCore.Qt.PenStyle.DashLine if dashed else QtCore.Qt.PenStyle.SolidLine)


class LogAxis(pg.AxisItem):
    """On a log axis, label whole decades (every n-th when crowded), minor ticks 2…9 unlabelled.

    Its bounding rectangle (which covers the plot when the grid is on) is asked for at
    every repaint of the plot; it is kept until the axis, the view or the style change."""

    PX_PER_LABEL = 45

    def boundingRect(self):
        view = self.linkedView()
        key = (self.geometry(), view.geometry() if view is not None else None, self.grid,
               self.style["tickLength"], self.style["hideOverlappingLabels"])
        cached = getattr(self, "_rect_cache", None)
        if cached is None or cached[0] != key:
            cached = self._rect_cache = (key, super().boundingRect())
        return QtCore.QRectF(cached[1])

    def tickStrings(self, values, scale, spacing):
        """Large whole numbers in full, with thousands separators ("500,000", not "500000" / "1e+06")."""
        if not self.logMode and len(values) and max(abs(v * scale) for v in values) >= 1e4 and all(
                float(v * scale).is_integer() for v in values):
            return [f"{int(v * scale):,}" for v in values]
        return super().tickStrings(values, scale, spacing)

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        lo, hi = int(np.ceil(minVal)), int(np.floor(maxVal))
        if hi - lo < 1 or not np.isfinite(minVal + maxVal):      # under two decades: pyqtgraph's own labels
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        step = max(1, int(np.ceil((hi - lo + 1) * self.PX_PER_LABEL / max(size, 1))))
        major = [float(d) for d in range(lo, hi + 1) if d % step == 0]
        minor = []
        if hi - lo <= 8:
            minor = [v for d in range(lo - 1, hi + 1) for v in d + np.log10(np.arange(2, 10)) if minVal < v < maxVal]
        return [(float(step), major), (None, minor)]


class LegendStrip(pg.LegendItem):
    """A legend laid out in a row under the plot (never over the curves), several entries per line."""

    SAMPLE_WIDTH = 20         # an ItemSample's width

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


class _PaintMeter:
    """Mixed into a pyqtgraph view: ``paint_cpu`` adds up the CPU time its paint events took
    (the window paces its frames by what drawing costs; see gui.worker)."""

    paint_cpu = 0.0

    def paintEvent(self, ev):
        t0 = time.thread_time()
        try:
            return super().paintEvent(ev)
        finally:
            self.paint_cpu += time.thread_time() - t0


class _LayoutWidget(_PaintMeter, pg.GraphicsLayoutWidget):
    pass


class _ThemedPlot(_PaintMeter, pg.PlotWidget):
    """A PlotWidget with a BoundedViewBox, projector fonts and a light/dark theme."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = ""):
        super().__init__(parent, background=style.palette(dark)["background"], viewBox=BoundedViewBox(),
                         axisItems={"left": LogAxis("left"), "bottom": LogAxis("bottom")})
        self.dark = dark
        self.plotItem.setLabel("bottom", xlabel)
        self.plotItem.setLabel("left", ylabel)
        style.style_axes(self.plotItem, dark, style.TICK_PT, style.LABEL_PT)
        cache_axes(self.plotItem)
        # A fixed width: otherwise each new set of tick labels resizes the view (and every frame
        # redraws from scratch while the axis settles).  Room for "10⁻¹⁰" or "−2500" and the title.
        self.plotItem.getAxis("left").setWidth(round(4.6 * style.font(style.TICK_PT).pointSizeF() + 20))
        self.legend = LegendStrip(self.plotItem)
        style.style_legend(self.legend, dark)
        self.run_items = []                   # every per-run item, removed by set_runs

    @property
    def view_box(self) -> BoundedViewBox:
        return self.plotItem.vb

    def set_title(self, text: str) -> None:
        style.set_title(self.plotItem, text, self.dark)

    def set_dark(self, dark: bool) -> None:
        self.dark = bool(dark)
        style.apply_theme(self, self.dark)

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


def cache_text(item: pg.TextItem) -> None:
    """Keep a label's text as a pixmap: repaints around it (new points every frame) then blit
    it instead of laying out and drawing the text again.  (Only the text: the frame around it
    is drawn by the TextItem itself, which does not tell its cache when the text changes.)"""
    item.textItem.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def cache_axes(plot: pg.PlotItem) -> None:
    """Keep each axis (its ticks, labels and grid lines) as a pixmap, redrawn only when the axis
    changes: a frame that draws new points then repaints the grid from the pixmap."""
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def set_view_bounds(vb: BoundedViewBox, x, y) -> None:
    """Give the auto-range its x and y bounds (view coordinates); re-range only if they changed."""
    if vb.bounds != [x, y]:
        vb.bounds = [x, y]
        if any(vb.state["autoRange"]):
            vb.updateAutoRange()


class LossPlot(_ThemedPlot):
    """Loss against step, one curve per run; log loss axis by default; hover for values.

    The curves are given data in view coordinates (log10 computed once per step by
    LossSeries) and the axes only label them as logarithmic: pyqtgraph's own log mode
    would take log10 of every point of every curve on every frame.  All curves are one
    ``CurveLayer``; the legend shows a sample line per run (click one to hide its run).
    The step axis grows in steps (``nice_ceil``: 1000, 1500, 2000, 3000 …) up to the step
    budget, the loss axis in quarter decades, so most frames only add points.
    """

    def __init__(self, parent=None, dark: bool = False, legend_outcomes: bool = False):
        super().__init__(parent, dark, "step", LOSS_LABEL)
        self.legend_outcomes = legend_outcomes
        self.legend.max_columns = 3 if legend_outcomes else 4
        self.learning_rates, self.colors = [], []
        self.samples, self.markers, self.labels = [], [], []
        self.layer = CurveLayer(width=2.0)
        self.layer.setZValue(5)
        self.plotItem.addItem(self.layer, ignoreBounds=True)
        self.series = LossSeries()
        self.log_x, self.log_y = False, True
        self._steps, self._steps_log = np.arange(0, dtype=float), False
        self._last = None                     # (losses, t, outcomes, diverged_steps, budget)
        self._marks = {}                      # run -> what its marker shows (skip unchanged)
        self._generation = None
        self._x_end, self._x_changed_at = None, 0.0     # the step axis ends at _x_end (see _x_bounds)
        self._set_axes_log()
        self.hover_label = pg.TextItem(anchor=(0, 1))
        self.hover_label.setFont(style.font(style.LABEL_PT - 1))
        self.hover_dot = pg.PlotDataItem(pen=None, symbol="o", symbolSize=10)
        for item in (self.hover_label, self.hover_dot):
            item.setZValue(100)
            item.hide()
            self.plotItem.addItem(item, ignoreBounds=True)
        self._style_texts()
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    # -- runs and data ------------------------------------------------------------------
    def set_runs(self, learning_rates, colors) -> None:
        self._clear_runs()
        self.legend.clear()
        self.learning_rates, self.colors = list(learning_rates), list(colors)
        self.samples, self.markers, self.labels = [], [], []
        for lr, color in zip(self.learning_rates, self.colors):
            sample = pg.PlotCurveItem(pen=_pen(color, 2.0))       # the legend's line; never in the plot
            self.legend.addItem(sample, lr_label(lr))
            self.samples.append(sample)
            marker = cross_marker(color)
            label = pg.TextItem(color=color, anchor=(0, 0))
            label.setFont(style.font(style.LABEL_PT, bold=True))
            cache_text(label)
            for item in (marker, label):
                item.setZValue(50)
                item.hide()
            self.markers.append(self._add(marker, bounds=False))
            self.labels.append(self._add(label, bounds=False))
        self.layer.set_runs(self.colors, self.samples)
        self.series.reset(len(self.samples))
        self._last = None
        self._marks = {}
        self.hover_label.hide()
        self.hover_dot.hide()
        self._style_texts()
        style.style_legend(self.legend, self.dark)

    def curve_points(self, k: int):
        """Run k's curve as drawn at the view's width: (steps, losses) in view coordinates."""
        return self.layer.points(k, max(self.view_box.width(), 1.0))

    def update_data(self, losses, t: int, outcomes=(), diverged_steps=None, budget: int | None = None) -> bool:
        """The losses of steps 0 … t (K, ≥ t+1); ``budget``: the step budget, where the step axis stops
        growing.  True if the curves will be drawn again from scratch (new axis ranges, a new history):
        a costlier frame than usual."""
        losses, ds = _fit_runs(len(self.samples), losses, t, diverged_steps)
        self._last = (losses, int(t), tuple(outcomes), ds, budget)
        self.series.update(losses)
        T = losses.shape[1]
        y = self.series.log[:, :T] if self.log_y else losses
        generation = (self.series.generation, self.log_y)
        new_history = generation != self._generation
        if new_history:
            self._x_end = None
        self.layer.set_data(y, self.log_x, new_history=new_history)
        self._generation = generation
        bounds = quantize_bounds(self.series.bounds(ds, self.log_y), self.log_y) if T else None
        x_bounds = self._x_bounds(T, budget)
        costly = new_history or self.view_box.bounds != [x_bounds, bounds]
        self._set_bounds(x_bounds, bounds)
        ends = {}
        for k in set(np.flatnonzero(ds >= 0)) | {k for k, m in self._marks.items() if m is not None}:
            end = self._mark(int(k), ds[k], bounds, y[k])
            if end is not None:
                ends[int(k)] = end
        if ends:
            self._stack_labels(ends, bounds)
        if self.legend_outcomes:
            self._legend_outcomes(outcomes)
        return costly

    def _x(self, T: int) -> np.ndarray:
        """Steps 0 … T−1 in view coordinates (log10 on a log axis, where step 0 is left out)."""
        if self._steps.size < T or self._steps_log != self.log_x:
            n = max(T, 2 * self._steps.size)
            with np.errstate(divide="ignore"):
                self._steps = np.log10(np.arange(n, dtype=float)) if self.log_x else np.arange(n, dtype=float)
            self._steps_log = self.log_x
        return self._steps

    def _x_bounds(self, T: int, budget: int | None = None):
        """(0, X): X the next "nice" number of steps (or the budget, if nearer), kept until the
        curves reach it; if they do within AXIS_HOLD seconds (a fast start), X at least doubles."""
        if T < 2:
            self._x_end = None
            return None
        last, end = T - 1, self._x_end
        if end is None or last > end or (budget is not None and end > budget >= last):
            now = time.perf_counter()
            fast = end is not None and now - self._x_changed_at < AXIS_HOLD
            end = nice_ceil(max(last, 2 * end) if fast else last)
            if budget is not None and budget >= last:
                end = min(end, float(budget))
            self._x_end, self._x_changed_at = end, now
        return (0.0, float(np.log10(end))) if self.log_x else (0.0, end)

    def _mark(self, k, dstep, bounds, y_view_row):
        """End a diverged run's curve with an ✗ and 'diverged at step k' (kept inside the view).

        Returns the step the marker sits at, or None if the run has not diverged."""
        marker, label = self.markers[k], self.labels[k]
        end = int((self.series.last_pos if self.log_y else self.series.last)[k])
        if dstep < 0 or end < 0 or (self.log_x and end == 0) or not self.samples[k].isVisible():
            if self._marks.get(k) is not None:
                marker.hide()
                label.hide()
                self._marks[k] = None
            return None
        y, y_view = float(self._last[0][k, end]), float(y_view_row[end])
        top = bounds[1] if bounds else np.inf
        x_view = np.log10(end) if self.log_x else float(end)
        shown = (x_view, min(y_view, top), f"diverged at step {dstep}" + (f"  (loss {y:.3g} ↑)" if y_view > top else ""))
        if self._marks.get(k) != shown:
            self._marks[k] = shown
            marker.setPos(shown[0], shown[1])
            label.setText(shown[2])
            label.setPos(shown[0], shown[1])
            marker.show()
            label.show()
        return end

    def _stack_labels(self, ends: dict, bounds) -> None:
        """Labels at about the same height go one under the other, not on top of each other; a
        label whose marker is in the right part of the step axis goes to the marker's left."""
        x_bounds = self.view_box.bounds[0] or (0.0, 1.0)
        span = max(x_bounds[1] - x_bounds[0], 1e-12)
        width = max(self.view_box.width(), 1.0)
        side = {}                 # the label's anchor: right of the marker, or left where there is more room,
        for k in ends:            # or moved in so that it ends at the view's edge
            x = (self._marks[k][0] - x_bounds[0]) / span * width
            w = max(self.labels[k].textItem.boundingRect().width(), 1.0)
            side[k] = 1.05 if x + w > width and x > width - x else min(1.05, max(-0.05, (x + w + 6 - width) / w))
        key = (tuple(sorted(ends.items())), tuple(self._marks.get(k) for k in sorted(ends)),
               tuple(round(side[k], 2) for k in sorted(ends)), bounds)
        if key == getattr(self, "_stacked", None):
            return
        self._stacked = key
        near = 0.1 * (bounds[1] - bounds[0]) if bounds else 0.0
        placed = []
        for k in sorted(ends, key=ends.get):
            y = self.labels[k].pos().y()
            rank = sum(abs(p - y) <= near for p in placed)
            placed.append(y)
            anchor = (side[k], -0.25 - 1.1 * rank)
            if self.labels[k].anchor != pg.Point(anchor):
                self.labels[k].setAnchor(anchor)

    def _legend_outcomes(self, outcomes) -> None:
        changed = False
        for (_, label), lr, outcome in zip(self.legend.items, self.learning_rates, outcomes):
            text = f"{lr_label(lr)} — {style.outcome_style(outcome).text}"
            if label.text != text:
                label.setText(text)
                changed = True
        if changed:
            self.legend.fit_columns()

    # -- axes ---------------------------------------------------------------------------
    def set_log_y(self, on: bool) -> None:
        self.log_y = bool(on)
        self._set_axes_log()

    def set_log_x(self, on: bool) -> None:
        self.log_x = bool(on)
        self._set_axes_log()

    def _set_axes_log(self) -> None:
        for name, log in (("bottom", self.log_x), ("left", self.log_y)):
            axis = self.plotItem.getAxis(name)
            axis.setLogMode(log)
            axis.setStyle(maxTextLevel=0 if log else 2)     # log: label the decades, not 2·10³ 3·10³ …
        self.view_box.bounds = [None, None]
        self.view_box.enableAutoRange()
        self._marks = {k: () for k in self._marks}          # markers move: draw them again
        self._generation = None
        self._x_end = None
        if self._last is not None:
            self.update_data(*self._last)

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self._style_texts()

    def _style_texts(self) -> None:
        p = style.palette(self.dark)
        for item in self.labels + [self.hover_label]:
            item.fill = pg.mkBrush(p["panel"])
            item.border = pg.mkPen(p["foreground"], width=0.5)
            item.update()
        self.hover_label.setColor(p["foreground"])

    # -- hover --------------------------------------------------------------------------
    def _on_scene_mouse_moved(self, pos) -> None:
        vb = self.view_box
        k = s = None
        if self._last is not None and self._last[0].shape[1] and vb.sceneBoundingRect().contains(pos):
            p = vb.mapSceneToView(pos)
            k, s = self._nearest(p.x(), p.y())
        if k is None:
            self.hover_label.hide()
            self.hover_dot.hide()
            return
        losses = self._last[0]
        self.hover_label.setText(f"{lr_label(self.learning_rates[k])}\nstep {s}\nloss {format_number(losses[k, s])}")
        (x0, x1), (y0, y1) = vb.viewRange()
        self.hover_label.setAnchor((1 if p.x() > (x0 + x1) / 2 else 0, 0 if p.y() > (y0 + y1) / 2 else 1))
        self.hover_label.setPos(p)
        y_view = self.series.log[k, s] if self.log_y else losses[k, s]
        self.hover_dot.setData([self._x(s + 1)[s]], [y_view], symbolBrush=self.colors[k],
                               symbolPen=style.palette(self.dark)["foreground"])
        self.hover_label.show()
        self.hover_dot.show()

    def _nearest(self, x_view: float, y_view: float):
        """(run, step) of the curve point nearest the mouse at the step under it, or (None, None)."""
        losses = self._last[0]
        with np.errstate(all="ignore"):
            x = 10.0 ** x_view if self.log_x else x_view
        s = int(np.clip(np.rint(x), 0, losses.shape[1] - 1))
        column = self.series.log[:, s] if self.log_y else losses[:, s]
        dist = np.abs(column - y_view)
        dist[~np.isfinite(dist)] = np.inf
        for k, sample in enumerate(self.samples):          # a run hidden from the legend is not hovered
            if not sample.isVisible():
                dist[k] = np.inf
        if not np.isfinite(dist).any():
            return None, None
        return int(np.argmin(dist)), s


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
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, aa)
        K = min(len(self.colors), self.y.shape[0])
        pen = QtGui.QPen()
        pen.setCosmetic(True)
        for age in reversed(range(min(self.trail.shape[0], self.trail_length))):     # oldest first
            pen.setWidthF(self.TRAIL_WIDTH)
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
        segs, counts = segments(self.x, self.y[:K])
        draw_segments(p, segs, counts, pens)
        for k in np.flatnonzero(dashed):    # a stopped run: dashed, which needs one polyline
            if self._shown(k):
                x, y = _polyline(self.x, self.y[k])
                if x.size > 1:
                    p.setPen(_pen(self.colors[k], self.FIT_WIDTH, dashed=True))
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

    def set_runs(self, learning_rates, colors) -> None:
        self._clear_runs()
        for item in self.samples:
            self.legend.removeItem(item)
        self.colors = list(colors)
        self.samples, self.off_labels = [], []
        self.learning_rates = list(learning_rates)
        for lr, color in zip(learning_rates, self.colors):
            sample = pg.PlotCurveItem(pen=_pen(color, FitCurves.FIT_WIDTH))    # the legend's line
            self.legend.addItem(sample, lr_label(lr))
            self.samples.append(sample)
            label = pg.TextItem(color=color)            # "↓ lr=1: fit at y ≈ −19.2" when it left the view
            label.setFont(style.font(style.LABEL_PT - 1, bold=True))
            cache_text(label)
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
        if trail is not None:
            trail = np.asarray(trail, dtype=float)[:self.trail_length, :K]
            trail = self._displayable(trail) if trail.size else None
        x_old, y_old = self.curves.x, self.curves.y
        moved = (trail is not None or self.curves.trail.size or x_old.shape != x_grid.shape
                 or y_old.shape != y_grid.shape or not np.array_equal(x_old, x_grid)
                 or not np.array_equal(self.curves.stopped, stopped) or self._moved(y_old, y_grid))
        self._raw = y_grid                       # the real values, for the range and the off-chart labels
        self._x_grid = x_grid
        if moved:
            self.curves.set_data(x_grid, self._displayable(y_grid), stopped.copy(), trail)
        self._set_stopped(stopped)
        self._update_bounds()

    def _moved(self, old, new) -> bool:
        """True if a fit moved by a quarter pixel or more since it was drawn."""
        vb = self.view_box
        tol = 0.25 * abs(vb.viewPixelSize()[1]) if vb.width() > 0 and vb.height() > 0 else 0.0
        with np.errstate(all="ignore"):
            d = np.abs(self._displayable(new) - old)
        return bool(not np.all((d <= tol) | (np.isnan(d) & np.isnan(old))))

    def clear_trail(self) -> None:
        c = self.curves
        if c.trail.size:
            c.set_data(c.x, c.y, c.stopped, None)

    def _displayable(self, y):
        """Clip absurd values far outside the view (Qt paints 1e300 badly); nothing visible changes."""
        b = fit_bounds(self._y_data, np.empty(0))
        if b is None:
            return y.copy()
        span = max(b[1] - b[0], 1e-12)
        with np.errstate(invalid="ignore"):
            return np.clip(y, b[0] - 1e3 * span, b[1] + 1e3 * span)

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
            lo, hi = _row_ranges(fits, False)                     # every run at once (see off_chart)
            n = min(len(sides), len(lo))
            sides[:n] = np.where(~np.isfinite(lo[:n]), 0,
                                 np.where(lo[:n] > bounds[1], 1, np.where(hi[:n] < bounds[0], -1, 0)))
        for k, label in enumerate(self.off_labels):
            side = int(sides[k])
            if side and not self.samples[k].isVisible():
                side = 0
            if side:
                text = f"{lr_label(self.learning_rates[k])}: fit at y ≈ {_median(fits[k]):.3g}"
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


class _RunPanel:
    """One run in SmallMultiples: a title, its loss curve and its fit over the data."""

    FIT_MARGIN = 2.0          # its fit may take the view this many data spans beyond the data

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, lr: float, color: str, dark: bool):
        self.lr, self.color = lr, color
        self.title = layout.addLabel("", row=row, col=col, colspan=2)
        self.loss = layout.addPlot(row=row + 1, col=col, viewBox=BoundedViewBox(),
                                   axisItems={"left": LogAxis("left")})
        self.fit = layout.addPlot(row=row + 1, col=col + 1, viewBox=BoundedViewBox())
        self.loss.getAxis("left").setLogMode(False, True)       # given log10 data (see LossPlot)
        self.loss.getAxis("left").setStyle(maxTextLevel=0)      # decades only: no crowded minor labels
        self.loss_curve = CurveLayer(width=1.5)
        self.loss_curve.set_runs([color])
        self.loss.addItem(self.loss_curve, ignoreBounds=True)
        self.points = pg.ScatterPlotItem(symbol="o", size=5, pen=pg.mkPen(None))
        self.points.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.fit.addItem(self.points)
        self.fit_curve = pg.PlotCurveItem(pen=_pen(color, 2.0), skipFiniteCheck=False)
        self.fit.addItem(self.fit_curve, ignoreBounds=True)
        self.off_chart = pg.TextItem(color=color)               # "↓ fit at y ≈ −2189" when it left the view
        self.off_chart.setFont(style.font(style.SMALL_TICK_PT, bold=True))
        self.fit.addItem(self.off_chart, ignoreBounds=True)
        self.off_chart.hide()
        self._off = None
        for plot in (self.loss, self.fit):
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(48)
        self.set_dark(dark)
        for plot in (self.loss, self.fit):
            cache_axes(plot)
        self.set_outcome("not started")

    def set_outcome(self, outcome: str, diverged_step: int = -1) -> None:
        text = f"{lr_label(self.lr)} — {style.outcome_style(outcome).text}"
        if diverged_step >= 0:
            text += f" at step {diverged_step}"
        if text != self.title.text:
            self.title.setText(text, color=self.color, size=f"{style.LABEL_PT}pt", bold=True)

    def show_loss(self, log_rows, x_bounds, bounds, new_history: bool) -> None:
        """``log_rows`` (1, T): log10 of the losses; ``x_bounds``, ``bounds``: the step and loss ranges."""
        self.loss_curve.set_data(log_rows, False, new_history=new_history)
        set_view_bounds(self.loss.vb, x_bounds, quantize_bounds(bounds, True))

    def show_fit(self, x_grid, fit, y_data) -> None:
        bounds = quantize_bounds(fit_bounds(y_data, fit, margin=self.FIT_MARGIN), False)
        set_view_bounds(self.fit.vb, (float(x_grid[0]), float(x_grid[-1])) if x_grid.size > 1 else None, bounds)
        x_old, y_old = self.fit_curve.getData()
        vb = self.fit.vb
        tol = 0.25 * abs(vb.viewPixelSize()[1]) if vb.width() > 0 and vb.height() > 0 else 0.0
        with np.errstate(all="ignore"):
            shown = np.clip(fit, bounds[0] - 1e3 * (bounds[1] - bounds[0]),
                            bounds[1] + 1e3 * (bounds[1] - bounds[0])) if bounds else fit
            same = (y_old is not None and y_old.shape == shown.shape and np.array_equal(x_old, x_grid)
                    and bool(np.all((np.abs(y_old - shown) <= tol) | (np.isnan(y_old) & np.isnan(shown)))))
        if not same:
            self.fit_curve.setData(x_grid, shown)
        off = (off_chart(fit, bounds), 0, f"fit at y ≈ {_median(fit):.3g}", float(np.mean(x_grid[[0, -1]])), bounds)
        if off != self._off:
            self._off = off
            _show_off_chart(self.off_chart, *off)

    def set_dark(self, dark: bool) -> None:
        for plot in (self.loss, self.fit):
            style.style_axes(plot, dark, style.SMALL_TICK_PT)
        fg = QtGui.QColor(style.palette(dark)["foreground"])
        fg.setAlpha(150)
        self.points.setBrush(pg.mkBrush(fg))


class SmallMultiples(QtWidgets.QWidget):
    """One panel per run (loss | fit), two runs to a row; healthy runs share one loss scale."""

    PANEL_HEIGHT = 190

    def __init__(self, parent=None, dark: bool = False, columns: int = 2):
        super().__init__(parent)
        self.dark, self.columns = dark, int(columns)
        self.graphics = _LayoutWidget(self)
        self.graphics.setBackground(style.palette(dark)["background"])
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(self.graphics)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.panels: list[_RunPanel] = []
        self.series = LossSeries()
        self._generation = None
        self._next = 0                      # the next panel to redraw (see update_data's ``panels``)
        self._x_end = None                  # every panel's step axis ends there (see _x_bounds)
        self._fits, self._fits_left = None, []     # the latest fits, and the panels still to show them
        self._x_data = self._y_data = np.empty(0)

    def set_runs(self, learning_rates, colors) -> None:
        self.graphics.clear()
        self.panels = []
        for k, (lr, color) in enumerate(zip(learning_rates, colors)):
            row, col = divmod(k, self.columns)
            panel = _RunPanel(self.graphics.ci, 2 * row, 2 * col, lr, color, self.dark)
            if self.panels:
                panel.fit.setXLink(self.panels[0].fit)
            self.panels.append(panel)
        rows = -(-len(self.panels) // self.columns)
        self.graphics.setMinimumHeight(rows * self.PANEL_HEIGHT)
        self.series.reset(len(self.panels))
        self._generation = None
        self._fits, self._fits_left, self._next, self._x_end = None, [], 0, None
        self.set_points(self._x_data, self._y_data)

    def set_points(self, x, y) -> None:
        self._x_data, self._y_data = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        for panel in self.panels:
            panel.points.setData(x=self._x_data, y=self._y_data)
            set_view_bounds(panel.fit.vb, panel.fit.vb.bounds[0], fit_bounds(self._y_data, np.empty(0)))

    def update_data(self, losses, t, outcomes, diverged_steps, x_grid=None, y_grid=None, budget=None,
                    panels: int | None = None) -> None:
        """``panels``: redraw the loss curves of at most this many panels, in turn (the next ones at
        the next call), so that a frame's cost does not grow with the number of runs; None: all."""
        losses, ds = _fit_runs(len(self.panels), losses, t, diverged_steps)
        self.series.update(losses)
        T, sr = losses.shape[1], self.series
        new_history = sr.generation != self._generation
        self._generation = sr.generation
        K = len(self.panels)
        if panels is None or new_history or panels >= K:
            which = range(K)
        else:
            which = [(self._next + i) % K for i in range(panels)]
            self._next = (self._next + panels) % K
        shared = sr.bounds(ds, True, headroom=False, min_decades=2.0) if T else None
        healthy = healthy_runs(sr.hi, ds)
        x_bounds = self._x_bounds(T, budget, new_history)
        with np.errstate(all="ignore"):
            for k in which:
                own = shared if healthy[k] or not T else loss_bounds(
                    sr.lo_log[k:k + 1], sr.hi_log[k:k + 1], sr.hi[k:k + 1], [-1], True, min_decades=2.0)
                self.panels[k].show_loss(sr.log[k:k + 1, :T], x_bounds, own, new_history)
            for k, panel in enumerate(self.panels):
                if k < len(outcomes):
                    panel.set_outcome(outcomes[k], int(ds[k]))
            if y_grid is not None:
                self._fits = (np.asarray(x_grid, dtype=float), np.asarray(y_grid, dtype=float))
                self._fits_left = list(range(K)) if panels is None else self._fits_left or list(range(K))
            if self._fits is not None and self._fits_left:         # the fits, in turn too
                x, y = self._fits
                for k in (self._fits_left if panels is None else self._fits_left[:panels]):
                    if k < len(self.panels) and k < len(y):
                        self.panels[k].show_fit(x, y[k], self._y_data)
                self._fits_left = [] if panels is None else self._fits_left[panels:]

    def _x_bounds(self, T: int, budget, new_history: bool):
        """One step range for every panel (so that they compare at a glance): it ends at the next
        of 1, 2, 5 × 10^k steps (or the budget), kept until the curves reach it."""
        if T < 2:
            self._x_end = None
            return None
        last = T - 1
        if new_history or self._x_end is None or last > self._x_end or (
                budget is not None and self._x_end > budget >= last):
            e = 10.0 ** math.floor(math.log10(max(last, 1)))
            end = next(m * e for m in (1, 2, 5, 10) if m * e >= last)
            self._x_end = float(min(end, budget) if budget is not None and budget >= last else end)
        return 0.0, self._x_end

    def set_dark(self, dark: bool) -> None:
        self.dark = bool(dark)
        self.graphics.setBackground(style.palette(dark)["background"])
        for panel in self.panels:
            panel.set_dark(dark)


def param_names(hidden: int) -> list[str]:
    """w1[0] … w1[H−1], b1[0] …, w2[0] …, b2 — in the layout of θ."""
    index = unpack(np.arange(3 * hidden + 1), hidden)
    names = []
    for name, part in zip(PARAM_NAMES, index):
        names += [name] if np.ndim(part) == 0 else [f"{name}[{i}]" for i in range(np.size(part))]
    return names


CHAIN_RULE = (("z1", "z1 = w1·x + b1"), ("a1", "a1 = σ(z1)"), ("y_pred", "y_pred = w2·a1 + b2"),
              ("loss", "L = (y_true − y_pred)²"),
              ("dL_dy_pred", "∂L/∂y_pred = −2(y_true − y_pred)"), ("dL_dw2", "∂L/∂w2 = ∂L/∂y_pred · a1"),
              ("dL_db2", "∂L/∂b2 = ∂L/∂y_pred"), ("dL_da1", "∂L/∂a1 = ∂L/∂y_pred · w2"),
              ("da1_dz1", "σ'(z1)"), ("dL_dw1", "∂L/∂w1 = ∂L/∂a1 · σ'(z1) · x"),
              ("dL_db1", "∂L/∂b1 = ∂L/∂a1 · σ'(z1)"), ("w1_new", "w1 − η·∂L/∂w1"),
              ("b1_new", "b1 − η·∂L/∂b1"), ("w2_new", "w2 − η·∂L/∂w2"), ("b2_new", "b2 − η·∂L/∂b2"),
              ("y_pred_new", "y_pred after the step"), ("loss_new", "L after the step"))


def _table(columns) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
    table.setFont(style.font(style.TICK_PT))
    return table


def _fill(table: QtWidgets.QTableWidget, row_names, rows) -> None:
    """Write rows of values; items are created only when the row count changes."""
    if table.rowCount() != len(row_names) or table.verticalHeaderItem(0) is None:
        table.setRowCount(len(row_names))
        table.setVerticalHeaderLabels(list(row_names))
        align = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        for r in range(len(row_names)):
            for c in range(table.columnCount()):
                item = QtWidgets.QTableWidgetItem()
                item.setTextAlignment(align)
                table.setItem(r, c, item)
    elif [table.verticalHeaderItem(r).text() for r in range(len(row_names))] != list(row_names):
        table.setVerticalHeaderLabels(list(row_names))
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            item = table.item(r, c)
            if isinstance(v, str):
                item.setText(v)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, None)
            else:
                item.setText(format_number(v))
                item.setData(QtCore.Qt.ItemDataRole.UserRole, float(v))


class ParamPanel(QtWidgets.QWidget):
    """Parameters of one run (value, gradient, last update, update-to-weight ratio) and,
    on the single-point tutorial data, the chain-rule values of the current step."""

    COLUMNS = ("value θ", "gradient ∂L/∂θ", "last update Δθ", "|Δθ| / |θ|")

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.title = QtWidgets.QLabel("Parameters")
        self.title.setFont(style.font(style.LABEL_PT, bold=True))
        self.table = _table(self.COLUMNS)
        self.table.setToolTip("Each parameter of the chosen run: its value, the gradient of the loss with respect "
                              "to it, the last update and how large that update is relative to the value.")
        self.chain_title = QtWidgets.QLabel("Chain rule on the tutorial's point (this step)")
        self.chain_title.setFont(style.font(style.LABEL_PT, bold=True))
        self.chain = _table(("value",))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.table, self.chain_title, self.chain):
            layout.addWidget(w)
        self.show_chain_rule(None)

    def show_run(self, lr, theta_k, grad_k, delta_k, hidden: int, names=None) -> None:
        """``names``: one per parameter (default: the network's w1[0] … b2 for ``hidden`` units)."""
        theta, grad, delta = (np.asarray(a, dtype=float).ravel() for a in (theta_k, grad_k, delta_k))
        with np.errstate(all="ignore"):
            ratio = np.abs(delta) / np.abs(theta)
        self.title.setText(f"Parameters of {lr_label(lr)}")
        _fill(self.table, names or param_names(int(hidden)), zip(theta, grad, delta, ratio))

    def show_chain_rule(self, step) -> None:
        visible = step is not None
        self.chain_title.setVisible(visible)
        self.chain.setVisible(visible)
        if not visible:
            return
        self.chain_title.setText(f"Chain rule of this step (x = {step.x:g}, y_true = {step.y_true:g}, "
                                 f"η = {step.lr:g})")
        rows = []
        for field, _ in CHAIN_RULE:
            v = np.ravel(getattr(step, field))
            rows.append((float(v[0]),) if v.size == 1 else (", ".join(map(format_number, v)),))
        _fill(self.chain, [formula for _, formula in CHAIN_RULE], rows)

    def set_dark(self, dark: bool) -> None:
        """Tables follow the application palette; nothing plot-specific to change."""
        self.dark = bool(dark)
