"""The "Landscape" tab: the loss over a plane through parameter space (the trajectory's two
principal directions, two chosen parameters, or the linear model's exact (w, b) plane) with
a run's path drawn on it."""
from __future__ import annotations

from functools import partial

import numpy as np
from PySide6 import QtWidgets
from PySide6.QtCore import Slot
import pyqtgraph as pg

from core.cancel import check
from core.errors import ConfigError
from core.fields import check_integer
from core.landscape import landscape, parameter_plane
from core.report import lr_label
from core.trajectory import trajectory

from .. import style
from ..plots import log10_positive
from .common import _edges, _Field, _ImagePlot, _JobView, _label, _swatch
from ..plots.items import _pen

LANDSCAPE_GRID = 60
LANDSCAPE_STEPS = 200             # default length of a landscape's trajectory
LANDSCAPE_MAX_STEPS = 20_000
LOSS_BATCH = 4_000_000            # grid points × samples × units evaluated at once (memory)


# -- the jobs: run in a JobRunner's thread ---------------------------------------------------------
def _batched_loss(spec, x, y, should_stop=None):
    """loss_fn(thetas (M, P)) -> (M,) for core.landscape, evaluated in batches that fit in memory
    (``should_stop``, core.cancel's hook, is asked before each batch)."""
    per_point = max(1, np.size(x) * max(1, spec.hidden if spec.has_hidden_layer else 1))
    batch = max(1, LOSS_BATCH // per_point)

    def loss_fn(thetas):
        thetas = np.atleast_2d(thetas)
        out = []
        for i in range(0, len(thetas), batch):
            check(should_stop, "landscape")
            out.append(spec.loss(thetas[i:i + batch], x, y))
        return np.concatenate(out)
    return loss_fn


def landscape_job(path, spec, x, y, names, plane: str = "pca", i: int = 0, j: int = 1, grid: int = LANDSCAPE_GRID,
                  should_stop=None):
    """core.landscape over the plane asked for: "pca" (the trajectory's) or "params" (θ_i, θ_j)."""
    loss_fn = _batched_loss(spec, x, y, should_stop)
    if plane == "params":
        return parameter_plane(path, loss_fn, i, j, names, grid=grid), path
    return landscape(path, loss_fn, grid), path


def trajectory_landscape_job(experiment, data, run, steps, plane="pca", i=0, j=1, grid=LANDSCAPE_GRID,
                             should_stop=None):
    path = trajectory(experiment, run, steps, 1, data, should_stop=should_stop)
    spec = experiment.model_spec()
    return landscape_job(path, spec, data.x, data.y, spec.param_names, plane, i, j, grid, should_stop)


# -- the view --------------------------------------------------------------------------------------
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
        values = log10_positive(ls.losses).T              # image[i, j] at (alphas[i], betas[j])
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


class LandscapeView(_JobView):
    """For a chosen run, the loss over a plane with its trajectory drawn on it.

    The model without a hidden layer: the exact (w, b) plane.  The network: the plane of
    the trajectory's two principal directions, or of two chosen parameters, and how far
    the trajectory lies off it.  The path is the run's own (core.trajectory, every step,
    so an oscillation shows as a zigzag), or one given with ``set_trajectory``.
    """

    PLANES = (("pca", "the trajectory's two principal directions"), ("params", "two chosen parameters"))

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent, "lrlab-landscape")
        self._given = None                # (path, spec, x, y, names, color, label) from set_trajectory
        self.plot = LandscapePlot(dark=dark)
        self.run_combo = QtWidgets.QComboBox()
        self.run_combo.setToolTip("The run whose path is drawn.")
        self.plane_combo = QtWidgets.QComboBox()
        self.plane_combo.setToolTip("The plane through parameter space the loss is drawn over.")
        self.param_combos = (QtWidgets.QComboBox(), QtWidgets.QComboBox())
        for c, axis in zip(self.param_combos, ("horizontal", "vertical")):
            c.setToolTip(f"The parameter on the {axis} axis.")
        self.steps = _Field(str(LANDSCAPE_STEPS),
                            partial(check_integer, "landscape steps", lo=1, hi=LANDSCAPE_MAX_STEPS),
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
        self._lay_out([row], [self.off_plane])
        self.run_combo.activated.connect(self._on_choice_activated)
        self.plane_combo.activated.connect(self._on_choice_activated)
        for c in self.param_combos:
            c.activated.connect(self._on_choice_activated)
        self.compute_button.clicked.connect(self._on_compute_button_clicked)
        self.steps.returnPressed.connect(self._on_compute_button_clicked)
        self._set_planes(True, [])

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
        self._set_planes(experiment.model_spec().has_hidden_layer, experiment.model_spec().param_names)
        self._invalidate()

    def set_run(self, k: int) -> None:
        self.run_combo.setCurrentIndex(k)
        if self.experiment is not None:
            self._given = None
            self._invalidate()

    def set_trajectory(self, path, model_spec, x, y, names, color=None, label=None) -> None:
        """Draw the landscape around a given path (T, P), e.g. one recorded by the worker."""
        path = np.asarray(path, dtype=float)
        self._given = (path, model_spec, np.asarray(x, dtype=float), np.asarray(y, dtype=float), list(names),
                       color or style.run_color(max(0, self.run_combo.currentIndex())), label)
        self._set_planes(model_spec.has_hidden_layer, list(names))
        self._invalidate()

    def _set_planes(self, hidden_layer: bool, names) -> None:
        keep = self.plane_combo.currentData()
        self.plane_combo.clear()
        if not hidden_layer:
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
            return self._refuse(f"landscape: choose two different parameters; got {self.param_combos[0].currentText()} twice")
        core_plane = "params" if plane in ("params", "exact") else "pca"
        if plane == "exact":
            i, j = 0, 1
        if self._given is not None:
            path, spec, x, y, names, _, _ = self._given
            return self._start("computing the loss over the plane…",
                               landscape_job, path, spec, x, y, names, core_plane, i, j)
        if self.experiment is None:
            return False
        try:
            steps = self.steps.value()
        except ConfigError as e:
            return self._refuse(str(e))
        steps = min(steps, self.experiment.steps)
        run = max(0, self.run_combo.currentIndex())
        data = self._data()
        return self._start(f"training {lr_label(self.experiment.learning_rates[run])} for {steps} steps "
                           "and computing the loss over the plane…",
                           trajectory_landscape_job, self.experiment, data, run, steps, core_plane, i, j)

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
