"""The window's recipes: each run's optimizer and schedule in the controls (UI -> model and
model -> UI), the run list's words for them, the η_t plot and each run's own limit in the
Curvature tab.

Oracles: core's Recipe/Schedule built by hand in the test, core's messages written out, the
schedules' rates from core (``Schedule.rates``) and the limits' closed forms ((2 + 2β)/η for
heavy ball, 2/η for gradient descent, 38/η for Adam at β1 = 0.9).
"""
from dataclasses import replace

import numpy as np
import pytest
from conftest import type_in

pytest.importorskip("pytestqt")

from core.experiment import Experiment, preset  # noqa: E402
from core.fields import OPTIMIZERS, RECIPE_FIELDS, SCHEDULES  # noqa: E402
from core.optim import Recipe  # noqa: E402
from core.schedules import Schedule  # noqa: E402
from gui.recipes import recipe_text  # noqa: E402
from gui.style import FIELD_ERROR_STYLE  # noqa: E402

EX4 = preset("exercise4").validated()
MIXED = replace(EX4, runs=(Recipe(0.01), Recipe(0.1, "momentum", momentum=0.5),
                           Recipe(0.5, "adam", betas=(0.8, 0.99), schedule=Schedule("cosine", eta_min=0.001)),
                           Recipe(1.0, schedule=Schedule("step", step_size=300, gamma=0.5, warmup_steps=100,
                                                         warmup_start_factor=0.1)))).validated()




def choose(combo, name):
    combo.activated.emit(combo.findData(name))


def select_run(panel, k):
    panel.runs.list.setCurrentRow(k)


# -- the form is core's table ---------------------------------------------------------------------
def test_the_recipe_form_is_built_from_the_recipe_fields(panel):
    ed = panel.recipe
    assert [ed.combos["optimizer"].itemData(i) for i in range(ed.combos["optimizer"].count())] == list(OPTIMIZERS)
    assert [ed.combos["schedule"].itemData(i) for i in range(ed.combos["schedule"].count())] == list(SCHEDULES)
    for key, field in ed.fields.items():
        assert field.toolTip() == RECIPE_FIELDS[key].tip_text, key
        assert ed.form.labelForField(field).text() == RECIPE_FIELDS[key].title, key
    assert set(ed.fields) | {"optimizer", "schedule"} == set(RECIPE_FIELDS)


@pytest.mark.parametrize("optimizer, shown", [("gd", ()), ("momentum", ("momentum",)), ("nesterov", ("momentum",)),
                                              ("rmsprop", ("alpha", "eps")), ("adam", ("beta1", "beta2", "eps"))])
def test_only_the_chosen_optimizers_parameters_are_shown(panel, optimizer, shown):
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], optimizer)
    exp = panel.proposed[-1] if optimizer != "gd" else EX4
    panel.set_experiment(exp)
    visible = {k for k, f in panel.recipe.fields.items() if f.isVisible()}
    schedule = {"warmup_steps", "warmup_start_factor"}                    # constant: its warmup only
    assert visible == set(shown) | schedule


@pytest.mark.parametrize("schedule, shown", [("constant", ()), ("step", ("step_size", "gamma")),
                                             ("exponential", ("gamma",)), ("cosine", ("eta_min",))])
def test_only_the_chosen_schedules_parameters_and_the_warmup_are_shown(panel, schedule, shown):
    panel.set_experiment(replace(EX4, runs=tuple(Recipe(lr, schedule=Schedule(schedule)) for lr in EX4.learning_rates)
                                 ).validated())
    visible = {k for k, f in panel.recipe.fields.items() if f.isVisible()}
    assert visible == set(shown) | {"warmup_steps", "warmup_start_factor"}


def test_one_cycle_shows_its_parameters_and_no_warmup(panel):
    panel.set_experiment(replace(EX4, runs=(Recipe(0.1, schedule=Schedule("one-cycle")),)).validated())
    visible = {k for k, f in panel.recipe.fields.items() if f.isVisible()}
    assert visible == {"pct_start", "div_factor", "final_div_factor"}


