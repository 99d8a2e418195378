"""The controls dock: presets, data, model, learning rates, training budget and speed.

View only.  The words, tooltips, bounds and groups of the settings are core's table
(``core.fields.FIELDS``); the layout is made here.  Every edit is turned into a candidate
``Experiment`` with ``dataclasses.replace(current, field=value).validated()``, so the
checks and messages are core's (they name the field and the value); a valid candidate
different from the current experiment is proposed with ``experiment_edited`` and the
window decides.  Typed values are never clamped: an invalid one turns its field red
(gui.checked.CheckedField) and shows the reason under the group, and nothing changes
until it is fixed.  Speed is not part of the experiment and is reported on its own
(``speed_changed``).

Each run is a recipe (core.optim.Recipe): the run list holds the runs, and the recipe group
(gui.recipes.RecipeEditor) the selected run's optimizer and schedule.  Runs that are all plain
gradient descent at a constant rate are proposed as ``learning_rates`` alone (``runs`` None:
the experiment LR Lab has always had); any other recipe as ``runs``.  The preset buttons are
``core.experiment.ALL_PRESETS`` (the tutorial's, then the mini-batch ones), in its order.

The batch size (``batch_size``) is a typed box (a number, or the table's word for full batch)
beside a slider over about log-evenly spaced sizes from 1 to the data's N, its last notch
"full batch" (``batch_notches``).  A typed size the slider has no notch for stays as typed (the
slider sits at the nearest notch below); one above N is refused by core's check (red box,
the message under the Training group), never clamped.
"""
from __future__ import annotations

import math
import os
from dataclasses import replace
from functools import partial

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from core.activations import ACTIVATIONS
from core.data import TARGETS
from core.errors import ConfigError
from core.experiment import ALL_PRESETS, Experiment
from core.fields import FIELDS, FULL_BATCH
from core.models import MODELS

from .checked import CheckedField
from .recipes import RecipeEditor
from .runs import RunList
from .style import ERROR_STYLE
from .worker import FULL_SPEED

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, FULL_SPEED)
DEFAULT_SPEED = 200
CSV_ITEM = "__csv__"
MODEL_LABELS = {"mlp": "network 1 → H → 1", "linear": "linear ŷ = w·x + b"}
LINEAR_TIP = ("The linear model has no hidden layer (ŷ = w·x + b): no activation and no hidden units. "
              "Choose the network to set them.")
# Short button texts of some presets (the others show their title); the buttons are PRESETS'.
PRESET_SHORT = {"tutorial": "Worked example", "exercise1": "Ex 1: 2 units", "exercise2": "Ex 2: ReLU",
                "exercise3": "Ex 3: loop", "exercise4": "Ex 4: 4 rates", "momentum": "Momentum: same η",
                "warmup": "Warmup: same η", "full-batch": "Full batch", "one-sample": "Batch of 1",
                "batch-phase": "η × batch size"}
BATCH_NOTCHES = 24             # at most this many notches on the batch-size slider (the last: full batch)


def preset_text(name: str) -> str:
    """A preset button's text: its short name, else the preset's title."""
    return PRESET_SHORT.get(name, ALL_PRESETS[name].title)


def batch_notches(n_samples: int, most: int = BATCH_NOTCHES) -> tuple:
    """The batch-size slider's notches: whole sizes from 1 to N − 1, about evenly spaced on a
    log scale (every size when there are few), then None (full batch: B = N is full batch too)."""
    n = max(int(n_samples), 1)
    if n - 1 <= most - 1:
        sizes = list(range(1, n))
    else:
        sizes = sorted({int(round(v)) for v in [2.0 ** (i * math.log2(n - 1) / (most - 2)) for i in range(most - 1)]})
    return tuple(sizes) + (None,)


def batch_text(b) -> str:
    """The batch size as its box shows it: the table's word for full batch, else the number."""
    return FULL_BATCH if b is None else str(int(b))


def plain(recipes) -> bool:
    """Every run is gradient descent at a constant rate (the experiment needs no ``runs``)."""
    return all(r.optimizer == "gd" and r.schedule.is_constant for r in recipes)
