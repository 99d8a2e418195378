"""The analysis views, offscreen: model -> UI (what each view shows for core's numbers) and
UI -> model (buttons, clicks and combos emit the right values).

Oracles: the issue's numbers (the tutorial's λ_max ≈ 3.97472, so η* ≈ 0.50318), core run
headless in the test (range_test, phase_diagram, the Trainer), the loss formula written
out for the linear model, QImage for PNGs.
"""
import math
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core import outcomes as oc  # noqa: E402
from core.cancel import Cancelled  # noqa: E402
from core.curvature import forecast  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.experiment import Experiment, preset  # noqa: E402
from core.phase import phase_diagram  # noqa: E402
from core.range_test import range_test  # noqa: E402
from gui import style  # noqa: E402
from gui.analysis_views import (AnalysisTabs, ForecastPanel, LandscapeView, PhaseDiagramView,  # noqa: E402
                                RangeTestView, SharpnessPlot, forecast_job)
from gui.controls import ControlPanel  # noqa: E402
from gui.jobs import JobRunner  # noqa: E402
from gui.render import save_range_test_png  # noqa: E402
from gui.runs import SLIDER_VALUES, RunList, slider_position  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30_000
TUTORIAL_LAMBDA_MAX = 3.97472                  # the oracle


def tutorial(lrs=(0.1, 0.5, 1.0), steps=100):
    return replace(preset("tutorial"), learning_rates=tuple(lrs), steps=steps).validated()


def linear_experiment(lrs=(0.5,), steps=40):
    return Experiment(model="linear", dataset="linear", samples=100, noise=0.0, x_range=(0.0, 1.0),
                      learning_rates=tuple(lrs), steps=steps, init={"w": 0.0, "b": 0.0}).validated()


def shown(qtbot, widget, size=(1100, 700)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- the forecast -----------------------------------------------------------------------------
def test_forecast_panel_shows_the_tutorials_critical_rate_and_each_regime(qtbot):
    panel = ForecastPanel()
    qtbot.addWidget(panel)
    exp = tutorial()
    f, predicted, _ = forecast_job(exp, exp.make_data())
    panel.show(f, exp.model)
    assert predicted is None
    eta_star = 2 / TUTORIAL_LAMBDA_MAX
    assert f"{eta_star:.5f}" == "0.50318" and "0.50318" in panel.values.text()
    assert "3.9747" in panel.values.text()
    expected = ["monotone" if lr * TUTORIAL_LAMBDA_MAX < 1 else "oscillating" if lr * TUTORIAL_LAMBDA_MAX <= 2
                else "unstable" for lr in exp.learning_rates]
    assert expected == ["monotone", "oscillating", "unstable"]
    assert [text.split()[-1] for text in panel.regimes()] == expected
    assert [panel.table.item(r, 0).text() for r in range(3)] == ["lr=0.1", "lr=0.5", "lr=1"]
    for r, lr in enumerate(exp.learning_rates):
        assert float(panel.table.item(r, 1).text()) == pytest.approx(lr * TUTORIAL_LAMBDA_MAX, rel=1e-3)
    assert "forecast from the start point" in panel.note.text()
    assert "η &lt; 1" in panel.values.text()


def test_forecast_is_called_exact_for_the_linear_model(qtbot):
    panel = ForecastPanel()
    qtbot.addWidget(panel)
    exp = linear_experiment()
    f, predicted, _ = forecast_job(exp, exp.make_data())
    panel.show(f, exp.model)
    assert "exact" in panel.note.text()
    x = np.linspace(0, 1, 100)                           # λ_max of (2/N)[[Σx², Σx], [Σx, N]]
    lam_max = np.linalg.eigvalsh(2 / 100 * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), 100]]))[-1]
    assert f"{2 / lam_max:.5g}" in panel.values.text()
    assert predicted.shape == (1, exp.steps + 1)


