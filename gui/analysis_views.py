"""Why a learning rate diverges: the curvature, the stability forecast, the range test,
the loss landscape and the phase diagram, as views.

Every number comes from core (core.curvature, core.range_test, core.landscape,
core.phase, core.trajectory); these widgets take plain data, draw it and emit signals.
Anything that may take longer than a frame runs in a gui.jobs.JobRunner, off the GUI
thread, and a view shows "computing…" meanwhile.  Views compute lazily: a view that is
not on screen marks itself stale and computes when it is shown.

    AnalysisTabs                 the tab widget the main window embeds
      "Curvature"                SharpnessPlot (λ_max against step, 2/η dashed) + ForecastPanel
                                 (+ PredictedLossPlot for the model without a hidden layer)
      "Range test"               RangeTestView (RangeTestPlot; also used by ``lr-find --png``)
      "Landscape"                LandscapeView (LandscapePlot)
      "Phase diagram"            PhaseDiagramView (PhasePlot)
"""
from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot
import pyqtgraph as pg

from core.curvature import MONOTONE, OSCILLATING, UNSTABLE, forecast as curvature_forecast
from core.curvature import linear_loss_curves
from core.errors import ConfigError
from core.experiment import _integer, _number
from core.landscape import landscape, parameter_plane
from core.phase import PhaseDiagram, phase_diagram
from core.range_test import BETA, STOP_FACTOR, range_test
from core.report import lr_label
from core.trajectory import trajectory

from . import style
from .style import no_si_prefix
from .jobs import JobRunner
from .plots import BoundedViewBox, LegendStrip, LogAxis, LossSeries, format_number

CLIFF_COLOR = "#C0392B"           # η*: where the steepest direction starts to grow
BOUND_COLOR = "#7F7F7F"           # η = 1: no rate above converges
ERROR_STYLE = "color: #C0392B;"
FIELD_ERROR_STYLE = "QLineEdit { border: 2px solid #C0392B; }"
COLORMAP = "viridis"

REGIME_STYLE = {
    MONOTONE: ("↘", "monotone", "#009E73"),
    OSCILLATING: ("∿", "oscillating", "#CC79A7"),
    UNSTABLE: ("↗", "unstable", "#D55E00"),
}
REGIME_RULE = ("<b>monotone</b>: η·λ_max &lt; 1, the loss falls steadily along the steepest direction; "
               "<b>oscillating</b>: 1 to 2, the steepest direction flips sign every step but shrinks; "
               "<b>unstable</b>: &gt; 2, it grows every step.")
PREDICTED_MAX_STEPS = 20_000      # the predicted loss curve is drawn over at most this many steps
LANDSCAPE_GRID = 60
LANDSCAPE_STEPS = 200             # default length of a landscape's trajectory
LANDSCAPE_MAX_STEPS = 20_000
LOSS_BATCH = 4_000_000            # grid points × samples × units evaluated at once (memory)
PHASE_MAX_ROWS, PHASE_MAX_COLUMNS = 16, 40
SUGGESTIONS = (("steepest", "steepest descent", "t"), ("minimum_tenth", "minimum / 10", "s"),
               ("valley", "valley", "d"))


# -- small helpers ----------------------------------------------------------------------------
def short(v: float, digits: int = 3) -> str:
    """A rate or loss in a few significant digits (0.503, 1.2e-05), '—' when not finite."""
    v = float(v)
    if not math.isfinite(v):
        return "—"
    return f"{v:.{digits}g}"


def rounded(v: float, digits: int = 3) -> float:
    """The number a button shows is the number it adds: ``v`` to ``digits`` significant digits."""
    return float(f"{float(v):.{digits}g}")


def times(v: float, ref: float) -> str:
    """'3.1× η*' style ratio text."""
    r = float(v) / float(ref)
    return f"{r:.2g}×" if r < 10 else f"{r:.0f}×"


def regime_text(regime: str) -> str:
    symbol, word, _ = REGIME_STYLE.get(regime, ("?", regime, "#808080"))
    return f"{symbol} {word}"


def _log10(a) -> np.ndarray:
    """log10 of the positive finite values, NaN elsewhere (a drawing transform)."""
    a = np.asarray(a, dtype=float)
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = np.isfinite(a) & (a > 0)
        out[ok] = np.log10(a[ok])
    return out


def _pen(color, width=2.0, dashed=False, dotted=False, alpha=255):
    c = QtGui.QColor(color)
    c.setAlpha(int(alpha))
    s = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.DotLine if dotted else Qt.PenStyle.SolidLine
    pen = pg.mkPen(c, width=width, style=s)
    pen.setCosmetic(True)
    return pen


def _swatch(color: str, size: int = 14) -> QtGui.QIcon:
    pix = QtGui.QPixmap(size, size)
    pix.fill(QtGui.QColor(color))
    return QtGui.QIcon(pix)


def _label(text: str = "", bold: bool = False, points: int | None = None, wrap: bool = True) -> QtWidgets.QLabel:
    w = QtWidgets.QLabel(text)
    w.setWordWrap(wrap)
    w.setTextFormat(Qt.TextFormat.RichText)
    if points or bold:
        w.setFont(style.font(points or style.LABEL_PT, bold))
    return w


def _error_label() -> QtWidgets.QLabel:
    w = QtWidgets.QLabel()
    w.setWordWrap(True)
    w.setStyleSheet(ERROR_STYLE)
    w.hide()
    return w


def _show_error(label: QtWidgets.QLabel, message: str) -> None:
    label.setText(message)
    label.setVisible(bool(message))


class _Field(QtWidgets.QLineEdit):
    """A typed value checked by ``parse(text)`` (ConfigError = core's message): red while invalid."""

    def __init__(self, text: str, parse, tooltip: str, width: int = 90):
        super().__init__(text)
        self.parse = parse
        self.setToolTip(tooltip)
        self.setMaximumWidth(width)
        self.textEdited.connect(self._on_self_text_edited)

    def value(self):
        """The parsed value, or ConfigError."""
        return self.parse(self.text().strip())

    def problem(self) -> str:
        try:
            self.value()
        except ConfigError as e:
            return str(e)
        return ""

    @Slot(str)
    def _on_self_text_edited(self, text: str) -> None:
        self.setStyleSheet(FIELD_ERROR_STYLE if self.problem() else "")


