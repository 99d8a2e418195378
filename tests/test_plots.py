"""Plot widgets: items made once, diverged runs marked, healthy auto-range, trail, exports, parameter panel."""
import os

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
import pyqtgraph as pg

from core.errors import ConfigError
from core.explain import tutorial_step
from gui import style
from gui.plots import (FitPlot, LossPlot, LossSeries, ParamPanel, SmallMultiples, decimate, healthy_runs,
                       nice_ceil, quantize_bounds, segments, trail_alpha)
from gui.render import export_png, save_loss_png

LRS = (0.01, 0.1, 0.5)
COLORS = [style.run_color(i) for i in range(len(LRS))]


def healthy_losses(T=200):
    """Three decaying runs between 1e-3 and 1 (independent of the widget code)."""
    s = np.arange(T)
    return np.stack([0.001 + 0.999 * np.exp(-s / tau) for tau in (50, 10, 25)])


@pytest.fixture
def loss_plot(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.set_runs(LRS, COLORS)
    return plot


def blown_up(T=200, at=37):
    """Run 3 rises to a huge value and is NaN after step ``at`` (as the engine records a blow-up)."""
    losses = np.vstack([healthy_losses(T)[:2], np.full(T, np.nan)])
    losses[2, :at] = 10.0 ** np.linspace(0, 30, at)
    return losses


def log_view_y(plot):
    return plot.plotItem.vb.viewRange()[1]


def test_curves_are_created_once_and_updated(loss_plot):
    items = (loss_plot.layer, list(loss_plot.samples), list(loss_plot.markers), list(loss_plot.labels))
    n_items = len(loss_plot.plotItem.items)
    losses = blown_up()
    for t in (10, 50, 199):
        loss_plot.update_data(losses, t, ("converging",) * 3, np.array([-1, -1, 37 if t >= 37 else -1]))
    assert (loss_plot.layer, loss_plot.samples, loss_plot.markers, loss_plot.labels) == items
    assert len(loss_plot.plotItem.items) == n_items
    x, y = loss_plot.curve_points(1)            # 200 steps in 800 px: every step, in view coordinates
    np.testing.assert_array_equal(x, np.arange(200))
    np.testing.assert_allclose(y, np.log10(losses[1]))


def test_legend_has_one_entry_per_run_with_its_learning_rate(loss_plot):
    texts = [label.text for _, label in loss_plot.legend.items]
    assert len(texts) == 3
    for text, expected in zip(texts, ("lr=0.01", "lr=0.1", "lr=0.5")):
        assert expected in text


def test_set_runs_replaces_curves_and_legend(loss_plot):
    n_items = len(loss_plot.plotItem.items)                          # 3 runs: a marker and a label each
    loss_plot.set_runs((1.0, 2.0), COLORS[:2])
    assert len(loss_plot.samples) == 2 and len(loss_plot.legend.items) == 2
    assert len(loss_plot.layer.colors) == 2                          # every curve is drawn by the layer
    assert len(loss_plot.markers) == len(loss_plot.labels) == 2
    assert len(loss_plot.plotItem.items) == n_items - 2              # the old run items are gone
    assert all(m.scene() is loss_plot.scene() for m in loss_plot.markers)


def test_diverged_run_is_marked_with_its_step(loss_plot):
    losses = blown_up(at=37)
    loss_plot.update_data(losses, 199, ("slow", "converging", "diverged"), np.array([-1, -1, 37]))
    marker, label = loss_plot.markers[2], loss_plot.labels[2]
    assert marker.isVisible() and label.isVisible()
    assert "diverged at step 37" in label.toPlainText()
    assert marker.pos().x() == 36                            # the curve's last finite point
    assert not loss_plot.markers[0].isVisible() and not loss_plot.labels[1].isVisible()


def test_a_run_hidden_from_the_legend_loses_its_mark_at_the_next_frame(loss_plot):
    """Clicking a legend entry hides the run's line (pyqtgraph's ItemSample toggles it); its ✗ and
    label go with it at the next frame, even one with no new step (the marks are only placed
    again when something they depend on changed), and come back with it."""
    losses = blown_up(at=37)
    args = (losses, 199, ("slow", "converging", "diverged"), np.array([-1, -1, 37]))
    loss_plot.update_data(*args)
    marker, label = loss_plot.markers[2], loss_plot.labels[2]
    assert marker.isVisible() and label.isVisible()
    loss_plot.samples[2].setVisible(False)
    loss_plot.update_data(*args)
    assert not marker.isVisible() and not label.isVisible()
    loss_plot.samples[2].setVisible(True)
    loss_plot.update_data(*args)
    assert marker.isVisible() and label.isVisible()


def test_a_loss_of_exactly_zero_is_named_on_a_log_axis(loss_plot):
    """The tutorial's single point is fitted exactly: from some step on the loss is 0.0, which a
    log axis cannot show.  The curve's end says so (no ✗), and not on a linear axis."""
    losses = healthy_losses()
    losses[1, 61:] = 0.0
    loss_plot.update_data(losses, 199, ("converging",) * 3, np.array([-1, -1, -1]))
    label = loss_plot.labels[1]
    assert label.isVisible() and "loss = 0 from step 61" in label.toPlainText()
    assert label.pos().x() == 60 and not loss_plot.markers[1].isVisible()
    assert not loss_plot.labels[0].isVisible() and not loss_plot.labels[2].isVisible()
    loss_plot.set_log_y(False)
    loss_plot.update_data(losses, 199, ("converging",) * 3, np.array([-1, -1, -1]))
    assert not label.isVisible()


def test_a_zero_loss_run_in_the_window_names_the_step_the_engine_reached_zero(qtbot, tmp_path):
    """End to end on the worked example: the step in the label is the engine's first exact 0."""
    from core.experiment import preset
    exp = preset("tutorial").validated()
    trainer = exp.trainer()
    trainer.step(exp.steps)
    first_zero = int(np.flatnonzero(trainer.loss_history()[0] == 0.0)[0])
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.set_runs(exp.learning_rates, COLORS[:1])
    plot.update_data(trainer.loss_history(), trainer.t, trainer.outcomes, trainer.diverged_steps())
    assert f"loss = 0 from step {first_zero}" in plot.labels[0].toPlainText()


@pytest.mark.parametrize("anchor", [(0, 0), (1, 1), (0.5, -1.1), (1.05, 0.25)])
def test_pixel_label_puts_the_anchor_point_of_its_box_at_its_position(qtbot, anchor):
    """TextItem's anchor: (0, 0) the box's top-left corner at the point, (1, 1) its bottom-right;
    the text sits inside the box, and the box keeps its size on screen whatever the zoom."""
    from gui.plots import PixelLabel
    label = PixelLabel("#336699", style.font(style.LABEL_PT), anchor=anchor)
    label.setText("diverged at step 12")
    box, text = label.rect(), label.text_item.mapRectToParent(label.text_item.boundingRect())
    assert box.width() > text.width() > 0 and box.contains(text)
    corner = QtCore.QPointF(box.left() + anchor[0] * box.width(), box.top() + anchor[1] * box.height())
    assert abs(corner.x()) < 1e-9 and abs(corner.y()) < 1e-9
    assert label.flags() & label.GraphicsItemFlag.ItemIgnoresTransformations


def test_off_chart_says_where_each_fit_went():
    from gui.plots.ranges import clip_far, off_chart
    fits = np.array([[5.0, 6.0], [-9.0, -3.0], [-1.0, 8.0], [np.nan, np.nan], [0.5, np.nan]])
    np.testing.assert_array_equal(off_chart(fits, (0.0, 4.0)), [1, -1, 0, 0, 0])
    assert off_chart(fits[0], (0.0, 4.0)).tolist() == [1] and off_chart(fits, None).tolist() == [0] * 5
    np.testing.assert_array_equal(clip_far([1e300, -1e300, 2.0, np.nan], (0.0, 1.0)), [1001.0, -1000.0, 2.0, np.nan])


def test_healthy_runs_are_judged_against_the_median_of_the_others():
    rng = np.random.default_rng(7)
    for _ in range(50):
        K = int(rng.integers(1, 12))
        peaks = 10.0 ** rng.uniform(-3, 8, K)
        ds = np.where(rng.random(K) < 0.2, 5, -1)
        expected = np.array([ds[k] < 0 and not (
            np.sum((ds < 0) & (np.arange(K) != k)) and
            peaks[k] > 1e3 * np.median(peaks[(ds < 0) & (np.arange(K) != k)])) for k in range(K)])
        np.testing.assert_array_equal(healthy_runs(peaks, ds), expected)


def test_healthy_runs_keep_the_range_when_one_explodes(loss_plot):
    losses = blown_up()
    for flagged in (37, -1):          # diverged, or not (yet) flagged but 1e30 × the others
        loss_plot.update_data(losses, 199, ("converging",) * 3, np.array([-1, -1, flagged]))
        lo, hi = log_view_y(loss_plot)
        assert lo <= -3 + 1e-9 and hi >= 0                     # the healthy data (1e-3 … 1) is inside
        assert hi - lo < 10                                    # not 30+ decades
        marker_y = loss_plot.markers[2].pos().y() if flagged >= 0 else None
        if marker_y is not None:
            assert lo <= marker_y <= hi                        # the marker is kept on screen


def test_loss_series_scanned_in_chunks_equals_one_pass():
    losses = blown_up(T=300, at=120)
    losses[0, 50] = 0.0                                          # not drawable on a log axis
    losses[1, 30] = np.inf                                       # nor on a linear one
    series = LossSeries()
    for t in (0, 1, 7, 7, 64, 200, 299):
        series.update(losses[:, :t + 1])
    finite = np.where(np.isfinite(losses), losses, np.nan)
    with np.errstate(all="ignore"):
        positive = np.where(finite > 0, finite, np.nan)
        np.testing.assert_allclose(series.lo_log, np.log10(np.nanmin(positive, axis=1)))
        np.testing.assert_allclose(series.hi_log, np.log10(np.nanmax(positive, axis=1)))
    np.testing.assert_array_equal(series.lo, np.nanmin(finite, axis=1))
    np.testing.assert_array_equal(series.hi, np.nanmax(finite, axis=1))
    np.testing.assert_array_equal(series.last, [299, 299, 119])
    np.testing.assert_array_equal(series.last_pos, [299, 299, 119])
    tail = np.vstack([losses, losses[2]])                        # a run that ends in inf, then NaN
    tail[3, 119] = np.inf
    series = LossSeries()
    for t in (100, 118, 150, 299):                               # (steps 119 … 150: inf, then NaN)
        series.update(tail[:, :t + 1])
    assert series.last[3] == series.last_pos[3] == 118 and np.isfinite(series.hi[3])
    perfect = np.vstack([losses[:2], np.r_[np.geomspace(1, 1e-3, 71), np.zeros(229)]])   # a fit exact from step 71
    series = LossSeries()
    for t in (50, 70, 100, 299):
        series.update(perfect[:, :t + 1])
    assert series.last[2] == 299 and series.last_pos[2] == 70              # a log axis shows steps 0 … 70
    assert series.lo[2] == 0.0 and series.lo_log[2] == pytest.approx(-3.0)
    series.update(healthy_losses(10))                            # a new history starts over
    assert series.n == 10 and series.hi[2] == pytest.approx(1.0)


def test_decimation_keeps_every_columns_envelope():
    rng = np.random.default_rng(3)
    n = 10_000
    s = np.arange(n)
    values = np.vstack([np.where(s % 2, 10.0, 0.1) * (1 + 0.01 * rng.random(n)),   # a zigzag
                        np.exp(-s / 2000), rng.standard_normal(n)])
    values[2, 7000:] = np.nan                                                     # a run that stopped
    cols = s * 333 // n                                                           # 333 pixel columns
    starts, points = decimate(values, cols)
    assert starts.size == 333 and points.shape == (3, 4 * 333)
    for c in (0, 100, 332):                         # each column: the same min and max as every point in it
        in_col = values[:, cols == c]
        got = points[:, 4 * c:4 * c + 4]
        np.testing.assert_array_equal(got[:2].min(axis=1), in_col[:2].min(axis=1))
        np.testing.assert_array_equal(got[:2].max(axis=1), in_col[:2].max(axis=1))
        np.testing.assert_array_equal(got[:2, 0], in_col[:2, 0])                  # enters at its first point
        np.testing.assert_array_equal(got[:2, 3], in_col[:2, -1])                 # leaves at its last
    assert np.isnan(points[2, 4 * 300:]).all()                                     # no value: nothing drawn
    with np.errstate(all="ignore"):                 # on a log axis: as if log10 were taken of every point,
        values[0, 5:40] = 0.0                       # where 0, inf and NaN have no place
        values[1, 4000] = np.inf
        shown = np.where(np.isfinite(np.log10(values)), np.log10(values), np.nan)
    for got, want in zip(decimate(values, cols, log=True), decimate(shown, cols)):
        np.testing.assert_array_equal(got, want)
    few = np.vstack([np.arange(5.0)])
    starts, points = decimate(few, np.arange(5))                                   # one point per column
    np.testing.assert_array_equal(points.reshape(5, 4), np.repeat(np.arange(5.0)[:, None], 4, axis=1))


def test_segments_join_consecutive_finite_distinct_points_curve_by_curve():
    y = np.array([[0.0, 1.0, np.nan, 2.0, 3.0, 3.0, 4.0],
                  [np.inf, 1.0, 1.0, 1.0, 5.0, np.nan, np.nan],
                  [np.nan] * 7])
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 5.0])
    for xs in (x, np.vstack([x, x, x])):                        # one x for all curves, or one each
        segs, counts = segments(xs, y)
        want = [(x[i], y[k, i], x[i + 1], y[k, i + 1]) for k in range(3) for i in range(6)    # by hand:
                if np.isfinite([y[k, i], y[k, i + 1]]).all() and (x[i], y[k, i]) != (x[i + 1], y[k, i + 1])]
        np.testing.assert_array_equal(segs, np.array(want))
        np.testing.assert_array_equal(counts, [3, 3, 0])


