"""The "Phase diagram" tab: outcome and loss over a grid of learning rates × hidden widths
(or × seeds, or × batch sizes), computed in the background row by row; a click on a cell
adds that run.  Over batch sizes, each row's best rate (core.phase.PhaseDiagram.best_lr) is
ringed and the rate the gradient noise scale predicts, ε_opt(B) (core.noise, at the initial
parameters: PhaseDiagram.eps_opt), is drawn over the rows as a dashed line."""
from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

import numpy as np
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot
import pyqtgraph as pg

from core.errors import ConfigError
from core.fields import FULL_BATCH, check_integer, check_number
from core.phase import PhaseDiagram, phase_diagram

from .. import style
from ..plots import format_number, log10_positive
from .common import _edges, _Field, _ImagePlot, _JobView, _label, rounded

PHASE_MAX_ROWS, PHASE_MAX_COLUMNS = 16, 40


# -- the job: run in a JobRunner's thread, one row at a time ---------------------------------------
def stack_phase(parts) -> PhaseDiagram:
    """One PhaseDiagram from diagrams of one row each (same rates, same kind of row)."""
    first = parts[0]
    eps = None if first.eps_opt is None else np.concatenate([p.eps_opt for p in parts])
    return PhaseDiagram(first.lrs, tuple(r for p in parts for r in p.rows), first.row_name,
                        np.vstack([p.final for p in parts]), np.vstack([p.best for p in parts]),
                        np.vstack([p.outcomes for p in parts]), eps)


ROW_KEYWORDS = {"hidden": "widths", "seed": "seeds", "batch_size": "batch_sizes"}   # core.phase.phase_diagram's
ROW_NAMES = {"hidden": "hidden units", "seed": "seed", "batch_size": "batch size"}


def row_text(row) -> str:
    """A row's label: its width, seed or batch size (None: full batch)."""
    return FULL_BATCH if row is None else str(row)


def default_batch_rows(n_samples: int) -> str:
    """Powers of two below the data's N, then full batch (at most PHASE_MAX_ROWS rows)."""
    sizes = [2 ** i for i in range(0, 20) if 2 ** i < n_samples][:PHASE_MAX_ROWS - 1]
    return " ".join([str(b) for b in sizes] + [FULL_BATCH])


def phase_rows_job(experiment, lrs, row_name, rows, data, should_stop=None):
    """Generator: core.phase.phase_diagram one row at a time (each row is its own experiment,
    so this equals one call over every row); yields the diagram so far after each row.
    ``should_stop``: core.cancel's hook, asked within each row too."""
    parts = []
    for r in rows:
        kw = {ROW_KEYWORDS[row_name]: [r]}
        parts.append(phase_diagram(experiment, lrs, data=data, should_stop=should_stop, **kw))
        yield stack_phase(parts)
    return stack_phase(parts)


# -- the plot and the view -------------------------------------------------------------------------
class _RowAxis(pg.AxisItem):
    """The phase diagram's rows: one tick per row, labelled with its width or seed."""

    def __init__(self):
        super().__init__("left")
        self.rows = ()

    def tickValues(self, minVal, maxVal, size):
        return [(1.0, [float(i) for i in range(len(self.rows)) if minVal - 0.5 <= i <= maxVal + 0.5])]

    def tickStrings(self, values, scale, spacing):
        return [row_text(self.rows[int(round(v))]) if 0 <= int(round(v)) < len(self.rows) else "" for v in values]


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
        # Rows of batch sizes: each row's best rate ringed, and ε_opt(B) predicted by the noise scale.
        self.best_marks = pg.ScatterPlotItem(symbol="o", size=26, brush=None, pen=pg.mkPen("#FFFFFF", width=3))
        self.eps_curve = pg.PlotDataItem(pen=pg.mkPen("#FF00CC", width=3, style=Qt.PenStyle.DashLine),
                                         symbol="d", symbolSize=9, symbolBrush="#FF00CC", symbolPen=None)
        for item in (self.best_marks, self.eps_curve):
            item.setZValue(30)
            item.hide()
            self.plotItem.addItem(item, ignoreBounds=True)

    def show_diagram(self, pd, metric: str = "final", rows_expected: int | None = None) -> None:
        self.diagram, self.shown_metric = pd, metric
        values = np.asarray(pd.final if metric == "final" else pd.best, dtype=float)
        n_rows = max(rows_expected or 0, values.shape[0])
        img = np.full((n_rows, values.shape[1]), np.nan)
        img[:values.shape[0]] = log10_positive(values)
        self._x = log10_positive(pd.lrs)
        x_edges = _edges(self._x)
        y_edges = np.arange(n_rows + 1) - 0.5
        self.set_image(img.T, x_edges, y_edges)
        self.empty.setRect(QtCore.QRectF(x_edges[0], y_edges[0], x_edges[-1] - x_edges[0],
                                         values.shape[0]))
        self.row_axis.rows = tuple(pd.rows)
        self.row_axis.picture = None
        self.row_axis.update()
        self.plotItem.setLabel("left", ROW_NAMES[pd.row_name])
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
        self._show_batch_marks(pd)
        self._autorange()

    def _show_batch_marks(self, pd) -> None:
        """Rows of batch sizes: the best rate of each row (ringed) and the ε_opt(B) line."""
        batch = pd.row_name == "batch_size" and pd.eps_opt is not None
        self.best_marks.setVisible(batch)
        self.eps_curve.setVisible(batch)
        if not batch:
            return
        rows = np.arange(len(pd.rows), dtype=float)
        best = log10_positive(pd.best_lr)
        keep = np.isfinite(best)
        self.best_marks.setData(x=best[keep], y=rows[keep])
        eps = log10_positive(np.asarray(pd.eps_opt, dtype=float))
        keep = np.isfinite(eps)
        self.eps_curve.setData(x=eps[keep], y=rows[keep])

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


