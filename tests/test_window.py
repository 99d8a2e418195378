"""The main window, offscreen: UI -> model and model -> UI, exports, errors, closing.

Oracles: core's Trainer run headless in the test (same experiment, same steps, same
numbers), core.report.write_csv for the CSV bytes, QImage for the PNGs.
"""
import csv
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import conftest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from core.experiment import PRESETS, Experiment, preset  # noqa: E402
from core.explain import tutorial_step  # noqa: E402
from core.outcomes import DIVERGED  # noqa: E402
from core.report import lr_label, write_csv  # noqa: E402
from gui import style  # noqa: E402
from gui.app import SCREENSHOT_SIZE  # noqa: E402
from gui.main_window import SETTINGS_ENV, MainWindow  # noqa: E402
from gui.plots import CHAIN_RULE, format_number  # noqa: E402
from gui.runs import next_rate  # noqa: E402
from gui.worker import FINISHED, FULL_SPEED, PAUSED, RUNNING  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30_000
SMALL = replace(preset("exercise4"), steps=300)


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Never touch the user's QSettings."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


def make_window(qtbot, settings_path, experiment=SMALL):
    return conftest.make_window(qtbot, settings_path, experiment)


@pytest.fixture
def window(qtbot, private_settings):
    return make_window(qtbot, private_settings)


def headless(exp, steps):
    trainer = exp.trainer()
    trainer.step(steps)
    return trainer


def idle(qtbot, w):
    qtbot.waitUntil(lambda: w.controller.idle, timeout=TIMEOUT)


def train_to_end(qtbot, w):
    w.set_speed(FULL_SPEED)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.controller.state == FINISHED and w.controller.idle, timeout=TIMEOUT)
    w.draw()


def press(qtbot, w, key):
    """A key press as the user makes it (the window's shortcuts)."""
    w.activateWindow()
    w.setFocus()
    QTest.keyClick(w, key)


def visible_errors(w):
    return [b.text() for b in w.findChildren(QMessageBox) if b.isVisible()]


def test_title_icon_and_tooltips(window):
    assert window.windowTitle() == "LR Lab" and not window.windowIcon().isNull()
    controls = window.controls
    widgets = [controls.dataset, controls.csv_button, controls.activation, controls.hidden, controls.speed,
               controls.runs.list, controls.runs.add_button, controls.runs.remove_button,
               controls.runs.editor.slider, controls.runs.editor.field, *controls.fields.values(),
               *controls.preset_buttons.values()]
    for w in widgets:
        tip = w.toolTip()
        assert tip and tip.rstrip(".").count(". ") == 0, tip       # one sentence each


# -- run controls --------------------------------------------------------------------------
def test_step_start_pause_reset_with_the_keyboard(qtbot, window):
    c = window.controller
    press(qtbot, window, Qt.Key_Right)
    idle(qtbot, window)
    assert c.t == 1                                               # exactly one update
    window.draw()
    assert window.step_label.text().startswith("step 1 /")
    np.testing.assert_array_equal(c.losses(), headless(SMALL, 1).loss_history())

    window.set_speed(5)
    press(qtbot, window, Qt.Key_Space)
    assert c.state == RUNNING and window.start_action.text() == "Pause"
    qtbot.waitUntil(lambda: c.t >= 2, timeout=TIMEOUT)
    press(qtbot, window, Qt.Key_Space)
    assert c.state == PAUSED and window.start_action.text() == "Start"
    idle(qtbot, window)
    t = c.t
    qtbot.wait(300)
    assert c.t == t

    press(qtbot, window, Qt.Key_R)
    assert c.t == 0 and c.state == PAUSED
    window.draw()
    assert window.step_label.text().startswith("step 0 /")
    assert window.loss_plot.curve_points(0)[1].size == 1          # the plot went back to step 0


def test_toolbar_actions_and_status(qtbot, window):
    window.step_action.trigger()
    window.step_action.trigger()
    idle(qtbot, window)
    assert window.controller.t == 2
    train_to_end(qtbot, window)
    assert window.step_label.text() == f"step {SMALL.steps:,} / {SMALL.steps:,}"
    assert not window.start_action.isEnabled()                   # finished: nothing to start
    window.reset_action.trigger()
    assert window.controller.t == 0 and window.start_action.isEnabled()


def test_the_window_shows_before_its_plots_and_then_builds_them(qtbot, private_settings):
    w = MainWindow(experiment=SMALL, settings=QSettings(str(private_settings), QSettings.IniFormat),
                   defer_plots=True)
    qtbot.addWidget(w)
    assert not w.plots_built and not hasattr(w, "loss_plot")
    assert w.controls.fields["steps"].text() == str(SMALL.steps)        # the settings show at once
    assert not w.controls.isEnabled() and not w.export_png_action.isEnabled()
    with qtbot.waitSignal(w.plots_ready, timeout=TIMEOUT):
        w.show()                                                        # built after the first paint
    assert w.plots_built and w.controls.isEnabled() and w.export_png_action.isEnabled()
    assert w.experiment == SMALL and len(w.loss_plot.samples) == len(SMALL.learning_rates)
    train_to_end(qtbot, w)
    np.testing.assert_array_equal(w.controller.losses(), headless(SMALL, SMALL.steps).loss_history())