def test_axes_grow_in_coarse_steps():
    assert [nice_ceil(v) for v in (0, 1, 7, 101, 1000, 1001, 2600, 99_999)] == [
        1, 1, 8, 150, 1000, 1500, 3000, 100_000]
    for v in np.geomspace(1.5, 1e7, 200):                       # never more than half above the data
        assert v <= nice_ceil(v) <= 1.5 * v
    lo, hi = quantize_bounds((-3.13, 0.02), True)
    assert (lo, hi) == (-3.5, 0.5)
    lo, hi = quantize_bounds((0.0013, 0.97), False)
    assert lo <= 0.0013 and hi >= 0.97 and (lo, hi) == (0.0, 1.0)


def _pixel(plot, image, x_view, y_view):
    pos = plot.mapFromScene(plot.plotItem.vb.mapViewToScene(QtCore.QPointF(x_view, y_view)))
    return image.pixelColor(pos.x(), pos.y())


def _near(plot, image, x_view, y_view, color, r=2):
    pos = plot.mapFromScene(plot.plotItem.vb.mapViewToScene(QtCore.QPointF(x_view, y_view)))
    return any(image.pixelColor(pos.x() + dx, pos.y() + dy) == QtGui.QColor(color)
               for dx in range(-r, r + 1) for dy in range(-r, r + 1))