def test_tabs_forecast_reaches_the_slider_signal_and_live_outcomes(qtbot):
    tabs = shown(qtbot, AnalysisTabs())
    exp = tutorial(steps=60)
    with qtbot.waitSignal(tabs.critical_lr_changed, timeout=TIMEOUT) as blocker:
        tabs.set_experiment(exp, exp.make_data())
    assert blocker.args[0] == pytest.approx(2 / TUTORIAL_LAMBDA_MAX, abs=2e-5)
    tr = exp.trainer(sharpness_every=10)
    tr.step(60)
    tabs.on_progress(tr.progress(0), exp.learning_rates)
    panel = tabs.forecast_panel
    assert [panel.table.item(r, 3).text() for r in range(3)] == [style.outcome_text(o) for o in tr.outcomes]
    plot = tabs.sharpness_plot
    np.testing.assert_allclose(10 ** plot.curves[2].yData, tr.sharpness[2][np.isfinite(tr.sharpness[2])])
    tabs.shutdown()


# -- sharpness -------------------------------------------------------------------------------
def test_sharpness_plot_draws_one_dashed_limit_per_run_at_two_over_eta(qtbot):
    plot = SharpnessPlot()
    qtbot.addWidget(plot)
    lrs = (0.01, 0.1, 0.5)
    plot.set_runs(lrs, [style.run_color(k) for k in range(3)])
    exp = replace(preset("exercise4"), learning_rates=lrs, steps=200).validated()
    tr = exp.trainer(sharpness_every=20)
    tr.step(200)
    plot.update_data(tr.sharpness_steps, tr.sharpness)
    assert len(plot.limits) == 3
    for k, (line, lr) in enumerate(zip(plot.limits, lrs)):
        assert line.pen.style() == Qt.PenStyle.DashLine
        assert line.pen.color().name().upper() == style.run_color(k).upper()
        assert line.angle == 0 and 10 ** line.value() == pytest.approx(2 / lr)       # log axis: log10
        assert plot.curves[k].opts["pen"].color().name().upper() == style.run_color(k).upper()
        np.testing.assert_allclose(plot.curves[k].xData, tr.sharpness_steps)
        np.testing.assert_allclose(10 ** plot.curves[k].yData, tr.sharpness[k])
    plot.set_log_y(False)
    assert [line.value() for line in plot.limits] == pytest.approx([200, 20, 4])
    np.testing.assert_allclose(plot.curves[1].yData, tr.sharpness[1])
    # the 2/η = 200 line is far above λ_max (≈ 2 … 5): named at the top instead of flattening the plot
    top = plot.view_box.bounds[1][1]
    assert top < 200 and plot.off_labels[0].isVisible() and "2/η = 200" in plot.off_labels[0].toPlainText()
    assert not plot.off_labels[2].isVisible()


# -- the range test --------------------------------------------------------------------------
def range_tested(qtbot, name):
    """A shown RangeTestView that has run on preset ``name``, given η* from its Hessian:
    (view, experiment, data, η*)."""
    view = shown(qtbot, RangeTestView())
    exp = preset(name).validated()
    data = exp.make_data()
    crit = forecast(exp.trainer(data).hessian()[0], [0.1]).critical_lr
    view.set_critical_lr(crit)
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.set_experiment(exp, data)                   # visible: runs at once
    return view, exp, data, crit


def test_range_test_view_runs_in_the_background_and_adds_a_suggestion(qtbot):
    view, exp, data, crit = range_tested(qtbot, "exercise3")
    expected = range_test(exp, data, 1e-6, 10.0, 100)
    np.testing.assert_allclose(view.result.lrs, expected.lrs)
    np.testing.assert_allclose(view.plot.smoothed.yData, np.log10(expected.smoothed))
    assert view.plot.critical.isVisible() and view.plot.critical.value() == pytest.approx(math.log10(crit))
    assert "η*" in view.comparison.text() and f"{crit:.3g}" in view.comparison.text()
    button = view.buttons["steepest"]
    assert button.isEnabled() and f"{expected.steepest:.3g}" in button.text()
    with qtbot.waitSignal(view.add_rate) as blocker:
        QTest.mouseClick(button, Qt.LeftButton)
    assert blocker.args[0] == float(f"{expected.steepest:.3g}")
    assert blocker.args[0] == pytest.approx(expected.steepest, rel=5e-3)
    view.shutdown()