def test_status_labels_never_ask_for_a_new_layout(qtbot, window):
    for label in (window.step_label, window.rate_label, window.state_label):
        assert label.minimumSize() == label.maximumSize()               # fixed: setText needs no layout
    assert window.step_label.fontMetrics().horizontalAdvance(
        f"step {SMALL.steps:,} / {SMALL.steps:,}") <= window.step_label.width()


def test_sixteen_runs_fit_in_the_loss_plot(qtbot, window):
    window.resize(1280, 720)                  # a projector (the window opens smaller on the 800 × 800 offscreen screen)
    window.load_experiment(replace(SMALL, learning_rates=tuple(np.geomspace(0.01, 3, 16).round(4))))
    qtbot.waitUntil(lambda: window.loss_plot.plotItem.geometry().width() <=
                    window.loss_plot.viewport().width() + 0.5, timeout=TIMEOUT)
    legend = window.loss_plot.legend                                    # its rows fit under the plot
    assert legend.geometry().width() <= window.loss_plot.viewport().width()
    assert len(legend.items) == 16


def test_the_analysis_views_cannot_add_a_seventeenth_run(qtbot, window):
    """Adding a rate from the range test or the phase diagram obeys the run list's limit: a
    visible message, and the experiment stays as it was; an existing rate is not a new run."""
    from gui.runs import MAX_RUNS
    rates = tuple(np.geomspace(0.01, 3, MAX_RUNS).round(4))
    window.load_experiment(replace(SMALL, learning_rates=rates))
    window.analysis.add_rate.emit(0.5)
    assert window.experiment.learning_rates == rates and f"at most {MAX_RUNS} runs" in window.last_error
    window.last_error = None
    window.analysis.add_run.emit(0.7, "hidden", 4)
    assert window.experiment.learning_rates == rates and f"at most {MAX_RUNS} runs" in window.last_error
    window.last_error = None
    window.analysis.add_run.emit(rates[3], "hidden", 4)                 # already a run: only the width changes
    assert window.experiment.learning_rates == rates and window.experiment.hidden == 4
    assert window.last_error is None


# -- presets and settings --------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_loads_in_one_click_and_trains_to_the_end(qtbot, window, name):
    window.controls.preset_buttons[name].click()
    exp = preset(name)
    assert window.experiment == exp
    assert window.controls.activation.currentData() == exp.activation
    assert window.controls.hidden.value() == exp.hidden
    assert window.controls.runs.rates() == exp.learning_rates
    assert window.controls.fields["steps"].text() == str(exp.steps)
    train_to_end(qtbot, window)
    ref = headless(exp, exp.steps)
    np.testing.assert_array_equal(window.controller.losses(), ref.loss_history())
    for k, outcome in enumerate(ref.outcomes):
        assert style.outcome_text(outcome) in window.controls.runs.outcome_text(k)


def test_the_plots_legends_name_each_runs_recipe(qtbot, window):
    """The momentum preset trains η = 1 twice: the loss and fit legends must say which is which."""
    window.controls.preset_buttons["momentum"].click()
    for plot in (window.loss_plot, window.fit_plot):
        texts = [label.text for _, label in plot.legend.items]
        assert "lr=1" in texts and "lr=1 · momentum 0.9" in texts, texts


def test_sharpness_is_measured_while_its_tab_is_open_and_on_opening_it(qtbot, window):
    """Training with the overlay shown only notes θ at the sharpness steps (reports carry no λ);
    opening "Why it diverges" brings the whole history, the same as measuring it all along."""
    window.controls.preset_buttons["exercise4"].click()
    train_to_end(qtbot, window)
    c = window.controller
    assert c.progress.sharpness is None
    window.tabs.setCurrentWidget(window._why_tab)
    qtbot.waitUntil(lambda: c.progress.sharpness is not None, timeout=TIMEOUT)
    ref = preset("exercise4").trainer(sharpness_every=c.trainer.sharpness_every)
    ref.step(ref.steps)
    np.testing.assert_array_equal(c.progress.sharpness_steps, ref.sharpness_steps)
    np.testing.assert_allclose(c.progress.sharpness, ref.sharpness, rtol=1e-9)
    plot = window.analysis.sharpness_plot
    qtbot.waitUntil(lambda: plot._last is not None and plot._last[0].size == len(ref.sharpness_steps),
                    timeout=TIMEOUT)
    window.tabs.setCurrentWidget(window.overlay)                 # and off again: a new run notes only
    window.controls.preset_buttons["exercise3"].click()
    train_to_end(qtbot, window)
    assert c.progress.sharpness is None


