"""LossPlot: loss against step (or epoch), one curve per run, diverged runs marked, hover for
values; under mini-batches, each update's mini-batch loss can be drawn faintly behind."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg      # bound to PySide6: gui.plots imports .layer (PySide6 first) before this module

from pyqtgraph.Qt import QtGui

from core.report import lr_label
from .. import style
from ..format import short
from .items import PixelLabel, _ThemedPlot, _pen, cross_marker
from .layer import CurveLayer
from .ranges import LossSeries, _fit_runs, format_number, log10_positive, nice_ceil, quantize_bounds

LOSS_LABEL = "loss (mean squared error)"
BATCH_ALPHA = 70          # of 255: the mini-batch losses' curves, behind the whole-data ones
AXIS_HOLD = 0.5           # s: a new range within this long of the last grows faster (fewer redraws)


def _faint(color) -> QtGui.QColor:
    c = QtGui.QColor(color)
    c.setAlpha(BATCH_ALPHA)
    return c


class LossPlot(_ThemedPlot):
    """Loss against step, one curve per run; log loss axis by default; hover for values.

    The curves are drawn in view coordinates (on a log axis, log10 of the few points per
    pixel column that ``decimate`` keeps) and the axes only label them as logarithmic:
    pyqtgraph's own log mode would take log10 of every point of every curve on every
    frame.  All curves are one ``CurveLayer``; the legend shows a sample line per run
    (click one to hide its run).
    The step axis grows in steps (``nice_ceil``: 1000, 1500, 2000, 3000 …) up to the step
    budget, the loss axis in quarter decades, so most frames only add points.

    Mini-batches: the curves stay the whole-data loss (they compare across batch sizes);
    ``show_batch_losses`` draws each update's mini-batch loss too (a second CurveLayer in
    faint colours, behind; the axes stay the whole-data loss's), and ``show_epochs`` labels
    the step axis in epochs (step / updates per epoch: the same curves, another scale).
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
        self.batch_layer = CurveLayer(width=1.0)        # the mini-batch losses, faint (show_batch_losses)
        self.batch_layer.setZValue(4)
        self.batch_layer.hide()
        self.plotItem.addItem(self.batch_layer, ignoreBounds=True)
        self._batch, self.per_epoch, self.epochs = None, 1, False
        self.series = LossSeries()
        self.log_x, self.log_y = False, True
        self._last = None                     # (losses, t, outcomes, diverged_steps, budget)
        self._marks = {}                      # run -> what its marker shows (skip unchanged)
        self._marks_key = None                # what the marks were last placed for
        # (kept: reading it makes a QRectF, and deleting one hands the GIL to the training thread)
        self._view_width = self.view_box.width()
        self.view_box.sigResized.connect(self._on_view_box_resized)
        self._generation = None
        self._x_end, self._x_changed_at = None, 0.0     # the step axis ends at _x_end (see _x_bounds)
        self._set_axes_log()
        self.hover_label = PixelLabel(style.palette(self.dark)["foreground"], style.font(style.LABEL_PT - 1),
                                      anchor=(0, 1))
        self.hover_dot = pg.PlotDataItem(pen=None, symbol="o", symbolSize=10)
        for item in (self.hover_label, self.hover_dot):
            item.setZValue(100)
            item.hide()
            self.plotItem.addItem(item, ignoreBounds=True)
        # Step 0, before any update: a line needs two points, so each run's first loss is a dot
        # (one item for every run) until the first step draws the curves.
        self.start_dots = pg.ScatterPlotItem(size=9, pen=None)
        self.start_dots.setZValue(6)
        self.start_dots.hide()
        self.plotItem.addItem(self.start_dots)
        self._style_texts()
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    # -- runs and data ------------------------------------------------------------------
    def set_runs(self, learning_rates, colors, names=None) -> None:
        """``names``: each run's name in the legend (default "lr=<rate>"; runs with recipes are
        told apart by them: gui.recipes.recipe_text)."""
        self._clear_runs()
        self.legend.clear()
        self.learning_rates, self.colors = list(learning_rates), list(colors)
        self.names = list(names) if names is not None else [lr_label(lr) for lr in self.learning_rates]
        self.samples, self.markers, self.labels = [], [], []
        for name, color in zip(self.names, self.colors):
            sample = pg.PlotCurveItem(pen=_pen(color, 2.0))       # the legend's line; never in the plot
            self.legend.addItem(sample, name)
            self.samples.append(sample)
            marker = cross_marker(color)
            label = PixelLabel(color, style.font(style.LABEL_PT, bold=True))
            for item in (marker, label):
                item.setZValue(50)
                item.hide()
            self.markers.append(self._add(marker, bounds=False))
            self.labels.append(self._add(label, bounds=False))
        self.layer.set_runs(self.colors, self.samples)
        self.batch_layer.set_runs([_faint(c) for c in self.colors], self.samples)
        self.series.reset(len(self.samples))
        self._last = None
        self._marks, self._marks_key = {}, None
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
        generation = (self.series.generation, self.log_y)
        new_history = generation != self._generation
        if new_history:
            self._x_end = None
        self.layer.set_data(losses, self.log_x, self.log_y, new_history=new_history)
        if self.batch_layer.isVisible():
            self.batch_layer.set_data(self._batch[:, :T], self.log_x, self.log_y, new_history=new_history)
        self._generation = generation
        bounds = quantize_bounds(self.series.bounds(ds, self.log_y), self.log_y) if T else None
        x_bounds = self._x_bounds(T, budget)
        self._show_start(losses if T == 1 else None)
        costly = new_history or self.view_box.bounds != [x_bounds, bounds]
        self._set_bounds(x_bounds, bounds)
        # A loss of exactly 0 has no place on a log axis: its curve just stops.  Say so.
        zero = self.log_y & (self.series.last > self.series.last_pos) & (self.series.last_pos >= 0)
        rows = np.flatnonzero((ds >= 0) | zero)
        ends = (self.series.last_pos if self.log_y else self.series.last)[rows]
        key = (rows.tobytes(), ds[rows].tobytes(), ends.tobytes(), self.series.generation, bounds, x_bounds,
               self._view_width, self.log_x, self.log_y, self.layer.generation)
        if key != self._marks_key:          # (the usual frame: the runs that stopped stay where they are)
            self._marks_key = key
            self._mark_ends(rows, ds, zero, bounds)
        if self.legend_outcomes:
            self._legend_outcomes(outcomes)
        return costly

    def set_batch_losses(self, batch_losses, per_epoch: int = 1) -> None:
        """The mini-batch losses (K, t + 1) the next ``update_data`` draws if they are shown (None at
        full batch), and the updates an epoch (for the epochs axis)."""
        self._batch = batch_losses
        if batch_losses is None and self.batch_layer.isVisible():
            self.batch_layer.hide()
        if int(per_epoch) != self.per_epoch:
            self.per_epoch = int(per_epoch)
            self._set_axes_log()

    def show_batch_losses(self, on: bool) -> None:
        """Draw each update's mini-batch loss, faint, behind the whole-data curves (if there are any)."""
        on = bool(on) and self._batch is not None
        if on != self.batch_layer.isVisible():
            self.batch_layer.setVisible(on)
            self._generation = None               # (drawn again from scratch: the layer starts a new history)
            if self._last is not None:
                self.update_data(*self._last)

    def show_epochs(self, on: bool) -> None:
        """Label the step axis in epochs (step / updates per epoch), or in updates."""
        self.epochs = bool(on)
        self._set_axes_log()

    def refresh_layout(self) -> None:
        """Place the end labels again for the view's width now (an export lays the plot out at
        its own size: gui.render)."""
        self._on_view_box_resized()
        if self._last is not None:
            self.update_data(*self._last)

    def _show_start(self, losses) -> None:
        """Each run's loss at step 0 as a dot in its colour while there is only step 0 (``losses``
        (K, 1)), else none.  (On a log step axis step 0 has no place.)"""
        if losses is None or self.log_x:
            if self.start_dots.isVisible():
                self.start_dots.hide()
            return
        y = np.asarray(self._y_view(losses[:, 0]), dtype=float)
        keep = np.flatnonzero(np.isfinite(y))
        self.start_dots.setData(x=np.zeros(keep.size), y=y[keep],
                                brush=[pg.mkBrush(self.colors[k]) for k in keep])
        self.start_dots.show()

    def _step_x(self, step: int) -> float:
        """A step's x in view coordinates (log10 on a log step axis)."""
        with np.errstate(divide="ignore"):
            return float(np.log10(step)) if self.log_x else float(step)

    def _on_view_box_resized(self, _view_box=None) -> None:
        self._view_width = self.view_box.width()

    def _y_view(self, loss):
        """A loss (or an array of them) in view coordinates: log10 on a log loss axis (NaN where not
        positive and finite)."""
        return log10_positive(loss) if self.log_y else loss

    def _x_bounds(self, T: int, budget: int | None = None):
        """(0, X): X the next "nice" number of steps (or the budget, if nearer), kept until the
        curves reach it; if they do within AXIS_HOLD seconds (a fast start), X at least doubles."""
        if T < 2:
            self._x_end = None
            if T == 1 and not self.log_x:             # step 0 alone: its dots just inside the axis the first steps get
                end = nice_ceil(1) if budget is None else min(nice_ceil(1), max(float(budget), 1.0))
                return (-0.05 * end, end)
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

    def _mark_ends(self, rows, ds, zero, bounds) -> None:
        ends = {}
        marked = {k for k, m in self._marks.items() if m is not None}
        for k in set(rows) | marked:
            zero_from = int(self.series.last_pos[k]) + 1 if zero[k] else -1
            end = self._mark(int(k), int(ds[k]), bounds, zero_from)
            if end is not None:
                ends[int(k)] = end
        if ends:
            self._stack_labels(ends, bounds)

    def _mark(self, k, dstep, bounds, zero_from: int = -1):
        """End a diverged run's curve with an ✗ and 'diverged at step k' (kept inside the view);
        or, on a log axis, the curve of a run whose loss reached exactly 0 at step ``zero_from``
        with 'loss 0 from step k' (no ✗).

        Returns the step the label sits at, or None if there is nothing to say."""
        marker, label = self.markers[k], self.labels[k]
        end = int((self.series.last_pos if self.log_y else self.series.last)[k])
        if (dstep < 0 and zero_from < 0) or end < 0 or (self.log_x and end == 0) or not self.samples[k].isVisible():
            if self._marks.get(k) is not None:
                marker.hide()
                label.hide()
                self._marks[k] = None
            return None
        y = float(self._last[0][k, end])
        y_view = float(self._y_view(y))
        top = bounds[1] if bounds else np.inf
        x_view = self._step_x(end)
        if dstep >= 0:
            text = f"diverged at step {dstep}" + (f"  (loss {short(y)} ↑)" if y_view > top else "")
        else:
            text = f"loss = 0 from step {zero_from} ↓"         # below any log axis
        shown = (x_view, min(y_view, top), text)
        if self._marks.get(k) != shown:
            self._marks[k] = shown
            marker.setPos(shown[0], shown[1])
            label.setText(shown[2])
            label.setPos(shown[0], shown[1])
            marker.setVisible(bool(dstep >= 0))
            label.show()
        return end

    def _stack_labels(self, ends: dict, bounds) -> None:
        """Labels at about the same height go one under the other, not on top of each other; a
        label whose marker is in the right part of the step axis goes to the marker's left, and one
        in the lower half of the view above its marker (a loss of 0 ends at the bottom)."""
        x_bounds = self.view_box.viewRange()[0]          # (the range shown: the bounds and their padding)
        span = max(x_bounds[1] - x_bounds[0], 1e-12)
        width = max(self.view_box.width(), 1.0)
        side = {}                 # the label's anchor: right of the marker, or left where there is more room,
        for k in ends:            # or moved in so that it ends at the view's edge
            x = (self._marks[k][0] - x_bounds[0]) / span * width
            w = max(self.labels[k].text_width(), 1.0)
            if w >= width:        # wider than the view (a small window): keep its start, "diverged at step k"
                side[k] = max(-0.05, x / w)
            elif x + w > width and x > width - x:      # to the left, starting inside the view's left edge
                side[k] = max(-0.05, min(1.05, (x - 6) / w))
            else:
                side[k] = min(1.05, max(-0.05, (x + w + 6 - width) / w))
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
            under = bounds is None or y > (bounds[0] + bounds[1]) / 2      # the upper half: under its point
            anchor = (side[k], -0.25 - 1.1 * rank if under else 1.25 + 1.1 * rank)
            if self.labels[k].anchor != pg.Point(anchor):
                self.labels[k].setAnchor(anchor)

    def _legend_outcomes(self, outcomes) -> None:
        changed = False
        for (_, label), name, outcome in zip(self.legend.items, self.names, outcomes):
            text = f"{name} — {style.outcome_style(outcome).text}"
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
        self._set_epoch_axis()
        self.view_box.bounds = [None, None]
        self.view_box.enableAutoRange()
        self._marks = {k: () for k in self._marks}          # markers move: draw them again
        self._marks_key = None
        self._generation = None
        self._x_end = None
        if self._last is not None:
            self.update_data(*self._last)

    def _set_epoch_axis(self) -> None:
        """The step axis in epochs: a linear axis scaled by 1 / updates per epoch (its ticks fall on
        whole epochs); a log one with a tick at every decade of epochs (log10(epochs · U))."""
        axis = self.plotItem.getAxis("bottom")
        epochs = self.epochs and self.per_epoch > 1
        axis.setScale(1.0 / self.per_epoch if epochs and not self.log_x else 1.0)
        self.epoch_ticks = None                   # (view x, label) of each decade of epochs, on a log axis
        if epochs and self.log_x:
            shift = np.log10(self.per_epoch)
            self.epoch_ticks = [(k + shift, format_number(10.0 ** k)) for k in range(-6, 10)]
        axis.setTicks(None if self.epoch_ticks is None else [self.epoch_ticks, []])
        self.plotItem.setLabel("bottom", f"epoch ({self.per_epoch} updates)" if epochs else "step")
        style.style_axes(self.plotItem, self.dark, style.TICK_PT, style.LABEL_PT)

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self._style_texts()

    def _style_texts(self) -> None:
        p = style.palette(self.dark)
        for item in self.labels + [self.hover_label]:
            item.set_frame(pg.mkBrush(p["panel"]), pg.mkPen(p["foreground"], width=0.5))
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
        epoch = f" (epoch {s / self.per_epoch:.2f})" if self.per_epoch > 1 else ""
        batch = (f"\nbatch loss {format_number(self._batch[k, s])}" if self.batch_layer.isVisible()
                 and s < self._batch.shape[1] else "")
        self.hover_label.setText(f"{lr_label(self.learning_rates[k])}\nstep {s}{epoch}\nloss "
                                 f"{format_number(losses[k, s])}{batch}")
        (x0, x1), (y0, y1) = vb.viewRange()
        self.hover_label.setAnchor((1 if p.x() > (x0 + x1) / 2 else 0, 0 if p.y() > (y0 + y1) / 2 else 1))
        self.hover_label.setPos(p)
        y_view = float(self._y_view(losses[k, s]))
        self.hover_dot.setData([self._step_x(s)], [y_view], symbolBrush=self.colors[k],
                               symbolPen=style.palette(self.dark)["foreground"])
        self.hover_label.show()
        self.hover_dot.show()

    def _nearest(self, x_view: float, y_view: float):
        """(run, step) of the curve point nearest the mouse at the step under it, or (None, None)."""
        losses = self._last[0]
        with np.errstate(all="ignore"):
            x = 10.0 ** x_view if self.log_x else x_view
        s = int(np.clip(np.rint(x), 0, losses.shape[1] - 1))
        column = self._y_view(losses[:, s])
        dist = np.abs(column - y_view)
        dist[~np.isfinite(dist)] = np.inf
        for k, sample in enumerate(self.samples):          # a run hidden from the legend is not hovered
            if not sample.isVisible():
                dist[k] = np.inf
        if not np.isfinite(dist).any():
            return None, None
        return int(np.argmin(dist)), s