def test_the_range_tests_legend_gives_eta_star_and_its_line_only_names_it(qtbot):
    """At 1280 × 720 "η* = 2/λ_max = 0.833" on the line met the suggestions' labels stacked above
    their marks: the line says η*, the legend its value."""
    view, _, _, crit = range_tested(qtbot, "exercise4")
    assert all(b.isEnabled() for b in view.buttons.values())
    legend = [label.text for _, label in view.plot.legend.items]
    assert f"η* = 2/λ_max = {crit:.3g} at the start" in legend
    assert view.plot.critical.label.toPlainText() == "η*"
    view.shutdown()


@pytest.mark.parametrize("field, text, words", [("lr_min", "0", ("lr-min", "0")),
                                                ("lr_max", "abc", ("lr-max", "abc")),
                                                ("steps", "2", ("steps", "2")),
                                                ("steps", "6", ("between 7", "6")),       # core's bound
                                                ("lr_min", "20", ("lr-min < lr-max", "20"))])
def test_range_test_bad_input_is_a_visible_message(qtbot, field, text, words):
    view = shown(qtbot, RangeTestView())
    view.set_experiment(preset("exercise3").validated())
    qtbot.waitUntil(lambda: not view.runner.busy, timeout=TIMEOUT)
    before = view.result
    view.fields[field].setText(text)
    single = "<" not in words[0]                 # a value wrong in itself, not against another field
    assert bool(view.fields[field].styleSheet()) == single       # the one checked field: red at once
    assert view.run() is False
    assert view.error.isVisible() and all(w in view.error.text() for w in words)
    assert view.result is before
    view.shutdown()


def test_range_test_png_from_the_command_line(tmp_path):
    out = tmp_path / "x.png"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "lr-find", "--preset", "exercise3", "--png", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() == 1200


def test_range_test_png_to_a_bad_path_names_it(qtbot, tmp_path):
    exp = preset("exercise3").validated()
    bad = tmp_path / "missing" / "x.png"
    with pytest.raises(ConfigError, match="missing"):
        save_range_test_png(bad, range_test(exp, steps=30), 0.8)
    assert not bad.exists()


# -- the landscape ---------------------------------------------------------------------------
def test_linear_landscape_is_the_exact_plane_with_the_runs_path(qtbot):
    view = shown(qtbot, LandscapeView())
    exp = linear_experiment((0.5,), steps=40)
    data = exp.make_data()
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.set_experiment(exp, data)
    assert view.plane_combo.currentData() == "exact" and view.plane_combo.count() == 1
    ls, plot = view.result, view.plot
    img = plot.image.image                               # image[i, j] at (w_i, b_j), log10 of the loss
    x, y = data.x, data.y
    for i, j in ((3, 5), (30, 41), (59, 0)):
        w, b = ls.alphas[i] + plot.offset[0], ls.betas[j] + plot.offset[1]
        assert img[i, j] == pytest.approx(math.log10(np.mean((w * x + b - y) ** 2)), rel=1e-9)
    tr = exp.trainer()                                   # the path: the engine's own (w, b) after every step
    path = [tr.theta[0].copy()]
    for _ in range(40):
        tr.step(1)
        path.append(tr.theta[0].copy())
    path = np.array(path)
    np.testing.assert_allclose(plot.path.xData, path[:, 0], atol=1e-12)
    np.testing.assert_allclose(plot.path.yData, path[:, 1], atol=1e-12)
    assert (plot.start.xData[0], plot.start.yData[0]) == (0.0, 0.0)
    assert plot.path.opts["pen"].color().name().upper() == style.run_color(0).upper()
    assert "exactly" in view.off_plane.text()
    assert plot.plotItem.getAxis("bottom").labelText == "w"
    view.shutdown()