PARTS = {"x_lo": ("x_range", 0), "x_hi": ("x_range", 1)}     # a typed box that holds one part of a pair


def speed_text(speed: int) -> str:
    if speed == FULL_SPEED:
        return "full speed"
    return f"{speed:,} step/s" if speed == 1 else f"{speed:,} steps/s"


def _fmt(v) -> str:
    """Text that reads back as exactly ``v``."""
    return str(v) if isinstance(v, int) else repr(float(v))


def _tip(key: str) -> str:
    """The tooltip of a typed box, from core's table (a pair has one per part)."""
    name, part = PARTS.get(key, (key, None))
    tip = FIELDS[name].tip_text
    return tip if part is None else tip[part]


class WidthSpinBox(QSpinBox):
    """Hidden width with arrows, within the table's bounds; its line edit is a CheckedField,
    so a typed value out of range is explained (core's message), not refused."""

    def __init__(self, check, parent=None):
        super().__init__(parent)
        self.field = CheckedField(check)
        self.setLineEdit(self.field)               # the spin box keeps its own validator on it
        f = FIELDS["hidden"]
        self.setRange(f.lo, f.hi)
        self.setKeyboardTracking(False)            # valueChanged on Enter / focus out / arrows

    def validate(self, text, pos):
        state = super().validate(text, pos)
        state = state[0] if isinstance(state, tuple) else state
        if state == QValidator.State.Invalid and text.strip().lstrip("-").isdigit():
            return QValidator.State.Intermediate, text, pos
        return state, text, pos


class _Group(QGroupBox):
    """A titled group with a form and a red line for the reason a value was refused."""

    def __init__(self, title: str):
        super().__init__(title)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


