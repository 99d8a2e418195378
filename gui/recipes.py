"""The recipe of the selected run: its optimizer with that optimizer's parameters, its
learning-rate schedule with the schedule's parameters and an optional warmup.

View only.  The form is built from core's table (``core.fields.RECIPE_FIELDS``: titles,
tooltips, bounds, choices); every typed value is a ``gui.checked.CheckedField`` whose check
is core's ``Recipe.check`` of the recipe with that one value changed, so an invalid value
turns the field red with core's message and nothing else changes.  Only the parameters the
chosen optimizer and schedule read are shown.  ``recipe_edited`` proposes a checked recipe
for the selected run; ``apply_all`` asks for this recipe on every run (each keeping its rate).

``recipe_text`` is the run list's compact form of a recipe: "lr=0.5 · momentum 0.9 · cosine".
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.errors import ConfigError
from core.fields import OPTIMIZERS, RECIPE_FIELDS, SCHEDULES
from core.optim import OPTIMIZER_PARAMS, Recipe
from core.report import lr_label
from core.schedules import Schedule

from . import format as fmt
from .checked import CheckedField
from .style import ERROR_STYLE

F = RECIPE_FIELDS
# the typed boxes each optimizer / schedule shows (core's parameter names; betas is beta1 and beta2)
OPTIMIZER_KEYS = {name: tuple(k for p in params for k in (("beta1", "beta2") if p == "betas" else (p,)))
                  for name, params in OPTIMIZER_PARAMS.items()}
WARMUP_KEYS = ("warmup_steps", "warmup_start_factor")
SCHEDULE_KEYS = {name: Schedule(name).params + (() if name == "one-cycle" else WARMUP_KEYS) for name in SCHEDULES}
TYPED_KEYS = tuple(k for k in F if k not in ("optimizer", "schedule"))


# -- a recipe, one value at a time --------------------------------------------------------------
def recipe_value(recipe: Recipe, key: str):
    """The value of RECIPE_FIELDS' ``key`` in ``recipe``."""
    if key in ("beta1", "beta2"):
        return recipe.betas[key == "beta2"]
    if key == "schedule":
        return recipe.schedule.name
    if key in ("optimizer", "momentum", "alpha", "eps"):
        return getattr(recipe, key)
    return getattr(recipe.schedule, key)


def with_value(recipe: Recipe, key: str, value) -> Recipe:
    """``recipe`` with RECIPE_FIELDS' ``key`` set to ``value`` (not checked)."""
    if key in ("beta1", "beta2"):
        betas = list(recipe.betas)
        betas[key == "beta2"] = value
        return replace(recipe, betas=tuple(betas))
    if key in ("optimizer", "momentum", "alpha", "eps"):
        return replace(recipe, **{key: value})
    return replace(recipe, schedule=replace(recipe.schedule, **{"name" if key == "schedule" else key: value}))


def _num(v) -> str:
    return f"{v:g}"


def optimizer_text(r: Recipe) -> str:
    """"momentum 0.9", "adam 0.9/0.999", "rmsprop α 0.99", "gd" (ε only when not the default)."""
    eps = "" if r.eps == F["eps"].default else f" ε {_num(r.eps)}"
    return {"gd": "gd",
            "momentum": f"momentum {_num(r.momentum)}",
            "nesterov": f"nesterov {_num(r.momentum)}",
            "rmsprop": f"rmsprop α {_num(r.alpha)}{eps}",
            "adam": f"adam {_num(r.betas[0])}/{_num(r.betas[1])}{eps}"}[r.optimizer]


def schedule_text(s: Schedule) -> str:
    """"constant", "step 1000×0.1", "exponential ×0.999", "cosine", "one-cycle", with "warmup W + " in front."""
    text = {"constant": "constant",
            "step": f"step {s.step_size}×{_num(s.gamma)}",
            "exponential": f"exponential ×{_num(s.gamma)}",
            "cosine": "cosine" if s.eta_min == 0 else f"cosine to {_num(s.eta_min)}",
            "one-cycle": "one-cycle"}[s.name]
    return (f"warmup {s.warmup_steps} + " if s.warmup_steps else "") + text