def _batched_loss(spec, x, y):
    """loss_fn(thetas (M, P)) -> (M,) for core.landscape, evaluated in batches that fit in memory."""
    per_point = max(1, np.size(x) * max(1, spec.hidden if spec.kind == "mlp" else 1))
    batch = max(1, LOSS_BATCH // per_point)

    def loss_fn(thetas):
        thetas = np.atleast_2d(thetas)
        return np.concatenate([spec.loss(thetas[i:i + batch], x, y) for i in range(0, len(thetas), batch)])
    return loss_fn


# -- the jobs: orchestration of core calls, run in a JobRunner's thread ------------------------
def forecast_job(experiment, data, predicted_steps: int = PREDICTED_MAX_STEPS):
    """(Forecast at the initial parameters, predicted loss curves (K, S+1) of the linear model or None)."""
    theta0 = experiment.initial_params()
    spec = experiment.model_spec()
    f = curvature_forecast(spec.hessian(theta0, data.x, data.y)[0], experiment.learning_rates)
    predicted = None
    if experiment.model == "linear":
        predicted = linear_loss_curves(data.x, data.y, theta0, experiment.learning_rates,
                                       min(experiment.steps, predicted_steps))
    return f, predicted


def landscape_job(path, spec, x, y, names, plane: str = "pca", i: int = 0, j: int = 1, grid: int = LANDSCAPE_GRID):
    """core.landscape over the plane asked for: "pca" (the trajectory's) or "params" (θ_i, θ_j)."""
    loss_fn = _batched_loss(spec, x, y)
    if plane == "params":
        return parameter_plane(path, loss_fn, i, j, names, grid=grid), path
    return landscape(path, loss_fn, grid), path


def trajectory_landscape_job(experiment, data, run, steps, plane="pca", i=0, j=1, grid=LANDSCAPE_GRID):
    path = trajectory(experiment, run, steps, 1, data)
    spec = experiment.model_spec()
    return landscape_job(path, spec, data.x, data.y, spec.param_names, plane, i, j, grid)


def stack_phase(parts) -> PhaseDiagram:
    """One PhaseDiagram from diagrams of one row each (same rates, same kind of row)."""
    first = parts[0]
    return PhaseDiagram(first.lrs, tuple(r for p in parts for r in p.rows), first.row_name,
                        np.vstack([p.final for p in parts]), np.vstack([p.best for p in parts]),
                        np.vstack([p.outcomes for p in parts]))


def phase_rows_job(experiment, lrs, row_name, rows, data):
    """Generator: core.phase.phase_diagram one row at a time (each row is its own experiment,
    so this equals one call over every row); yields the diagram so far after each row."""
    parts = []
    for r in rows:
        kw = {"widths": [r]} if row_name == "hidden" else {"seeds": [r]}
        parts.append(phase_diagram(experiment, lrs, data=data, **kw))
        yield stack_phase(parts)
    return stack_phase(parts)


# -- a themed plot --------------------------------------------------------------------------------
class PlainLogAxis(LogAxis):
    """gui.plots.LogAxis with plain numbers (20, 0.001) instead of 2·10¹ and 10⁻³ (1e-05 below 1e-4)."""

    def logTickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            x = 10.0 ** float(v) * scale
            out.append(f"{x:.4g}" if 1e-4 <= abs(x) < 1e5 else f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e"))
        return out


class _Plot(pg.PlotWidget):
    """A PlotWidget with projector fonts, a light/dark theme, log axes labelled by decade
    (data are given in view coordinates, log10 where the axis is logarithmic)."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = "", legend: bool = True,
                 left_axis=None):
        super().__init__(parent, background=style.palette(dark)["background"], viewBox=BoundedViewBox(),
                         axisItems={"left": left_axis or PlainLogAxis("left"), "bottom": PlainLogAxis("bottom")})
        self.dark = dark
        self.plotItem.setLabel("bottom", xlabel)
        self.plotItem.setLabel("left", ylabel)
        self.plotItem.setMenuEnabled(False)
        self.style_axes()
        self.legend = None
        if legend:
            self.legend = LegendStrip(self.plotItem, columns=3)
            style.style_legend(self.legend, dark)

    @property
    def view_box(self) -> BoundedViewBox:
        return self.plotItem.vb

    def set_title(self, text: str) -> None:
        style.set_title(self.plotItem, text, self.dark)

    def style_axes(self) -> None:
        style.style_axes(self.plotItem, self.dark, style.TICK_PT, style.LABEL_PT)
        no_si_prefix(self.plotItem.getAxis("left"), self.plotItem.getAxis("bottom"))

    def set_dark(self, dark: bool) -> None:
        self.dark = bool(dark)
        style.apply_theme(self, self.dark)
        no_si_prefix(self.plotItem.getAxis("left"), self.plotItem.getAxis("bottom"))

    def set_axis_log(self, name: str, log: bool) -> None:
        axis = self.plotItem.getAxis(name)
        axis.setLogMode(log)
        axis.setStyle(maxTextLevel=0 if log else 2)

    def _text(self, color=None, anchor=(0, 0), bold=False, points=None) -> pg.TextItem:
        item = pg.TextItem(color=color or style.palette(self.dark)["foreground"], anchor=anchor)
        item.setFont(style.font(points or style.LABEL_PT - 1, bold))
        p = style.palette(self.dark)
        item.fill = pg.mkBrush(p["panel"])
        item.border = pg.mkPen(p["foreground"], width=0.5)
        return item

    def _autorange(self) -> None:
        if any(self.view_box.state["autoRange"]):
            self.view_box.updateAutoRange()


# -- 1. sharpness against step -------------------------------------------------------------------
class SharpnessPlot(_Plot):
    """λ_max against step for every run in its colour, each with its dashed 2/η line.

    Edge of stability: with a fixed η, λ_max often rises until it hovers at 2/η (its
    dashed line) while the loss keeps falling, not monotonically.  Above its line at the
    start, a run's steepest direction grows: it diverges, or catapults to a flatter place.
    """

    LIMIT_CAP_DECADES = 1.5       # a 2/η line further above the data is named at the top, not drawn into range

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "step", "sharpness λ_max")
        self.set_title("Sharpness λ_max (solid) and each run's limit 2/η (dashed)")
        self.log_y = True
        self.learning_rates, self.colors = [], []
        self.curves, self.limits, self.off_labels = [], [], []
        self._last = None
        key = pg.PlotDataItem(pen=_pen(style.palette(dark)["foreground"], 2, dashed=True))
        self.plotItem.addItem(key)
        self.legend.addItem(key, "2/η (run's colour)")
        self._key = key
        self.placeholder = self._text(anchor=(0.5, 0.5))
        self.placeholder.setText("λ_max is measured while the runs train")
        self.plotItem.addItem(self.placeholder, ignoreBounds=True)
        self.set_axis_log("left", True)

    def set_runs(self, learning_rates, colors) -> None:
        for item in self.curves + self.limits + self.off_labels:
            self.plotItem.removeItem(item)
        for item in self.curves:
            self.legend.removeItem(item)
        self.learning_rates, self.colors = [float(v) for v in learning_rates], list(colors)
        self.curves, self.limits, self.off_labels = [], [], []
        for lr, color in zip(self.learning_rates, self.colors):
            curve = pg.PlotDataItem(pen=_pen(color, 2.5), symbol="o", symbolSize=5, symbolPen=None,
                                    symbolBrush=pg.mkBrush(color))
            self.plotItem.addItem(curve)
            self.legend.addItem(curve, lr_label(lr))
            line = pg.InfiniteLine(angle=0, pen=_pen(color, 2, dashed=True), movable=False,
                                   label=f"2/η = {short(2 / lr)}", labelOpts={
                                       "position": 0.97, "color": color, "anchors": [(1, 1), (1, 1)],
                                       "fill": pg.mkBrush(style.palette(self.dark)["panel"])})
            line.label.setFont(style.font(style.LABEL_PT - 1, bold=True))
            self.plotItem.addItem(line, ignoreBounds=True)
            label = self._text(color, anchor=(0, 0), bold=True)
            label.hide()
            self.plotItem.addItem(label, ignoreBounds=True)
            self.curves.append(curve)
            self.limits.append(line)
            self.off_labels.append(label)
        self._last = None
        self.placeholder.show()
        self._place()

    def limit(self, k: int) -> float:
        """Run k's 2/η in data units (the dashed line's height)."""
        return 2.0 / self.learning_rates[k]

    def update_data(self, sharpness_steps, sharpness) -> None:
        steps = np.asarray(sharpness_steps, dtype=float)
        lam = np.atleast_2d(np.asarray(sharpness, dtype=float)) if np.size(sharpness) else np.empty((0, 0))
        self._last = (steps, lam)
        self._place()

    def set_log_y(self, on: bool) -> None:
        self.log_y = bool(on)
        self.set_axis_log("left", self.log_y)
        self.view_box.enableAutoRange()
        self._place()

    def _y(self, v):
        return _log10(v) if self.log_y else np.asarray(v, dtype=float)

    def _place(self) -> None:
        steps, lam = self._last if self._last is not None else (np.empty(0), np.empty((0, 0)))
        has = lam.shape[1] > 0 and steps.size == lam.shape[1]
        ys = []
        for k, curve in enumerate(self.curves):
            if has and k < lam.shape[0]:
                y = self._y(lam[k])
                curve.setData(steps, y, symbolSize=5 if steps.size <= 300 else 0)
                ys.append(y[np.isfinite(y)])
            else:
                curve.setData([], [])
        data = np.concatenate(ys) if ys else np.empty(0)
        limits = self._y([self.limit(k) for k in range(len(self.limits))])
        if data.size:
            lo, hi = float(data.min()), float(data.max())
        elif limits.size:
            lo = hi = float(np.nanmin(limits))
        else:
            lo, hi = 0.0, 1.0
        cap = hi + (self.LIMIT_CAP_DECADES if self.log_y else 2.0 * max(hi - lo, abs(hi), 1e-12))
        shown = [v for v in limits if np.isfinite(v) and v <= cap]
        lo, hi = min([lo] + shown), max([hi] + shown)
        pad = 0.08 * (hi - lo) if hi > lo else (0.1 if self.log_y else 0.1 * max(abs(hi), 1.0))
        y_bounds = (lo - pad, hi + pad)
        x_hi = float(steps.max()) if has and steps.max() > 0 else 1.0
        self.view_box.bounds = [(0.0, x_hi), y_bounds]
        rank = 0
        for k, (line, label) in enumerate(zip(self.limits, self.off_labels)):
            v = float(limits[k])
            line.setValue(v)
            if v > y_bounds[1]:
                label.setText(f"↑ {lr_label(self.learning_rates[k])}: 2/η = {short(2 / self.learning_rates[k])}")
                label.setAnchor((0, -1.15 * rank))
                label.setPos(0.0, y_bounds[1])
                label.show()
                rank += 1
            else:
                label.hide()
        self.placeholder.setVisible(not has)
        self.placeholder.setPos(x_hi / 2, (y_bounds[0] + y_bounds[1]) / 2)
        self._autorange()

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        p = style.palette(self.dark)
        self._key.setPen(_pen(p["foreground"], 2, dashed=True))
        for item in self.off_labels + [self.placeholder]:
            item.fill = pg.mkBrush(p["panel"])
            item.border = pg.mkPen(p["foreground"], width=0.5)
        self.placeholder.setColor(p["foreground"])
        for line in self.limits:
            line.label.fill = pg.mkBrush(p["panel"])


class PredictedLossPlot(_Plot):
    """The model without a hidden layer: each run's measured loss (solid) over the loss the
    eigen-decomposition predicts (dashed, from core.curvature.linear_loss_curves)."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "step", "loss")
        self.set_title("Linear model: measured loss (solid) and predicted (dashed)")
        self.set_axis_log("left", True)
        self.measured, self.predicted = [], []
        self.series = LossSeries()
        self._bounds_predicted = None

    def set_runs(self, learning_rates, colors) -> None:
        for item in self.measured + self.predicted:
            self.plotItem.removeItem(item)
            self.legend.removeItem(item)
        self.measured, self.predicted = [], []
        for lr, color in zip(learning_rates, colors):
            pred = pg.PlotDataItem(pen=_pen(color, 2.0, dashed=True))
            meas = pg.PlotDataItem(pen=_pen(color, 4.0, alpha=140))
            for item in (meas, pred):
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)
                self.plotItem.addItem(item)
            self.legend.addItem(meas, f"{lr_label(lr)} measured")
            self.predicted.append(pred)
            self.measured.append(meas)
        self.series.reset(len(self.measured))
        self._bounds_predicted = None

    def set_predicted(self, curves) -> None:
        curves = np.atleast_2d(np.asarray(curves, dtype=float))
        logs = _log10(curves)
        x = np.arange(curves.shape[1], dtype=float)
        for k, item in enumerate(self.predicted):
            if k < len(logs):
                item.setData(x, logs[k])
        finite = logs[np.isfinite(logs)]
        starts = logs[:, 0][np.isfinite(logs[:, 0])]
        self._bounds_predicted = (float(finite.min()), float(starts.max())) if starts.size else None
        self._bound()

    def set_measured(self, losses) -> None:
        losses = np.atleast_2d(np.asarray(losses, dtype=float))
        if losses.shape[0] != len(self.measured):
            return
        self.series.update(losses)
        T = losses.shape[1]
        x = np.arange(T, dtype=float)
        for k, item in enumerate(self.measured):
            item.setData(x, self.series.log[k, :T])
        self._bound(T)

    def _bound(self, T: int | None = None) -> None:
        """From the lowest predicted loss (at most a dozen decades down) to two decades above the
        start: a diverging run's curve leaves through the top instead of flattening the others."""
        if self._bounds_predicted is None:
            return
        lo, start = self._bounds_predicted
        hi = start + 2.0
        lo = max(lo, start - 12.0)
        n = max(len(self.predicted[0].xData) if self.predicted and self.predicted[0].xData is not None else 1,
                T or 1)
        self.view_box.bounds = [(0.0, float(max(n - 1, 1))), (lo - 0.2, hi)]
        self._autorange()


