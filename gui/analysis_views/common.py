"""What every view of the "Why it diverges" tab shares: number formatting, pens, labels,
error lines, a checked text field, the themed plot and image plot, and the base of the
views whose answer a background job computes."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot
import pyqtgraph as pg


from .. import style
from ..format import rounded, short, tick  # noqa: F401 (rounded, short: the views import them from here)
from ..checked import CheckedField
from ..style import ERROR_STYLE, no_si_prefix
from ..jobs import JobRunner
from ..plots import LogAxis, ThemedPlot

COLORMAP = "viridis"


# -- small helpers ---------------------------------------------------------------------------------
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


def _Field(text: str, parse, tooltip: str, width: int = 90) -> CheckedField:
    """A typed value checked by ``parse(text)`` (ConfigError = core's message): the window's one
    checked field, red while invalid; ``value()`` is the parsed value or ConfigError."""
    field = CheckedField(lambda t: parse(t.strip()), tooltip)
    field.setText(text)
    field.setMaximumWidth(width)
    return field


# -- a themed plot ---------------------------------------------------------------------------------
class PlainLogAxis(LogAxis):
    """gui.plots.LogAxis with plain numbers (20, 0.001) instead of 2·10¹ and 10⁻³ (1e-05 below 1e-4)."""

    def logTickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            x = 10.0 ** float(v) * scale
            out.append(tick(x))
        return out


class _Plot(ThemedPlot):
    """The analysis views' plot: a ThemedPlot with log axes labelled in plain numbers (data are
    given in view coordinates, log10 where the axis is logarithmic), no context menu, and
    labels (``_text``) that follow the theme."""

    def __init__(self, parent=None, dark: bool = False, xlabel: str = "", ylabel: str = "", legend: bool = True,
                 left_axis=None):
        self._texts = []                       # (label from _text, its colour is fixed)
        super().__init__(parent, dark, xlabel, ylabel, left_axis=left_axis or PlainLogAxis("left"),
                         bottom_axis=PlainLogAxis("bottom"), legend_columns=3 if legend else None, menu=False)

    def set_dark(self, dark: bool) -> None:
        """Re-colour the axes, the legend and every label made by ``_text``."""
        super().set_dark(dark)
        self._texts = [(item, fixed) for item, fixed in self._texts if item.scene() is not None]
        for item, fixed in self._texts:
            self._style_text(item, fixed)

    def set_axis_log(self, name: str, log: bool) -> None:
        axis = self.plotItem.getAxis(name)
        axis.setLogMode(log)
        axis.setStyle(maxTextLevel=0 if log else 2)

    def _text(self, color=None, anchor=(0, 0), bold=False, points=None) -> pg.TextItem:
        """A label in a box of the theme's colours; its text in ``color``, or in the theme's
        foreground (then it follows the theme too)."""
        item = pg.TextItem(color=color or style.palette(self.dark)["foreground"], anchor=anchor)
        item.setFont(style.font(points or style.LABEL_PT - 1, bold))
        self._texts.append((item, color is not None))
        self._style_text(item, color is not None)
        return item

    def _remove_texts(self, items) -> None:
        """Take labels made by ``_text`` out of the plot, and forget them (else each new
        experiment's labels would stay alive in ``_texts``)."""
        items = list(items)
        for item in items:
            self.plotItem.removeItem(item)
        gone = {id(item) for item in items}
        self._texts = [(item, fixed) for item, fixed in self._texts if id(item) not in gone]

    def _style_text(self, item: pg.TextItem, fixed_color: bool) -> None:
        p = style.palette(self.dark)
        item.fill = pg.mkBrush(p["panel"])
        item.border = pg.mkPen(p["foreground"], width=0.5)
        if not fixed_color:
            item.setColor(p["foreground"])
        item.update()

    def _autorange(self) -> None:
        if any(self.view_box.state["autoRange"]):
            self.view_box.updateAutoRange()


# -- a colour image over a plot (the landscape, the phase diagram) ---------------------------------
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
        left.setLabel(left.labelText, **{"color": fg, "font-size": f"{style.pt(style.LABEL_PT - 1):g}pt"})
        no_si_prefix(left)


def _edges(centers: np.ndarray) -> np.ndarray:
    """Pixel edges around evenly spaced centres."""
    c = np.asarray(centers, dtype=float)
    step = (c[-1] - c[0]) / (len(c) - 1) if len(c) > 1 else 1.0
    return np.concatenate([c - step / 2, [c[-1] + step / 2]])


# -- a view computed in the background -------------------------------------------------------------
class _JobView(QtWidgets.QWidget):
    """A view whose answer a gui.jobs.JobRunner computes off the GUI thread: it owns the
    runner, a status line and an error line.  A subclass builds ``self.plot`` and its inputs,
    places them with ``_lay_out``, implements ``compute()`` (start a job with ``_start``, or
    refuse bad input with ``_refuse``) and the slot ``_on_runner_finished(result)``.  One
    marked ``_stale`` while hidden computes when it is shown."""

    computed = Signal()

    def __init__(self, parent=None, thread_name: str = "lrlab-job"):
        super().__init__(parent)
        self.experiment, self.data, self.result = None, None, None
        self._stale = False
        self.runner = JobRunner(self, thread_name)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.status = _label()
        self.error = _error_label()

    def _lay_out(self, rows, notes) -> None:
        """Top to bottom: the input ``rows`` (layouts), the error line, the plot, the ``notes``
        (widgets or layouts) and the status line."""
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for row in rows:
            layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.plot, 1)
        for item in notes:
            if isinstance(item, QtWidgets.QLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item)
        layout.addWidget(self.status)

    def compute(self) -> bool:
        raise NotImplementedError

    def _invalidate(self) -> None:
        """The inputs changed: compute again now if the view is shown (which supersedes the
        job running), else stop that job and compute when the view is shown."""
        self._stale = True
        if self.isVisible():
            self.compute()
        else:
            self._stop_job()

    def _stop_job(self) -> None:
        """Stop the job running, if one is: its answer is for inputs that are gone."""
        if self.runner.busy:
            self.runner.cancel()
            self.status.setText("stopped: the experiment changed")

    def _data(self):
        """The data set the view was given, or its experiment's."""
        return self.data if self.data is not None else self.experiment.make_data()

    def _start(self, status: str, fn, *args) -> bool:
        """Clear the error, say what is being computed and run ``fn(*args)`` in the runner."""
        _show_error(self.error, "")
        self._stale = False
        self.status.setText(status)
        self.runner.submit(fn, *args)
        return True

    def _refuse(self, message: str) -> bool:
        """Bad input: show the message (it names the field and the value) and start nothing."""
        _show_error(self.error, message)
        return False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.compute()

    def shutdown(self) -> None:
        self.runner.shutdown()

    def closeEvent(self, event) -> None:
        """A view closed on its own (not inside the window, whose close shuts every job down)
        stops its job too: a result must never reach a view whose plots are being torn down."""
        self.shutdown()
        super().closeEvent(event)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status.setText("")
        _show_error(self.error, message)

    def set_dark(self, dark: bool) -> None:
        self.plot.set_dark(dark)