def test_a_long_zigzag_shows_its_envelope(loss_plot, qtbot):
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    T = 200_000
    s = np.arange(T)
    losses = np.vstack([np.where(s % 2, 10.0, 0.1), np.full(T, 1.0), np.exp(-s / 50_000)])
    loss_plot.update_data(losses, T - 1, (), np.array([-1, -1, -1]), budget=T - 1)
    qtbot.waitUntil(lambda: loss_plot.layer.full_renders > 0)
    image = loss_plot.grab().toImage()
    for x in (20_000, 100_000, 180_000):          # the band between 0.1 and 10 is filled in every column
        for y in (-0.9, 0.0, 0.9):
            assert _near(loss_plot, image, x, y, COLORS[0]), (x, y)
    assert _near(loss_plot, image, 100_000, np.log10(np.exp(-2)), COLORS[2])
    assert not _near(loss_plot, image, 100_000, -1.5, COLORS[0])   # and nothing outside it


def test_drawing_only_the_new_steps_gives_the_same_picture(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 450)
    plot.set_runs((0.3, 0.5), COLORS[:2])
    plot.show()
    qtbot.waitExposed(plot)
    T = 30_000
    s = np.arange(T)
    losses = np.vstack([1.0 + 0.5 * (s % 2) * np.exp(-s / 6000) + 0.2 * (s > 27_000),
                        0.5 + 0.3 * np.sin(s / 700)])
    losses[1, 22_150:22_650] = 0.0                              # a gap on the log axis across frames
    losses[1, 24_321:] = np.nan                                 # run 2 stops between two frames
    ds = np.array([-1, -1])
    for t in [10, *range(1000, 20_001, 1000), 20_100]:          # frames while training (the step axis
        plot.update_data(losses, t, (), ds, budget=T - 1)
        qtbot.wait(1)
    renders = plot.layer.full_renders                           # ends at the budget from 20,001 on)
    for t in range(20_200, T, 200):                             # the axes no longer change ...
        plot.update_data(losses, t, (), ds, budget=T - 1)
        qtbot.wait(1)
    plot.update_data(losses, T - 1, (), ds, budget=T - 1)
    qtbot.wait(1)
    assert plot.layer.full_renders == renders                   # ... so only the new steps were drawn
    grown = plot.grab().toImage()
    plot.layer.invalidate()                                     # the same picture drawn in one go
    qtbot.waitUntil(lambda: plot.layer.full_renders > renders)
    assert plot.grab().toImage() == grown


