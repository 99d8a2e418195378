"""SmallMultiples: one panel per run (its loss | its fit), two runs to a row."""
from __future__ import annotations

import numpy as np
from PySide6 import QtGui, QtWidgets
import pyqtgraph as pg

from core.report import lr_label
from .. import style
from ..format import short
from .items import (BoundedViewBox, LogAxis, PixelLabel, _LayoutWidget, _pen, _show_off_chart, cache_axes, set_view_bounds,
                    skip_empty, within_quarter_pixel)
from .layer import CurveLayer
from .ranges import (LossSeries, _fit_runs, _median, clip_far, fit_bounds, loss_bounds, off_chart,
                     nice_ceil, quantize_bounds)


class _RunPanel:
    """One run in SmallMultiples: a title, its loss curve and its fit over the data."""

    FIT_MARGIN = 2.0          # its fit may take the view this many data spans beyond the data

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, lr: float, color: str, dark: bool):
        self.lr, self.color = lr, color
        self.title = layout.addLabel("", row=row, col=col, colspan=2)
        self.loss = layout.addPlot(row=row + 1, col=col, viewBox=BoundedViewBox(),
                                   axisItems={"left": LogAxis("left")})
        self.fit = layout.addPlot(row=row + 1, col=col + 1, viewBox=BoundedViewBox())
        skip_empty(self.title, self.loss, self.loss.titleLabel, self.fit, self.fit.titleLabel)
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
        self.off_chart = PixelLabel(color, style.font(style.SMALL_TICK_PT, bold=True))   # "↓ fit at y ≈ −2189"
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

    def show_loss(self, rows, x_bounds, bounds, new_history: bool) -> None:
        """``rows`` (1, T): the losses (on a log axis); ``x_bounds``, ``bounds``: the step and loss ranges."""
        self.loss_curve.set_data(rows, False, True, new_history=new_history)
        set_view_bounds(self.loss.vb, x_bounds, quantize_bounds(bounds, True))

    def show_fit(self, x_grid, fit, y_data) -> None:
        bounds = quantize_bounds(fit_bounds(y_data, fit, margin=self.FIT_MARGIN), False)
        set_view_bounds(self.fit.vb, (float(x_grid[0]), float(x_grid[-1])) if x_grid.size > 1 else None, bounds)
        x_old, y_old = self.fit_curve.getData()
        shown = clip_far(fit, bounds)
        same = (y_old is not None and y_old.shape == shown.shape and np.array_equal(x_old, x_grid)
                and within_quarter_pixel(self.fit.vb, y_old, shown))
        if not same:
            self.fit_curve.setData(x_grid, shown)
        off = (int(off_chart(fit, bounds)[0]), 0, f"fit at y ≈ {short(_median(fit))}", float(np.mean(x_grid[[0, -1]])), bounds)
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
        skip_empty(self.graphics.ci)
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
        healthy = sr.healthy(ds)
        x_bounds = self._x_bounds(T, budget, new_history)
        with np.errstate(all="ignore"):
            for k in which:
                own = shared if healthy[k] or not T else loss_bounds(
                    sr.lo_log[k:k + 1], sr.hi_log[k:k + 1], sr.hi[k:k + 1], [-1], True, min_decades=2.0)
                self.panels[k].show_loss(losses[k:k + 1], x_bounds, own, new_history)
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
            end = nice_ceil(last, (1, 2, 5, 10))
            self._x_end = float(min(end, budget) if budget is not None and budget >= last else end)
        return 0.0, self._x_end

    def set_dark(self, dark: bool) -> None:
        self.dark = bool(dark)
        self.graphics.setBackground(style.palette(dark)["background"])
        for panel in self.panels:
            panel.set_dark(dark)