def test_network_landscape_shows_the_zigzag_and_how_far_off_the_plane(qtbot):
    view = shown(qtbot, LandscapeView())
    exp = tutorial((0.1, 0.5), steps=60)
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.set_experiment(exp, exp.make_data())
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.run_combo.setCurrentIndex(1)
        view.run_combo.activated.emit(1)
    plot = view.plot
    assert plot.path.opts["pen"].color().name().upper() == style.run_color(1).upper()
    p = np.stack([plot.path.xData, plot.path.yData], axis=1)
    moves = np.diff(p, axis=0)
    turns = np.sum(moves[1:] * moves[:-1], axis=1) < 0
    assert len(p) == 61 and np.mean(turns) > 0.9          # η = 0.5 > 1/λ_max: every step reverses
    shown_pct = float(re.search(r"<b>([0-9.e-]+)%</b>", view.off_plane.text()).group(1))
    assert 0 < shown_pct == pytest.approx(100 * view.result.off_plane, rel=0.05, abs=0.05)
    # two chosen parameters: w2 against b2, drawn in their own values
    view.plane_combo.setCurrentIndex(view.plane_combo.findData("params"))
    view.param_combos[0].setCurrentIndex(2)
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.param_combos[1].setCurrentIndex(3)
        view.param_combos[1].activated.emit(3)
    assert view.plot.plotItem.getAxis("bottom").labelText == "w2[0]"
    assert view.plot.start.xData[0] == pytest.approx(1.5) and view.plot.start.yData[0] == pytest.approx(0.5)
    view.param_combos[1].setCurrentIndex(2)
    view.param_combos[1].activated.emit(2)
    assert view.error.isVisible() and "w2[0]" in view.error.text()
    view.shutdown()


def test_landscape_of_a_given_trajectory(qtbot):
    view = shown(qtbot, LandscapeView())
    exp = tutorial((0.5,), steps=20)
    from core.trajectory import trajectory
    path = trajectory(exp, 0, 20)
    spec = exp.model_spec()
    data = exp.make_data()
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        view.set_trajectory(path, spec, data.x, data.y, spec.param_names, color="#123456", label="given")
    assert view.result.path.shape == (21, 2)
    assert view.plot.path.opts["pen"].color().name() == "#123456"
    view.shutdown()


# -- the phase diagram -----------------------------------------------------------------------
def test_phase_diagram_job_and_a_click_on_a_cell_adds_that_run(qtbot):
    view = shown(qtbot, PhaseDiagramView(), (900, 600))
    exp = replace(preset("exercise3"), steps=100).validated()
    view.set_experiment(exp, exp.make_data())
    view.rows.setText("1 3")
    view.lr_min.setText("0.1")
    view.lr_max.setText("5")
    view.columns.setText("3")
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        assert view.compute()
    lrs = [0.1, float(f"{math.sqrt(0.5):.3g}"), 5.0]     # evenly spaced on a log scale, 3 digits
    expected = phase_diagram(exp, lrs, widths=[1, 3])
    np.testing.assert_allclose(view.result.lrs, lrs)
    np.testing.assert_allclose(view.result.final, expected.final, rtol=1e-12)
    assert (view.result.outcomes == expected.outcomes).all() and view.result.outcomes[0, 2] == oc.DIVERGED
    assert len(view.plot.cells) == 6
    assert view.plot.cells[2].toPlainText() == style.outcome_style(oc.DIVERGED).symbol
    # click the cell of width 3 at the middle rate
    qtbot.wait(50)
    scene_pos = view.plot.view_box.mapViewToScene(view.plot.cell_center(1, 1))
    widget_pos = view.plot.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.add_run) as blocker:
        QTest.mouseClick(view.plot.viewport(), Qt.LeftButton, Qt.NoModifier, QPoint(widget_pos.x(), widget_pos.y()))
    assert blocker.args == [lrs[1], "hidden", 3]
    assert "hidden units 3" in view.cell_text(1, 1) and expected.outcomes[1, 1] in view.cell_text(1, 1)
    view.shutdown()


