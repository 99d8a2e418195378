"""The "Curvature" tab: λ_max against step beside the stability forecast from the Hessian
at the initial parameters (and, for the model without a hidden layer, the predicted loss).

Each run is held against its own limit (core.optim's ``sharpness_limit``: c/ηₜ with c = 2 for
gradient descent, 2 + 2β for heavy ball, (2 + 2β)/(1 + 2β) for Nesterov, 2 for RMSprop and
(2 + 2β1)/(1 − β1) for Adam), which moves with the run's schedule; for RMSprop and Adam the
sharpness drawn is the preconditioned one, λ_max(P^(−1/2) H P^(−1/2)) (core.engine notes P).
Under it, every run's rate ηₜ over the budget (``RatePlot``), with the current step marked."""
from __future__ import annotations

import numpy as np
from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt, Slot
import pyqtgraph as pg

from core.curvature import forecast as curvature_forecast
from core.curvature import linear_loss_curves
from core.models import ModelSpec
from core.optim import GradientDescent
from core.report import lr_label

from .. import style
from ..plots import log10_positive
from .common import _Plot, _error_label, _label, _show_error, _swatch, short
from ..style import CLIFF_COLOR
from ..plots.items import _pen
from ..recipes import recipe_text

REGIME_STYLE = {regime: (s.symbol, s.text, s.color) for regime, s in style.REGIME_STYLE.items()}
REGIME_RULE = ("<b>monotone</b>: η·λ_max &lt; 1, the loss falls steadily along the steepest direction; "
               "<b>oscillating</b>: 1 to 2, the steepest direction flips sign every step but shrinks; "
               "<b>unstable</b>: &gt; 2, it grows every step.")
PREDICTED_MAX_STEPS = 20_000      # the predicted loss curve is drawn over at most this many steps
RATE_POINTS = 2000                # ηₜ and the limits are drawn at most at this many updates of the budget
# each optimizer's limit in words (the dashed lines' labels; core.optim.Recipe.limit_factor is c)
LIMIT_NAMES = {"gd": "2/η", "momentum": "(2+2β)/η", "nesterov": "(2+2β)/((1+2β)η)", "rmsprop": "2/η on P⁻¹H",
               "adam": "(2+2β₁)/((1−β₁)η) on P⁻¹H"}
ADAPTIVE_NOTE = "no exact forecast for adaptive optimizers"


def sample_steps(steps: int, points: int = RATE_POINTS) -> np.ndarray:
    """The updates ηₜ is drawn at: every one up to ``points``, else ``points`` evenly spread
    (the first and the last always)."""
    steps = max(int(steps), 1)
    return np.arange(steps) if steps <= points else np.unique(np.linspace(0, steps - 1, points).round().astype(int))


def rate_samples(rule, steps: int, points: int = RATE_POINTS):
    """(t (M,), ηₜ (M, K), the sharpness limits c/ηₜ (M, K)) at ``sample_steps``: the rule's own
    ``lr_at`` and ``sharpness_limit`` (in order of t: a schedule's rates are worked out once)."""
    ts = sample_steps(steps, points)
    rates = np.array([rule.lr_at(int(t)) for t in ts], dtype=float)
    limits = np.array([rule.sharpness_limit(int(t)) for t in ts], dtype=float)
    return ts, rates, limits


def critical_rates(forecast, recipes):
    """Each run's critical rate c/λ_max at the initial parameters (``forecast.critical_lr``), None for
    RMSprop and Adam (their limit bounds the preconditioned sharpness: no exact forecast at the start);
    one float when the rule gives one for every run (gradient descent at constant rates)."""
    crit = np.asarray(forecast.critical_lr, dtype=float)
    if crit.ndim == 0:
        return float(crit)
    return tuple(None if r.adaptive else float(c) for r, c in zip(recipes, crit))


def regime_text(regime: str) -> str:
    symbol, word, _ = REGIME_STYLE.get(regime, ("?", regime, style.UNKNOWN_COLOR))
    return f"{symbol} {word}"