def spy(monkeypatch, obj, name):
    """Record the calls of obj.name (still calling it)."""
    calls, real = [], getattr(obj, name)
    monkeypatch.setattr(obj, name, lambda *a, **k: (calls.append(a), real(*a, **k))[1])
    return calls


def test_only_the_tab_in_front_is_refreshed(qtbot, window, monkeypatch):
    """A frame refreshes the views in sight: the side-by-side panels not while "Why it diverges"
    (or the overlay) is in front, the overlay's plots not while another tab is; a tab coming into
    sight is brought up to date at once."""
    window.show()
    panels = spy(monkeypatch, window.multiples, "update_data")
    losses = spy(monkeypatch, window.loss_plot, "update_data")
    fits = spy(monkeypatch, window.fit_plot, "update_fits")
    analysis = spy(monkeypatch, window.analysis, "on_progress")
    window.tabs.setCurrentWidget(window._why_tab)
    window.step_action.trigger()
    idle(qtbot, window)
    del panels[:], losses[:], fits[:], analysis[:]
    window.draw()
    assert analysis and not panels and not losses and not fits
    window.tabs.setCurrentWidget(window.overlay)
    del panels[:], losses[:], fits[:], analysis[:]
    window.draw()
    assert losses and fits and not panels and not analysis
    window.tabs.setCurrentWidget(window.multiples)                  # in sight: refreshed at once, fits too
    assert panels and panels[-1][4] is not None and not losses[1:]
    x, y = window.controller.fit_curves()
    np.testing.assert_array_equal(panels[-1][5], y)


def test_tutorial_preset_shows_the_chain_rule_of_explain(qtbot, window):
    window.controls.preset_buttons["tutorial"].click()
    window.draw()
    chain = window.params.chain
    assert chain.isVisibleTo(window)
    row = {field: r for r, (field, _) in enumerate(CHAIN_RULE)}
    value = lambda field: chain.item(row[field], chain.columnCount() - 1).text()   # noqa: E731
    step = tutorial_step(0.1)                           # what `main.py explain` prints
    assert chain.rowCount() == len(CHAIN_RULE)
    assert value("loss") == format_number(step.loss)
    assert value("dL_dw1") == format_number(step.dL_dw1[0])
    assert value("w2_new") == format_number(step.w2_new[0])
    window.controls.preset_buttons["exercise3"].click()
    window.draw()
    assert not chain.isVisibleTo(window)                # 50 points: no single-sample chain rule


def test_the_last_experiment_and_geometry_are_remembered(qtbot, private_settings):
    w = make_window(qtbot, private_settings)
    w.controls.preset_buttons["exercise2"].click()
    w.resize(743, 651)                                  # within the offscreen screen (800 x 800)
    w.close()
    again = make_window(qtbot, private_settings, experiment=None)
    assert again.experiment == preset("exercise2")
    assert (again.size().width(), again.size().height()) == (743, 651)


# -- runs, model, data: UI -> model -> UI ------------------------------------------------------
def test_adding_and_removing_runs(qtbot, window):
    runs = window.controls.runs
    before = SMALL.learning_rates
    runs.add_button.click()
    assert window.experiment.learning_rates == before + (next_rate(before),)
    assert runs.list.count() == 5 and len(window.loss_plot.samples) == 5
    assert runs.selected() == 4                                   # the new run is selected
    assert window.controller.losses().shape[0] == 5
    runs.list.setCurrentRow(1)
    runs.remove_button.click()
    assert window.experiment.learning_rates == (0.01, 0.5, 1.0, next_rate(before))
    assert runs.list.count() == 4
    window.tabs.setCurrentWidget(window.multiples)               # built when shown
    assert len(window.multiples.panels) == 4
    for _ in range(3):
        runs.remove_button.click()
    assert len(window.experiment.learning_rates) == 1
    assert not runs.remove_button.isEnabled()                     # at least one run


def test_typed_learning_rate_is_used_exactly(qtbot, window):
    runs = window.controls.runs
    runs.list.setCurrentRow(2)
    field = runs.editor.field
    field.selectAll()
    QTest.keyClicks(field, "3e-3")
    QTest.keyClick(field, Qt.Key_Return)
    assert window.experiment.learning_rates == (0.01, 0.1, 0.003, 1.0)
    assert runs.row(2).rate.text() == lr_label(0.003)
    assert window.controller.t == 0                               # a new rate starts again


@pytest.mark.parametrize("typed, reason", [("-1", "learning rate must be > 0; got -1"),
                                           ("abc", "learning rate must be a number; got 'abc'"),
                                           ("0", "learning rate must be > 0; got 0"),
                                           ("inf", "learning rate must be a finite number; got inf")])
def test_invalid_typed_learning_rate_is_explained_and_changes_nothing(qtbot, window, typed, reason):
    runs = window.controls.runs
    field = runs.editor.field
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, typed)
    QTest.keyClick(field, Qt.Key_Return)
    assert runs.editor.error.isVisibleTo(window)
    assert runs.editor.error_text() == reason
    assert field.text() == typed                                  # not clamped, not replaced
    assert window.experiment == SMALL
    runs.list.setFocus()                                          # leaving the field changes nothing either
    assert window.experiment == SMALL