def test_linear_axis_range_ignores_the_explosion(loss_plot):
    loss_plot.set_log_y(False)
    loss_plot.update_data(blown_up(), 199, ("converging",) * 3, np.array([-1, -1, 37]))
    lo, hi = log_view_y(loss_plot)
    assert lo <= 0.001 and hi >= 1.0 and hi < 10


def test_no_si_prefix_on_the_axes(loss_plot):
    for name in ("left", "bottom"):
        assert loss_plot.plotItem.getAxis(name).autoSIPrefix is False
    loss_plot.set_log_y(False)
    loss_plot.update_data(healthy_losses() * 1e6, 199, (), np.array([-1, -1, -1]))
    assert loss_plot.plotItem.getAxis("left").autoSIPrefixScale == 1.0


def test_items_asked_at_every_repaint_answer_in_cpp_with_pyqtgraphs_rectangles(loss_plot, qtbot):
    """The axes, the legend and the view box answer Qt's boundingRect/shape without Python (no GIL
    taken from the training thread), with the rectangles pyqtgraph's own methods give."""
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    axes = [loss_plot.plotItem.getAxis(name) for name in ("left", "bottom")]

    def check():
        for axis in axes:
            assert axis.boundingRect() == pg.AxisItem.boundingRect(axis)     # with the grid: the whole plot
        legend = loss_plot.legend
        assert legend.boundingRect() == pg.LegendItem.boundingRect(legend)
        vb = loss_plot.view_box
        assert vb.shape().boundingRect() == pg.GraphicsWidget.boundingRect(vb)
        assert vb.boundingRect() == pg.ViewBox.boundingRect(vb)

    check()
    assert axes[0].boundingRect().width() > loss_plot.view_box.width()          # the grid is on
    loss_plot.resize(650, 420)                                                   # the axes and the view move
    qtbot.waitUntil(lambda: loss_plot.view_box.width() < 600)
    check()
    for axis in axes:
        axis.setGrid(False)
    check()
    assert axes[0].boundingRect().width() < loss_plot.view_box.width()
    for axis in axes:
        axis.setStyle(tickLength=-25)                                          # ticks reach out further
    check()


