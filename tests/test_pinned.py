"""What gui/ relies on in pyqtgraph, PySide6 and shiboken6 beyond their documented API: private
attributes, internals and memory layouts.  Each test fails loudly, naming the library version,
when a new release changes one of them; then the code named in the message must be adapted.

(The C++ bounding rectangles of the axes, the legend and the view box are pinned against
pyqtgraph's own methods in tests/test_plots.py: test_items_asked_at_every_repaint_....)
"""
from __future__ import annotations

import inspect

import numpy as np
import PySide6
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

PG = f"pyqtgraph {pg.__version__}"
QT = f"PySide6 {PySide6.__version__}"


def test_export_options_are_in_the_private_export_opts(qtbot):
    """gui.plots.layer.CurveLayer.paint and gui.plots.fit read ``_exportOpts`` (False, or the
    options dict while an export paints; gui.render sets it through setExportMode)."""
    item = pg.GraphicsObject()
    assert item._exportOpts is False, f"{PG}: GraphicsItem._exportOpts is not False outside an export"
    opts = {"antialias": False, "pen_scale": 2.0}
    item.setExportMode(True, opts)
    assert item._exportOpts == opts, f"{PG}: setExportMode(True, opts) no longer stores opts in _exportOpts"
    item.setExportMode(False)
    assert item._exportOpts is False, f"{PG}: setExportMode(False) no longer resets _exportOpts"


def test_axis_label_prefix_and_picture_cache(qtbot):
    """gui.style.no_si_prefix (and gui.analysis_views.phase) set ``autoSIPrefixScale``,
    ``labelUnitPrefix``, call the private ``_updateLabel`` and drop the cached ``picture``."""
    axis = pg.AxisItem("left")
    for name in ("autoSIPrefix", "autoSIPrefixScale", "labelUnitPrefix", "picture"):
        assert hasattr(axis, name), f"{PG}: AxisItem.{name} is gone"
    assert callable(getattr(axis, "_updateLabel", None)), f"{PG}: AxisItem._updateLabel is gone"
    axis.setLabel("loss", units="V")
    axis.enableAutoSIPrefix(True)
    axis.setRange(0, 0.007)                    # pyqtgraph would read this in mV
    assert "(mV)" in axis.label.toPlainText()
    axis.autoSIPrefixScale, axis.labelUnitPrefix = 1.0, ""
    axis._updateLabel()
    assert axis.label.toPlainText() == "loss (V)", (
        f"{PG}: _updateLabel no longer builds the shown label from labelUnitPrefix")
    assert "self.picture is None" in inspect.getsource(pg.AxisItem.paint), (
        f"{PG}: AxisItem.paint no longer redraws when picture is None")


def test_view_box_state_graphics_view_and_legend_internals(qtbot):
    """Attributes read by gui.plots.items (set_view_bounds, LegendStrip), gui.style and gui.render."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    plot = widget.plotItem
    auto = plot.vb.state["autoRange"]
    assert isinstance(auto, list) and len(auto) == 2, f"{PG}: ViewBox.state['autoRange'] is not [x, y]"
    assert widget.centralWidget is plot, f"{PG}: GraphicsView.centralWidget is not the plot"
    assert isinstance(widget.range, QtCore.QRectF), f"{PG}: GraphicsView.range is not a QRectF"
    assert isinstance(plot.layout, QtWidgets.QGraphicsGridLayout), f"{PG}: PlotItem.layout is not a grid layout"
    assert isinstance(plot.titleLabel, pg.LabelItem), f"{PG}: PlotItem.titleLabel is gone"
    curve = plot.plot([0, 1], [1, 0], pen="r", symbolPen="b")
    assert {"pen", "symbolPen"} <= set(curve.opts), f"{PG}: PlotDataItem.opts lacks pen / symbolPen"
    legend = pg.LegendItem()
    legend.addItem(curve, "run")
    ((sample, label),) = legend.items
    assert isinstance(sample, pg.ItemSample) and sample.item is curve, f"{PG}: LegendItem.items[i][0].item"
    assert isinstance(label.item, QtWidgets.QGraphicsTextItem), f"{PG}: LabelItem.item is not its text item"
    layout_widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(layout_widget)
    inner = layout_widget.addPlot()
    assert inner in layout_widget.ci.items, f"{PG}: GraphicsLayout.items does not hold its plots"


def test_qlinef_array_wrapped_from_numpy_memory_draws_the_lines(qtbot):
    """gui.plots.layer.draw_segments hands QPainter.drawLines a pointer into an (N, 4) float64 array
    as QLineF[N] (shiboken6.wrapInstance): a QLineF must be four doubles, 32 bytes, x1 y1 x2 y2."""
    from shiboken6 import __version__ as shiboken_version, wrapInstance
    from gui.plots.layer import draw_segments
    where = f"{QT}, shiboken6 {shiboken_version}"
    segs = np.array([[1.0, 2.0, 30.0, 4.0], [5.0, 6.0, 7.0, 28.0]])
    line = wrapInstance(segs.ctypes.data + 32, QtCore.QLineF)
    assert (line.x1(), line.y1(), line.x2(), line.y2()) == (5.0, 6.0, 7.0, 28.0), (
        f"{where}: QLineF is no longer four doubles x1, y1, x2, y2")

    def image(draw):
        img = QtGui.QImage(32, 32, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(0)
        p = QtGui.QPainter(img)
        draw(p)
        p.end()
        return img

    pen = QtGui.QPen(QtGui.QColor("red"))
    wrapped = image(lambda p: draw_segments(p, segs, [2], [pen]))
    plain = image(lambda p: (p.setPen(pen), p.drawLines([QtCore.QLineF(*row) for row in segs])))
    assert wrapped == plain and wrapped != image(lambda p: None), (
        f"{where}: drawLines(QLineF pointer, n) no longer draws the array's lines")
