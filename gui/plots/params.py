"""ParamPanel: one run's parameters, its gradient noise scale as training goes on, and, on the
tutorial's point, the chain-rule values of the step."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg      # bound to PySide6: gui.plots imports .layer (PySide6 first) before this module
from PySide6 import QtCore, QtWidgets

from core.explain import explain
from core.models import ModelSpec
from core.network import unpack
from core.report import lr_label
from .. import style
from ..format import number, short
from .items import ThemedPlot
from .ranges import format_number, log10_positive


CHAIN_RULE = (("z1", "z1 = w1·x + b1"), ("a1", "a1 = σ(z1)"), ("y_pred", "y_pred = w2·a1 + b2"),
              ("loss", "L = (y_true − y_pred)²"),
              ("dL_dy_pred", "∂L/∂y_pred = −2(y_true − y_pred)"), ("dL_dw2", "∂L/∂w2 = ∂L/∂y_pred · a1"),
              ("dL_db2", "∂L/∂b2 = ∂L/∂y_pred"), ("dL_da1", "∂L/∂a1 = ∂L/∂y_pred · w2"),
              ("da1_dz1", "σ'(z1)"), ("dL_dw1", "∂L/∂w1 = ∂L/∂a1 · σ'(z1) · x"),
              ("dL_db1", "∂L/∂b1 = ∂L/∂a1 · σ'(z1)"), ("w1_new", "w1 − η·∂L/∂w1"),
              ("b1_new", "b1 − η·∂L/∂b1"), ("w2_new", "w2 − η·∂L/∂w2"), ("b2_new", "b2 − η·∂L/∂b2"),
              ("y_pred_new", "y_pred after the step"), ("loss_new", "L after the step"))


NOISE_TIP = ("The gradient noise scale of the chosen run (McCandlish et al. 2018), computed exactly from the "
             "per-sample gradients gₙ and the Hessian H at its parameters, up to 20 times a second of training: "
             "B_simple = tr(Σ)/|G|², B_noise = tr(HΣ)/(GᵀHG), ε_max = |G|²/(GᵀHG) the best step without noise, "
             "and ε_opt(B) = ε_max / (1 + B_noise·(N − B)/(B·(N − 1))) the best step at this batch size. "
             "Batches much smaller than B_noise are noise-dominated; as the loss falls, the noise scale grows.")


NOISE_COLORS = {"simple": "#1f77b4", "noise": "#d62728"}     # B_simple, B_noise against step


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


TABLE_MIN_HEIGHT = 130       # px: the header and about four parameters


class ParamPanel(QtWidgets.QWidget):
    """Parameters of one run (value, gradient, last update, update-to-weight ratio) and,
    on the single-point tutorial data, the chain-rule values of the current step."""

    COLUMNS = ("value\nθ", "gradient\n∂L/∂θ", "update\nΔθ", "|Δθ| / |θ|")    # (narrow: 1280 × 720)

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.title = QtWidgets.QLabel("Parameters")
        self.title.setFont(style.font(style.LABEL_PT, bold=True))
        self.table = _table(self.COLUMNS)
        self.table.setToolTip("Each parameter of the chosen run: its value, the gradient of the loss with respect "
                              "to it, the last update and how large that update is relative to the value.")
        self.chain_title = QtWidgets.QLabel("Chain rule on the tutorial's point (this step)")
        self.chain_title.setFont(style.font(style.LABEL_PT, bold=True))
        self.chain_title.setWordWrap(True)      # (419 px on one line: the panel scrolled sideways at 1280 × 720)
        self.chain = _table(("value",))
        self.noise_label = QtWidgets.QLabel()
        self.noise_label.setFont(style.font(style.TICK_PT))
        self.noise_label.setWordWrap(True)
        self.noise_label.setToolTip(NOISE_TIP)
        self.noise_plot = ThemedPlot(dark=dark, xlabel="", ylabel="", legend_columns=None, menu=False)
        self.noise_plot.setToolTip(NOISE_TIP)
        self.noise_plot.setFixedHeight(110)
        self.noise_plot.setMouseEnabled(x=False, y=False)
        self.noise_plot.plotItem.getAxis("left").setLogMode(True)      # the curves are log10 (view coordinates)
        self.noise_curves = {}
        for key, color in NOISE_COLORS.items():       # (the label names them in their colours)
            curve = self.noise_curves[key] = pg.PlotDataItem(pen=pg.mkPen(color, width=2))
            self.noise_plot.plotItem.addItem(curve)
        # The panel scrolls as a whole: on a 1280 × 720 screen with mini-batches (the noise readout and
        # its plot under the table) it has ~250 px, and nothing must be cut or squashed to one row.
        inner = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.table, self.noise_label, self.noise_plot, self.chain_title, self.chain):
            layout.addWidget(w)
        self.table.setMinimumHeight(TABLE_MIN_HEIGHT)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_chain_rule(None)
        self.show_noise(None, 0)

    def show_run(self, lr, theta_k, grad_k, delta_k, hidden: int, names=None) -> None:
        """``names``: one per parameter (default: the network's w1[0] … b2 for ``hidden`` units)."""
        theta, grad, delta = (np.asarray(a, dtype=float).ravel() for a in (theta_k, grad_k, delta_k))
        with np.errstate(all="ignore"):
            ratio = np.abs(delta) / np.abs(theta)
        self.title.setText(f"Parameters of {lr_label(lr)}")
        names = names or ModelSpec("mlp", int(hidden)).param_names
        _fill(self.table, names, zip(theta, grad, delta, ratio))

    def show_progress(self, progress, k: int, experiment, data) -> None:
        """Run ``k`` (or the last one) of a core.engine.Progress; on a single point of data with the
        network, the chain rule of its current step too (core.explain)."""
        k = min(k, progress.theta.shape[0] - 1)
        lr, H, spec = experiment.learning_rates[k], experiment.hidden, experiment.model_spec()
        theta = progress.theta[k]
        self.show_run(lr, theta, progress.grad[k], progress.delta[k], H, spec.param_names)
        if len(data) == 1 and spec.worked_example_chain_rule:
            w1, b1, w2, b2 = unpack(theta, H)
            self.show_chain_rule(explain(w1, b1, w2, b2, float(data.x[0]), float(data.y[0]), lr,
                                         experiment.activation))
        else:
            self.show_chain_rule(None)

    def show_noise(self, noise, k: int) -> None:
        """Run ``k``'s gradient noise scale: its values at the last step measured, and B_simple and
        B_noise against step (``noise``: gui.noise_track.NoiseTrack.report, or None: hidden)."""
        shown = noise is not None and len(noise[1]) > 0
        self.noise_label.setVisible(shown)
        self.noise_plot.setVisible(shown)
        if not shown:
            return
        _, steps, simple, b_noise, eps_max, eps_opt, batch = noise
        k = min(k, simple.shape[1] - 1)
        self.noise_label.setText(
            f"Noise scale at step {int(steps[-1]):,}: <b style='color:{NOISE_COLORS['simple']}'>B_simple</b> = "
            f"{short(simple[-1, k])}, <b style='color:{NOISE_COLORS['noise']}'>B_noise</b> = "
            f"{short(b_noise[-1, k])}, ε_max = {short(eps_max[-1, k])}, "
            f"ε_opt(B = {batch}) = {short(eps_opt[-1, k])}")
        for key, values in (("simple", simple[:, k]), ("noise", b_noise[:, k])):
            y = log10_positive(values)
            keep = np.isfinite(y)
            self.noise_curves[key].setData(steps[keep].astype(float), y[keep])

    def show_chain_rule(self, step) -> None:
        visible = step is not None
        self.chain_title.setVisible(visible)
        self.chain.setVisible(visible)
        if not visible:
            return
        self.chain_title.setText(f"Chain rule of this step (x = {number(step.x)}, y_true = {number(step.y_true)}, "
                                 f"η = {number(step.lr)})")
        rows = []
        for field, _ in CHAIN_RULE:
            v = np.ravel(getattr(step, field))
            rows.append((float(v[0]),) if v.size == 1 else (", ".join(map(format_number, v)),))
        _fill(self.chain, [formula for _, formula in CHAIN_RULE], rows)

    def set_dark(self, dark: bool) -> None:
        """Tables follow the application palette; the noise-scale plot follows the theme."""
        self.dark = bool(dark)
        self.noise_plot.set_dark(self.dark)