# -- 2. the stability forecast ------------------------------------------------------------------
class ForecastPanel(QtWidgets.QWidget):
    """λ_max, λ_min, η*, the best rate and the hard bound, and one row per run: its rate,
    η·λ_max, the forecast from the start point and the live outcome beside it."""

    COLUMNS = ("run", "η·λ_max", "forecast", "outcome")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.forecast = None
        self.model_kind = "mlp"
        self.title = _label("Stability forecast from the curvature at the initial parameters", bold=True)
        self.values = _label(points=style.LABEL_PT)
        self.values.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = _label(points=style.TICK_PT - 1)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setFont(style.font(style.TICK_PT))
        self.table.setSizeAdjustPolicy(QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setToolTip("η·λ_max of each run at the initial parameters and what it forecasts; "
                              "the outcome column is what training actually does.")
        self.rule = _label(REGIME_RULE, points=style.TICK_PT - 1)
        self.status = _label()
        self.status.setStyleSheet("color: palette(mid);")
        self.error = _error_label()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for w in (self.title, self.values, self.note, self.table, self.rule, self.status, self.error):
            layout.addWidget(w)
        layout.addStretch(1)
        self.setMinimumWidth(440)

    def show_computing(self) -> None:
        self.status.setText("computing the Hessian at the initial parameters…")
        _show_error(self.error, "")

    def show_error(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, f"forecast: {message}")

    def show(self, forecast=None, model_kind: str = "mlp", colors=None) -> None:
        """Model -> view: a core.curvature.Forecast and the kind of model ("mlp" or "linear").

        Without a forecast, QWidget.show()."""
        if forecast is None:
            super().show()
            return
        self.forecast, self.model_kind = forecast, model_kind
        f = forecast
        exact = model_kind == "linear"
        self.status.setText("")
        _show_error(self.error, "")
        lines = [
            f"λ_max = <b>{f.sharpness:.5g}</b> &nbsp;&nbsp; λ_min = <b>{f.lambda_min:.5g}</b> "
            f"&nbsp;(largest and smallest Hessian eigenvalue)",
            f"critical rate <b>η* = 2/λ_max = <span style='color:{CLIFF_COLOR}'>{f.critical_lr:.5g}</span></b>"
            " — above it the steepest direction grows",
            f"best constant rate <b>2/(λ_min + λ_max) = {f.best_lr:.5g}</b>"
            + ("" if exact else " <small>(λ_min here: the smallest eigenvalue above 10⁻⁶·λ_max)</small>"),
            "hard bound <b>η &lt; 1</b>: the output bias has ∂²L/∂b² = 2, so λ_max ≥ 2 everywhere — "
            "no rate above 1 can converge",
        ]
        self.values.setText("<br>".join(lines))
        if exact:
            self.note.setText("The model without a hidden layer has a quadratic loss: its Hessian is the same "
                              "everywhere, so <b>this forecast is exact</b> — every run does what its row says.")
        else:
            self.note.setText("<b>A forecast from the start point.</b> The network's curvature changes as it "
                              "trains: a run above η* may still recover (a “catapult”) or its ReLU units may "
                              "die, and a run below η* may later climb to the edge of stability (λ_max ≈ 2/η, "
                              "on the left). The outcome column shows what actually happens.")
        colors = colors or [style.run_color(k) for k in range(len(f.lrs))]
        outcomes = [self.table.item(r, 3).text() if self.table.item(r, 3) else "" for r in range(self.table.rowCount())]
        self.table.setRowCount(len(f.lrs))
        for r, (lr, e, regime) in enumerate(zip(f.lrs, f.eta_lambda, f.regimes)):
            _, _, color = REGIME_STYLE.get(regime, ("", "", "#808080"))
            items = [QtWidgets.QTableWidgetItem(_swatch(colors[r % len(colors)]), lr_label(lr)),
                     QtWidgets.QTableWidgetItem(f"{e:.4g}"),
                     QtWidgets.QTableWidgetItem(regime_text(regime)),
                     QtWidgets.QTableWidgetItem(outcomes[r] if r < len(outcomes) else "")]
            items[2].setForeground(QtGui.QBrush(QtGui.QColor(color)))
            items[2].setFont(style.font(style.TICK_PT, True))
            for c, item in enumerate(items):
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._fit_table()

    def _fit_table(self) -> None:
        """Tall enough for every run (up to 8 rows; more scroll)."""
        t = self.table
        rows = min(t.rowCount(), 8)
        h = t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(rows)) + 2 * t.frameWidth() + 2
        t.setFixedHeight(h)

    def set_outcomes(self, outcomes) -> None:
        """The live outcome of every run, beside its forecast."""
        for r, outcome in enumerate(outcomes):
            if r >= self.table.rowCount():
                break
            item = self.table.item(r, 3)
            if item is None:
                item = QtWidgets.QTableWidgetItem()
                self.table.setItem(r, 3, item)
            text = style.outcome_text(outcome)
            if item.text() != text:
                item.setText(text)
                item.setForeground(QtGui.QBrush(QtGui.QColor(style.outcome_style(outcome).color)))
                item.setFont(style.font(style.TICK_PT, True))

    def regimes(self) -> list[str]:
        return [self.table.item(r, 2).text() for r in range(self.table.rowCount())]