# -- UI -> model -----------------------------------------------------------------------------------
def test_choosing_momentum_09_for_run_2_makes_run_2_that_recipe(panel):
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], "momentum")
    exp = panel.proposed[-1]
    assert exp.runs == (Recipe(0.01), Recipe(0.1, "momentum", momentum=0.9), Recipe(0.5), Recipe(1.0))
    assert exp.learning_rates == EX4.learning_rates
    panel.set_experiment(exp)                                             # the window sets it back
    type_in(panel.recipe.fields["momentum"], "0.5")
    assert panel.proposed[-1].runs[1] == Recipe(0.1, "momentum", momentum=0.5)
    assert panel.proposed[-1].runs[0] == Recipe(0.01)


def test_a_bad_beta_turns_red_and_changes_nothing(panel):
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], "momentum")
    panel.set_experiment(panel.proposed[-1])
    n = len(panel.proposed)
    field = panel.recipe.fields["momentum"]
    type_in(field, "1")
    assert field.styleSheet() == FIELD_ERROR_STYLE
    assert panel.recipe.error_text() == "run 2: momentum must be < 1; got 1"
    assert len(panel.proposed) == n                                       # nothing proposed
    type_in(field, "-0.1")
    assert panel.recipe.error_text() == "run 2: momentum must be >= 0; got -0.1"
    assert len(panel.proposed) == n


def test_adam_betas_and_a_cosine_schedule_with_warmup(panel):
    select_run(panel, 2)
    choose(panel.recipe.combos["optimizer"], "adam")
    panel.set_experiment(panel.proposed[-1])
    type_in(panel.recipe.fields["beta1"], "0.8")
    panel.set_experiment(panel.proposed[-1])
    choose(panel.recipe.combos["schedule"], "cosine")
    panel.set_experiment(panel.proposed[-1])
    type_in(panel.recipe.fields["warmup_steps"], "100")
    r = panel.proposed[-1].runs[2]
    assert r == Recipe(0.5, "adam", betas=(0.8, 0.999), schedule=Schedule("cosine", warmup_steps=100))


def test_a_warmup_past_the_budget_is_refused_with_cores_message(panel):
    field = panel.recipe.fields["warmup_steps"]
    type_in(field, "2000")
    assert field.styleSheet() == FIELD_ERROR_STYLE
    assert panel.recipe.error_text() == ("run 1: warmup steps must leave updates for the schedule "
                                         "(< steps = 2000); got 2000")
    assert panel.proposed == []


def test_one_cycle_after_a_warmup_is_refused_and_the_combo_goes_back(panel):
    panel.set_experiment(replace(EX4, runs=tuple(Recipe(lr, schedule=Schedule(warmup_steps=10))
                                                 for lr in EX4.learning_rates)).validated())
    combo = panel.recipe.combos["schedule"]
    choose(combo, "one-cycle")
    assert panel.proposed == [] and combo.currentData() == "constant"
    assert panel.recipe.error_text().startswith("run 1: warmup: one-cycle has its own warm-up phase")


def test_nesterov_with_momentum_0_is_refused(panel):
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], "momentum")
    panel.set_experiment(panel.proposed[-1])
    type_in(panel.recipe.fields["momentum"], "0")
    panel.set_experiment(panel.proposed[-1])
    n = len(panel.proposed)
    choose(panel.recipe.combos["optimizer"], "nesterov")
    assert len(panel.proposed) == n and panel.recipe.combos["optimizer"].currentData() == "momentum"
    assert panel.recipe.error_text() == "run 2: momentum must be > 0 for nesterov (PyTorch refuses it too); got 0"