# -- the job: run in a JobRunner's thread ----------------------------------------------------------
def forecast_job(experiment, data, predicted_steps: int = PREDICTED_MAX_STEPS):
    """(Forecast at the initial parameters, predicted loss curves (K, S+1) of the linear model or None,
    ``rate_samples`` of the experiment's rule: ηₜ and each run's limit over the budget)."""
    theta0 = experiment.initial_params()
    spec = experiment.model_spec()
    f = curvature_forecast(spec.hessian(theta0, data.x, data.y)[0], experiment.learning_rates,
                           rule=experiment.update_rule())
    predicted = None
    if spec.exact_forecast:
        predicted = linear_loss_curves(data.x, data.y, theta0, experiment.learning_rates,
                                       min(experiment.steps, predicted_steps))
    return f, predicted, rate_samples(experiment.update_rule(), experiment.steps)


# -- sharpness against step ------------------------------------------------------------------------
def _see_through(color, alpha: int = 150) -> QtGui.QBrush:
    """A label's background that lets a curve behind it show: the 2/η labels sit right where
    a run at the edge of stability hovers."""
    c = pg.mkColor(color)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


class SharpnessPlot(_Plot):
    """λ_max against step for every run in its colour, each with its dashed limit line (2/η for
    gradient descent; core.optim's c/ηₜ, at the current step, for any recipe).  A run whose rate
    follows a schedule also shows its limit over the whole budget (dotted, ``set_limit_curves``);
    RMSprop and Adam runs show the preconditioned sharpness (``update_data``'s ``preconditioned``).

    Edge of stability: with a fixed η, λ_max often rises until it hovers at 2/η (its
    dashed line) while the loss keeps falling, not monotonically.  Above its line at the
    start, a run's steepest direction grows: it diverges, or catapults to a flatter place.
    """

    LIMIT_CAP_DECADES = 1.5       # a 2/η line further above the data is named at the top, not drawn into range

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "step", "sharpness λ_max")
        # Short: a title wider than the plot would widen the whole scene past the view (1280 × 720).
        self.set_title("Sharpness λ_max and each run's limit")
        self.setToolTip("Solid: each run's λ_max (for Adam and RMSprop, of the preconditioned Hessian "
                        "P^(−1/2) H P^(−1/2)); dashed: the run's limit c/ηₜ, in its colour.")
        self.log_y = True
        self.learning_rates, self.colors = [], []
        self.curves, self.limits, self.off_labels, self.limit_curves = [], [], [], []
        self.rule, self.recipes, self.names, self.t = None, (), [], 0
        self._last = None
        key = pg.PlotDataItem(pen=_pen(style.palette(dark)["foreground"], 2, dashed=True))
        self.plotItem.addItem(key)
        self.legend.addItem(key, "limit c/ηₜ (run's colour)")
        self._key = key
        self.placeholder = self._text(anchor=(0.5, 0.5))
        self.placeholder.setText("λ_max is measured while the runs train")
        self.plotItem.addItem(self.placeholder, ignoreBounds=True)
        self.set_axis_log("left", True)

    def set_runs(self, learning_rates, colors, rule=None, recipes=None) -> None:
        """``rule`` (core.optim) gives each run's limit; default: gradient descent at these rates.
        ``recipes`` (core.optim.Recipe per run) name each limit and say which runs are adaptive."""
        for item in self.curves + self.limits + self.limit_curves:
            self.plotItem.removeItem(item)
        self._remove_texts(self.off_labels)
        for item in self.curves:
            self.legend.removeItem(item)
        self.learning_rates, self.colors = [float(v) for v in learning_rates], list(colors)
        self.rule = rule or GradientDescent(self.learning_rates)
        self.recipes = tuple(recipes) if recipes is not None else ()
        self.names = [LIMIT_NAMES[r.optimizer] for r in self.recipes] or ["2/η"] * len(self.learning_rates)
        self.t = 0
        self._limits = [float(v) for v in self.rule.sharpness_limit(0)]
        self.curves, self.limits, self.off_labels, self.limit_curves = [], [], [], []
        for k, (lr, limit, color) in enumerate(zip(self.learning_rates, self._limits, self.colors)):
            curve = pg.PlotDataItem(pen=_pen(color, 2.5), symbol="o", symbolSize=5, symbolPen=None,
                                    symbolBrush=pg.mkBrush(color))
            self.plotItem.addItem(curve)
            self.legend.addItem(curve, recipe_text(self.recipes[k]) if self.recipes else lr_label(lr))
            moving = pg.PlotDataItem(pen=_pen(color, 1.2, dashed=True))
            self.plotItem.addItem(moving)
            self.limit_curves.append(moving)
            line = pg.InfiniteLine(angle=0, pen=_pen(color, 2, dashed=True), movable=False,
                                   label=f"{self.names[k]} = {short(limit)}", labelOpts={
                                       "position": 0.97, "color": color, "anchors": [(1, 1), (1, 1)],
                                       "fill": _see_through(style.palette(self.dark)["panel"])})
            line.label.setFont(style.font(style.LABEL_PT - 1, bold=True))
            self.plotItem.addItem(line, ignoreBounds=True)
            label = self._text(color, anchor=(0, 0), bold=True)
            label.hide()
            self.plotItem.addItem(label, ignoreBounds=True)
            self.curves.append(curve)
            self.limits.append(line)
            self.off_labels.append(label)
        self._last = None
        self._limit_data = None
        self.placeholder.show()
        self._place()

    def limit(self, k: int) -> float:
        """Run k's limit at the current step in data units (the dashed line's height): 2/η for
        gradient descent, c/ηₜ for a recipe."""
        return self._limits[k]

    def set_step(self, t: int) -> None:
        """The limits of update ``t`` (they move when a run's rate follows a schedule)."""
        t = int(t)
        if t == self.t or getattr(self.rule, "schedule", None) is not None:
            return
        self.t = t
        steps = getattr(self.rule, "steps", None)
        limits = [float(v) for v in self.rule.sharpness_limit(min(t, steps - 1) if steps else t)]
        if limits != self._limits:
            self._limits = limits
            for k, line in enumerate(self.limits):
                line.label.setFormat(f"{self.names[k]} = {short(limits[k])}")
            self._place()

    def set_limit_curves(self, steps, limits) -> None:
        """Each scheduled run's limit over the budget (``rate_samples``: t (M,), c/ηₜ (M, K)), dotted."""
        self._limit_data = (np.asarray(steps, dtype=float), np.asarray(limits, dtype=float))
        self._place()

    def update_data(self, sharpness_steps, sharpness, preconditioned=None) -> None:
        """λ_max (K, M) at ``sharpness_steps``; for the adaptive runs ``preconditioned`` (K, M: NaN
        for the others, core.engine.Progress.preconditioned_sharpness) is drawn instead."""
        steps = np.asarray(sharpness_steps, dtype=float)
        lam = np.atleast_2d(np.asarray(sharpness, dtype=float)) if np.size(sharpness) else np.empty((0, 0))
        if preconditioned is not None and self.recipes and lam.size:
            pre = np.atleast_2d(np.asarray(preconditioned, dtype=float))
            adaptive = np.array([r.adaptive for r in self.recipes])[:, None]
            if pre.shape == lam.shape and adaptive.shape[0] == lam.shape[0]:
                lam = np.where(adaptive, pre, lam)
        self._last = (steps, lam)
        self._place()

    def set_log_y(self, on: bool) -> None:
        self.log_y = bool(on)
        self.set_axis_log("left", self.log_y)
        self.view_box.enableAutoRange()
        self._place()

    def _y(self, v):
        return log10_positive(v) if self.log_y else np.asarray(v, dtype=float)

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
                label.setText(f"↑ {lr_label(self.learning_rates[k])}: {self.names[k]} = {short(self._limits[k])}")
                label.setAnchor((0, -1.15 * rank))
                label.setPos(0.0, y_bounds[1])
                label.show()
                rank += 1
            else:
                label.hide()
        self._place_limit_curves()
        self.placeholder.setVisible(not has)
        self.placeholder.setPos(x_hi / 2, (y_bounds[0] + y_bounds[1]) / 2)
        self._autorange()

    def _place_limit_curves(self) -> None:
        """The scheduled runs' limits over the budget (constant ones are their dashed line)."""
        data = getattr(self, "_limit_data", None)
        for k, item in enumerate(self.limit_curves):
            if data is None or k >= data[1].shape[1] or np.all(data[1][:, k] == data[1][0, k]):
                item.setData([], [])
            else:
                item.setData(data[0], self._y(data[1][:, k]))

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        p = style.palette(self.dark)
        self._key.setPen(_pen(p["foreground"], 2, dashed=True))
        for line in self.limits:
            line.label.fill = _see_through(p["panel"])