# -- 4. the range test -------------------------------------------------------------------------
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
                                        label="η* = 2/λ_max", labelOpts={
                                            "position": 0.93, "color": CLIFF_COLOR, "anchors": [(1, 0), (1, 0)],
                                            "fill": pg.mkBrush(style.palette(dark)["panel"])})
        self.critical.label.setFont(style.font(style.LABEL_PT, bold=True))
        self.bound = pg.InfiniteLine(angle=90, pen=_pen(BOUND_COLOR, 2, dotted=True), movable=False,
                                     label="η = 1", labelOpts={"position": 0.06, "color": BOUND_COLOR,
                                                               "anchors": [(0, 1), (0, 1)]})
        self.bound.label.setFont(style.font(style.LABEL_PT - 1, bold=True))
        for line in (self.critical, self.bound):
            self.plotItem.addItem(line, ignoreBounds=True)
            line.hide()
        key = pg.PlotDataItem(pen=_pen(CLIFF_COLOR, 3, dashed=True))
        self.plotItem.addItem(key)
        self.legend.addItem(key, "η* = 2/λ_max at the start")
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
        x = _log10(lrs)
        raw, sm = _log10(result.losses), _log10(result.smoothed)
        self.raw.setData(x, raw)
        self.smoothed.setData(x, sm)
        xs = list(x[np.isfinite(x)])
        crit_ok = bool(critical_lr is not None and math.isfinite(critical_lr) and critical_lr > 0)
        self.critical.setVisible(crit_ok)
        if crit_ok:
            self.critical.setValue(math.log10(critical_lr))
            self.critical.label.setFormat(f"η* = 2/λ_max = {short(critical_lr)}")   # (a hidden label ignores it)
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
            self.labels[name].setColor(fg)
            self.labels[name].fill = pg.mkBrush(style.palette(self.dark)["panel"])


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


class RangeTestView(QtWidgets.QWidget):
    """The learning-rate range test (Smith 2017; fastai's lr_find), run in the background."""

    add_rate = Signal(float)
    computed = Signal()

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.experiment, self.data, self.critical_lr, self.result = None, None, None, None
        self._stale, self._steps = False, 0
        self.runner = JobRunner(self, "lrlab-range-test")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.plot = RangeTestPlot(dark=dark)
        self.plot.set_title("Range test: loss while η rises exponentially")
        self.fields = {
            "lr_min": _Field("1e-06", partial(_number, "range test lr-min", positive=True),
                             "The first learning rate of the test (default 1e-6)."),
            "lr_max": _Field("10", partial(_number, "range test lr-max", positive=True),
                             "The last learning rate of the test (default 10)."),
            "steps": _Field("100", partial(_integer, "range test steps", lo=3, hi=100_000),
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
        self.status = _label()
        self.error = _error_label()
        self.comparison = _label(points=style.TICK_PT)
        self.buttons = {}
        buttons = QtWidgets.QHBoxLayout()
        for name, text, _ in SUGGESTIONS:
            b = QtWidgets.QPushButton(f"Add {text} as a run")
            b.setEnabled(False)
            b.setToolTip(f"Add a run at the range test's {text} suggestion.")
            b.clicked.connect(partial(self._on_add_button_clicked, name))
            buttons.addWidget(b)
            self.buttons[name] = b
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.comparison)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        for f in self.fields.values():
            f.returnPressed.connect(self._on_run_button_clicked)

    # -- model -> view ------------------------------------------------------------------------
    def set_experiment(self, experiment, data=None) -> None:
        self.experiment, self.data = experiment, data
        self._stale = True
        if self.isVisible():
            self.run()

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
            _show_error(self.error, str(e))
            return False
        _show_error(self.error, "")
        self._stale = False
        data = self.data if self.data is not None else self.experiment.make_data()
        self.status.setText(f"running the range test: η from {lo:g} to {hi:g} over {steps} steps…")
        self._steps = steps
        self.runner.submit(range_test, self.experiment, data, lo, hi, steps)
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.run()

    def shutdown(self) -> None:
        self.runner.shutdown()

    def _show(self) -> None:
        r = self.result
        self.plot.show_result(r, self.critical_lr)
        self.comparison.setText(range_test_comparison(r, self.critical_lr))
        for name, text, _ in SUGGESTIONS:
            v = float(getattr(r, name))
            ok = math.isfinite(v) and v > 0
            self.buttons[name].setEnabled(ok)
            self.buttons[name].setText(f"Add {text} ({short(v)}) as a run" if ok else f"Add {text} as a run")

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        self.result = result
        stopped = len(result.lrs)
        self.status.setText(f"range test: {stopped} steps, from η = {short(result.lrs[0])} to {short(result.lrs[-1])}"
                            + (f" (stopped: the smoothed loss passed {STOP_FACTOR:g}× its best)"
                               if stopped < self._steps else ""))
        self._show()
        self.computed.emit()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, message)

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run()

    def _on_add_button_clicked(self, name: str, checked: bool = False) -> None:
        if self.result is not None:
            self.add_rate.emit(self.suggestion(name))

    def set_dark(self, dark: bool) -> None:
        self.plot.set_dark(dark)


# -- 5. the loss landscape -----------------------------------------------------------------------
class _ImagePlot(_Plot):
    """A log-scaled colour image over a rectangle of view coordinates, with a colour bar."""

    def __init__(self, parent=None, dark=False, xlabel="", ylabel="", bar_label="log₁₀ loss", left_axis=None):
        super().__init__(parent, dark, xlabel, ylabel, legend=False, left_axis=left_axis)
        self.cmap = pg.colormap.get(COLORMAP)
        self.image = pg.ImageItem()
        self.image.setColorMap(self.cmap)
        self.image.setZValue(-10)
        self.plotItem.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=self.cmap, interactive=False, label=bar_label,
                                   width=18)
        self.bar.setImageItem(self.image, insert_in=self.plotItem)
        self._style_bar()
        self.levels = (0.0, 1.0)

    def style_axes(self) -> None:
        super().style_axes()
        self.plotItem.showGrid(x=False, y=False)          # no grid lines over the cells

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self.plotItem.showGrid(x=False, y=False)
        self._style_bar()

    def set_image(self, values, x_edges, y_edges) -> None:
        """``values`` (nx, ny) in colour units, pixel (i, j) over [x_edges[i], x_edges[i+1]] × [y…]."""
        values = np.asarray(values, dtype=float)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1e-9
        self.levels = (lo, hi)
        self.image.setImage(values, levels=self.levels, autoLevels=False)
        self.image.setRect(QtCore.QRectF(x_edges[0], y_edges[0], x_edges[-1] - x_edges[0], y_edges[-1] - y_edges[0]))
        self.bar.setLevels(self.levels)
        self.view_box.bounds = [(float(x_edges[0]), float(x_edges[-1])), (float(y_edges[0]), float(y_edges[-1]))]

    def _style_bar(self) -> None:
        fg = style.palette(self.dark)["foreground"]
        for key in ("left", "right", "top", "bottom"):
            ax = self.bar.getAxis(key)
            ax.setPen(fg)
            ax.setTextPen(fg)
            no_si_prefix(ax)
        self.bar.axis.setStyle(tickFont=style.font(style.TICK_PT - 1))
        left = self.bar.getAxis("left")
        left.setLabel(left.labelText, **{"color": fg, "font-size": f"{style.LABEL_PT - 1}pt"})
        no_si_prefix(left)


