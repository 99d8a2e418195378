"""The plot widgets: loss curves, fitted functions, small multiples, parameter panel.

Plot items are created once per set of runs (``set_runs``) and updated with
``setData``; nothing is recreated per frame.  The auto-range of the loss plot follows
the healthy runs only, so one exploding run cannot flatten the others.
"""
from __future__ import annotations

from collections import deque

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.network import PARAM_NAMES, unpack
from core.report import lr_label
from . import style

OUTLIER_FACTOR = 1e3      # a run whose peak loss is this far above the others' median is left out
HEADROOM_DECADES = 2.0    # log axis: diverged runs may raise the top this far above the healthy runs
TRAIL = 6                 # faded previous fits per run in FitPlot
FIT_MARGIN = 1.0          # fit view: at most this many data spans beyond the data, each side
LOSS_LABEL = "loss (mean squared error)"


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
    ok = (np.asarray(diverged_steps) < 0) & np.isfinite(peaks)
    out = ok.copy()
    for k in np.flatnonzero(ok):
        others = peaks[ok & (np.arange(len(peaks)) != k)]
        if others.size and peaks[k] > OUTLIER_FACTOR * np.median(others):
            out[k] = False
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
        self.reset(0)

    def reset(self, runs: int) -> None:
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
            seen = mask.any(axis=1)
            last[seen] = self.n + mask.shape[1] - 1 - np.argmax(mask[seen, ::-1], axis=1)
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
    """On a log axis, label whole decades (every n-th when crowded), minor ticks 2…9 unlabelled."""

    PX_PER_LABEL = 45

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

    def __init__(self, plot: pg.PlotItem, columns: int = 4):
        super().__init__(offset=None, horSpacing=18, frame=False)
        self.max_columns = columns
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        plot.layout.addItem(self, 4, 1)
        plot.layout.setContentsMargins(4, 4, 16, 6)
        plot.layout.setAlignment(self, QtCore.Qt.AlignmentFlag.AlignHCenter)
        plot.legend = self

    def addItem(self, item, name):
        super().addItem(item, name)
        self.setColumnCount(min(len(self.items), self.max_columns))

    def updateSize(self):
        self.updateGeometry()               # the plot's layout places and sizes it

    def mouseDragEvent(self, ev):
        ev.ignore()