def test_phase_diagram_bad_rows_and_the_linear_model(qtbot):
    view = shown(qtbot, PhaseDiagramView())
    view.set_experiment(preset("exercise3").validated())
    view.rows.setText("1 0")
    assert view.compute() is False
    assert "hidden must be between 1 and 512; got 0" in view.error.text()
    view.set_experiment(linear_experiment())
    assert view.kind.currentData() == "seed" and not view.kind.model().item(0).isEnabled()
    view.shutdown()


# -- controls and the run list --------------------------------------------------------------
def test_model_combo_makes_a_linear_experiment_and_disables_width_and_activation(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_experiment(preset("tutorial").validated())          # explicit network parameters
    assert panel.activation.isEnabled() and panel.hidden.isEnabled()
    index = panel.model.findData("linear")
    with qtbot.waitSignal(panel.experiment_edited) as blocker:
        panel.model.setCurrentIndex(index)
        panel.model.activated.emit(index)
    exp = blocker.args[0]
    assert exp.model == "linear" and exp.init is None and exp == exp.validated()
    panel.set_experiment(exp)
    assert not panel.activation.isEnabled() and not panel.hidden.isEnabled()
    assert "no hidden layer" in panel.hidden.toolTip() and "no hidden layer" in panel.activation.toolTip()
    with qtbot.waitSignal(panel.experiment_edited) as blocker:
        panel.model.activated.emit(panel.model.findData("mlp"))
    assert blocker.args[0].model == "mlp"


def test_critical_rate_is_marked_on_the_slider(qtbot):
    runs = RunList()
    qtbot.addWidget(runs)
    runs.resize(380, 300)
    runs.set_rates((0.01, 0.1))
    runs.show()
    qtbot.waitExposed(runs)
    slider = runs.editor.slider
    assert slider.marker_x() is None
    assert slider_position(0.5) == SLIDER_VALUES.index(0.5)
    runs.set_critical_lr(0.5)
    assert slider.critical_lr == 0.5 and runs.editor.cliff.isVisible() and "0.5" in runs.editor.cliff.text()
    assert "η* = 2/λ_max = 0.5" in slider.toolTip()
    x = slider.marker_x()
    assert slider.x_of(0) < x < slider.x_of(slider.maximum())
    # the marker is where the handle would sit at 0.5
    runs.editor.set_value(0.5)
    opt_handle = slider.style().subControlRect(slider.style().ComplexControl.CC_Slider, _opt(slider),
                                               slider.style().SubControl.SC_SliderHandle, slider)
    assert x == pytest.approx(opt_handle.center().x(), abs=1.5)
    image = slider.grab().toImage()
    pixel = QColor(image.pixelColor(int(round(x)), slider.height() - 4))
    assert pixel.red() > 150 and pixel.green() < 110 and pixel.blue() < 110       # the red triangle
    runs.set_critical_lr(None)
    assert slider.marker_x() is None and not runs.editor.cliff.isVisible()


def _opt(slider):
    from PySide6.QtWidgets import QStyleOptionSlider
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    return opt


def test_dead_units_per_run(qtbot):
    runs = RunList()
    qtbot.addWidget(runs)
    exp = replace(preset("exercise2"), learning_rates=(0.01, 3.0), hidden=8, steps=50).validated()
    tr = exp.trainer()
    tr.step(50)
    dead = tr.progress(0).dead_units
    runs.set_rates(exp.learning_rates)
    runs.set_dead_units(dead, exp.hidden)
    for k in range(2):
        assert runs.dead_text(k) == f"{dead[k]}/8 dead"
    runs.set_dead_units(None)
    assert runs.dead_text(0) == ""


# -- jobs --------------------------------------------------------------------------------------
def _fails():
    raise ConfigError("range test steps must be between 3 and 100000; got 2")


def _rows(n):
    for i in range(n):
        yield i
    return n * 10


def test_job_runner_reports_errors_as_text_and_streams_partials(qtbot):
    runner = JobRunner()
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT) as blocker:
        runner.submit(_fails)
    assert blocker.args == ["range test steps must be between 3 and 100000; got 2"]
    parts = []
    runner.partial.connect(parts.append)
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT) as blocker:
        runner.submit(_rows, 3)
    assert blocker.args == [30] and parts == [0, 1, 2] and not runner.busy
    runner.shutdown()
    assert runner._thread.isFinished()