def test_view_box_still_zooms_with_the_mouse_wheel(loss_plot, qtbot):
    """It paints nothing, so it tells Qt it has no contents; the mouse still finds it."""
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    loss_plot.update_data(healthy_losses(), 199, (), np.array([-1, -1, -1]))
    vb = loss_plot.view_box
    before = vb.viewRange()[0]
    centre = loss_plot.mapFromScene(vb.sceneBoundingRect().center())
    event = QtGui.QWheelEvent(QtCore.QPointF(centre), QtCore.QPointF(loss_plot.mapToGlobal(centre)),
                              QtCore.QPoint(), QtCore.QPoint(0, 240), QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(loss_plot.viewport(), event)
    after = vb.viewRange()[0]
    assert after[1] - after[0] < 0.9 * (before[1] - before[0])                  # zoomed in


def test_step_axis_reads_whole_numbers_after_a_theme_change(loss_plot):
    T = 1_000_001
    losses = np.exp(-np.arange(T) / 1e5)[None, :].repeat(3, axis=0)
    loss_plot.update_data(losses, T - 1, (), np.array([-1, -1, -1]), budget=T - 1)
    for dark in (True, False):
        loss_plot.set_dark(dark)
        axis = loss_plot.plotItem.getAxis("bottom")
        assert axis.autoSIPrefixScale == 1.0 and axis.labelUnitPrefix == ""      # no "(×1e6)" scale
        assert axis.tickStrings([0, 500_000, 1_000_000], axis.scale, 500_000) == ["0", "500,000", "1,000,000"]


def test_hover_shows_step_and_loss_of_the_nearest_curve(loss_plot, qtbot):
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    losses = healthy_losses()
    loss_plot.update_data(losses, 199, (), np.array([-1, -1, -1]))
    vb = loss_plot.plotItem.vb
    loss_plot.scene().sigMouseMoved.emit(vb.mapViewToScene(QtCore.QPointF(20, np.log10(losses[0, 20]))))
    text = loss_plot.hover_label.toPlainText()
    assert loss_plot.hover_label.isVisible()
    assert "lr=0.01" in text and "step 20" in text and f"{losses[0, 20]:.6g}" in text


def test_dark_theme_changes_background_and_axis_pen(loss_plot):
    loss_plot.set_dark(True)
    assert loss_plot.backgroundBrush().color().name().lower() == style.DARK["background"].lower()
    assert loss_plot.plotItem.getAxis("left").pen().color().name().lower() == style.DARK["foreground"].lower()
    loss_plot.set_dark(False)
    assert loss_plot.backgroundBrush().color().name().lower() == "#ffffff"


@pytest.fixture
def fit_plot(qtbot):
    plot = FitPlot(trail=4)
    qtbot.addWidget(plot)
    plot.set_points(np.linspace(0, 1, 10), np.linspace(0, 1, 10))
    plot.set_runs((0.1, 1.0), COLORS[:2])
    return plot


def test_fit_trail_holds_at_most_n_faded_fits(fit_plot):
    xg = np.linspace(0, 1, 5)
    fits = [np.vstack([np.full(5, 0.1 * i), np.full(5, (-1) ** i)]) for i in range(10)]
    trail = np.array(fits[-2::-1])                               # 9 previous fits, newest first
    fit_plot.update_fits(xg, fits[-1], np.array([False, False]), trail)
    shown = fit_plot.trail_data
    assert shown.shape == (4, 2, 5)                              # at most 4 kept
    np.testing.assert_array_equal(shown[0], fits[-2])            # the previous fit
    np.testing.assert_array_equal(shown[3], fits[-5])
    alphas = [trail_alpha(age, fit_plot.trail_length) for age in range(4)]
    assert alphas == sorted(alphas, reverse=True) and alphas[0] < 255 and alphas[-1] > 0
    np.testing.assert_array_equal(fit_plot.fit_data[1][1], fits[-1][1])
    fit_plot.clear_trail()
    assert fit_plot.trail_data.size == 0
    np.testing.assert_array_equal(fit_plot.fit_data[1][1], fits[-1][1])   # the fits stay
    fit_plot.update_fits(xg, fits[0], np.array([False, False]), None)     # no trail given: none drawn
    assert fit_plot.trail_data.size == 0


def test_fit_trail_is_painted_faded_in_the_run_colour(fit_plot, qtbot):
    fit_plot.resize(600, 400)
    fit_plot.show()
    qtbot.waitExposed(fit_plot)
    xg = np.linspace(0, 1, 50)
    far = np.full((1, 2, 50), np.nan)
    far[0, 1] = 0.83                                             # run 1 was at y = 0.83 one step ago
    fit_plot.update_fits(xg, np.vstack([np.full(50, 0.1), np.full(50, 0.1)]), None, far)
    image = fit_plot.grab().toImage()
    vb = fit_plot.plotItem.vb
    pos = fit_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(0.43, 0.83)))
    run1 = QtGui.QColor(COLORS[1])

    def opacity(c):
        """a if c is run 1's colour at opacity a over white, else None."""
        a = [(255 - c.getRgb()[i]) / (255 - run1.getRgb()[i]) for i in range(3) if run1.getRgb()[i] < 200]
        return a[0] if max(a) - min(a) < 0.05 else None

    found = [opacity(image.pixelColor(pos.x(), pos.y() + dy)) for dy in (-1, 0, 1)]
    assert any(a is not None and 0.2 < a < 0.9 for a in found), found       # faded, in the run's colour