class RatePlot(_Plot):
    """Every run's learning rate ηₜ over the budget (log y, from the rule's ``lr_at``, at most
    RATE_POINTS updates of it), in its colour, with the current step marked."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "update t", "ηₜ", legend=False)
        self.set_title("Learning rate ηₜ over the budget")
        self.set_axis_log("left", True)
        self.curves = []
        self.marker = pg.InfiniteLine(angle=90, pen=_pen(style.palette(dark)["foreground"], 1.5), movable=False)
        self.plotItem.addItem(self.marker, ignoreBounds=True)
        self.setMinimumHeight(150)

    def set_runs(self, colors) -> None:
        for item in self.curves:
            self.plotItem.removeItem(item)
        self.curves = []
        for color in colors:
            curve = pg.PlotDataItem(pen=_pen(color, 2.0))
            self.plotItem.addItem(curve)
            self.curves.append(curve)
        self.marker.setValue(0)

    def set_rates(self, steps, rates) -> None:
        """``rate_samples``' t (M,) and ηₜ (M, K)."""
        steps = np.asarray(steps, dtype=float)
        logs = log10_positive(np.asarray(rates, dtype=float))
        for k, curve in enumerate(self.curves):
            if k < logs.shape[1]:
                curve.setData(steps, logs[:, k])
        finite = logs[np.isfinite(logs)]
        if finite.size and steps.size:
            lo, hi = float(finite.min()), float(finite.max())
            if hi - lo < 2.0:             # at least two decades: a log axis over less labels its minor ticks
                lo, hi = (lo + hi) / 2 - 1.0, (lo + hi) / 2 + 1.0
            pad = 0.1 * (hi - lo)
            self.view_box.bounds = [(0.0, float(max(steps[-1], 1.0))), (lo - pad, hi + pad)]
        self._autorange()

    def set_step(self, t: int) -> None:
        if self.marker.value() != t:
            self.marker.setValue(float(t))

    def set_dark(self, dark: bool) -> None:
        super().set_dark(dark)
        self.marker.setPen(_pen(style.palette(self.dark)["foreground"], 1.5))