def test_log_slider_sets_rates_over_decades(qtbot, window):
    editor = window.controls.runs.editor
    window.controls.runs.list.setCurrentRow(0)
    editor.slider.setValue(editor.slider.maximum())
    assert window.experiment.learning_rates[0] == 10.0
    editor.slider.setValue(editor.slider.minimum())
    assert window.experiment.learning_rates[0] == 1e-5
    assert editor.field.text() == "1e-05"


def test_changing_activation_and_width_changes_the_trainer(qtbot, window):
    controls = window.controls
    index = controls.activation.findData("relu")
    controls.activation.setCurrentIndex(index)
    controls.activation.activated.emit(index)
    controls.hidden.setValue(5)
    exp = window.experiment
    assert (exp.activation, exp.hidden) == ("relu", 5)
    trainer = window.controller.trainer
    assert trainer.activation == "relu" and trainer.hidden == 5
    assert window.controller.progress.theta.shape == (4, 3 * 5 + 1)
    window.step_action.trigger()
    idle(qtbot, window)
    np.testing.assert_array_equal(window.controller.losses(), headless(exp, 1).loss_history())
    # model -> UI
    window.load_experiment(replace(SMALL, activation="tanh", hidden=3))
    assert controls.activation.currentData() == "tanh" and controls.hidden.value() == 3


def test_a_change_while_training_restarts_at_step_zero_and_keeps_training(qtbot, window):
    window.load_experiment(replace(SMALL, steps=1_000_000))
    window.set_speed(FULL_SPEED)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.controller.t > 0, timeout=TIMEOUT)
    window.controls.hidden.setValue(3)
    assert window.controller.state == RUNNING and window.experiment.hidden == 3
    assert window.controller.t == 0                               # the old run's batches are dropped
    qtbot.waitUntil(lambda: window.controller.t > 0, timeout=TIMEOUT)
    window.start_action.trigger()
    idle(qtbot, window)
    exp = window.experiment
    np.testing.assert_array_equal(window.controller.losses(), headless(exp, window.controller.t).loss_history())


def test_hidden_width_out_of_range_is_explained(qtbot, window):
    spin = window.controls.hidden
    spin.setFocus()
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), "600")
    assert window.controls.model_group.error.text() == "hidden must be between 1 and 512; got 600"
    QTest.keyClick(spin.lineEdit(), Qt.Key_Return)
    assert window.experiment.hidden == SMALL.hidden


def test_data_fields_go_through_core_validation(qtbot, window):
    samples = window.controls.fields["samples"]
    samples.setFocus()
    samples.selectAll()
    QTest.keyClicks(samples, "0")
    QTest.keyClick(samples, Qt.Key_Return)
    assert window.controls.data_group.error.text() == "samples must be between 1 and 100000; got 0"
    assert window.experiment == SMALL
    samples.selectAll()
    QTest.keyClicks(samples, "20")
    QTest.keyClick(samples, Qt.Key_Return)
    assert window.experiment.samples == 20 and len(window.controller.data) == 20
    lo = window.controls.fields["x_lo"]
    lo.selectAll()
    QTest.keyClicks(lo, "5")
    assert window.controls.data_group.error.text() == "x range must have LO < HI; got 5 2"
    QTest.keyClick(lo, Qt.Key_Return)
    assert window.experiment.x_range == SMALL.x_range


def test_dataset_choice_and_csv(qtbot, window, tmp_path):
    controls = window.controls
    index = controls.dataset.findData("sine")
    controls.dataset.setCurrentIndex(index)
    controls.dataset.activated.emit(index)
    assert window.experiment.dataset == "sine"
    good = tmp_path / "points.csv"
    good.write_text("x,y\n0,1\n1,3\n2,5\n")
    controls.load_csv(str(good))
    assert window.experiment.data_file == str(good)
    np.testing.assert_array_equal(window.controller.data.y, [1, 3, 5])
    assert controls.dataset.currentData() == "__csv__"
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,1\n1,oops\n")
    controls.load_csv(str(bad))
    assert window.experiment.data_file == str(good)               # unchanged
    assert any("line 3, column y: 'oops' is not a finite number" in t for t in visible_errors(window))


def test_speed_control_applies_at_once_without_reset(qtbot, window):
    window.step_action.trigger()
    idle(qtbot, window)
    window.controls.speed.setValue(window.controls.speed.maximum())
    assert window.controller.speed == FULL_SPEED and window.controller.t == 1
    assert window.controls.speed_label.text() == "full speed"