def test_fit_range_follows_the_data_not_a_runaway_fit(fit_plot):
    xg = np.linspace(0, 1, 5)
    fit_plot.update_fits(xg, np.vstack([np.linspace(0, 1, 5), np.full(5, 1e12)]), np.array([False, True]))
    lo, hi = fit_plot.plotItem.vb.viewRange()[1]
    assert lo <= 0 and hi >= 1 and hi - lo < 5
    label = fit_plot.off_labels[1]                               # says where the runaway fit went
    assert label.isVisible() and "lr=1" in label.toPlainText() and "1e+12" in label.toPlainText()
    assert not fit_plot.off_labels[0].isVisible()


def test_small_multiples_one_panel_per_run(qtbot):
    sm = SmallMultiples()
    qtbot.addWidget(sm)
    sm.set_runs(LRS, COLORS)
    sm.set_points([0, 1], [0, 1])
    panels = list(sm.panels)
    xg = np.linspace(0, 1, 5)
    for _ in range(3):
        sm.update_data(blown_up(), 199, ("slow", "oscillating", "diverged"), np.array([-1, -1, 37]),
                       xg, np.vstack([xg, xg, np.full(5, 50.0)]))
    assert sm.panels == panels and len(panels) == 3
    titles = [p.title.text for p in panels]
    assert "lr=0.1" in titles[1] and "oscillating" in titles[1]
    assert "diverged" in titles[2] and "37" in titles[2]
    assert panels[2].off_chart.isVisible() and not panels[0].off_chart.isVisible()