def test_apply_to_all_runs_gives_every_run_the_recipe_at_its_own_rate(panel):
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], "momentum")
    panel.set_experiment(panel.proposed[-1])
    panel.recipe.apply_button.click()
    assert panel.proposed[-1].runs == tuple(Recipe(lr, "momentum") for lr in EX4.learning_rates)


def test_a_new_run_copies_the_selected_runs_recipe_and_the_rate_editor_keeps_it(panel):
    panel.set_experiment(MIXED)
    select_run(panel, 1)
    panel.runs.add_button.click()
    added = panel.proposed[-1].runs
    assert added[:4] == MIXED.runs and added[4].optimizer == "momentum" and added[4].momentum == 0.5
    type_in(panel.runs.editor.field, "0.2")                     # run 2's rate, its recipe kept
    assert panel.proposed[-1].runs[1] == Recipe(0.2, "momentum", momentum=0.5)
    panel.runs.remove_button.click()                            # run 2 goes, the others stay
    assert panel.proposed[-1].runs == (MIXED.runs[0],) + MIXED.runs[2:]


def test_back_to_plain_gradient_descent_is_the_experiment_without_runs(panel):
    panel.set_experiment(replace(EX4, runs=(Recipe(0.01), Recipe(0.1, "momentum"), Recipe(0.5),
                                            Recipe(1.0))).validated())
    select_run(panel, 1)
    choose(panel.recipe.combos["optimizer"], "gd")
    assert panel.proposed[-1] == EX4                           # runs None: the experiment LR Lab always had


# -- model -> UI -----------------------------------------------------------------------------------
def test_loading_an_experiment_with_recipes_shows_them(panel):
    panel.set_experiment(MIXED)
    texts = [panel.runs.row(k).rate.text() for k in range(4)]
    assert texts == ["lr=0.01", "lr=0.1 · momentum 0.5", "lr=0.5 · adam 0.8/0.99 · cosine to 0.001",
                     "lr=1 · warmup 100 + step 300×0.5"]
    select_run(panel, 2)
    ed = panel.recipe
    assert ed.combos["optimizer"].currentData() == "adam" and ed.combos["schedule"].currentData() == "cosine"
    assert (ed.fields["beta1"].text(), ed.fields["beta2"].text(), ed.fields["eta_min"].text()) == ("0.8", "0.99", "0.001")
    select_run(panel, 3)
    assert ed.combos["schedule"].currentData() == "step"
    assert [ed.fields[k].text() for k in ("step_size", "gamma", "warmup_steps", "warmup_start_factor")] == \
        ["300", "0.5", "100", "0.1"]
    assert panel.proposed == []                                 # showing proposes nothing


def test_recipe_text_reads_each_optimizer():
    assert recipe_text(Recipe(0.5)) == "lr=0.5"
    assert recipe_text(Recipe(0.5, "nesterov", momentum=0.8)) == "lr=0.5 · nesterov 0.8"
    assert recipe_text(Recipe(0.5, "rmsprop", eps=1e-6)) == "lr=0.5 · rmsprop α 0.99 ε 1e-06"
    assert recipe_text(Recipe(0.5, schedule=Schedule("one-cycle"))) == "lr=0.5 · one-cycle"
    assert recipe_text(Recipe(0.5, schedule=Schedule("exponential", gamma=0.99))) == "lr=0.5 · exponential ×0.99"


# -- the Curvature tab: ηₜ and each run's own limit ---------------------------------------------------
TIMEOUT = 30_000
LINEAR = Experiment(model="linear", dataset="linear", samples=100, noise=0.0, x_range=(0.0, 1.0), steps=400,
                    init={"w": 0.0, "b": 0.0},
                    runs=(Recipe(1.0), Recipe(1.0, "momentum", momentum=0.9),
                          Recipe(0.5, "adam", schedule=Schedule("cosine", warmup_steps=50, warmup_start_factor=0.1)),
                          Recipe(0.3, schedule=Schedule("step", step_size=100, gamma=0.5)))).validated()