def test_a_frames_cost_counts_its_painting(qtbot, window, monkeypatch):
    """Frames are paced by their cost to the GUI thread, painting included (the paint comes after
    the frame, in the event loop): with the loss curves' painting made to take 30 ms of CPU,
    the frames' median cost is at least that."""
    import time

    from gui.plots import CurveLayer
    paint = CurveLayer.paint

    def slow_paint(self, *args):
        t0 = time.thread_time()
        while time.thread_time() - t0 < 0.03:
            pass
        paint(self, *args)

    monkeypatch.setattr(CurveLayer, "paint", slow_paint)
    window.load_experiment(replace(SMALL, steps=100_000))
    c = window.controller
    c._frame_costs.clear()
    window.set_speed(FULL_SPEED)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: len(c._frame_costs) >= 5, timeout=TIMEOUT)
    c.pause()
    assert c.frame_cost >= 0.03


# -- the views ------------------------------------------------------------------------------------
def test_a_diverged_run_is_marked_while_the_others_keep_training(qtbot, window):
    window.load_experiment(replace(SMALL, learning_rates=(0.01, 0.1, 0.5, 5.0)))
    train_to_end(qtbot, window)
    c = window.controller
    assert c.t == SMALL.steps
    assert c.outcomes[3] == DIVERGED
    d = int(c.diverged_steps[3])
    assert window.controls.runs.outcome_text(3).endswith(f"diverged at step {d}")
    assert window.loss_plot.markers[3].isVisible()
    assert window.loss_plot.labels[3].toPlainText().startswith(f"diverged at step {d}")
    losses = c.losses()
    assert np.isfinite(losses[1]).all() and losses[1, -1] < losses[1, 0]
    assert c.outcomes[1] != DIVERGED


def test_side_by_side_view_has_a_panel_per_run(qtbot, window):
    window.tabs.setCurrentIndex(1)
    train_to_end(qtbot, window)
    panels = window.multiples.panels
    assert len(panels) == 4
    losses = window.controller.losses()
    for k, panel in enumerate(panels):
        x, y = panel.loss_curve.points(0, panel.loss.vb.width())
        assert x[0] == 0 and x[-1] == SMALL.steps                  # every step to the end, log10 of the loss
        assert y[-1] == pytest.approx(np.log10(losses[k, -1]))
        assert style.outcome_style(window.controller.outcomes[k]).text in panel.title.text


def test_selected_run_drives_the_parameter_panel(qtbot, window):
    window.step_action.trigger()
    idle(qtbot, window)
    window.controls.runs.list.setCurrentRow(2)
    table = window.params.table
    theta = window.controller.progress.theta[2]
    values = [table.item(r, 0).data(Qt.UserRole) for r in range(table.rowCount())]
    np.testing.assert_array_equal(values, theta)
    assert "lr=0.5" in window.params.title.text()


def test_theme_and_log_toggles_apply_without_reset(qtbot, window):
    window.step_action.trigger()
    idle(qtbot, window)
    window.dark_action.setChecked(True)
    window.log_y_action.setChecked(False)
    assert window.loss_plot.dark and not window.loss_plot.plotItem.ctrl.logYCheck.isChecked()
    assert window.controller.t == 1


def test_help_explains_every_view(qtbot, window):
    window.views_action.trigger()
    text = window._help.text.toPlainText()
    for word in ("Loss curves", "Fitted function", "Side by side", "Parameters", "slow", "oscillat", "diverged"):
        assert word.lower() in text.lower()
    window.shortcuts_action.trigger()
    assert "Space" in window._help.text.toPlainText()


# -- files ----------------------------------------------------------------------------------------------
def test_png_exports_have_the_width_asked_for(qtbot, window, tmp_path):
    train_to_end(qtbot, window)
    for export, width in ((window.export_loss_png, 900), (window.export_fit_png, 640)):
        path = tmp_path / f"plot{width}.png"
        assert export(str(path), width)
        image = QImage(str(path))
        assert not image.isNull() and image.width() == width
    assert not visible_errors(window)


def test_png_export_through_the_menu_asks_the_width(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from gui.files import FigureSizeDialog
    path = tmp_path / "menu.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(FigureSizeDialog, "ask", classmethod(lambda cls, *a, **k: (777, 444)))
    window.export_png_action.trigger()
    assert QImage(str(path)).width() == 777 and QImage(str(path)).height() == 444


def test_save_as_pytorch_script_through_the_menu_writes_the_experiments_script(qtbot, window, tmp_path, monkeypatch):
    """File ▸ Save as PyTorch script writes what `main.py export-torch` writes for the same experiment."""
    import ast
    from PySide6.QtWidgets import QFileDialog
    from core.export_torch import torch_script
    window.controls.preset_buttons["momentum"].click()
    path = tmp_path / "run.py"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.torch_action.trigger()
    text = path.read_text()
    assert text == torch_script(preset("momentum"))
    ast.parse(text)                                                     # a Python script
    assert "torch.optim.SGD" in text and "momentum" in text
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] and not visible_errors(window)