def test_small_multiples_redraw_a_few_panels_per_frame_in_turn(qtbot):
    sm = SmallMultiples()
    qtbot.addWidget(sm)
    lrs = tuple(0.01 * 2 ** k for k in range(6))
    sm.set_runs(lrs, [style.run_color(k) for k in range(6)])
    sm.set_points([0, 1], [0, 1])
    xg = np.linspace(0, 1, 5)
    losses = np.vstack([healthy_losses(400)[0]] * 6)
    fits = np.vstack([xg * k for k in range(6)])
    sm.update_data(losses[:, :100], 99, ("slow",) * 6, np.full(6, -1), xg, fits, panels=4)   # a new history:
    drawn = lambda: [p.loss_curve._T for p in sm.panels]                                 # noqa: E731
    assert drawn() == [100] * 6                                                          # every panel
    sm.update_data(losses[:, :200], 199, ("slow",) * 6, np.full(6, -1), panels=4)
    assert drawn() == [200] * 4 + [100] * 2                                              # four of them ...
    sm.update_data(losses[:, :300], 299, ("slow",) * 6, np.full(6, -1), panels=4)
    assert drawn() == [300, 300, 200, 200, 300, 300]                                     # ... then the others
    for k, panel in enumerate(sm.panels):
        np.testing.assert_array_equal(panel.fit_curve.getData()[1], fits[k])             # fits too, in turn
    sm.update_data(losses, 399, ("slow",) * 6, np.full(6, -1))                           # not at full speed: all
    assert drawn() == [400] * 6
    assert len({p.loss.vb.bounds[0] for p in sm.panels}) == 1                             # one step range


def test_save_loss_png_writes_a_png_of_the_requested_width(tmp_path, qtbot):
    path = tmp_path / "loss.png"
    save_loss_png(path, LRS, blown_up(), ("slow", "converging", "diverged"), np.array([-1, -1, 37]),
                  title="three runs", width=640)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QtGui.QImage(str(path))
    assert not image.isNull() and image.width() == 640
    assert sorted(os.listdir(tmp_path)) == ["loss.png"]          # no temporary file left behind


def test_unwritable_png_path_raises_and_creates_nothing(tmp_path, qtbot):
    with pytest.raises(ConfigError, match="/nonexistent/dir/x.png"):
        save_loss_png("/nonexistent/dir/x.png", LRS, blown_up(), ("slow",) * 3, np.array([-1, -1, 37]))
    assert not os.path.exists("/nonexistent")
    if os.geteuid() != 0:                                        # root ignores permissions
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        try:
            with pytest.raises(ConfigError, match="x.png"):
                save_loss_png(folder / "x.png", LRS, blown_up(), ("slow",) * 3, np.array([-1, -1, 37]))
            assert os.listdir(folder) == []
        finally:
            folder.chmod(0o700)


def test_export_png_of_a_fit_plot_at_a_width(fit_plot, tmp_path):
    export_png(fit_plot, tmp_path / "fit.png", width=500)
    assert QtGui.QImage(str(tmp_path / "fit.png")).width() == 500
    with pytest.raises(ConfigError, match="width"):
        export_png(fit_plot, tmp_path / "bad.png", width=0)
    assert not (tmp_path / "bad.png").exists()


def test_param_panel_rows_and_update_ratio(qtbot):
    panel = ParamPanel()
    qtbot.addWidget(panel)
    H = 3
    rng = np.random.default_rng(1)
    theta, grad, delta = (rng.standard_normal(3 * H + 1) for _ in range(3))
    panel.show_run(0.1, theta, grad, delta, H)
    table = panel.table
    assert table.rowCount() == 3 * H + 1
    names = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    assert names[0] == "w1[0]" and names[H] == "b1[0]" and names[2 * H] == "w2[0]" and names[-1] == "b2"
    shown = np.array([[float(table.item(r, c).text()) for c in range(4)] for r in range(3 * H + 1)])
    np.testing.assert_allclose(shown[:, 0], theta, rtol=1e-5)
    np.testing.assert_allclose(shown[:, 2], delta, rtol=1e-5)
    np.testing.assert_allclose(shown[:, 3], np.abs(delta) / np.abs(theta), rtol=1e-5)
    panel.show_run(0.1, theta[:4], grad[:4], delta[:4], 1)
    assert table.rowCount() == 4