def _edges(centers: np.ndarray) -> np.ndarray:
    """Pixel edges around evenly spaced centres."""
    c = np.asarray(centers, dtype=float)
    step = (c[-1] - c[0]) / (len(c) - 1) if len(c) > 1 else 1.0
    return np.concatenate([c - step / 2, [c[-1] + step / 2]])


class LandscapePlot(_ImagePlot):
    """The loss over a plane (log colour, iso-loss curves) with a trajectory drawn on it."""

    ISO_LEVELS = 7

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "", "")
        self.isocurves = []
        for _ in range(self.ISO_LEVELS):
            iso = pg.IsocurveItem(level=0, pen=_pen("#FFFFFF", 1.6, alpha=210))
            iso.setParentItem(self.image)
            self.isocurves.append(iso)
        self.shadow = pg.PlotDataItem(pen=_pen("#000000", 5.5, alpha=170))
        self.path = pg.PlotDataItem(pen=_pen(style.run_color(0), 2.5), symbol="o", symbolSize=7,
                                    symbolPen=_pen("#000000", 1), symbolBrush=pg.mkBrush(style.run_color(0)))
        self.start = pg.PlotDataItem(pen=None, symbol="s", symbolSize=16, symbolPen=_pen("#000000", 2),
                                     symbolBrush=pg.mkBrush("#FFFFFF"))
        self.end = pg.PlotDataItem(pen=None, symbol="star", symbolSize=24, symbolPen=_pen("#000000", 1.5),
                                   symbolBrush=pg.mkBrush("#FFFFFF"))
        for z, item in enumerate((self.shadow, self.path, self.start, self.end)):
            item.setZValue(10 + z)
            self.plotItem.addItem(item, ignoreBounds=True)
        self.start_label = self._text(anchor=(0, 1.2), bold=True)
        self.end_label = self._text(anchor=(1, -0.2), bold=True)
        for item in (self.start_label, self.end_label):
            item.setZValue(30)
            self.plotItem.addItem(item, ignoreBounds=True)
        self.landscape = None
        self.offset = np.zeros(2)

    def show_landscape(self, ls, color: str, steps: int | None = None, absolute: bool = False) -> None:
        """Model -> view: a core.landscape.Landscape, the run's colour, the steps its path covers.

        ``absolute``: the plane of two parameters, drawn in their own values (w, b) rather than
        as offsets from the plane's centre (the path's end)."""
        self.landscape = ls
        offset = np.asarray(ls.directions, dtype=float) @ np.asarray(ls.center, dtype=float) if absolute \
            else np.zeros(2)
        self.offset = offset
        values = _log10(ls.losses).T                      # image[i, j] at (alphas[i], betas[j])
        finite = values[np.isfinite(values)]
        if finite.size:
            values = np.where(np.isfinite(values), values, finite.min())
        self.set_image(values, _edges(ls.alphas) + offset[0], _edges(ls.betas) + offset[1])
        lo, hi = self.levels
        for iso, level in zip(self.isocurves, np.linspace(lo, hi, self.ISO_LEVELS + 2)[1:-1]):
            iso.setLevel(float(level))
            iso.setData(values)
        suffix = "" if absolute else " (offset from the path's end)"
        self.plotItem.setLabel("bottom", ls.labels[0] + suffix)
        self.plotItem.setLabel("left", ls.labels[1] + suffix)
        self.style_axes()
        p = np.asarray(ls.path, dtype=float) + offset
        self.shadow.setData(p[:, 0], p[:, 1])
        self.path.setData(p[:, 0], p[:, 1], symbolSize=7 if len(p) <= 400 else 3)
        self.path.setPen(_pen(color, 2.5))
        self.path.setSymbolBrush(pg.mkBrush(color))
        self.start.setData(p[:1, 0], p[:1, 1])
        self.end.setData(p[-1:, 0], p[-1:, 1])
        self.start_label.setText("start")
        self.start_label.setPos(*p[0])
        self.end_label.setText("end" + (f" (step {steps})" if steps is not None else ""))
        self.end_label.setPos(*p[-1])
        self._autorange()


