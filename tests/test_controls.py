"""The controls dock on its own, offscreen: its words, tooltips and bounds are core's table;
UI -> model (a typed or chosen value proposes the validated experiment, a bad one is
explained and proposes nothing) and model -> UI (set_experiment shows every field).

Oracles: core.fields.FIELDS, Experiment.validated() called in the test, and the messages
written out by hand.
"""
from dataclasses import replace

import pytest
from conftest import type_in

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QFormLayout  # noqa: E402

from core.experiment import preset  # noqa: E402
from core.fields import FIELDS  # noqa: E402
from gui.controls import LINEAR_TIP  # noqa: E402
from gui.style import FIELD_ERROR_STYLE  # noqa: E402

EX4 = preset("exercise4").validated()




# -- the table's words, tooltips, bounds and groups ---------------------------------------------
def form_labels(group):
    role = QFormLayout.ItemRole.LabelRole
    items = (group.form.itemAt(i, role) for i in range(group.form.rowCount()))
    return [item.widget().text() for item in items if item is not None]


def test_labels_tooltips_and_groups_come_from_the_table(panel):
    titles = lambda *names: [FIELDS[n].title for n in names]            # noqa: E731
    assert form_labels(panel.groups["Data"]) == titles("dataset", "samples", "noise", "x_range", "seed")
    assert form_labels(panel.groups["Model"]) == titles("model", "activation", "hidden")
    assert form_labels(panel.groups["Training"]) == titles("steps", "batch_size") + ["Speed"]
    widgets = {"dataset": panel.dataset, "samples": panel.fields["samples"], "noise": panel.fields["noise"],
               "seed": panel.fields["seed"], "model": panel.model, "activation": panel.activation,
               "hidden": panel.hidden, "steps": panel.fields["steps"], "learning_rates": panel.runs.editor.field}
    for name, w in widgets.items():
        assert panel.groups[FIELDS[name].group].isAncestorOf(w), name
        assert w.toolTip() == FIELDS[name].tip_text, name
    assert panel.csv_button.toolTip() == FIELDS["data_file"].tip_text
    assert (panel.fields["x_lo"].toolTip(), panel.fields["x_hi"].toolTip()) == FIELDS["x_range"].tip_text
    assert {g.title() for g in panel.groups.values()} == {f.group for f in FIELDS.values()}
    assert FIELDS["samples"].title == "Samples" and FIELDS["noise"].tip_text == \
        "Standard deviation of the Gaussian noise added to each y."            # today's words, written out


def test_the_width_spin_box_has_the_tables_bounds(panel):
    assert (panel.hidden.minimum(), panel.hidden.maximum()) == (FIELDS["hidden"].lo, FIELDS["hidden"].hi) == (1, 512)


# -- model -> UI -----------------------------------------------------------------------------------
def test_set_experiment_shows_every_field(panel):
    exp = replace(EX4, samples=17, noise=0.25, x_range=(-1.5, 3.0), activation="tanh", hidden=7, seed=42,
                  steps=321, learning_rates=(0.003, 0.2)).validated()
    panel.set_experiment(exp)
    f = panel.fields
    assert (int(f["samples"].text()), float(f["noise"].text()), float(f["x_lo"].text()), float(f["x_hi"].text()),
            int(f["seed"].text()), int(f["steps"].text())) == (17, 0.25, -1.5, 3.0, 42, 321)
    assert panel.activation.currentData() == "tanh" and panel.hidden.value() == 7
    assert panel.model.currentData() == "mlp" and panel.dataset.currentData() == "linear"
    assert panel.runs.rates() == (0.003, 0.2)
    assert all(w.styleSheet() == "" for w in f.values()) and panel.proposed == []


def test_the_linear_model_and_the_tutorial_point_disable_what_they_do_not_use(panel):
    panel.set_experiment(replace(EX4, model="linear").validated())
    assert not panel.activation.isEnabled() and not panel.hidden.isEnabled()
    assert panel.hidden.toolTip() == LINEAR_TIP
    panel.set_experiment(preset("tutorial").validated())
    assert all(not panel.fields[k].isEnabled() for k in ("samples", "noise", "x_lo", "x_hi"))
    assert panel.hidden.isEnabled() and panel.hidden.toolTip() == FIELDS["hidden"].tip_text


# -- UI -> model -----------------------------------------------------------------------------------
@pytest.mark.parametrize("key, text, change", [
    ("samples", "20", {"samples": 20}),
    ("noise", "0", {"noise": 0.0}),
    ("x_lo", "-1", {"x_range": (-1.0, 2.0)}),
    ("x_hi", "5", {"x_range": (0.0, 5.0)}),
    ("seed", "7", {"seed": 7}),
    ("steps", "300", {"steps": 300}),
])
def test_a_typed_value_proposes_the_validated_experiment(panel, key, text, change):
    type_in(panel.fields[key], text)
    assert panel.proposed == [replace(EX4, **change).validated()]


@pytest.mark.parametrize("key, text, group, message", [
    ("samples", "0", "Data", "samples must be between 1 and 100000; got 0"),
    ("samples", "1.5", "Data", "samples must be a whole number; got '1.5'"),
    ("noise", "-1", "Data", "noise must be >= 0; got -1"),
    ("x_lo", "5", "Data", "x range must have LO < HI; got 5 2"),
    ("seed", "-3", "Data", "seed must be between 0 and 9223372036854775807; got -3"),
    ("steps", "0", "Training", "steps must be between 1 and 10000000; got 0"),
])
def test_a_bad_typed_value_is_explained_under_its_group_and_proposes_nothing(panel, key, text, group, message):
    field = panel.fields[key]
    type_in(field, text)
    assert panel.groups[group].error.text() == message and panel.groups[group].error.isVisibleTo(panel)
    assert field.styleSheet() == FIELD_ERROR_STYLE and field.text() == text
    assert panel.proposed == []
    panel.set_experiment(EX4)                                           # the window shows the model again
    assert not panel.groups[group].error.isVisibleTo(panel) and field.styleSheet() == ""


def test_choices_and_width_propose_the_validated_experiment(panel):
    i = panel.activation.findData("relu")
    panel.activation.setCurrentIndex(i)
    panel.activation.activated.emit(i)
    panel.hidden.setValue(5)
    assert panel.proposed == [replace(EX4, activation="relu").validated(), replace(EX4, hidden=5).validated()]


def test_a_new_width_or_model_drops_explicit_initial_parameters(panel):
    tutorial = preset("tutorial").validated()
    panel.set_experiment(tutorial)
    panel.hidden.setValue(3)
    i = panel.model.findData("linear")
    panel.model.setCurrentIndex(i)
    panel.model.activated.emit(i)
    assert panel.proposed == [replace(tutorial, hidden=3, init=None).validated(),
                              replace(tutorial, model="linear", init=None).validated()]


def test_a_typed_width_out_of_range_is_explained_and_red(panel):
    edit = panel.hidden.lineEdit()
    panel.hidden.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, "600")
    assert panel.groups["Model"].error.text() == "hidden must be between 1 and 512; got 600"
    assert edit.styleSheet() == FIELD_ERROR_STYLE
    QTest.keyClick(edit, Qt.Key_Return)
    assert panel.proposed == [] and panel.hidden.value() == EX4.hidden