class PhaseDiagramView(_JobView):
    """Outcome and loss over a grid of learning rates × hidden widths (or × seeds);
    computed in the background row by row; click a cell to add that run."""

    add_run = Signal(float, str, int)       # learning rate, "hidden", "seed" or "batch_size", its value (0: full batch)

    ROW_KINDS = (("hidden", "hidden widths"), ("seed", "seeds"), ("batch_size", "batch sizes"))
    DEFAULT_ROWS = {"hidden": "1 2 4 8 16 32", "seed": "0 1 2 3 4 5"}      # batch sizes: default_batch_rows(N)

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, "lrlab-phase")
        self._rows_expected = 0
        self.runner.partial.connect(self._on_runner_partial)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self.plot = PhasePlot(dark=dark)
        self.plot.set_title("Phase diagram: loss (colour) and outcome (symbol) of every cell")
        self.kind = QtWidgets.QComboBox()
        for key, text in self.ROW_KINDS:
            self.kind.addItem(text, key)
        self.kind.setToolTip("Rows of the grid: hidden-layer widths, seeds of the initial parameters, or batch "
                             "sizes (each row's best rate ringed; dashed: ε_opt(B), the rate the gradient "
                             "noise scale predicts at the start).")
        self.rows = _Field(self.DEFAULT_ROWS["hidden"], self._parse_rows, "The rows, separated by spaces.", 160)
        self.lr_min = _Field("0.001", partial(check_number, "phase diagram lr-min", positive=True),
                             "The smallest learning rate (first column).")
        self.lr_max = _Field("10", partial(check_number, "phase diagram lr-max", positive=True),
                             "The largest learning rate (last column).")
        self.columns = _Field("12", partial(check_integer, "phase diagram columns", lo=2, hi=PHASE_MAX_COLUMNS),
                              f"How many learning rates, evenly spaced on a log scale (2 to {PHASE_MAX_COLUMNS}).", 60)
        self.steps = _Field("2000", partial(check_integer, "phase diagram steps", lo=1, hi=10_000_000),
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
                             + " · grey: no loss (blew up) · click a cell to add that run"
                             + " · batch sizes: ○ best rate of the row, dashed ε_opt(B) predicted")
        self.hover = _label(points=style.TICK_PT)
        self._lay_out([row1, row2], [self.legend, self.hover])
        self.kind.activated.connect(self._on_kind_activated)
        self.metric_combo.activated.connect(self._on_metric_activated)
        self.compute_button.clicked.connect(self._on_compute_button_clicked)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    # -- model -> view ------------------------------------------------------------------------
    def set_experiment(self, experiment, data=None) -> None:
        self.experiment, self.data = experiment, data
        self._stop_job()                         # (it computes on request only)
        self.steps.setText(str(experiment.steps))
        self.steps.setStyleSheet("")
        linear = not experiment.model_spec().has_hidden_layer
        model = self.kind.model()
        model.item(0).setEnabled(not linear)
        model.item(0).setToolTip("The model without a hidden layer has no width: vary the seed."
                                 if linear else "")
        if linear and self.kind.currentData() == "hidden":
            self.kind.setCurrentIndex(1)
            self.rows.setText(self.DEFAULT_ROWS["seed"])
        elif self.kind.currentData() == "batch_size":
            self.rows.setText(self.default_rows("batch_size"))

    def default_rows(self, key: str) -> str:
        if key == "batch_size":
            return default_batch_rows(self.experiment.n_samples() if self.experiment is not None else 1000)
        return self.DEFAULT_ROWS[key]

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
                if key == "batch_size" and v is not None and v >= base.n_samples():
                    v = None                          # B = N is full batch (core: bit for bit)
            elif key == "batch_size":
                v = None if p.lower() == FULL_BATCH else check_integer("batch size", p, 1, 2**63 - 1)
            else:
                v = check_integer(key, p, 0, 2**63 - 1)
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
            return self._refuse(str(e))
        data = self._data()
        key = self.kind.currentData()
        self._rows_expected = len(rows)
        return self._start(f"computing row 1 of {len(rows)} ({len(lrs)} rates × {steps} steps each)…",
                           phase_rows_job, exp, lrs, key, rows, data)

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
        self.rows.setText(self.default_rows(self.kind.itemData(index)))
        self.rows.setStyleSheet("")

    @Slot(int)
    def _on_metric_activated(self, index: int) -> None:
        if self.result is not None:
            self._show(self.result)

    def cell_text(self, r: int, c: int) -> str:
        pd = self.result
        predicted = ""
        if pd.eps_opt is not None:
            predicted = (f" Best rate of the row {format_number(pd.best_lr[r])}; predicted ε_opt(B) "
                         f"{format_number(pd.eps_opt[r])}.")
        return (f"{ROW_NAMES[pd.row_name]} {row_text(pd.rows[r])}, η = {format_number(pd.lrs[c])}: final loss "
                f"{format_number(pd.final[r, c])}, best {format_number(pd.best[r, c])} — "
                f"{style.outcome_text(str(pd.outcomes[r, c]))}.{predicted} Click to add this run.")

    def click_cell(self, r: int, c: int) -> None:
        pd = self.result
        row = pd.rows[r]
        self.add_run.emit(float(pd.lrs[c]), pd.row_name, 0 if row is None else int(row))

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
