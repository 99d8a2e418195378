"""The "Range test" tab: the learning-rate range test (Smith 2017; fastai's lr_find) against
η* from the curvature, with its suggestions as runs to add.  RangeTestPlot also draws
``lr-find --png``."""
from __future__ import annotations

import math
from functools import partial

import numpy as np
from PySide6 import QtWidgets
from PySide6.QtCore import Signal, Slot
import pyqtgraph as pg

from core.errors import ConfigError
from core.fields import check_integer, check_number
from core.range_test import BETA, MAX_STEPS, MIN_STEPS, STOP_FACTOR, range_test

from .. import style
from ..plots import log10_positive
from .common import _Field, _JobView, _Plot, _label, rounded, short
from ..style import CLIFF_COLOR
from ..format import times
from ..plots.items import _pen

SUGGESTIONS = (("steepest", "steepest descent", "t"), ("minimum_tenth", "minimum / 10", "s"),
               ("valley", "valley", "d"))
CRITICAL_LEGEND = "η* = 2/λ_max at the start"


class RangeTestPlot(_Plot):
    """Loss (faint) and smoothed loss (bold) against η on a log axis, η* as a vertical
    line on the same axis, and the three suggestions marked and named."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "learning rate η (rising every step)", "loss")
        self.set_axis_log("bottom", True)
        self.set_axis_log("left", True)
        fg = style.palette(dark)["foreground"]
        self.raw = pg.PlotDataItem(pen=_pen("#7A7A7A", 2.0))
        self.smoothed = pg.PlotDataItem(pen=_pen(fg, 3.5))
        self.plotItem.addItem(self.raw)
        self.plotItem.addItem(self.smoothed)
        self.legend.addItem(self.raw, "loss")
        self.legend.addItem(self.smoothed, f"smoothed (EMA, β = {BETA:g})")
        self.critical = pg.InfiniteLine(angle=90, pen=_pen(CLIFF_COLOR, 3, dashed=True), movable=False,
                                        label="η*", labelOpts={
                                            "position": 0.93, "color": CLIFF_COLOR, "anchors": [(1, 0), (1, 0)],
                                            "fill": pg.mkBrush(style.palette(dark)["panel"])})
        self.critical.label.setFont(style.font(style.LABEL_PT, bold=True))
        self.bound = pg.InfiniteLine(angle=90, pen=_pen(style.ETA_ONE_COLOR, 2, dotted=True), movable=False,
                                     label="η = 1", labelOpts={"position": 0.06, "color": style.ETA_ONE_COLOR,
                                                               "anchors": [(0, 1), (0, 1)]})
        self.bound.label.setFont(style.font(style.LABEL_PT - 1, bold=True))
        for line in (self.critical, self.bound):
            self.plotItem.addItem(line, ignoreBounds=True)
            line.hide()
        # The line says "η*" and the legend its value: "η* = 2/λ_max = 0.833" on the line was as wide as a
        # decade and a half at 1280 × 720, and the suggestions' labels stacked into it.
        self.critical_key = pg.PlotDataItem(pen=_pen(CLIFF_COLOR, 3, dashed=True))
        self.plotItem.addItem(self.critical_key)
        self.legend.addItem(self.critical_key, CRITICAL_LEGEND)
        self.markers, self.labels = {}, {}
        for name, text, symbol in SUGGESTIONS:
            marker = pg.PlotDataItem(pen=None, symbol=symbol, symbolSize=17, symbolPen=_pen(fg, 2),
                                     symbolBrush=pg.mkBrush("#FFFFFF"))
            marker.setZValue(20)
            label = self._text(anchor=(0.5, 1.25), bold=True)
            label.setZValue(21)
            self.plotItem.addItem(marker, ignoreBounds=True)
            self.plotItem.addItem(label, ignoreBounds=True)
            self.legend.addItem(marker, text)
            self.markers[name], self.labels[name] = marker, label
        self.lowest = pg.PlotDataItem(pen=None, symbol="o", symbolSize=11, symbolPen=None,
                                      symbolBrush=pg.mkBrush(fg))
        self.plotItem.addItem(self.lowest, ignoreBounds=True)
        self.legend.addItem(self.lowest, "lowest smoothed loss")
        self.result, self.critical_lr = None, None

    def show_result(self, result, critical_lr=None) -> None:
        """Model -> view: a core.range_test.RangeTest and η* (or None)."""
        self.result, self.critical_lr = result, critical_lr
        lrs = np.asarray(result.lrs, dtype=float)
        x = log10_positive(lrs)
        raw, sm = log10_positive(result.losses), log10_positive(result.smoothed)
        self.raw.setData(x, raw)
        self.smoothed.setData(x, sm)
        xs = list(x[np.isfinite(x)])
        crit_ok = bool(critical_lr is not None and math.isfinite(critical_lr) and critical_lr > 0)
        self.critical.setVisible(crit_ok)
        self.legend.getLabel(self.critical_key).setText(
            f"η* = 2/λ_max = {short(critical_lr)} at the start" if crit_ok else CRITICAL_LEGEND)
        if crit_ok:
            self.critical.setValue(math.log10(critical_lr))
            xs.append(math.log10(critical_lr))
        ok = np.isfinite(x) & np.isfinite(sm)
        placed = []                                      # x of the labels shown so far, left to right
        for name in sorted((n for n, _, _ in SUGGESTIONS),
                           key=lambda n: getattr(result, n) if math.isfinite(getattr(result, n)) else 0):
            v = float(getattr(result, name))
            marker, label = self.markers[name], self.labels[name]
            if math.isfinite(v) and v > 0 and ok.sum() >= 2:
                xv = math.log10(v)
                yv = float(np.interp(xv, x[ok], sm[ok]))
                marker.setData([xv], [yv])
                label.setText(short(v))
                rank = sum(abs(xv - p) < 0.9 for p in placed)     # close labels stack up
                label.setAnchor((0.5, 1.25 + 1.15 * rank))
                label.setPos(xv, yv)
                placed.append(xv)
                marker.show()
                label.show()
                xs.append(xv)
            else:
                marker.setData([], [])
                label.hide()
        if ok.any():
            i = int(np.nanargmin(np.where(ok, sm, np.inf)))
            self.lowest.setData([x[i]], [sm[i]])
        else:
            self.lowest.setData([], [])
        ys = np.concatenate([sm[ok], raw[np.isfinite(raw)]])
        if xs and ys.size:
            lo_x, hi_x = min(xs), max(xs)
            self.bound.setVisible(bool(lo_x <= 0.0 <= hi_x + 0.3))
            self.bound.setValue(0.0)
            lo_y = float(ys.min())
            hi_y = min(float(ys.max()), float(np.nanmax(sm[ok])) + 1.0 if ok.any() else float(ys.max()))
            pad_x = 0.04 * max(hi_x - lo_x, 1.0)
            pad_y = 0.08 * max(hi_y - lo_y, 0.3)
            self.view_box.bounds = [(lo_x - pad_x, hi_x + pad_x), (lo_y - pad_y, hi_y + 2.2 * pad_y)]
        self._autorange()

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        fg = style.palette(self.dark)["foreground"]
        self.smoothed.setPen(_pen(fg, 3.5))
        self.lowest.setSymbolBrush(pg.mkBrush(fg))
        for name in self.markers:
            self.markers[name].setSymbolPen(_pen(fg, 2))


def range_test_comparison(result, critical_lr) -> str:
    """One or two sentences on where the range test and η* agree or disagree."""
    if result is None or len(result.lrs) < 3:
        return "The range test stopped before it had three points: raise lr-max or the steps."
    parts = []
    for name, text, _ in SUGGESTIONS:
        v = float(getattr(result, name))
        if math.isfinite(v):
            parts.append(f"{text} {short(v)}" + (f" ({times(v, critical_lr)} η*)" if critical_lr else ""))
    out = "Suggestions: " + ", ".join(parts) + "."
    if not critical_lr or not math.isfinite(critical_lr):
        return out
    sm = np.asarray(result.smoothed, dtype=float)
    lowest = float(result.lrs[int(np.nanargmin(np.where(np.isfinite(sm), sm, np.inf)))])
    above = [(float(getattr(result, n)), t) for n, t, _ in SUGGESTIONS
             if math.isfinite(getattr(result, n)) and getattr(result, n) > critical_lr]
    out += f" The smoothed loss is lowest at η = {short(lowest)}, {times(lowest, critical_lr)} η* = {short(critical_lr)}"
    if lowest > critical_lr:
        out += (": the test raises η every step, so a rate above η* has only a few steps to grow before the next "
                "one — the range test overshoots the cliff a constant rate would fall off.")
    else:
        out += "."
    if above:
        v, text = max(above)
        out += (f" The range test suggests {times(v, critical_lr)} η* ({text}): at that constant rate the steepest "
                f"direction grows from the start.")
    else:
        out += " Every suggestion is below η*: each is a rate a constant run can start with."
    return out


class RangeTestView(_JobView):
    """The learning-rate range test (Smith 2017; fastai's lr_find), run in the background."""

    add_rate = Signal(float)

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, "lrlab-range-test")
        self.critical_lr, self._steps = None, 0
        self.plot = RangeTestPlot(dark=dark)
        self.plot.set_title("Range test: loss while η rises exponentially")
        self.fields = {
            "lr_min": _Field("1e-06", partial(check_number, "range test lr-min", positive=True),
                             "The first learning rate of the test (default 1e-6)."),
            "lr_max": _Field("10", partial(check_number, "range test lr-max", positive=True),
                             "The last learning rate of the test (default 10)."),
            "steps": _Field("100", partial(check_integer, "range test steps", lo=MIN_STEPS, hi=MAX_STEPS),
                            "Steps of the test: η rises by the same factor every step (default 100)."),
        }
        self.run_button = QtWidgets.QPushButton("Run range test")
        self.run_button.setToolTip("From the initial parameters, raise η exponentially from lr-min to lr-max, "
                                   f"one step each, and stop once the smoothed loss exceeds {STOP_FACTOR:g}× its best.")
        row = QtWidgets.QHBoxLayout()
        for text, key in (("η from", "lr_min"), ("to", "lr_max"), ("over", "steps")):
            row.addWidget(QtWidgets.QLabel(text))
            row.addWidget(self.fields[key])
        row.addWidget(QtWidgets.QLabel("steps"))
        row.addWidget(self.run_button)
        row.addStretch(1)
        self.comparison = _label(points=style.TICK_PT)
        self.buttons = {}
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(QtWidgets.QLabel("Add as a run:"))     # (once: three "Add … as a run" were wider than 1280 × 720)
        for name, text, _ in SUGGESTIONS:
            b = QtWidgets.QPushButton(text)
            b.setEnabled(False)
            b.setToolTip(f"Add a run at the range test's {text} suggestion.")
            b.clicked.connect(partial(self._on_add_button_clicked, name))
            buttons.addWidget(b)
            self.buttons[name] = b
        buttons.addStretch(1)
        self._lay_out([row], [self.comparison, buttons])
        self.run_button.clicked.connect(self._on_run_button_clicked)
        for f in self.fields.values():
            f.returnPressed.connect(self._on_run_button_clicked)

    # -- model -> view ------------------------------------------------------------------------
    def set_experiment(self, experiment, data=None) -> None:
        self.experiment, self.data = experiment, data
        self._invalidate()

    def set_critical_lr(self, value) -> None:
        self.critical_lr = None if value is None else float(value)
        if self.result is not None:
            self._show()

    def suggestion(self, name: str) -> float:
        """The rate the "Add" button of a suggestion adds (3 significant digits, as its text shows)."""
        return rounded(getattr(self.result, name))

    # -- running ------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the test with the fields' values; False (and a visible message) if one is invalid."""
        if self.experiment is None:
            return False
        try:
            lo, hi, steps = (self.fields[k].value() for k in ("lr_min", "lr_max", "steps"))
            if not lo < hi:
                raise ConfigError(f"range test: need lr-min < lr-max; got {lo:g} {hi:g}")
        except ConfigError as e:
            return self._refuse(str(e))
        data = self._data()
        self._steps = steps
        return self._start(f"running the range test: η from {lo:g} to {hi:g} over {steps} steps…",
                           range_test, self.experiment, data, lo, hi, steps)

    compute = run                 # what _JobView calls when a stale view is shown

    def _show(self) -> None:
        r = self.result
        self.plot.show_result(r, self.critical_lr)
        self.comparison.setText(range_test_comparison(r, self.critical_lr))
        for name, text, _ in SUGGESTIONS:
            v = float(getattr(r, name))
            ok = math.isfinite(v) and v > 0
            self.buttons[name].setEnabled(ok)
            self.buttons[name].setText(f"{text} ({short(v)})" if ok else text)

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        self.result = result
        stopped = len(result.lrs)
        self.status.setText(f"range test: {stopped} steps, from η = {short(result.lrs[0])} to {short(result.lrs[-1])}"
                            + (f" (stopped: the smoothed loss passed {STOP_FACTOR:g}× its best)"
                               if stopped < self._steps else ""))
        self._show()
        self.computed.emit()

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run()

    def _on_add_button_clicked(self, name: str, checked: bool = False) -> None:
        if self.result is not None:
            self.add_rate.emit(self.suggestion(name))