def test_param_panel_chain_rule_only_when_given(qtbot):
    panel = ParamPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.chain.isVisible()
    step = tutorial_step(0.1)
    panel.show_chain_rule(step)
    assert panel.chain.isVisible()
    rows = {panel.chain.verticalHeaderItem(r).text(): panel.chain.item(r, 0).text()
            for r in range(panel.chain.rowCount())}
    loss_row = next(v for k, v in rows.items() if k.startswith("L = "))
    assert float(loss_row) == pytest.approx(step.loss, rel=1e-5)
    assert float(next(v for k, v in rows.items() if k.startswith("∂L/∂w1"))) == pytest.approx(
        float(np.ravel(step.dL_dw1)[0]), rel=1e-5)
    panel.show_chain_rule(None)
    assert not panel.chain.isVisible()


def _labels(axis, lo, hi, size):
    """(position in pixels, value) of every labelled tick of a log ``axis`` over 10^lo … 10^hi."""
    shown = []
    for spacing, values in axis.tickValues(lo, hi, size):
        for v, s in zip(values, axis.tickStrings(values, 1.0, spacing)):
            if s:
                shown.append(((v - lo) / (hi - lo) * size, 10 ** v))
    return sorted(shown)


@pytest.mark.parametrize("orientation", ["left", "bottom"])
def test_a_log_axis_under_two_decades_labels_only_what_has_room(qtbot, orientation):
    """The sharpness plot at 1280 × 720 (1.5 … 22 over 110 px) piled "10 9 8 7 6 5" on each other."""
    from gui.plots import LogAxis
    axis = LogAxis(orientation)
    axis.setLogMode(True)
    lo, hi = np.log10(1.5), np.log10(22.0)
    room = axis._label_room()
    counts = []
    for size in (110, 300, 2400):
        shown = _labels(axis, lo, hi, size)
        gaps = np.diff([p for p, _ in shown])
        assert len(shown) >= 2 and gaps.min() >= room, (size, shown, room)
        counts.append(len(shown))
    assert counts == sorted(counts) and counts[0] < counts[-1]
    every = [m * 10.0 ** d for d in (0, 1) for m in range(1, 10) if 1.5 <= m * 10.0 ** d <= 22]
    np.testing.assert_allclose([v for _, v in _labels(axis, lo, hi, 2400)], every)   # room for all: 2 … 20


def test_a_label_to_the_left_of_its_mark_stays_inside_a_narrow_plot(qtbot):
    """The worked example at 1280 × 720: "loss = 0 from step 71 ↓" began left of the plot."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 500)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_runs(LRS, COLORS)
    losses = healthy_losses()
    losses[1, 141:] = 0.0
    plot.update_data(losses, 199, ("converging",) * 3, np.array([-1, -1, -1]))
    label, view = plot.labels[1], plot.plotItem.vb
    assert label.isVisible()
    at = view.mapViewToScene(label.pos()).x()               # the label's anchor point, in pixels
    left = at - label.anchor[0] * label.text_width()       # (PixelLabel's anchor: tested above)
    inside = view.mapRectToScene(view.boundingRect())
    assert inside.left() <= left and left + label.text_width() <= inside.right(), (left, inside)


def test_the_parameter_panel_needs_no_sideways_scrolling_at_a_projectors_width(qtbot):
    """At 1280 × 720 the panel is ~370 px wide: the chain rule's title (419 px on one line) made it
    scroll sideways, and the column titles were cut ("adient ∂L/", "t update")."""
    panel = ParamPanel()
    qtbot.addWidget(panel)
    panel.resize(370, 400)
    panel.show_run(0.1, [2.0, -1.0, 1.75, 0.75], [1e-3, -2e-3, 3e-3, 4e-3], [1e-4, 1e-4, 1e-4, 1e-4], 1)
    panel.show_chain_rule(tutorial_step(0.1))
    panel.show()
    qtbot.waitExposed(panel)
    inner = panel.table.parentWidget()
    assert inner.minimumSizeHint().width() <= 370 - panel.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
    header = panel.table.horizontalHeader()
    metrics = QtGui.QFontMetrics(header.font())
    for c in range(panel.table.columnCount()):
        text = panel.table.horizontalHeaderItem(c).text()
        widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
        assert widest <= header.sectionSize(c), (text, widest, header.sectionSize(c))