@pytest.fixture
def tabs(qtbot):
    from gui.analysis_views import AnalysisTabs
    t = AnalysisTabs()
    qtbot.addWidget(t)
    t.resize(1100, 800)
    t.show()
    qtbot.waitExposed(t)
    with qtbot.waitSignal(t.critical_lr_changed, timeout=TIMEOUT) as blocker:
        t.set_experiment(LINEAR, LINEAR.make_data())
    t.critical = blocker.args[0]
    yield t
    t.shutdown()


def test_the_rate_plot_draws_each_runs_schedule(tabs):
    rates = tabs.curvature.rates
    for k, r in enumerate(LINEAR.runs):
        expected = r.schedule.check(LINEAR.steps).rates(r.lr, LINEAR.steps)          # core's schedule, one run
        np.testing.assert_array_equal(rates.curves[k].xData, np.arange(LINEAR.steps))
        np.testing.assert_allclose(10 ** rates.curves[k].yData, expected, rtol=1e-12)
    # by hand: the step schedule halves every 100 updates; the warmup starts at a tenth of the rate
    assert 10 ** rates.curves[3].yData[[0, 99, 100, 399]] == pytest.approx([0.3, 0.3, 0.15, 0.0375])
    assert 10 ** rates.curves[2].yData[0] == pytest.approx(0.05)


def test_each_run_is_held_against_its_own_limit(tabs):
    plot = tabs.curvature.sharpness
    # (2 + 2β)/η for heavy ball, 2/η for gradient descent, (2 + 2β1)/((1 − β1)η) = 38/η for Adam (at t = 0:
    # its warmup's first rate 0.05), 2/η for the step schedule
    assert [10 ** line.value() for line in plot.limits] == pytest.approx([2.0, 3.8, 38 / 0.05, 2 / 0.3])
    assert plot.limits[1].label.format.startswith("(2+2β)/η = 3.8")
    plot.set_step(150)                                               # the limits move with the schedules
    assert 10 ** plot.limits[3].value() == pytest.approx(2 / 0.15)
    assert 10 ** plot.limits[1].value() == pytest.approx(3.8)
    # the scheduled runs also show their limit over the budget; the constant ones do not
    assert plot.limit_curves[0].xData is None or len(plot.limit_curves[0].xData) == 0
    np.testing.assert_allclose(10 ** plot.limit_curves[3].yData,
                               2 / Schedule("step", step_size=100, gamma=0.5).rates(0.3, 400), rtol=1e-12)


def test_the_forecast_gives_each_run_its_critical_rate(tabs):
    x = np.linspace(0, 1, 100)
    lam_max = np.linalg.eigvalsh(2 / 100 * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), 100]]))[-1]
    assert lam_max == pytest.approx(2.535934, abs=1e-6)                 # the figure
    assert tabs.critical[0] == pytest.approx(2 / lam_max) and tabs.critical[1] == pytest.approx(3.8 / lam_max)
    assert tabs.critical[2] is None
    panel = tabs.forecast_panel
    verdicts = [panel.table.item(r, 2).text() for r in range(4)]
    assert verdicts[1] == "stable: η* = 1.498"
    assert verdicts[2].startswith("no exact forecast for adaptive optimizers")
    assert "unstable" in verdicts[0]


def test_adam_runs_show_their_preconditioned_sharpness(tabs):
    tr = LINEAR.trainer(sharpness_every=50)
    tr.step(200)
    tabs.setCurrentWidget(tabs.curvature)
    tabs.on_progress(tr.progress(0), LINEAR.learning_rates)
    plot = tabs.curvature.sharpness
    np.testing.assert_allclose(10 ** plot.curves[2].yData, tr.preconditioned_sharpness[2])
    np.testing.assert_allclose(10 ** plot.curves[1].yData, tr.sharpness[1])
    assert tabs.curvature.rates.marker.value() == 200