def test_figure_export_through_the_menu_takes_the_format_of_the_filter(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from gui.files import FigureSizeDialog
    train_to_end(qtbot, window)
    path = tmp_path / "fit"                                            # no extension: the filter's
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "SVG vector figure (*.svg)"))
    monkeypatch.setattr(FigureSizeDialog, "ask", classmethod(lambda cls, *a, **k: (900, 600)))
    window.export_fit_action.trigger()
    text = (tmp_path / "fit.svg").read_text()
    assert '<svg width="900" height="600"' in text
    assert window.files.export_loss_figure(str(tmp_path / "loss.pdf"), (1000, 500))
    assert (tmp_path / "loss.pdf").read_bytes().startswith(b"%PDF")
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] and not visible_errors(window)


def test_csv_export_is_the_command_line_format(qtbot, window, tmp_path):
    exp = replace(SMALL, learning_rates=(0.1, 5.0))              # with a blown-up run: empty cells
    window.load_experiment(exp)
    train_to_end(qtbot, window)
    path, reference = tmp_path / "window.csv", tmp_path / "reference.csv"
    assert window.export_csv(str(path))
    ref = headless(exp, exp.steps)
    write_csv(str(reference), exp.learning_rates, ref.loss_history())
    assert path.read_bytes() == reference.read_bytes()
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "lr=0.1", "lr=5"]
    assert len(rows) == exp.steps + 2
    parsed = np.array([[float(c) if c else math.nan for c in row[1:]] for row in rows[1:]]).T
    np.testing.assert_array_equal(parsed, ref.loss_history())


@pytest.mark.parametrize("export", ["export_loss_png", "export_fit_png", "export_csv", "save_experiment"])
def test_an_unwritable_path_shows_an_error_and_writes_nothing(qtbot, window, tmp_path, export):
    before = sorted(os.listdir(tmp_path))
    target = tmp_path / "no-such-folder" / "out.file"
    assert getattr(window, export)(str(target)) is False
    assert not target.exists() and sorted(os.listdir(tmp_path)) == before
    assert "does not exist" in window.last_error and str(target) in window.last_error
    assert any("does not exist" in t for t in visible_errors(window))
    folder = tmp_path / "a-folder.png"
    folder.mkdir()
    assert getattr(window, export)(str(folder)) is False
    assert "is a folder" in window.last_error


def test_save_and_open_an_experiment(qtbot, window, tmp_path):
    path = tmp_path / "exp.json"
    window.load_experiment(replace(SMALL, learning_rates=(0.2, 0.02), seed=7))
    assert window.save_experiment(str(path))
    assert Experiment.load(str(path)) == window.experiment
    window.controls.preset_buttons["tutorial"].click()
    assert window.open_experiment(str(path))
    assert window.experiment.learning_rates == (0.2, 0.02) and window.experiment.seed == 7
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "lrlab-experiment", "version": 1, "hidden": 0}')
    assert not window.open_experiment(str(bad))
    assert "hidden must be between 1 and 512; got 0" in window.last_error
    assert window.experiment.seed == 7


# -- processes: screenshot and closing ----------------------------------------------------------------------
def _env(tmp_path, display=True):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env[SETTINGS_ENV] = str(tmp_path / "subprocess-settings.ini")
    if not display:                                     # a box with no display at all
        for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
    return env