def recipe_text(r: Recipe) -> str:
    """The run list's line: "lr=0.5" for plain gradient descent at a constant rate, else
    "lr=0.5 · momentum 0.9 · cosine" (what differs from it)."""
    parts = [lr_label(r.lr)]
    if r.optimizer != "gd":
        parts.append(optimizer_text(r))
    if not r.schedule.is_constant:
        parts.append(schedule_text(r.schedule))
    return " · ".join(parts)


# -- the form ------------------------------------------------------------------------------------
class RecipeEditor(QWidget):
    """Optimizer and schedule of one run (``set_recipe``), with only their parameters shown."""

    recipe_edited = Signal(object)     # a checked core.optim.Recipe, different from the shown one
    apply_all = Signal()               # give every run this recipe (each keeps its rate)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._recipe, self._steps, self._where = Recipe(), None, ""
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.combos = {key: self._combo(key, choices) for key, choices in
                       (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES))}
        self.fields: dict[str, CheckedField] = {}
        self.form.addRow(F["optimizer"].title, self.combos["optimizer"])
        for key in TYPED_KEYS:
            if key == "step_size":                           # the schedule's rows follow its combo
                self.form.addRow(F["schedule"].title, self.combos["schedule"])
            field = self.fields[key] = CheckedField(partial(self._check, key), F[key].tip_text)
            field.setMaximumWidth(130)
            field.committed.connect(self._on_field_committed)
            field.problem.connect(self.show_error)
            self.form.addRow(F[key].title, field)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.apply_button = QPushButton("Apply to all runs")
        self.apply_button.setToolTip("Give every run this optimizer and schedule; each run keeps its own learning "
                                     "rate (a new run starts with the selected run's recipe).")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.apply_button)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.set_recipe(self._recipe)

    def _combo(self, key: str, choices: dict) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(F[key].tip_text)
        for i, (name, what) in enumerate(choices.items()):
            combo.addItem(name, name)
            combo.setItemData(i, what, Qt.ToolTipRole)
        combo.activated.connect(partial(self._on_combo_activated, key))
        return combo

    # -- model -> view ------------------------------------------------------------------------
    def recipe(self) -> Recipe:
        return self._recipe

    def set_recipe(self, recipe: Recipe, steps: int | None = None, where: str = "") -> None:
        """Show ``recipe`` (no signal); ``steps``: the budget its schedule is checked against;
        ``where`` prefixes core's messages ("run 2: ")."""
        self._recipe, self._steps, self._where = recipe, steps, where
        for key, combo in self.combos.items():
            combo.setCurrentIndex(combo.findData(recipe_value(recipe, key)))
        for key, field in self.fields.items():
            field.setText(fmt.exact(recipe_value(recipe, key)))
        self._show_rows()
        self.show_error("")

    def shown_keys(self) -> tuple:
        """The typed boxes shown for this recipe."""
        return OPTIMIZER_KEYS[self._recipe.optimizer] + SCHEDULE_KEYS[self._recipe.schedule.name]

    def _show_rows(self) -> None:
        shown = set(self.shown_keys())
        for key, field in self.fields.items():
            self.form.setRowVisible(field, key in shown)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()

    # -- checks ---------------------------------------------------------------------------------
    def _check(self, key: str, value) -> Recipe:
        """The shown recipe with one value changed, checked by core (ConfigError names the field)."""
        value = value.strip() if isinstance(value, str) else value
        return with_value(self._recipe, key, value).check(self._steps, where=self._where)

    def _propose(self, recipe: Recipe) -> None:
        if recipe != self._recipe:
            self.recipe_edited.emit(recipe)

    # -- view -> model --------------------------------------------------------------------------
    def _on_combo_activated(self, key: str, index: int) -> None:
        combo = self.combos[key]
        try:
            recipe = self._check(key, combo.itemData(index))
        except ConfigError as e:                          # e.g. one-cycle with a warmup: nothing changes
            combo.setCurrentIndex(combo.findData(recipe_value(self._recipe, key)))
            self.show_error(str(e))
            return
        self.show_error("")
        self._propose(recipe)

    @Slot(object)
    def _on_field_committed(self, recipe: Recipe) -> None:      # core's check passed
        self.show_error("")
        self._propose(recipe)

    @Slot()
    def _on_apply_button_clicked(self) -> None:
        self.apply_all.emit()