class PredictedLossPlot(_Plot):
    """The model without a hidden layer: each run's measured loss (solid) over the loss the
    eigen-decomposition predicts (dashed, from core.curvature.linear_loss_curves)."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, dark, "step", "loss")
        self.set_title("Linear model: measured loss (solid) and predicted (dashed)")
        self.set_axis_log("left", True)
        self.measured, self.predicted = [], []
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
        self._bounds_predicted = None

    def set_predicted(self, curves) -> None:
        curves = np.atleast_2d(np.asarray(curves, dtype=float))
        logs = log10_positive(curves)
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
        x = np.arange(losses.shape[1], dtype=float)
        logs = log10_positive(losses)
        for k, item in enumerate(self.measured):
            item.setData(x, logs[k])
        self._bound(losses.shape[1])

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


# -- the stability forecast ------------------------------------------------------------------------
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
        self.setMinimumWidth(FORECAST_MIN_WIDTH)

    def show_computing(self) -> None:
        self.status.setText("computing the Hessian at the initial parameters…")
        _show_error(self.error, "")

    def show_error(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, f"forecast: {message}")

    def show(self, forecast=None, model_kind: str = "mlp", colors=None, recipes=None) -> None:
        """Model -> view: a core.curvature.Forecast and the kind of model ("mlp" or "linear");
        ``recipes`` (core.optim.Recipe per run): each run's own critical rate c/λ_max (none for
        RMSprop and Adam) when the rule gives one per run.

        Without a forecast, QWidget.show()."""
        if forecast is None:
            super().show()
            return
        self.forecast, self.model_kind = forecast, model_kind
        f = forecast
        exact = ModelSpec(model_kind).exact_forecast
        self.status.setText("")
        _show_error(self.error, "")
        per_run = np.ndim(f.critical_lr) > 0
        self.critical = critical_rates(f, recipes or ()) if per_run else float(f.critical_lr)
        gd = 2.0 / f.sharpness
        best = np.asarray(f.best_lr, dtype=float)
        best = float(best) if best.ndim == 0 else 2.0 / (f.lambda_min_positive + f.sharpness)
        lines = [
            f"λ_max = <b>{short(f.sharpness, 5)}</b> &nbsp;&nbsp; λ_min = <b>{short(f.lambda_min, 5)}</b> "
            f"&nbsp;(largest and smallest Hessian eigenvalue)",
            f"critical rate <b>η* = 2/λ_max = <span style='color:{CLIFF_COLOR}'>{short(gd, 5)}</span></b>"
            " — above it the steepest direction grows"
            + (" (gradient descent; each run's own η* = c/λ_max is in its row: c = 2 + 2β for heavy ball, "
               "(2 + 2β)/(1 + 2β) for Nesterov)" if per_run else ""),
            f"best constant rate <b>2/(λ_min + λ_max) = {short(best, 5)}</b>"
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
        colors = colors or style.run_colors(len(f.lrs))
        outcomes = [self.table.item(r, 3).text() if self.table.item(r, 3) else "" for r in range(self.table.rowCount())]
        self.table.setRowCount(len(f.lrs))
        for r, (lr, e, regime) in enumerate(zip(f.lrs, f.eta_lambda, f.regimes)):
            _, _, color = REGIME_STYLE.get(regime, ("", "", style.UNKNOWN_COLOR))
            verdict = regime_text(regime)
            if per_run and r < len(recipes):
                crit = self.critical[r]
                if crit is None:
                    verdict, color = ADAPTIVE_NOTE, style.UNKNOWN_COLOR
                elif recipes[r].optimizer != "gd":
                    stable = lr < crit
                    verdict = f"{'stable' if stable else 'unstable'}: η* = {short(crit, 4)}"
                    color = style.REGIME_STYLE["monotone" if stable else "unstable"].color
                else:
                    verdict += f": η* = {short(crit, 4)}"
                if not recipes[r].schedule.is_constant:
                    verdict += " at t = 0 (ηₜ moves)"
            name = recipe_text(recipes[r]) if per_run and r < len(recipes) else lr_label(lr)
            items = [QtWidgets.QTableWidgetItem(_swatch(colors[r % len(colors)]), name),
                     QtWidgets.QTableWidgetItem(short(e, 4)),
                     QtWidgets.QTableWidgetItem(verdict),
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


FORECAST_MIN_WIDTH = 320     # px: the forecast's words wrap; below this its table's columns would not fit


# -- the tab ---------------------------------------------------------------------------------------
class CurvatureView(QtWidgets.QWidget):
    """SharpnessPlot (with its log-axis switch) beside the ForecastPanel; for the linear model,
    the predicted loss curves under the sharpness."""

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.sharpness = SharpnessPlot(dark=dark)
        self.rates = RatePlot(dark=dark)
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
        lay.addWidget(self.rates, 1)
        lay.addWidget(self.predicted, 2)
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        # The forecast scrolls (its text is long on a 1280 × 720 projector) so that the plots keep
        # the room: at 1280 wide the tab is ~810 px, of which the forecast now takes ~320.
        forecast = QtWidgets.QScrollArea()
        forecast.setWidget(self.forecast)
        forecast.setWidgetResizable(True)
        forecast.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        forecast.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split.addWidget(left)
        split.addWidget(forecast)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.log_y.toggled.connect(self._on_log_y_toggled)

    def set_experiment(self, experiment, colors) -> None:
        """A new experiment at step 0: each run's limit (its rule) and the ηₜ plot's runs."""
        self.sharpness.set_runs(experiment.learning_rates, colors, experiment.update_rule(), experiment.recipes())
        self.rates.set_runs(colors)

    def set_rate_samples(self, samples) -> None:
        """``rate_samples`` (t, ηₜ, c/ηₜ) from the background job."""
        steps, rates, limits = samples
        self.rates.set_rates(steps, rates)
        self.sharpness.set_limit_curves(steps, limits)

    def show_progress(self, progress) -> None:
        """A core.engine.Progress: the sharpness (preconditioned for adaptive runs), the current step."""
        self.rates.set_step(progress.t)
        self.sharpness.set_step(progress.t)
        if progress.sharpness is not None and len(progress.sharpness_steps):
            self.sharpness.update_data(progress.sharpness_steps, progress.sharpness,
                                       getattr(progress, "preconditioned_sharpness", None))

    @Slot(bool)
    def _on_log_y_toggled(self, on: bool) -> None:
        self.sharpness.set_log_y(on)