class LandscapeView(QtWidgets.QWidget):
    """For a chosen run, the loss over a plane with its trajectory drawn on it.

    The model without a hidden layer: the exact (w, b) plane.  The network: the plane of
    the trajectory's two principal directions, or of two chosen parameters, and how far
    the trajectory lies off it.  The path is the run's own (core.trajectory, every step,
    so an oscillation shows as a zigzag), or one given with ``set_trajectory``.
    """

    computed = Signal()

    PLANES = (("pca", "the trajectory's two principal directions"), ("params", "two chosen parameters"))

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.experiment, self.data, self.result = None, None, None
        self._given = None                # (path, spec, x, y, names, color, label) from set_trajectory
        self._stale = False
        self.runner = JobRunner(self, "lrlab-landscape")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.plot = LandscapePlot(dark=dark)
        self.run_combo = QtWidgets.QComboBox()
        self.run_combo.setToolTip("The run whose path is drawn.")
        self.plane_combo = QtWidgets.QComboBox()
        self.plane_combo.setToolTip("The plane through parameter space the loss is drawn over.")
        self.param_combos = (QtWidgets.QComboBox(), QtWidgets.QComboBox())
        for c, axis in zip(self.param_combos, ("horizontal", "vertical")):
            c.setToolTip(f"The parameter on the {axis} axis.")
        self.steps = _Field(str(LANDSCAPE_STEPS), partial(_integer, "landscape steps", lo=1, hi=LANDSCAPE_MAX_STEPS),
                            "How many steps of the run's path to draw (every step is drawn, so an "
                            "oscillation shows as a zigzag).")
        self.compute_button = QtWidgets.QPushButton("Draw")
        self.compute_button.setToolTip("Train the chosen run for that many steps and draw its path on the loss.")
        row = QtWidgets.QHBoxLayout()
        self._times = QtWidgets.QLabel("×")
        for text, w in (("Run", self.run_combo), ("plane", self.plane_combo), (None, self.param_combos[0]),
                        (self._times, self.param_combos[1]), ("steps", self.steps)):
            if text is not None:
                row.addWidget(QtWidgets.QLabel(text) if isinstance(text, str) else text)
            row.addWidget(w)
        row.addWidget(self.compute_button)
        row.addStretch(1)
        self.off_plane = _label(points=style.LABEL_PT)
        self.status = _label()
        self.error = _error_label()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.off_plane)
        layout.addWidget(self.status)
        self.run_combo.activated.connect(self._on_choice_activated)
        self.plane_combo.activated.connect(self._on_choice_activated)
        for c in self.param_combos:
            c.activated.connect(self._on_choice_activated)
        self.compute_button.clicked.connect(self._on_compute_button_clicked)
        self.steps.returnPressed.connect(self._on_compute_button_clicked)
        self._set_planes("mlp", [])

    # -- model -> view ------------------------------------------------------------------------
    def set_experiment(self, experiment, data=None) -> None:
        self.experiment, self.data = experiment, data
        self._given = None
        keep = self.run_combo.currentIndex()
        self.run_combo.clear()
        for k, lr in enumerate(experiment.learning_rates):
            self.run_combo.addItem(_swatch(style.run_color(k)), lr_label(lr))
        self.run_combo.setCurrentIndex(min(max(keep, 0), len(experiment.learning_rates) - 1))
        self.steps.setText(str(min(experiment.steps, LANDSCAPE_STEPS)))
        self.steps.setStyleSheet("")
        self._set_planes(experiment.model, experiment.model_spec().param_names)
        self._stale = True
        if self.isVisible():
            self.compute()

    def set_run(self, k: int) -> None:
        self.run_combo.setCurrentIndex(k)
        if self.experiment is not None:
            self._given = None
            self._stale = True
            if self.isVisible():
                self.compute()

    def set_trajectory(self, path, model_spec, x, y, names, color=None, label=None) -> None:
        """Draw the landscape around a given path (T, P), e.g. one recorded by the worker."""
        path = np.asarray(path, dtype=float)
        self._given = (path, model_spec, np.asarray(x, dtype=float), np.asarray(y, dtype=float), list(names),
                       color or style.run_color(max(0, self.run_combo.currentIndex())), label)
        self._set_planes(model_spec.kind, list(names))
        self._stale = True
        if self.isVisible():
            self.compute()

    def _set_planes(self, kind: str, names) -> None:
        keep = self.plane_combo.currentData()
        self.plane_combo.clear()
        if kind == "linear":
            self.plane_combo.addItem("the exact (w, b) plane", "exact")
        else:
            for key, text in self.PLANES:
                self.plane_combo.addItem(text, key)
            i = self.plane_combo.findData(keep)
            self.plane_combo.setCurrentIndex(max(i, 0))
        for c, default in zip(self.param_combos, (0, 1)):
            keep_name = c.currentText()
            c.clear()
            c.addItems(list(names))
            i = c.findText(keep_name) if keep_name else -1
            c.setCurrentIndex(i if i >= 0 else min(default, max(len(names) - 1, 0)))
        self._show_param_combos()

    def _show_param_combos(self) -> None:
        on = self.plane_combo.currentData() == "params"
        for w in self.param_combos + (self._times,):
            w.setVisible(on)

    # -- computing ----------------------------------------------------------------------------
    def compute(self) -> bool:
        plane = self.plane_combo.currentData() or "pca"
        i, j = (c.currentIndex() for c in self.param_combos)
        if plane == "params" and i == j:
            _show_error(self.error, f"landscape: choose two different parameters; got {self.param_combos[0].currentText()} twice")
            return False
        core_plane = "params" if plane in ("params", "exact") else "pca"
        if plane == "exact":
            i, j = 0, 1
        if self._given is not None:
            path, spec, x, y, names, _, _ = self._given
            _show_error(self.error, "")
            self.status.setText("computing the loss over the plane…")
            self._stale = False
            self.runner.submit(landscape_job, path, spec, x, y, names, core_plane, i, j)
            return True
        if self.experiment is None:
            return False
        try:
            steps = self.steps.value()
        except ConfigError as e:
            _show_error(self.error, str(e))
            return False
        steps = min(steps, self.experiment.steps)
        run = max(0, self.run_combo.currentIndex())
        data = self.data if self.data is not None else self.experiment.make_data()
        _show_error(self.error, "")
        self.status.setText(f"training {lr_label(self.experiment.learning_rates[run])} for {steps} steps "
                            "and computing the loss over the plane…")
        self._stale = False
        self.runner.submit(trajectory_landscape_job, self.experiment, data, run, steps, core_plane, i, j)
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.compute()

    def shutdown(self) -> None:
        self.runner.shutdown()

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        ls, path = result
        self.result = ls
        if self._given is not None:
            color, label = self._given[5], self._given[6]
        else:
            k = max(0, self.run_combo.currentIndex())
            color, label = style.run_color(k), self.run_combo.currentText()
        steps = len(path) - 1
        plane = self.plane_combo.currentData()
        self.plot.show_landscape(ls, color, steps, absolute=plane in ("exact", "params"))
        kind = "exact (w, b) plane" if self.plane_combo.currentData() == "exact" else (
            "plane of its two principal directions" if self.plane_combo.currentData() == "pca" else
            f"({ls.labels[0]}, {ls.labels[1]}) plane through its end")
        self.plot.set_title(f"{label or 'the run'}: loss over the {kind}")
        if self.plane_combo.currentData() == "exact":
            self.off_plane.setText("The linear model has only w and b: the trajectory lies <b>exactly</b> in this "
                                   "plane (0% off).")
        else:
            pct = 100 * ls.off_plane
            self.off_plane.setText(f"The trajectory lies <b>{pct:.1f}%</b> off this plane " if pct >= 0.1 or pct == 0 else
                                   f"The trajectory lies <b>{pct:.2g}%</b> off this plane "
                                   "(the share of its movement the plane does not show).")
        self.status.setText(f"{steps + 1} points, one per step; square: start, star: end; colour: log₁₀ of the "
                            "loss, white curves: equal loss.")
        self.computed.emit()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, message)

    @Slot(int)
    def _on_choice_activated(self, index: int) -> None:
        if self.sender() is self.run_combo:
            self._given = None
        self._show_param_combos()
        self.compute()

    @Slot()
    def _on_compute_button_clicked(self) -> None:
        self._given = None if self.experiment is not None else self._given
        self.compute()

    def set_dark(self, dark: bool) -> None:
        self.plot.set_dark(dark)


# -- 6. the phase diagram -------------------------------------------------------------------------
class _RowAxis(pg.AxisItem):
    """The phase diagram's rows: one tick per row, labelled with its width or seed."""

    def __init__(self):
        super().__init__("left")
        self.rows = ()

    def tickValues(self, minVal, maxVal, size):
        return [(1.0, [float(i) for i in range(len(self.rows)) if minVal - 0.5 <= i <= maxVal + 0.5])]

    def tickStrings(self, values, scale, spacing):
        return [str(self.rows[int(round(v))]) if 0 <= int(round(v)) < len(self.rows) else "" for v in values]


class PhasePlot(_ImagePlot):
    """A heat map of the loss over learning rate (log, columns) × width or seed (rows),
    each cell marked with its outcome's symbol."""

    def __init__(self, parent=None, dark: bool = False):
        row_axis = _RowAxis()
        super().__init__(parent, dark, "learning rate η", "", left_axis=row_axis)
        self.row_axis = row_axis
        self.set_axis_log("bottom", True)
        self.empty = QtWidgets.QGraphicsRectItem()
        self.empty.setBrush(pg.mkBrush("#9A9A9A"))
        self.empty.setPen(pg.mkPen(None))
        self.empty.setZValue(-20)
        self.plotItem.addItem(self.empty, ignoreBounds=True)
        self.cells = []
        self.diagram, self.shown_metric = None, "final"
        self._x = np.empty(0)

    def show_diagram(self, pd, metric: str = "final", rows_expected: int | None = None) -> None:
        self.diagram, self.shown_metric = pd, metric
        values = np.asarray(pd.final if metric == "final" else pd.best, dtype=float)
        n_rows = max(rows_expected or 0, values.shape[0])
        img = np.full((n_rows, values.shape[1]), np.nan)
        img[:values.shape[0]] = _log10(values)
        self._x = _log10(pd.lrs)
        x_edges = _edges(self._x)
        y_edges = np.arange(n_rows + 1) - 0.5
        self.set_image(img.T, x_edges, y_edges)
        self.empty.setRect(QtCore.QRectF(x_edges[0], y_edges[0], x_edges[-1] - x_edges[0],
                                         values.shape[0]))
        self.row_axis.rows = tuple(pd.rows)
        self.row_axis.picture = None
        self.row_axis.update()
        self.plotItem.setLabel("left", "hidden units" if pd.row_name == "hidden" else "seed")
        self.style_axes()
        for item in self.cells:
            self.plotItem.removeItem(item)
        self.cells = []
        lo, hi = self.levels
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                outcome = str(pd.outcomes[r, c])
                v = img[r, c]
                if np.isfinite(v):
                    rgb = self.cmap.map((v - lo) / (hi - lo), mode="float")[:3]
                    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.55
                else:
                    light = True
                item = pg.TextItem(style.outcome_style(outcome).symbol, color="#000000" if light else "#FFFFFF",
                                   anchor=(0.5, 0.5))
                item.setFont(style.font(style.LABEL_PT + 1, bold=True))
                item.setPos(self._x[c], r)
                self.plotItem.addItem(item, ignoreBounds=True)
                self.cells.append(item)
        self._autorange()

    def cell_at(self, x_view: float, y_view: float):
        """(row, column) of the cell under a point in view coordinates, or None."""
        if self.diagram is None or not self._x.size:
            return None
        edges = _edges(self._x)
        c = int(np.searchsorted(edges, x_view) - 1)
        r = int(math.floor(y_view + 0.5))
        if 0 <= c < len(self._x) and 0 <= r < len(self.diagram.rows):
            return r, c
        return None

    def cell_center(self, r: int, c: int) -> QtCore.QPointF:
        return QtCore.QPointF(float(self._x[c]), float(r))


