"""Mini-batches in the window, offscreen: the batch-size control (UI -> model, model -> UI,
refused sizes), the epoch counter, the mini-batch loss and the epochs axis of the loss plot,
the live gradient noise scale, the phase diagram over batch sizes.

Oracles: core run headless in the test (Trainer, core.noise.noise_scale, core.phase), and
counts by hand (ceil(N/B) updates an epoch)."""
import math
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from core.experiment import ALL_PRESETS, BATCH_PRESETS, preset  # noqa: E402
from core.fields import FULL_BATCH  # noqa: E402
from gui.controls import batch_notches  # noqa: E402
from gui.main_window import SETTINGS_ENV, MainWindow  # noqa: E402
from gui.worker import FINISHED, FULL_SPEED  # noqa: E402

TIMEOUT = 30_000
SMALL = replace(preset("one-sample"), steps=120)          # 50 points, B = 1, η = 0.1 and 0.5


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


@pytest.fixture
def window(qtbot, private_settings):
    w = MainWindow(experiment=SMALL, settings=QSettings(str(private_settings), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def train_to_end(qtbot, w):
    w.set_speed(FULL_SPEED)
    w.start_action.trigger()
    qtbot.waitUntil(lambda: w.controller.state == FINISHED and w.controller.idle, timeout=TIMEOUT)
    w.draw()


def commit(field, text):
    field.setText(text)
    field.editingFinished.emit()


# -- the control --------------------------------------------------------------------------------
def test_batch_notches_run_from_one_to_full_batch_on_a_log_scale():
    assert batch_notches(5) == (1, 2, 3, 4, None)
    notches = batch_notches(1000)
    sizes = np.array(notches[:-1], dtype=float)
    assert notches[0] == 1 and notches[-1] is None and sizes[-1] == 999
    assert np.all(np.diff(sizes) > 0)
    ratios = sizes[1:] / sizes[:-1]
    assert ratios[3:].max() < 1.5 and ratios[-5:].min() > 1.3      # about evenly spaced on a log axis (whole sizes first)
    assert batch_notches(1) == (None,)


def test_typed_batch_size_reaches_the_experiment(window):
    c = window.controls
    commit(c.batch, "10")
    assert window.experiment.batch_size == 10
    assert c.batch_notches[c.batch_slider.value()] == 10
    commit(c.batch, FULL_BATCH)
    assert window.experiment.batch_size is None
    assert c.batch_slider.value() == c.batch_slider.maximum()


def test_slider_sets_the_batch_size(window):
    c = window.controls
    i = c.batch_notches.index(4)
    c.batch_slider.setValue(i)
    assert window.experiment.batch_size == 4 and c.batch.text() == "4"
    c.batch_slider.setValue(c.batch_slider.maximum())
    assert window.experiment.batch_size is None and c.batch.text() == FULL_BATCH


def test_batch_size_above_n_is_refused_in_red_never_clamped(window):
    c = window.controls
    before = window.experiment
    c.batch.setText("51")
    c.batch.textEdited.emit("51")
    c.batch.editingFinished.emit()
    assert window.experiment == before                 # nothing changed
    assert "51" in c.batch.toolTip() or "51" in c.training_group.error.text()
    assert "50" in c.training_group.error.text() and "batch size" in c.training_group.error.text()
    assert c.batch.styleSheet()                        # red


def test_a_loaded_experiment_shows_its_batch_size(window):
    window.load_experiment(replace(SMALL, batch_size=7))
    c = window.controls
    assert c.batch.text() == "7"
    assert c.batch_notches[c.batch_slider.value()] <= 7                 # the notch at or below it
    window.load_experiment(replace(SMALL, batch_size=None))
    assert c.batch.text() == FULL_BATCH and c.batch_slider.value() == c.batch_slider.maximum()


@pytest.mark.parametrize("name", list(BATCH_PRESETS))
def test_batch_presets_have_buttons(window, name):
    window.controls.preset_buttons[name].click()
    assert window.experiment == ALL_PRESETS[name].experiment


# -- the status bar -----------------------------------------------------------------------------
def test_epoch_counter_counts_updates_per_epoch(qtbot, window):
    window.load_experiment(replace(SMALL, batch_size=8, steps=30))       # ceil(50/8) = 7 updates an epoch
    assert window.epoch_label.isVisibleTo(window)
    train_to_end(qtbot, window)
    assert window.epoch_label.text() == f"epoch {30 / 7:.1f} / {30 / 7:.1f}"
    window.load_experiment(replace(SMALL, batch_size=None))
    assert not window.epoch_label.isVisibleTo(window)


# -- the phase diagram over batch sizes ------------------------------------------------------------
def test_phase_diagram_rows_of_batch_sizes_mark_the_best_rate_and_draw_eps_opt(qtbot):
    from core.phase import phase_diagram
    from gui.analysis_views import PhaseDiagramView
    from gui.plots import log10_positive
    view = PhaseDiagramView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    exp = ALL_PRESETS["batch-phase"].experiment
    view.set_experiment(exp, exp.make_data())
    view.kind.setCurrentIndex(view.kind.findData("batch_size"))
    view.kind.activated.emit(view.kind.currentIndex())
    assert view.rows.text().split()[0] == "1" and view.rows.text().split()[-1] == FULL_BATCH
    assert all(int(b) < 1000 for b in view.rows.text().split()[:-1])
    view.rows.setText("1 16 full")
    view.lr_min.setText("0.01")
    view.lr_max.setText("0.5")
    view.columns.setText("5")
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        assert view.compute()
    pd = view.result
    expected = phase_diagram(exp, pd.lrs, batch_sizes=[1, 16, None])
    assert pd.rows == (1, 16, None)
    np.testing.assert_allclose(pd.final, expected.final, rtol=1e-12)
    np.testing.assert_allclose(pd.eps_opt, expected.eps_opt, rtol=1e-12)
    # the ring of each row at its best rate, the dashed line through ε_opt(B), one point a row
    x, y = view.plot.best_marks.getData()
    np.testing.assert_allclose(x, log10_positive(expected.best_lr))
    np.testing.assert_array_equal(y, [0, 1, 2])
    x, y = view.plot.eps_curve.getData()
    np.testing.assert_allclose(x, np.log10(expected.eps_opt))
    assert view.plot.eps_curve.isVisible() and view.plot.row_axis.tickStrings([2.0], 1, 1) == [FULL_BATCH]
    assert "ε_opt(B)" in view.cell_text(0, 0) and "batch size 1" in view.cell_text(0, 0)
    with qtbot.waitSignal(view.add_run) as blocker:
        view.click_cell(2, 0)
    assert blocker.args == [float(pd.lrs[0]), "batch_size", 0]          # 0: full batch
    # a batch size above N is refused, naming it
    view.rows.setText("1 2000")
    assert view.compute() is False and "2000" in view.error.text()
    # rows of widths: no ring, no line
    view.set_experiment(SMALL, SMALL.make_data())
    view.kind.setCurrentIndex(view.kind.findData("hidden"))
    view.rows.setText("1 2")
    view.steps.setText("5")
    view.columns.setText("2")
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT):
        assert view.compute()
    assert not view.plot.eps_curve.isVisible() and not view.plot.best_marks.isVisible()
    view.shutdown()


def test_a_batch_size_cell_adds_its_run_with_that_batch_size(window):
    exp = window.experiment
    window._on_analysis_add_run(0.25, "batch_size", 5)
    assert window.experiment.batch_size == 5 and 0.25 in window.experiment.learning_rates
    assert window.experiment.init == exp.init
    window._on_analysis_add_run(0.25, "batch_size", 0)
    assert window.experiment.batch_size is None


# -- the live noise scale -----------------------------------------------------------------------
def test_noise_scale_of_the_selected_run_is_core_s_at_its_parameters(qtbot, window):
    from core.noise import noise_scale
    c = window.controller
    qtbot.waitUntil(lambda: c.noise_scale() is not None, timeout=TIMEOUT)     # step 0's, before any step
    window.draw()
    assert window.params.noise_plot.isVisibleTo(window) and "step 0" in window.params.noise_label.text()
    train_to_end(qtbot, window)
    noise = c.noise_scale()
    assert noise[1][-1] == SMALL.steps                   # the last step is always measured
    exp = window.experiment
    ref = noise_scale(exp.model_spec(), c.progress.theta, c.data.x, c.data.y)
    np.testing.assert_allclose(noise[2][-1], ref.simple, rtol=1e-12)
    np.testing.assert_allclose(noise[3][-1], ref.noise, rtol=1e-12)
    np.testing.assert_allclose(noise[4][-1], ref.eps_max, rtol=1e-12)
    np.testing.assert_allclose(noise[5][-1], ref.eps_opt(1), rtol=1e-12)
    window.controls.runs.select(1) if hasattr(window.controls.runs, "select") else None
    window.overlay_view.select(1, None)
    window.draw(everything=True)
    assert f"B_noise</b> = {ref.noise[1]:.3g}" in window.params.noise_label.text()
    assert f"ε_opt(B = 1) = {ref.eps_opt(1)[1]:.3g}" in window.params.noise_label.text()
    x, y = window.params.noise_curves["noise"].getData()
    assert x[-1] == SMALL.steps and y[-1] == pytest.approx(math.log10(ref.noise[1]), rel=1e-12)


# -- the loss plot: mini-batch losses and epochs ------------------------------------------------------
def test_mini_batch_losses_and_the_epochs_axis(qtbot, window):
    exp = replace(SMALL, batch_size=8, steps=40)                        # 7 updates an epoch
    window.load_experiment(exp)
    o, plot = window.overlay_view, window.loss_plot
    assert o.batch_toggle.isEnabled() and o.epochs_toggle.isEnabled()
    train_to_end(qtbot, window)
    ref = exp.trainer()
    ref.step(exp.steps)
    np.testing.assert_array_equal(window.controller.losses(), ref.loss_history())        # whole-data: the curves
    np.testing.assert_array_equal(window.controller.batch_losses(), ref.batch_losses)    # what the faint layer gets
    assert not plot.batch_layer.isVisible()
    o.batch_toggle.setChecked(True)                                     # UI -> plot
    assert plot.batch_layer.isVisible()
    np.testing.assert_array_equal(plot.batch_layer._y, ref.batch_losses)
    axis = plot.plotItem.getAxis("bottom")
    assert axis.scale == 1.0 and "step" in axis.labelText
    o.epochs_toggle.setChecked(True)
    assert axis.scale == pytest.approx(1 / 7) and "epoch" in axis.labelText
    values = [v for _, level in axis.tickValues(0, 40, 400) for v in level]
    assert any(abs(v / 7 - 1) < 1e-9 for v in values)                    # a tick at step 7: epoch 1
    window.log_x_action.setChecked(True)                                 # log steps: a tick per decade of epochs
    ticks = dict(plot.epoch_ticks)
    assert ticks[math.log10(7)] == "1" and ticks[1 + math.log10(7)] == "10"
    window.log_x_action.setChecked(False)
    window.load_experiment(replace(exp, batch_size=None))                 # model -> UI: full batch
    assert not o.batch_toggle.isEnabled() and not plot.batch_layer.isVisible()
    assert axis.scale == 1.0 and "step" in axis.labelText