def test_screenshot_writes_a_png_of_the_window(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out), "--preset",
                           "exercise4"], cwd=ROOT, env=_env(tmp_path, display=False), capture_output=True,
                          text=True, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert not (tmp_path / "subprocess-settings.ini").exists()     # the screenshot remembers nothing


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the no-display case is Linux's")
def test_without_a_display_the_window_says_so(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=_env(tmp_path, display=False),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("lrlab: error: no display") and proc.stderr.count("\n") == 1


CLOSE_WHILE_TRAINING = """
import sys
from dataclasses import replace
from PySide6.QtCore import QTimer
from core.experiment import preset
from gui.app import make_app
from gui.main_window import MainWindow
from gui.worker import FULL_SPEED
app = make_app()
w = MainWindow(experiment=replace(preset("exercise4"), steps=5_000_000))
w.show()
w.set_speed(FULL_SPEED)
w.controller.start()
def close_when_training():
    if w.controller.t > 0:
        w.close()
    else:
        QTimer.singleShot(20, close_when_training)
QTimer.singleShot(50, close_when_training)
sys.exit(app.exec())
"""


def test_first_paint_record_for_the_benchmark(tmp_path):
    record = tmp_path / "first-paint.json"
    env = dict(_env(tmp_path), LRLAB_FIRST_PAINT=str(record))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")
    import json
    r = json.loads(record.read_text())
    assert 0 < r["age"] and r["painted"] <= r["ready"]                  # the window, then its plots
    assert list(r["marks"]) == sorted(r["marks"], key=r["marks"].get)   # in the order things happen


def test_closing_while_training_exits_cleanly(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CLOSE_WHILE_TRAINING], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")
    assert "lrlab-experiment" in (tmp_path / "subprocess-settings.ini").read_text()


def test_the_keys_the_help_lists_are_the_actions_keys_and_back(qtbot, window):
    """One table (gui.help.SHORTCUTS): each listed key is its action's, and each action with a
    key is listed."""
    from PySide6.QtGui import QKeySequence
    from gui.actions import ACTIONS
    from gui.help import SHORTCUTS, key_text, shortcuts_html
    listed = {name: QKeySequence(key) for name, key, _ in SHORTCUTS}
    for spec in ACTIONS:
        a = getattr(window, f"{spec.name}_action")
        if not a.shortcut().isEmpty():
            assert listed[spec.name] == a.shortcut(), spec.name
    for name, key in listed.items():
        assert getattr(window, f"{name}_action").shortcut() == key
        assert f"<b>{key_text(key)}</b>" in shortcuts_html()
    assert window.start_action.shortcut() == QKeySequence(Qt.Key_Space)


# -- bad files and remembered experiments (w-input) ----------------------------------------------
@pytest.mark.parametrize("remembered", [
    '{"learning_rates": [' + ",".join(["0.1"] * 100_000) + "]}",       # 100,000 runs: refused, not shown
    "[" * 100_000 + "]" * 100_000,                                     # nesting past the JSON parser
    '{"data_file": "gone.csv"}',                                        # a file no longer there
])
def test_a_remembered_experiment_that_no_longer_loads_starts_the_default_one(qtbot, private_settings, remembered):
    from gui.main_window import DEFAULT_PRESET
    s = QSettings(str(private_settings), QSettings.IniFormat)
    s.setValue("experiment", remembered)
    s.sync()
    w = make_window(qtbot, private_settings, experiment=None)
    assert w.experiment == preset(DEFAULT_PRESET)
    assert str(private_settings) in w.last_error and "default experiment" in w.last_error


def test_open_shows_why_a_file_is_refused(qtbot, window, tmp_path):
    before = window.experiment
    for text in ('{"data_file": 0}', '{"noise": ' + "9" * 400 + "}", '{"x_range": [-1.5e308, 1.5e308]}'):
        path = tmp_path / "bad.json"
        path.write_text(text)
        assert not window.open_experiment(str(path))
        assert window.last_error and "\n" not in window.last_error and window.experiment == before


# -- the screen: first size, remembered geometry, a 1280 × 720 projector ----------------------------------
def test_the_first_size_fits_the_screen(qtbot):
    w = MainWindow(experiment=SMALL, remember=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    area = w.screen().availableGeometry()                 # offscreen: 800 × 800, smaller than 1600 × 1000
    assert area.contains(w.frameGeometry())
    assert w.width() >= area.width() - 40 and w.height() >= area.height() - 80   # and uses it


def test_a_remembered_geometry_larger_than_the_screen_is_brought_back_onto_it(qtbot, private_settings):
    from PySide6.QtCore import QRect
    w = make_window(qtbot, private_settings)
    w.setGeometry(QRect(300, 200, 1600, 1000))            # from a larger screen, partly off this one
    w.close()
    again = make_window(qtbot, private_settings, experiment=None)
    area = again.screen().availableGeometry()
    assert area.contains(again.frameGeometry())
    assert again.width() < 1600 and again.height() < 1000


def _controls_of(panel):
    """The panel's visible input widgets (not the parts of another: a spin box's line edit)."""
    from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                                   QComboBox, QLineEdit)
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSlider, QAbstractSpinBox, QAbstractItemView)
    found = [c for c in panel.findChildren(QWidget) if isinstance(c, kinds) and c.isVisibleTo(panel)]
    return [c for c in found if not any(o is not c and o.isAncestorOf(c) for o in found)]


def test_at_1280_by_720_every_control_of_the_experiment_panel_can_be_seen_and_none_overlap(qtbot, window):
    from PySide6.QtCore import QPoint, QRect
    window.resize(1280, 720)
    qtbot.wait(50)
    QApplication.processEvents()
    panel, scroll = window.controls, window.controls_dock.widget()
    viewport = scroll.viewport()
    assert panel.width() <= viewport.width()               # nothing cut on the right (no sideways scrolling)
    controls = _controls_of(panel)
    assert len(controls) > 15
    rects = {}
    for c in controls:
        r = QRect(c.mapTo(panel, QPoint(0, 0)), c.size())
        assert panel.rect().contains(r), c
        assert c.width() >= min(c.minimumSizeHint().width(), c.sizeHint().width()), c   # not squashed
        scroll.ensureWidgetVisible(c)                      # scrolled to, it shows
        assert viewport.rect().intersects(QRect(c.mapTo(viewport, QPoint(0, 0)), c.size())), c
        rects[c] = r
    for a, ra in rects.items():
        for b, rb in rects.items():
            assert a is b or not ra.intersects(rb), (a, b)
    for plot in (window.loss_plot, window.fit_plot):       # the plots keep room to read
        assert plot.width() >= 300 and plot.height() >= 250