class PhaseDiagramView(QtWidgets.QWidget):
    """Outcome and loss over a grid of learning rates × hidden widths (or × seeds);
    computed in the background row by row; click a cell to add that run."""

    add_run = Signal(float, str, int)       # learning rate, "hidden" or "seed", its value
    computed = Signal()

    ROW_KINDS = (("hidden", "hidden widths"), ("seed", "seeds"))
    DEFAULT_ROWS = {"hidden": "1 2 4 8 16 32", "seed": "0 1 2 3 4 5"}

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.experiment, self.data, self.result = None, None, None
        self._rows_expected = 0
        self.runner = JobRunner(self, "lrlab-phase")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.partial.connect(self._on_runner_partial)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self.plot = PhasePlot(dark=dark)
        self.plot.set_title("Phase diagram: loss (colour) and outcome (symbol) of every cell")
        self.kind = QtWidgets.QComboBox()
        for key, text in self.ROW_KINDS:
            self.kind.addItem(text, key)
        self.kind.setToolTip("Rows of the grid: hidden-layer widths, or seeds of the initial parameters.")
        self.rows = _Field(self.DEFAULT_ROWS["hidden"], self._parse_rows, "The rows, separated by spaces.", 160)
        self.lr_min = _Field("0.001", partial(_number, "phase diagram lr-min", positive=True),
                             "The smallest learning rate (first column).")
        self.lr_max = _Field("10", partial(_number, "phase diagram lr-max", positive=True),
                             "The largest learning rate (last column).")
        self.columns = _Field("12", partial(_integer, "phase diagram columns", lo=2, hi=PHASE_MAX_COLUMNS),
                              f"How many learning rates, evenly spaced on a log scale (2 to {PHASE_MAX_COLUMNS}).", 60)
        self.steps = _Field("2000", partial(_integer, "phase diagram steps", lo=1, hi=10_000_000),
                            "Steps every cell trains for (default: the experiment's budget).")
        self.metric_combo = QtWidgets.QComboBox()
        self.metric_combo.addItem("final loss", "final")
        self.metric_combo.addItem("best loss", "best")
        self.metric_combo.setToolTip("Colour each cell by its loss after the last step, or by the lowest it reached.")
        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setToolTip("Train every cell of the grid (in the background, row by row).")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop after the row being computed.")
        row1 = QtWidgets.QHBoxLayout()
        for text, w in (("Rows:", self.kind), ("", self.rows), ("η from", self.lr_min), ("to", self.lr_max),
                        ("in", self.columns)):
            if text:
                row1.addWidget(QtWidgets.QLabel(text))
            row1.addWidget(w)
        row1.addWidget(QtWidgets.QLabel("columns"))
        row1.addStretch(1)
        row2 = QtWidgets.QHBoxLayout()
        for text, w in (("steps", self.steps), ("colour:", self.metric_combo)):
            row2.addWidget(QtWidgets.QLabel(text))
            row2.addWidget(w)
        row2.addWidget(self.compute_button)
        row2.addWidget(self.stop_button)
        row2.addStretch(1)
        self.legend = _label("  ".join(f"{style.outcome_text(o)}" for o in
                                       ("converging", "slow", "oscillating", "diverged"))
                             + " · grey: no loss (blew up) · click a cell to add that run")
        self.hover = _label(points=style.TICK_PT)
        self.status = _label()
        self.error = _error_label()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.error)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.hover)
        layout.addWidget(self.status)
        self.kind.activated.connect(self._on_kind_activated)
        self.metric_combo.activated.connect(self._on_metric_activated)
        self.compute_button.clicked.connect(self._on_compute_button_clicked)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    # -- model -> view ------------------------------------------------------------------------
    def set_experiment(self, experiment, data=None) -> None:
        self.experiment, self.data = experiment, data
        self.steps.setText(str(experiment.steps))
        self.steps.setStyleSheet("")
        linear = experiment.model == "linear"
        model = self.kind.model()
        model.item(0).setEnabled(not linear)
        model.item(0).setToolTip("The model without a hidden layer has no width: vary the seed."
                                 if linear else "")
        if linear and self.kind.currentData() == "hidden":
            self.kind.setCurrentIndex(1)
            self.rows.setText(self.DEFAULT_ROWS["seed"])

    def learning_rates(self):
        """The grid's rates: evenly spaced on a log scale, each to 3 significant digits
        (the rate a cell adds is the rate it trained)."""
        lo, hi, n = self.lr_min.value(), self.lr_max.value(), self.columns.value()
        if not lo < hi:
            raise ConfigError(f"phase diagram: need lr-min < lr-max; got {lo:g} {hi:g}")
        lrs = sorted({rounded(v) for v in np.geomspace(lo, hi, n)})
        if len(lrs) < n:
            raise ConfigError(f"phase diagram: {n} columns between {lo:g} and {hi:g} repeat a rate; use fewer")
        return lrs

    def _parse_rows(self, text: str):
        key = self.kind.currentData()
        parts = text.replace(",", " ").split()
        if not parts:
            raise ConfigError(f"phase diagram rows: give at least one {key}; got {text!r}")
        if len(parts) > PHASE_MAX_ROWS:
            raise ConfigError(f"phase diagram rows: at most {PHASE_MAX_ROWS}; got {len(parts)}")
        base = self.experiment
        values = []
        for p in parts:
            if base is not None:
                changes = {key: p}
                if key == "hidden":
                    changes["init"] = None
                v = getattr(replace(base, **changes).validated(), key)
            else:
                v = _integer(key, p, 0, 2**63 - 1)
            values.append(v)
        if len(set(values)) != len(values):
            raise ConfigError(f"phase diagram rows: a {key} is repeated; got {text!r}")
        return values

    # -- computing ----------------------------------------------------------------------------
    def compute(self) -> bool:
        if self.experiment is None:
            return False
        try:
            lrs = self.learning_rates()
            rows = self.rows.value()
            steps = self.steps.value()
            exp = replace(self.experiment, steps=steps).validated()
        except ConfigError as e:
            _show_error(self.error, str(e))
            return False
        _show_error(self.error, "")
        data = self.data if self.data is not None else exp.make_data()
        key = self.kind.currentData()
        self._rows_expected = len(rows)
        self.status.setText(f"computing row 1 of {len(rows)} ({len(lrs)} rates × {steps} steps each)…")
        self.runner.submit(phase_rows_job, exp, lrs, key, rows, data)
        return True

    def shutdown(self) -> None:
        self.runner.shutdown()

    def _show(self, pd) -> None:
        self.result = pd
        self.plot.show_diagram(pd, self.metric_combo.currentData(), self._rows_expected)

    @Slot(object)
    def _on_runner_partial(self, pd) -> None:
        self._show(pd)
        done = len(pd.rows)
        if done < self._rows_expected:
            self.status.setText(f"computing row {done + 1} of {self._rows_expected}…")

    @Slot(object)
    def _on_runner_finished(self, pd) -> None:
        self._show(pd)
        self.status.setText(f"{len(pd.rows)} rows × {len(pd.lrs)} rates, {self.steps.text()} steps each.")
        self.computed.emit()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, message)

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        self.compute_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    @Slot()
    def _on_compute_button_clicked(self) -> None:
        self.compute()

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        self.runner.cancel()
        self.status.setText("stopped" + (f" after {len(self.result.rows)} rows" if self.result is not None else ""))

    @Slot(int)
    def _on_kind_activated(self, index: int) -> None:
        self.rows.setText(self.DEFAULT_ROWS[self.kind.itemData(index)])
        self.rows.setStyleSheet("")

    @Slot(int)
    def _on_metric_activated(self, index: int) -> None:
        if self.result is not None:
            self._show(self.result)

    def cell_text(self, r: int, c: int) -> str:
        pd = self.result
        name = "hidden units" if pd.row_name == "hidden" else "seed"
        return (f"{name} {pd.rows[r]}, η = {format_number(pd.lrs[c])}: final loss {format_number(pd.final[r, c])}, "
                f"best {format_number(pd.best[r, c])} — {style.outcome_text(str(pd.outcomes[r, c]))}. "
                "Click to add this run.")

    def click_cell(self, r: int, c: int) -> None:
        pd = self.result
        self.add_run.emit(float(pd.lrs[c]), pd.row_name, int(pd.rows[r]))

    def _cell_at_scene(self, pos):
        vb = self.plot.view_box
        if self.result is None or not vb.sceneBoundingRect().contains(pos):
            return None
        p = vb.mapSceneToView(pos)
        return self.plot.cell_at(p.x(), p.y())

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell_at_scene(event.scenePos())
        if cell is not None:
            self.click_cell(*cell)

    def _on_scene_mouse_moved(self, pos) -> None:
        cell = self._cell_at_scene(pos)
        self.hover.setText(self.cell_text(*cell) if cell is not None else "")

    def set_dark(self, dark: bool) -> None:
        self.plot.set_dark(dark)