def test_a_new_job_supersedes_the_last_one(qtbot):
    runner = JobRunner()
    results = []
    runner.finished.connect(results.append)
    runner.submit(_rows, 3)
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT):
        runner.submit(_rows, 1)
    qtbot.wait(100)
    assert results == [10]
    runner.shutdown()


def test_deleting_a_view_mid_job_stops_its_thread(qtbot):
    from PySide6.QtCore import QCoreApplication, QEvent
    view = PhaseDiagramView()
    exp = replace(preset("exercise3"), steps=3000).validated()
    view.set_experiment(exp, exp.make_data())
    assert view.compute()
    qtbot.waitUntil(lambda: view.runner.busy, timeout=TIMEOUT)
    thread = view.runner._thread
    assert thread.isRunning()
    view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert thread.isFinished()


def test_labels_of_the_analysis_plots_follow_the_theme(qtbot):
    """Every boxed label gets the theme's box; one without a colour of its own its text colour too."""
    from PySide6 import QtGui
    from gui.analysis_views.landscape import LandscapePlot
    plot = LandscapePlot()
    qtbot.addWidget(plot)
    own = plot._text("#D55E00")
    plot.plotItem.addItem(own)
    for dark in (True, False, True):
        plot.set_dark(dark)
        p = style.palette(dark)
        for label in (plot.start_label, plot.end_label, own):
            assert label.fill.color() == QtGui.QColor(*p["panel"])
            assert label.border.color() == QtGui.QColor(p["foreground"])
        assert plot.start_label.color == QtGui.QColor(p["foreground"])
        assert own.color == QtGui.QColor("#D55E00")


def test_reloading_an_experiment_does_not_leak_the_sharpness_labels(qtbot):
    """Issue: each reload left the sharpness plot's per-run labels alive in its theme list
    (~0.5 MB a reload).  50 reloads: the labels, the plot's items and Python's object count
    stay flat (an object count, not a timing)."""
    import gc
    tabs = AnalysisTabs()
    qtbot.addWidget(tabs)
    exp = tutorial(lrs=(0.01, 0.1, 0.5, 1.0), steps=20)
    plot = tabs.sharpness_plot

    def reload(i):
        rates = (0.01, 0.1, 0.5, 1.0 + 0.01 * (i % 5))
        plot.set_runs(rates, style.run_colors(4), replace(exp, learning_rates=rates).update_rule())

    for i in range(10):
        reload(i)
    gc.collect()
    texts, items, objects = len(plot._texts), len(plot.plotItem.items), len(gc.get_objects())
    assert texts == 1 + 4                             # the placeholder and one off-chart label per run
    for i in range(50):
        reload(i)
    gc.collect()
    assert (len(plot._texts), len(plot.plotItem.items)) == (texts, items)
    assert len(gc.get_objects()) - objects < 500      # was +12,000 over 100 reloads (4 runs)
    tabs.shutdown()


# -- cancelling a long job (core.cancel's hook, set by the runner) ------------------------------------------
LONG = replace(preset("exercise4"), samples=2000, hidden=16, init=None).validated()   # ~0.1 ms a step