class ControlPanel(QWidget):
    """Everything the user sets.  ``set_experiment`` shows an experiment (model -> view)."""

    preset_chosen = Signal(str)
    experiment_edited = Signal(object)     # a validated Experiment that differs from the shown one
    speed_changed = Signal(int)            # steps per second, or FULL_SPEED

    def __init__(self, parent=None):
        super().__init__(parent)
        self._exp = Experiment().validated()
        self.groups: dict[str, _Group] = {}      # core's group name -> its box
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for group in (self._build_presets(), self._build_data(), self._build_model(),
                      self._build_runs(), self._build_recipe(), self._build_training()):
            layout.addWidget(group)
        layout.addStretch(1)
        self.set_experiment(self._exp)
        self.set_speed(DEFAULT_SPEED)

    # -- construction ---------------------------------------------------------------------
    def _build_presets(self) -> QGroupBox:
        box = QGroupBox("Presets (from the tutorial)")
        grid = QGridLayout(box)
        self.preset_buttons = {}
        for i, name in enumerate(ALL_PRESETS):
            button = QPushButton(preset_text(name))
            button.setToolTip(ALL_PRESETS[name].description)
            button.clicked.connect(partial(self._on_preset_button_clicked, name))
            grid.addWidget(button, i // 2, i % 2)
            self.preset_buttons[name] = button
        return box

    def _build_data(self) -> QGroupBox:
        g = self.data_group = self._group("Data")
        self.dataset = QComboBox()
        self.dataset.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.dataset.setMinimumContentsLength(12)
        self.dataset.setToolTip(FIELDS["dataset"].tip_text)
        self.csv_button = QPushButton("Load CSV…")
        self.csv_button.setToolTip(FIELDS["data_file"].tip_text)
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(self.csv_button)
        g.form.addRow(FIELDS["dataset"].title, row)
        self.fields = {key: self._field(key) for key in ("samples", "noise", "x_lo", "x_hi", "seed")}
        rng = QHBoxLayout()
        rng.addWidget(self.fields["x_lo"])
        rng.addWidget(QLabel("to"))
        rng.addWidget(self.fields["x_hi"])
        g.form.addRow(FIELDS["samples"].title, self.fields["samples"])
        g.form.addRow(FIELDS["noise"].title, self.fields["noise"])
        g.form.addRow(FIELDS["x_range"].title, rng)
        g.form.addRow(FIELDS["seed"].title, self.fields["seed"])
        self.dataset.activated.connect(self._on_dataset_activated)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        return g

    def _build_model(self) -> QGroupBox:
        g = self.model_group = self._group("Model")
        self.model = QComboBox()
        self.model.setToolTip(FIELDS["model"].tip_text)
        for i, (name, description) in enumerate(MODELS.items()):
            self.model.addItem(MODEL_LABELS.get(name, name), name)
            self.model.setItemData(i, description, Qt.ToolTipRole)
        g.form.addRow(FIELDS["model"].title, self.model)
        self.model.activated.connect(self._on_model_activated)
        self.activation = QComboBox()
        self.activation.setToolTip(FIELDS["activation"].tip_text)
        for i, (name, a) in enumerate(ACTIVATIONS.items()):
            self.activation.addItem(a.label, name)
            self.activation.setItemData(i, a.formula, Qt.ToolTipRole)
        self.hidden = WidthSpinBox(partial(self._check, "hidden"))
        self.hidden.setToolTip(FIELDS["hidden"].tip_text)
        g.form.addRow(FIELDS["activation"].title, self.activation)
        g.form.addRow(FIELDS["hidden"].title, self.hidden)
        self.activation.activated.connect(self._on_activation_activated)
        self.hidden.valueChanged.connect(self._on_hidden_value_changed)
        self.hidden.field.problem.connect(g.show_error)
        return g

    def _build_runs(self) -> QGroupBox:
        g = self.runs_group = self._group("Learning rates")
        self.runs = RunList()
        g.form.addRow(self.runs)
        self.runs.runs_changed.connect(self._on_runs_runs_changed)
        self.runs.selection_changed.connect(self._on_runs_selection_changed)
        return g

    def _build_recipe(self) -> QGroupBox:
        g = self.recipe_group = _Group("Recipe of the selected run")     # RECIPE_FIELDS' groups, not FIELDS'
        g.setToolTip("The selected run's optimizer and learning-rate schedule, as PyTorch names them.")
        self.recipe = RecipeEditor()
        g.form.addRow(self.recipe)
        self.recipe.recipe_edited.connect(self._on_recipe_recipe_edited)
        self.recipe.apply_all.connect(self._on_recipe_apply_all)
        return g

    def _build_training(self) -> QGroupBox:
        g = self.training_group = self._group("Training")
        self.fields["steps"] = self._field("steps")
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setPageStep(3)
        self.speed.setToolTip("Steps per second, from one at a time to as fast as the machine goes.")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(100)
        row = QHBoxLayout()
        row.addWidget(self.speed, 1)
        row.addWidget(self.speed_label)
        g.form.addRow(FIELDS["steps"].title, self.fields["steps"])
        g.form.addRow(FIELDS["batch_size"].title, self._build_batch())
        g.form.addRow("Speed", row)
        self.speed.valueChanged.connect(self._on_speed_value_changed)
        return g

    def _build_batch(self) -> QHBoxLayout:
        """The batch size: a typed box (core's check) and a log slider over ``batch_notches``."""
        self.fields["batch_size"] = self._field("batch_size")
        self.batch = self.fields["batch_size"]
        self.batch.setMaximumWidth(70)
        self.batch_slider = QSlider(Qt.Horizontal)
        self.batch_slider.setToolTip("Batch size, on a log scale from 1 sample per update to the whole data set "
                                     "(right end: full batch).")
        self.batch_notches = (None,)
        row = QHBoxLayout()
        row.addWidget(self.batch_slider, 1)
        row.addWidget(self.batch)
        self.batch_slider.valueChanged.connect(self._on_batch_slider_value_changed)
        return row

    def _show_batch(self, exp: Experiment) -> None:
        """The slider's notches for the data's N, at the notch of ``exp.batch_size`` (or just below it)."""
        try:
            n = exp.n_samples()
        except ConfigError:                      # (a CSV that went away: the loader says so)
            n = 1
        self.batch_notches = batch_notches(n)
        b = exp.batch_size
        sizes = self.batch_notches[:-1]
        index = len(sizes) if b is None or b >= n else max(sum(1 for v in sizes if v <= b) - 1, 0)
        self.batch_slider.blockSignals(True)
        self.batch_slider.setRange(0, len(self.batch_notches) - 1)
        self.batch_slider.setValue(index)
        self.batch_slider.blockSignals(False)
        self.batch_slider.setEnabled(n > 1)

    def _group(self, title: str) -> "_Group":
        """A group of the form, named as core's table groups the fields."""
        g = self.groups[title] = _Group(title)
        return g

    def _field(self, key: str) -> CheckedField:
        """A typed box for a field (or a part of one), checked by core; its reasons go under its group."""
        f = CheckedField(partial(self._check, key), _tip(key))
        f.committed.connect(partial(self._on_field_committed, key))
        f.problem.connect(self._group_of(key).show_error)
        return f

    def _group_of(self, key: str) -> "_Group":
        return self.groups[FIELDS[PARTS.get(key, (key,))[0]].group]

    # -- candidates -----------------------------------------------------------------------
    def _changes(self, key: str, value) -> dict:
        exp = self._exp
        if key == "x_lo":
            return {"x_range": (value, exp.x_range[1])}
        if key == "x_hi":
            return {"x_range": (exp.x_range[0], value)}
        if key == "hidden":
            return {"hidden": value, "init": None if exp.init is not None and value != exp.hidden else exp.init}
        if key == "model":                 # explicit parameters of the other model have another shape
            return {"model": value, "init": None if exp.init is not None and value != exp.model else exp.init}
        return {key: value}

    def _check(self, key: str, text) -> Experiment:
        """The experiment with one field changed, or ConfigError with core's message."""
        return replace(self._exp, **self._changes(key, text.strip() if isinstance(text, str) else text)).validated()

    def _propose(self, candidate: Experiment) -> None:
        if candidate != self._exp:
            self.experiment_edited.emit(candidate)

    def _try(self, key: str, value) -> None:
        group = self._group_of(key)
        try:
            candidate = self._check(key, value)
        except ConfigError as e:
            group.show_error(str(e))
            return
        group.show_error("")
        self._propose(candidate)

    # -- model -> view --------------------------------------------------------------------
    def set_experiment(self, exp: Experiment) -> None:
        """Show ``exp`` in every field (no signals)."""
        self._exp = exp
        self.dataset.blockSignals(True)
        self.dataset.clear()
        for name, target in TARGETS.items():
            self.dataset.addItem(target.label, name)
        if exp.data_file:
            self.dataset.addItem(f"Your data: {os.path.basename(exp.data_file)}", CSV_ITEM)
            self.dataset.setItemData(self.dataset.count() - 1, exp.data_file, Qt.ToolTipRole)
            self.dataset.setCurrentIndex(self.dataset.count() - 1)
        else:
            self.dataset.setCurrentIndex(self.dataset.findData(exp.dataset))
        self.dataset.blockSignals(False)
        for key, field in self.fields.items():
            name, part = PARTS.get(key, (key, None))
            value = getattr(exp, name)
            field.setText(batch_text(value) if key == "batch_size" else _fmt(value if part is None else value[part]))
        self._show_batch(exp)
        generated = exp.data_file is None and TARGETS[exp.dataset].generated
        for key in ("samples", "noise", "x_lo", "x_hi"):
            self.fields[key].setEnabled(generated)
        self.activation.blockSignals(True)
        self.activation.setCurrentIndex(self.activation.findData(exp.activation))
        self.activation.blockSignals(False)
        self.hidden.blockSignals(True)
        self.hidden.setValue(exp.hidden)
        self.hidden.blockSignals(False)
        self.model.blockSignals(True)
        self.model.setCurrentIndex(self.model.findData(exp.model))
        self.model.blockSignals(False)
        network = exp.model_spec().has_hidden_layer
        for w, tip in ((self.activation, FIELDS["activation"].tip_text), (self.hidden, FIELDS["hidden"].tip_text)):
            w.setEnabled(network)
            w.setToolTip(tip if network else LINEAR_TIP)
        self.runs.set_runs(exp.recipes())
        self._show_recipe()
        for group in (*self.groups.values(), self.recipe_group):
            group.show_error("")

    def _show_recipe(self) -> None:
        """The selected run's recipe in the recipe group."""
        k = self.runs.selected()
        recipes = self._exp.recipes()
        if k < len(recipes):
            self.recipe.set_recipe(recipes[k], self._exp.steps, where=f"run {k + 1}: ")

    def set_speed(self, speed: int) -> None:
        index = SPEEDS.index(speed) if speed in SPEEDS else SPEEDS.index(DEFAULT_SPEED)
        self.speed.blockSignals(True)
        self.speed.setValue(index)
        self.speed.blockSignals(False)
        self.speed_label.setText(speed_text(SPEEDS[index]))

    def current_speed(self) -> int:
        return SPEEDS[self.speed.value()]

    def load_csv(self, path: str) -> None:
        """Propose the experiment on the user's CSV (the window reads it and reports errors)."""
        self._try("data_file", str(path))

    # -- view -> model --------------------------------------------------------------------
    def _on_preset_button_clicked(self, name: str, checked: bool = False) -> None:
        self.preset_chosen.emit(name)

    @Slot(int)
    def _on_dataset_activated(self, index: int) -> None:
        name = self.dataset.itemData(index)
        exp = self._exp
        if name == CSV_ITEM or (name == exp.dataset and exp.data_file is None):
            return
        changes = {"dataset": name, "data_file": None,
                   "init": None if exp.dataset == "tutorial" else exp.init}
        was_generated = exp.data_file is None and TARGETS[exp.dataset].generated
        if TARGETS[name].generated and not was_generated and exp.samples < 2:
            default = Experiment()                      # one point is no curve: start from the defaults
            changes.update(samples=default.samples, noise=default.noise if exp.noise == 0 else exp.noise)
        try:
            candidate = replace(exp, **changes).validated()
        except ConfigError as e:
            self.data_group.show_error(str(e))
            return
        self._propose(candidate)

    @Slot()
    def _on_csv_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load x,y data", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.load_csv(path)

    @Slot(int)
    def _on_model_activated(self, index: int) -> None:
        self._try("model", self.model.itemData(index))

    @Slot(int)
    def _on_activation_activated(self, index: int) -> None:
        self._try("activation", self.activation.itemData(index))

    @Slot(int)
    def _on_hidden_value_changed(self, value: int) -> None:
        self._try("hidden", value)

    def _on_field_committed(self, key: str, candidate: Experiment) -> None:   # core's check passed
        self._group_of(key).show_error("")
        self._propose(candidate)

    def _propose_runs(self, recipes: tuple, group: "_Group") -> None:
        """Propose the experiment with these runs (``learning_rates`` alone when they are plain);
        core's message under ``group`` if it refuses them."""
        recipes = tuple(recipes)
        changes = ({"runs": None, "learning_rates": tuple(r.lr for r in recipes)} if plain(recipes)
                   else {"runs": recipes})
        try:
            candidate = replace(self._exp, **changes).validated()
        except ConfigError as e:
            group.show_error(str(e))
            return
        group.show_error("")
        self._propose(candidate)

    @Slot(tuple)
    def _on_runs_runs_changed(self, recipes: tuple) -> None:
        self._propose_runs(recipes, self.runs_group)

    @Slot(int)
    def _on_runs_selection_changed(self, k: int) -> None:
        self._show_recipe()

    @Slot(object)
    def _on_recipe_recipe_edited(self, recipe) -> None:
        k = self.runs.selected()
        recipes = self._exp.recipes()
        self._propose_runs(recipes[:k] + (recipe,) + recipes[k + 1:], self.recipe_group)

    @Slot()
    def _on_recipe_apply_all(self) -> None:
        chosen = self.recipe.recipe()
        self._propose_runs(tuple(replace(chosen, lr=r.lr) for r in self._exp.recipes()), self.recipe_group)

    @Slot(int)
    def _on_batch_slider_value_changed(self, index: int) -> None:
        text = batch_text(self.batch_notches[index])
        self.batch.setText(text)
        self._try("batch_size", text)

    @Slot(int)
    def _on_speed_value_changed(self, index: int) -> None:
        self.speed_label.setText(speed_text(SPEEDS[index]))
        self.speed_changed.emit(SPEEDS[index])