# -- the tabs the main window embeds ---------------------------------------------------------------
class CurvatureView(QtWidgets.QWidget):
    """SharpnessPlot (with its log-axis switch) beside the ForecastPanel; for the linear model,
    the predicted loss curves under the sharpness."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.sharpness = SharpnessPlot(dark=dark)
        self.predicted = PredictedLossPlot(dark=dark)
        self.predicted.hide()
        self.forecast = ForecastPanel()
        self.log_y = QtWidgets.QCheckBox("log λ axis")
        self.log_y.setChecked(True)
        self.log_y.setToolTip("Show the sharpness on a logarithmic (checked) or linear axis.")
        left = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.sharpness, 3)
        lay.addWidget(self.log_y)
        lay.addWidget(self.predicted, 2)
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.forecast)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.log_y.toggled.connect(self._on_log_y_toggled)

    @Slot(bool)
    def _on_log_y_toggled(self, on: bool) -> None:
        self.sharpness.set_log_y(on)


class AnalysisTabs(QtWidgets.QTabWidget):
    """Curvature, range test, landscape and phase diagram, in tabs.

    The window calls ``set_experiment(exp, data)`` when an experiment (re)starts,
    ``on_progress(progress, learning_rates, losses)`` on every frame, and listens to
    ``add_rate`` (a rate to add as a run), ``add_run`` (a rate and a width or seed) and
    ``critical_lr_changed`` (η*, for the learning-rate slider).
    """

    add_rate = Signal(float)
    add_run = Signal(float, str, int)
    critical_lr_changed = Signal(object)      # η* = 2/λ_max at the start (float), or None

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.experiment, self.data, self.forecast = None, None, None
        self.curvature = CurvatureView(dark=dark)
        self.range_test = RangeTestView(dark=dark)
        self.landscape = LandscapeView(dark=dark)
        self.phase = PhaseDiagramView(dark=dark)
        for view, text, tip in (
                (self.curvature, "Curvature", "λ_max of every run against its limit 2/η, and the stability forecast."),
                (self.range_test, "Range test", "The learning-rate range test, beside η* from the curvature."),
                (self.landscape, "Landscape", "The loss around a run's path, with the path drawn on it."),
                (self.phase, "Phase diagram", "Outcome over learning rates × widths or seeds.")):
            self.setTabToolTip(self.addTab(view, text), tip)
        self.runner = JobRunner(self, "lrlab-forecast")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.range_test.add_rate.connect(self.add_rate)
        self.phase.add_run.connect(self.add_run)
        self.currentChanged.connect(self._on_self_current_changed)
        self._outcomes = ()
        self._pending = None

    @property
    def sharpness_plot(self) -> SharpnessPlot:
        return self.curvature.sharpness

    @property
    def forecast_panel(self) -> ForecastPanel:
        return self.curvature.forecast

    def set_experiment(self, experiment, data=None) -> None:
        """A new experiment at step 0: forecast it, and give it to every view."""
        data = experiment.make_data() if data is None else data
        self.experiment, self.data, self.forecast = experiment, data, None
        self._outcomes, self._pending = (), None
        colors = [style.run_color(k) for k in range(len(experiment.learning_rates))]
        self.curvature.sharpness.set_runs(experiment.learning_rates, colors)
        linear = experiment.model == "linear"
        self.curvature.predicted.setVisible(linear)
        if linear:
            self.curvature.predicted.set_runs(experiment.learning_rates, colors)
        self.curvature.forecast.show_computing()
        self.runner.submit(forecast_job, experiment, data)
        self.range_test.set_experiment(experiment, data)
        self.landscape.set_experiment(experiment, data)
        self.phase.set_experiment(experiment, data)

    def on_progress(self, progress, learning_rates=None, losses=None) -> None:
        """A core.engine.Progress: sharpness, live outcomes; ``losses`` (K, t+1) for the linear model's
        measured-vs-predicted plot."""
        if progress is None:
            return
        self._outcomes = tuple(progress.outcomes)
        if not self.curvature.isVisible():               # drawn when the tab is shown
            self._pending = (progress, losses)
            return
        self._pending = None
        if progress.sharpness is not None and len(progress.sharpness_steps):
            self.curvature.sharpness.update_data(progress.sharpness_steps, progress.sharpness)
        self.curvature.forecast.set_outcomes(self._outcomes)
        if losses is not None and self.curvature.predicted.isVisible():
            self.curvature.predicted.set_measured(losses)

    def set_trajectory(self, path, model_spec, x, y, names, color=None, label=None) -> None:
        self.landscape.set_trajectory(path, model_spec, x, y, names, color, label)

    def set_dark(self, dark: bool) -> None:
        for view in (self.curvature.sharpness, self.curvature.predicted, self.range_test, self.landscape,
                     self.phase):
            view.set_dark(dark)

    def shutdown(self) -> None:
        """Stop every background job and wait for its thread (call from the window's closeEvent)."""
        for runner in (self.runner, self.range_test.runner, self.landscape.runner, self.phase.runner):
            runner.shutdown()

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        f, predicted = result
        self.forecast = f
        exp = self.experiment
        colors = [style.run_color(k) for k in range(len(f.lrs))]
        self.curvature.forecast.show(f, exp.model, colors)
        self.curvature.forecast.set_outcomes(self._outcomes)
        if predicted is not None:
            self.curvature.predicted.set_predicted(predicted)
        self.range_test.set_critical_lr(f.critical_lr)
        self.critical_lr_changed.emit(float(f.critical_lr))

    @Slot(int)
    def _on_self_current_changed(self, index: int) -> None:
        if self._pending is not None and self.widget(index) is self.curvature:
            progress, losses = self._pending
            self.on_progress(progress, None, losses)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.curvature.forecast.show_error(message)
        self.range_test.set_critical_lr(None)
        self.critical_lr_changed.emit(None)