@pytest.fixture
def app_look():
    """The app's own style and font (gui.app.make_app), put back afterwards: sizes as users see them."""
    from gui.app import make_app
    app = QApplication.instance()
    style, font = app.style().name(), app.font()
    yield make_app()
    app.setStyle(style)
    app.setFont(font)


def test_at_1280_by_720_the_analysis_tabs_need_no_sideways_scrolling(qtbot, app_look, private_settings):
    """The range test's three "Add … (rate) as a run" buttons were wider than the ~800 px the tabs
    have there, and the tabs take the widest page's width: every tab scrolled sideways."""
    window = make_window(qtbot, private_settings)
    window.resize(1280, 720)
    window.tabs.setCurrentWidget(window._why_tab)
    range_test = window.analysis.range_test
    window.analysis.setCurrentWidget(range_test)
    if range_test.result is None:
        with qtbot.waitSignal(range_test.computed, timeout=TIMEOUT):
            range_test.run_button.click()
    assert all(b.isEnabled() and "(" in b.text() for b in range_test.buttons.values())   # with their rates
    QApplication.processEvents()
    assert window.analysis.minimumSizeHint().width() <= window._why_tab.viewport().width()   # 826 > 815 before


def test_screenshot_size_takes_the_window_at_a_projectors_1280_by_720(tmp_path):
    out = tmp_path / "small.png"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out), "--screenshot-size",
                           "1280", "720", "--preset", "exercise4"], cwd=ROOT, env=_env(tmp_path, display=False),
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", "")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(tmp_path / "b.png"),
                          "--screenshot-size", "1280", "wide"], cwd=ROOT, env=_env(tmp_path, display=False),
                         capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stderr) == (2, "lrlab: error: --screenshot-size height must be a whole number; "
                                               "got 'wide'\n")
    assert not (tmp_path / "b.png").exists()


def test_the_loss_at_step_0_shows_before_training(qtbot, window):
    """Issue: the loss plot was empty until the first step (a line needs two points)."""
    idle(qtbot, window)
    window.draw()
    dots = window.loss_plot.start_dots
    assert window.controller.t == 0 and dots.isVisible()
    x, y = dots.getData()
    L0 = SMALL.trainer().loss_history()[:, 0]                          # the engine, headless: step 0
    np.testing.assert_allclose(y, np.log10(L0), rtol=1e-12)            # on the log loss axis
    assert list(x) == [0.0] * len(SMALL.learning_rates)
    (lo, hi), _ = window.loss_plot.view_box.viewRange()
    assert lo < 0.0 < hi                                               # inside the step axis
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.controller.t == 1, timeout=TIMEOUT)
    idle(qtbot, window)
    window.draw()
    assert not dots.isVisible() and window.loss_plot.curve_points(0)[1].size == 2   # the curves take over


# -- the projector mode ---------------------------------------------------------------------------------
def _sizes(w):
    """Point sizes of the window's text, a control, a loss-plot tick, axis label, title and legend entry."""
    plot = w.loss_plot.plotItem
    axis = plot.getAxis("left")
    pt = lambda s: float(s[:-2])                                      # noqa: E731  ("13pt")
    return (w.font().pointSizeF(), w.controls.runs.add_button.font().pointSizeF(),
            axis.style["tickFont"].pointSizeF(), pt(axis.labelStyle["font-size"]),
            pt(plot.titleLabel.opts["size"]), pt(w.loss_plot.legend.items[0][1].opts["size"]))


def test_larger_and_smaller_text_scale_every_font_plots_included(qtbot, window):
    from gui.projector import FontScale  # noqa: F401
    before = _sizes(window)
    assert before[2:] == (style.TICK_PT, style.LABEL_PT, style.TITLE_PT, style.LABEL_PT)
    window.larger_text_action.trigger()
    window.larger_text_action.trigger()
    scale = window.font_scale.scale
    assert scale > 1.0
    np.testing.assert_allclose(_sizes(window), np.array(before) * scale, rtol=1e-9)
    window.smaller_text_action.trigger()
    smaller = window.font_scale.scale
    assert 1.0 < smaller < scale
    np.testing.assert_allclose(_sizes(window), np.array(before) * smaller, rtol=1e-9)
    window.normal_text_action.trigger()
    np.testing.assert_allclose(_sizes(window), before, rtol=1e-9)
    for _ in range(3):
        window.smaller_text_action.trigger()
    assert all(a < b for a, b in zip(_sizes(window), before))


def test_the_text_size_is_remembered_at_the_next_launch(qtbot, private_settings):
    w = make_window(qtbot, private_settings)
    before = _sizes(w)
    w.larger_text_action.trigger()
    scale = w.font_scale.scale
    w.close()
    again = make_window(qtbot, private_settings, experiment=None)
    assert again.font_scale.scale == scale
    np.testing.assert_allclose(_sizes(again), np.array(before) * scale, rtol=1e-9)   # built at that size
    again.normal_text_action.trigger()
    again.close()
    style.set_font_scale(1.0)