class _ThemedPlot(pg.PlotWidget):
    """A PlotWidget with a BoundedViewBox, projector fonts and a light/dark theme."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = ""):
        super().__init__(parent, background=style.palette(dark)["background"], viewBox=BoundedViewBox(),
                         axisItems={"left": LogAxis("left"), "bottom": LogAxis("bottom")})
        self.dark = dark
        self.plotItem.setLabel("bottom", xlabel)
        self.plotItem.setLabel("left", ylabel)
        style.style_axes(self.plotItem, dark, style.TICK_PT, style.LABEL_PT)
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


class LossPlot(_ThemedPlot):
    """Loss against step, one curve per run; log loss axis by default; hover for values.

    The curves are given data in view coordinates (log10 computed once per step by
    LossSeries) and the axes only label them as logarithmic: pyqtgraph's own log mode
    would take log10 of every point of every curve on every frame.
    """

    def __init__(self, parent=None, dark: bool = False, legend_outcomes: bool = False):
        super().__init__(parent, dark, "step", LOSS_LABEL)
        self.legend_outcomes = legend_outcomes
        self.legend.max_columns = 3 if legend_outcomes else 4
        self.learning_rates, self.colors = [], []
        self.curves, self.markers, self.labels = [], [], []
        self.series = LossSeries()
        self.log_x, self.log_y = False, True
        self._steps, self._steps_log = np.arange(0, dtype=float), False
        self._last = None                     # (losses, t, outcomes, diverged_steps)
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
        self.curves, self.markers, self.labels = [], [], []
        for lr, color in zip(self.learning_rates, self.colors):
            curve = pg.PlotDataItem(pen=_pen(color, 2.0))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves.append(self._add(curve, legend=lr_label(lr)))
            marker = pg.PlotDataItem(pen=None, symbol="x", symbolSize=20,
                                     symbolPen=_pen(color, 3.5), symbolBrush=pg.mkBrush(color))
            label = pg.TextItem(color=color, anchor=(0, 0))
            label.setFont(style.font(style.LABEL_PT, bold=True))
            for item in (marker, label):
                item.setZValue(50)
                item.hide()
            self.markers.append(self._add(marker, bounds=False))
            self.labels.append(self._add(label, bounds=False))
        self.series.reset(len(self.curves))
        self._last = None
        self.hover_label.hide()
        self.hover_dot.hide()
        self._style_texts()
        style.style_legend(self.legend, self.dark)

    def update_data(self, losses, t: int, outcomes=(), diverged_steps=None) -> None:
        losses, ds = _fit_runs(len(self.curves), losses, t, diverged_steps)
        self._last = (losses, int(t), tuple(outcomes), ds)
        self.series.update(losses)
        T = losses.shape[1]
        bounds = self.series.bounds(ds, self.log_y) if T else None
        self.view_box.bounds = [self._x_bounds(T), bounds]
        x, y, skip = self._x(T), (self.series.log if self.log_y else losses), int(self.log_x)
        ends = {}
        for k, curve in enumerate(self.curves):
            curve.setData(x[skip:T], y[k, skip:T])
            end = self._mark(k, ds[k], bounds, y[k])
            if end is not None:
                ends[k] = end
        self._stack_labels(ends, max(int(t), 1), bounds)
        if self.legend_outcomes:
            self._legend_outcomes(outcomes)
        if any(self.view_box.state["autoRange"]):
            self.view_box.updateAutoRange()

    def _x(self, T: int) -> np.ndarray:
        """Steps 0 … T−1 in view coordinates (log10 on a log axis, where step 0 is left out)."""
        if self._steps.size < T or self._steps_log != self.log_x:
            n = max(T, 2 * self._steps.size)
            with np.errstate(divide="ignore"):
                self._steps = np.log10(np.arange(n, dtype=float)) if self.log_x else np.arange(n, dtype=float)
            self._steps_log = self.log_x
        return self._steps

    def _x_bounds(self, T: int):
        if T < 2:
            return None
        return (0.0, float(np.log10(T - 1))) if self.log_x else (0.0, float(T - 1))

    def _mark(self, k, dstep, bounds, y_view_row):
        """End a diverged run's curve with an ✗ and 'diverged at step k' (kept inside the view).

        Returns the step the marker sits at, or None if the run has not diverged."""
        marker, label = self.markers[k], self.labels[k]
        end = int((self.series.last_pos if self.log_y else self.series.last)[k])
        if dstep < 0 or end < 0 or (self.log_x and end == 0):
            marker.hide()
            label.hide()
            return None
        y, y_view = float(self._last[0][k, end]), float(y_view_row[end])
        top = bounds[1] if bounds else np.inf
        x_view = np.log10(end) if self.log_x else float(end)
        marker.setData([x_view], [min(y_view, top)])
        label.setText(f"diverged at step {dstep}" + (f"  (loss {y:.3g} ↑)" if y_view > top else ""))
        label.setPos(x_view, min(y_view, top))
        marker.show()
        label.show()
        return end

    def _stack_labels(self, ends: dict, t: int, bounds) -> None:
        """Labels at about the same height go one under the other, not on top of each other."""
        near = 0.1 * (bounds[1] - bounds[0]) if bounds else 0.0
        placed = []
        for k in sorted(ends, key=ends.get):
            y = self.labels[k].pos().y()
            rank = sum(abs(p - y) <= near for p in placed)
            placed.append(y)
            self.labels[k].setAnchor((1.05 if ends[k] > 0.6 * t else -0.05, -0.25 - 1.1 * rank))

    def _legend_outcomes(self, outcomes) -> None:
        for (_, label), lr, outcome in zip(self.legend.items, self.learning_rates, outcomes):
            text = f"{lr_label(lr)} — {style.outcome_style(outcome).text}"
            if label.text != text:
                label.setText(text)

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
        self.view_box.enableAutoRange()
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
        if not np.isfinite(dist).any():
            return None, None
        return int(np.argmin(dist)), s


class FitPlot(_ThemedPlot):
    """The data and every run's current fit, with a faded trail of its last few fits."""

    def __init__(self, parent=None, dark: bool = False, trail: int = TRAIL):
        super().__init__(parent, dark, "x", "y")
        self.trail_length = int(trail)
        self.points = pg.PlotDataItem(pen=None, symbol="o", symbolSize=8, symbolPen=None)
        self.points.setZValue(20)
        self.plotItem.addItem(self.points)
        self.legend.addItem(self.points, "data")
        self._y_data = np.empty(0)
        self.fits, self.trail_items = [], []  # trail_items[k][i]: run k's fit i+1 updates ago
        self.off_labels, self.colors, self.learning_rates = [], [], []
        self._history = deque(maxlen=self.trail_length + 1)
        self._raw = np.empty((0, 0))
        self._stopped = None
        self._style_points()

    def set_points(self, x, y) -> None:
        self.points.setData(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        self._y_data = np.asarray(y, dtype=float)
        self._update_bounds()

    def set_runs(self, learning_rates, colors) -> None:
        self._clear_runs()
        for item in self.fits:
            self.legend.removeItem(item)
        self.colors = list(colors)
        self.fits, self.trail_items, self.off_labels = [], [], []
        self.learning_rates = list(learning_rates)
        for lr, color in zip(learning_rates, self.colors):
            trail = [pg.PlotDataItem(pen=_pen(color, 1.5, alpha=150 * (1 - i / self.trail_length) + 20))
                     for i in range(self.trail_length)]
            self.trail_items.append([self._add(item) for item in trail])
            fit = self._add(pg.PlotDataItem(pen=_pen(color, 3.0)), legend=lr_label(lr))
            fit.setZValue(10)
            self.fits.append(fit)
            label = pg.TextItem(color=color)            # "↓ lr=1: fit at y ≈ −19.2" when it left the view
            label.setFont(style.font(style.LABEL_PT - 1, bold=True))
            label.hide()
            self.off_labels.append(self._add(label, bounds=False))
        self._stopped = None
        self._history.clear()                   # no trail from the previous set of runs
        self._raw = np.empty((0, 0))
        style.style_legend(self.legend, self.dark)

    def update_fits(self, x_grid, y_grid, stopped=None) -> None:
        x_grid = np.asarray(x_grid, dtype=float)
        y_grid = np.atleast_2d(np.asarray(y_grid, dtype=float))[:len(self.fits)]
        new = not self._history or not (self._history[0][1].shape == y_grid.shape
                                        and np.array_equal(self._history[0][1], y_grid, equal_nan=True)
                                        and np.array_equal(self._history[0][0], x_grid))
        if new:
            self._history.appendleft((x_grid, self._displayable(y_grid)))
            self._raw = y_grid.copy()           # the real values, for the off-chart labels
        for k, fit in enumerate(self.fits):
            if k < len(y_grid):
                fit.setData(x_grid, self._history[0][1][k])
            for i, item in enumerate(self.trail_items[k]):
                if i + 1 < len(self._history) and k < len(self._history[i + 1][1]):
                    item.setData(self._history[i + 1][0], self._history[i + 1][1][k])
                else:
                    item.setData([], [])
        self._set_stopped(stopped)
        self._update_bounds()

    def clear_trail(self) -> None:
        current = self._history[0] if self._history else None
        self._history.clear()
        if current is not None:
            self._history.append(current)
        for items in self.trail_items:
            for item in items:
                item.setData([], [])

    def _displayable(self, y_grid):
        """Clip absurd values far outside the view (Qt paints 1e300 badly); nothing visible changes."""
        b = fit_bounds(self._y_data, np.empty(0))
        if b is None:
            return y_grid.copy()
        span = max(b[1] - b[0], 1e-12)
        return np.clip(y_grid, b[0] - 1e3 * span, b[1] + 1e3 * span)

    def _set_stopped(self, stopped) -> None:
        stopped = np.zeros(len(self.fits), bool) if stopped is None else np.asarray(stopped, bool)
        if self._stopped is not None and np.array_equal(stopped, self._stopped):
            return
        self._stopped = stopped.copy()
        for fit, color, s in zip(self.fits, self.colors, stopped):
            fit.setPen(_pen(color, 3.0, dashed=bool(s)))

    def _update_bounds(self) -> None:
        x_grid = self._history[0][0] if self._history else np.empty(0)
        fits = self._raw if self._history else np.empty((0, 0))
        bounds = fit_bounds(self._y_data, fits)
        self.view_box.bounds[1] = bounds
        ranks = {1: 0, -1: 0}
        for k, label in enumerate(self.off_labels):
            side = off_chart(fits[k], bounds) if k < len(fits) and x_grid.size else 0
            if side:
                text = f"{lr_label(self.learning_rates[k])}: fit at y ≈ {np.median(fits[k]):.3g}"
                _show_off_chart(label, side, ranks[side], text, float(np.mean(x_grid[[0, -1]])), bounds)
                ranks[side] += 1
            else:
                label.hide()
        if any(self.view_box.state["autoRange"]):
            self.view_box.updateAutoRange()

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self._style_points()

    def _style_points(self) -> None:
        fg = QtGui.QColor(style.palette(self.dark)["foreground"])
        fg.setAlpha(170)
        self.points.setSymbolBrush(pg.mkBrush(fg))


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
        self.loss_curve = self.loss.plot(pen=_pen(color, 1.5))
        self.loss_curve.setDownsampling(auto=True, method="peak")
        self.loss_curve.setClipToView(True)
        self.points = self.fit.plot(pen=None, symbol="o", symbolSize=5, symbolPen=None)
        self.fit_curve = self.fit.plot(pen=_pen(color, 2.0))
        self.off_chart = pg.TextItem(color=color)               # "↓ fit at y ≈ −2189" when it left the view
        self.off_chart.setFont(style.font(style.SMALL_TICK_PT, bold=True))
        self.fit.addItem(self.off_chart, ignoreBounds=True)
        self.off_chart.hide()
        for plot in (self.loss, self.fit):
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(48)
        self.set_dark(dark)
        self.set_outcome("not started")

    def set_outcome(self, outcome: str, diverged_step: int = -1) -> None:
        text = f"{lr_label(self.lr)} — {style.outcome_style(outcome).text}"
        if diverged_step >= 0:
            text += f" at step {diverged_step}"
        if text != self.title.text:
            self.title.setText(text, color=self.color, size=f"{style.LABEL_PT}pt", bold=True)

    def show_loss(self, x, log_row, last: int, bounds) -> None:
        """``log_row``: log10 of the losses; ``bounds``: its y range; the x range ends at step ``last``."""
        self.loss.vb.bounds = [(0.0, float(max(last, 1))) if last >= 0 else None, bounds]
        self.loss_curve.setData(x, log_row)

    def show_fit(self, x_grid, fit, y_data) -> None:
        bounds = fit_bounds(y_data, fit, margin=self.FIT_MARGIN)
        self.fit.vb.bounds[1] = bounds
        self.fit_curve.setData(x_grid, fit)
        _show_off_chart(self.off_chart, off_chart(fit, bounds), 0, f"fit at y ≈ {np.median(fit):.3g}",
                        float(np.mean(x_grid[[0, -1]])), bounds)

    def set_dark(self, dark: bool) -> None:
        for plot in (self.loss, self.fit):
            style.style_axes(plot, dark, style.SMALL_TICK_PT)
        fg = QtGui.QColor(style.palette(dark)["foreground"])
        fg.setAlpha(150)
        self.points.setSymbolBrush(pg.mkBrush(fg))


class SmallMultiples(QtWidgets.QWidget):
    """One panel per run (loss | fit), two runs to a row; healthy runs share one loss scale."""

    PANEL_HEIGHT = 190

    def __init__(self, parent=None, dark: bool = False, columns: int = 2):
        super().__init__(parent)
        self.dark, self.columns = dark, int(columns)
        self.graphics = pg.GraphicsLayoutWidget(self)
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
        self.set_points(self._x_data, self._y_data)

    def set_points(self, x, y) -> None:
        self._x_data, self._y_data = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        for panel in self.panels:
            panel.points.setData(self._x_data, self._y_data)
            panel.fit.vb.bounds[1] = fit_bounds(self._y_data, np.empty(0))

    def update_data(self, losses, t, outcomes, diverged_steps, x_grid=None, y_grid=None) -> None:
        losses, ds = _fit_runs(len(self.panels), losses, t, diverged_steps)
        self.series.update(losses)
        T, sr = losses.shape[1], self.series
        shared = sr.bounds(ds, True, headroom=False, min_decades=2.0) if T else None
        healthy = healthy_runs(sr.hi, ds)
        x = np.arange(T, dtype=float)
        with np.errstate(all="ignore"):
            for k, panel in enumerate(self.panels):
                own = shared if healthy[k] or not T else loss_bounds(
                    sr.lo_log[k:k + 1], sr.hi_log[k:k + 1], sr.hi[k:k + 1], [-1], True, min_decades=2.0)
                panel.show_loss(x, sr.log[k, :T], int(sr.last[k]), own)
                if k < len(outcomes):
                    panel.set_outcome(outcomes[k], int(ds[k]))
                if y_grid is not None:
                    panel.show_fit(np.asarray(x_grid, dtype=float), np.asarray(y_grid[k], dtype=float),
                                   self._y_data)

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

    def show_run(self, lr, theta_k, grad_k, delta_k, hidden: int) -> None:
        theta, grad, delta = (np.asarray(a, dtype=float).ravel() for a in (theta_k, grad_k, delta_k))
        with np.errstate(all="ignore"):
            ratio = np.abs(delta) / np.abs(theta)
        self.title.setText(f"Parameters of {lr_label(lr)}")
        _fill(self.table, param_names(int(hidden)), zip(theta, grad, delta, ratio))

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