def watched(record):
    """core.range_test.range_test, noting in ``record`` how it ended: "cancelled" or "done"."""
    import core.range_test as rt

    def range_test(experiment, data=None, lr_min=1e-6, lr_max=10.0, steps=100, should_stop=None):
        record.append("started")
        try:
            result = rt.range_test(experiment, data, lr_min, lr_max, steps, should_stop=should_stop)
        except Cancelled:
            record.append("cancelled")
            raise
        record.append("done")
        return result
    return range_test


def long_test(view):
    """A 100,000-step range test that never stops early (η ≤ 1e-4): ~10 s if not cancelled."""
    for name, text in (("lr_min", "1e-7"), ("lr_max", "1e-4"), ("steps", "100000")):
        view.fields[name].setText(text)
    assert view.run()


def test_a_new_request_cancels_the_long_job_before_it(qtbot):
    record = []
    runner = JobRunner()
    runner.submit(watched(record), LONG, LONG.make_data(), 1e-7, 1e-4, 100_000)
    qtbot.waitUntil(lambda: record == ["started"], timeout=TIMEOUT)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:      # the long job alone: ~10 s
        runner.submit(_rows, 1)
    assert blocker.args == [10] and record == ["started", "cancelled"]
    runner.shutdown()


def test_a_reset_cancels_the_range_test_of_a_hidden_view(qtbot, monkeypatch):
    import gui.analysis_views.range_test as view_module
    record = []
    monkeypatch.setattr(view_module, "range_test", watched(record))
    view = RangeTestView()
    qtbot.addWidget(view)
    view.set_experiment(LONG, LONG.make_data())
    long_test(view)
    qtbot.waitUntil(lambda: record == ["started"], timeout=TIMEOUT)
    view.set_experiment(LONG, LONG.make_data())                          # reset: step 0 of the same experiment
    assert not view.runner.busy and view.status.text() == "stopped: the experiment changed"
    qtbot.waitUntil(lambda: record == ["started", "cancelled"], timeout=5000)
    view.shutdown()


def test_closing_the_window_cancels_a_long_range_test(qtbot, monkeypatch, tmp_path):
    import gui.analysis_views.range_test as view_module
    from PySide6.QtCore import QSettings
    from gui.main_window import MainWindow
    record = []
    monkeypatch.setattr(view_module, "range_test", watched(record))
    w = MainWindow(experiment=LONG, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show()
    long_test(w.analysis.range_test)
    qtbot.waitUntil(lambda: record == ["started"], timeout=TIMEOUT)
    thread = w.analysis.range_test.runner._thread
    w.close()                                                            # waits for the job's thread
    assert thread.isFinished() and record == ["started", "cancelled"]


def test_a_phase_job_is_cancelled_by_a_new_experiment(qtbot, monkeypatch):
    import gui.analysis_views.phase as view_module
    record = []

    def watched_phase(*args, should_stop=None, **kwargs):
        record.append("started")
        try:
            return phase_diagram(*args, should_stop=should_stop, **kwargs)
        except Cancelled:
            record.append("cancelled")
            raise
    monkeypatch.setattr(view_module, "phase_diagram", watched_phase)
    view = PhaseDiagramView()
    qtbot.addWidget(view)
    exp = replace(LONG, steps=100_000).validated()                  # a row: ~40 s if not cancelled
    view.set_experiment(exp, exp.make_data())
    assert view.compute()
    qtbot.waitUntil(lambda: record == ["started"], timeout=TIMEOUT)
    view.set_experiment(exp, exp.make_data())
    assert not view.runner.busy
    qtbot.waitUntil(lambda: record == ["started", "cancelled"], timeout=5000)
    view.shutdown()


def test_closing_the_tabs_on_their_own_stops_every_job(qtbot):
    """A closed AnalysisTabs (outside a window) delivers no late result: its runners are shut."""
    tabs = shown(qtbot, AnalysisTabs())
    tabs.set_experiment(tutorial(lrs=(0.1, 0.5), steps=20))
    tabs.close()
    runners = (tabs.runner, tabs.range_test.runner, tabs.landscape.runner, tabs.phase.runner)
    assert all(r._closed for r in runners) and not any(r.busy for r in runners)
