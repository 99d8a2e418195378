"""The learning rates: a list of runs (colour, rate, outcome in words) and the editor of
the selected run's rate, a slider over decades beside a field that takes typed values.

A learning rate spans decades, so the slider is logarithmic: each decade has the ten
"nice" values of LOG_MANTISSAS (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8), from 1e-5 to 10.
The field accepts any value core accepts (a positive finite number, e.g. 3e-3 or 20);
a value outside the slider's span keeps the slider at its end and is used as typed.
An invalid value is never clamped: the field turns red, the reason (core's message,
naming the field and the value) is shown under it, and the model keeps its value.

Once the curvature at the initial parameters is known (``set_critical_lr``), the slider
shows where the cliff is before training starts: a red triangle at η* = 2/λ_max with a
red band above it, and a grey mark at η = 1.  For ReLU networks each run's row shows
how many hidden units are dead (``set_dead_units``), live.

Each run is a recipe (core.optim.Recipe: rate, optimizer, schedule); its row reads it
compactly ("lr=0.5 · momentum 0.9 · cosine", gui.recipes.recipe_text).  Adding a run copies
the selected run's recipe at a new rate; the rate editor changes the selected run's rate only.
"""
from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSizePolicy, QSlider, QStyle, QStyleOptionSlider,
                               QVBoxLayout, QWidget)

from core.fields import FIELDS, MAX_RUNS  # noqa: F401 (one limit: the flags, the files, this list)
from core.optim import Recipe
from core.outcomes import DIVERGED, NOT_STARTED
from core.report import lr_label

from . import format as fmt
from . import style
from .checked import CheckedField
from .recipes import recipe_text
from .style import CLIFF_COLOR, ERROR_STYLE

# η* of each optimizer in words (core.optim's limit factor c over λ_max; none for RMSprop, Adam)
CRITICAL_FORMULAS = {"gd": "2/λ_max", "momentum": "(2 + 2β)/λ_max", "nesterov": "(2 + 2β)/((1 + 2β)·λ_max)"}
LOG_MANTISSAS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
LOG_MIN_DECADE, LOG_MAX_DECADE = -5, 1        # the slider spans 1e-5 … 10
SLIDER_TIP = "Drag to set the selected run's learning rate on a log scale, 1e-5 to 10 (a tick per decade)."


# -- the logarithmic scale ----------------------------------------------------------------
def slider_values() -> list[float]:
    """Every value the slider can take, increasing: 1e-5, 1.2e-5, … 8, 10."""
    out = [float(f"{m}e{d}") for d in range(LOG_MIN_DECADE, LOG_MAX_DECADE) for m in LOG_MANTISSAS]
    return out + [float(f"1e{LOG_MAX_DECADE}")]


SLIDER_VALUES = slider_values()
SLIDER_LOGS = [math.log10(v) for v in SLIDER_VALUES]


def slider_index(lr: float) -> int:
    """The slider position nearest to ``lr`` on a log scale (the ends for values beyond)."""
    target = math.log10(lr)
    return min(range(len(SLIDER_LOGS)), key=lambda i: abs(SLIDER_LOGS[i] - target))


def parse_rate(text: str) -> float:
    """A learning rate from typed text, or ConfigError with core's message."""
    return FIELDS["learning_rates"].check(text.strip())[0]


def slider_position(lr: float) -> float:
    """Where ``lr`` sits on the slider, in (fractional) slider steps: log-linear between the
    two slider values around it, clamped to the ends."""
    if not (lr > 0 and math.isfinite(lr)):
        return 0.0
    v, logs = math.log10(lr), SLIDER_LOGS
    if v <= logs[0]:
        return 0.0
    if v >= logs[-1]:
        return float(len(logs) - 1)
    i = max(k for k in range(len(logs) - 1) if logs[k] <= v)
    return i + (v - logs[i]) / (logs[i + 1] - logs[i])


def next_rate(rates) -> float:
    """A new run's rate: the next slider value a half decade above the largest rate."""
    top = max(rates) if rates else 0.01
    for v in SLIDER_VALUES:
        if v >= top * 3 * (1 - 1e-9):
            return v
    return float(top * 3)


class MarkedSlider(QSlider):
    """The log-rate slider with a tick per decade and, once known, the cliff drawn under the
    groove: a red band from η* = 2/λ_max to the end with a red triangle at η*, and a dark
    mark at η = 1 (no rate above it can converge)."""

    def __init__(self, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.critical_lr = None
        self.setTickPosition(QSlider.TicksBelow)
        self.setTickInterval(len(LOG_MANTISSAS))             # one tick per decade
        self.setMinimumHeight(34)

    def set_critical_lr(self, value) -> None:
        self.critical_lr = None if value is None else float(value)
        self.update()

    def x_of(self, position: float) -> float:
        """Pixel x of a (fractional) slider position, where the handle's centre would be."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderHandle, self)
        span = max(1, self.maximum() - self.minimum())
        half = handle.width() / 2
        return groove.left() + half + (position - self.minimum()) / span * (groove.width() - handle.width())

    def marker_x(self) -> float | None:
        """Pixel x of η* (None until it is known)."""
        return None if self.critical_lr is None else self.x_of(slider_position(self.critical_lr))

    def bound_x(self) -> float:
        return self.x_of(slider_position(1.0))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        x = self.marker_x()
        if x is None:
            return
        h = self.height()
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        band = QColor(CLIFF_COLOR)
        band.setAlpha(110)
        right = self.x_of(self.maximum())
        p.fillRect(QRectF(x, h - 9, max(0.0, right - x), 7), band)
        p.setPen(QPen(QColor(CLIFF_COLOR), 2))
        p.drawLine(QPointF(x, 2), QPointF(x, h - 12))           # through the groove
        p.setPen(QPen(QColor(CLIFF_COLOR), 1))
        p.setBrush(QBrush(QColor(CLIFF_COLOR)))
        p.drawPolygon(QPolygonF([QPointF(x, h - 14), QPointF(x - 7, h - 1), QPointF(x + 7, h - 1)]))
        bx = self.bound_x()
        p.setPen(QPen(QColor(style.ETA_ONE_COLOR), 2))
        p.drawLine(QPointF(bx, h - 16), QPointF(bx, h - 1))
        p.end()


class LogRateEditor(QWidget):
    """A log-scale slider over decades beside a field that accepts typed values."""

    committed = Signal(float)          # a valid rate the user chose

    def __init__(self, parent=None):
        super().__init__(parent)
        self._value = 0.1
        self.slider = MarkedSlider()
        self.slider.setRange(0, len(SLIDER_VALUES) - 1)
        self.slider.setPageStep(len(LOG_MANTISSAS))          # PgUp/PgDn: one decade
        self.slider.setToolTip(SLIDER_TIP)
        self.field = CheckedField(parse_rate, FIELDS["learning_rates"].tip_text)   # core decides what a rate is
        self.field.setMaximumWidth(110)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.scale = QLabel("1e-5 … 10, log scale")
        self.scale.setStyleSheet("color: palette(mid);")
        self.cliff = QLabel()                            # η* in words, under the slider
        self.cliff.setWordWrap(True)
        self.cliff.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.cliff)
        layout.addWidget(self.error)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self.field.problem.connect(self._show_error)
        self.field.committed.connect(self._on_field_committed)
        self.set_value(self._value)

    def _place_slider(self, lr: float) -> None:
        """Move the slider to ``lr``'s position without its valueChanged."""
        self.slider.blockSignals(True)
        self.slider.setValue(slider_index(lr))
        self.slider.blockSignals(False)

    def set_value(self, lr: float) -> None:
        """Model -> view: show ``lr`` (no signal)."""
        self._value = float(lr)
        self._place_slider(self._value)
        self.field.setText(fmt.exact(self._value))
        self._show_error("")

    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()

    def set_critical_lr(self, value, formula: str = "2/λ_max") -> None:
        """Mark η* = ``formula`` (at the initial parameters: 2/λ_max for gradient descent) on the
        slider; None removes the mark."""
        self.slider.set_critical_lr(value)
        if value is None:
            self.cliff.hide()
            self.slider.setToolTip(SLIDER_TIP)
            return
        where = "" if SLIDER_VALUES[0] <= value <= SLIDER_VALUES[-1] else " (beyond the slider: marked at its end)"
        html = formula.replace("λ_max", "λ<sub>max</sub>")
        self.cliff.setText(f"<span style='color:{CLIFF_COLOR}'>▲ η* = {html} = <b>{value:.3g}</b></span>{where}: "
                           "above it the steepest direction grows from the start (red band). The grey mark is "
                           "η = 1: no rate above it can converge.")
        self.cliff.show()
        self.slider.setToolTip(f"{SLIDER_TIP}\nRed: η* = {formula} = {value:.3g}, from the curvature at the initial "
                               "parameters — above it the steepest direction of the loss grows every step at the "
                               "start (a forecast for the network, exact for the linear model).\nDark mark: η = 1, "
                               "above which no rate can converge (∂²L/∂b² = 2 for the output bias).")

    @Slot(str)
    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # -- slots ----------------------------------------------------------------------------
    @Slot(int)
    def _on_slider_value_changed(self, index: int) -> None:
        value = SLIDER_VALUES[index]
        self.field.setText(fmt.exact(value))
        self._show_error("")
        if not self.slider.isSliderDown():              # keys, clicks, wheel: commit now
            self._commit(value)

    @Slot()
    def _on_slider_released(self) -> None:
        self._commit(SLIDER_VALUES[self.slider.value()])

    @Slot(object)
    def _on_field_committed(self, value: float) -> None:     # a rate core accepts, typed
        self._place_slider(value)
        self._commit(value)

    def _commit(self, value: float) -> None:
        self._show_error("")
        if value != self._value:
            self._value = value
            self.committed.emit(value)


class RunRow(QWidget):
    """One run in the list: colour swatch, learning rate, outcome in words."""

    def __init__(self, color: str, lr: float, parent=None):
        super().__init__(parent)
        self.swatch = QLabel()
        self.swatch.setFixedSize(18, 18)
        self.rate = QLabel()
        self.rate.setMinimumWidth(80)
        self.outcome = QLabel()
        self.outcome.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.dead = QLabel()                             # ReLU units that output 0 on every sample
        self.dead.setStyleSheet("color: #8C8C8C;")
        self.dead.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.swatch)
        layout.addWidget(self.rate)
        layout.addWidget(self.outcome, 1)
        layout.addWidget(self.dead)
        self.set_run(color, lr)
        self.set_outcome(NOT_STARTED, -1)

    def set_run(self, color: str, lr: float, recipe: Recipe | None = None) -> None:
        """Its colour and its recipe in words (``recipe`` None: gradient descent at ``lr``)."""
        self.swatch.setStyleSheet(f"background: {color}; border: 1px solid #404040; border-radius: 3px;")
        text = lr_label(lr) if recipe is None else recipe_text(recipe)
        if text != self.rate.text():
            self.rate.setText(text)
            self.rate.setToolTip(text)

    def set_dead(self, n, hidden: int | None = None) -> None:
        """Show how many hidden units are dead (None hides it)."""
        if n is None:
            self.dead.hide()
            return
        n = int(n)
        text = f"{n}/{hidden} dead" if hidden else f"{n} dead"
        if text != self.dead.text():
            self.dead.setText(text)
            self.dead.setStyleSheet("color: #D55E00; font-weight: bold;" if n else "color: #8C8C8C;")
            self.dead.setToolTip(f"{n} of this run's ReLU units output 0 on every sample: their gradient is 0, "
                                 "so they no longer learn." if n else "No dead ReLU unit: every unit is active "
                                 "on some sample.")
        self.dead.show()

    def set_outcome(self, outcome: str, diverged_step: int) -> None:
        s = style.outcome_style(outcome)
        text = style.outcome_text(outcome)
        if outcome == DIVERGED and diverged_step >= 0:
            text += f" at step {diverged_step}"
        if text != self.outcome.text():
            self.outcome.setText(text)
            self.outcome.setStyleSheet(f"color: {s.color}; font-weight: bold;")


class RunList(QWidget):
    """The runs of the experiment and the editor of the selected run's learning rate.

    View only: ``rates_changed`` proposes new rates; the window validates them with the
    rest of the experiment and calls ``set_rates`` back.
    """

    rates_changed = Signal(tuple)        # proposed learning rates
    runs_changed = Signal(tuple)         # proposed recipes (emitted with rates_changed: the same change)
    selection_changed = Signal(int)      # index of the selected run

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rates: tuple = ()
        self._recipes: tuple = ()
        self._critical = None
        self.list = QListWidget()
        self.list.setToolTip("The runs, one per learning rate, in their plot colours; select one to edit "
                             "its rate and to see its parameters.")
        self.list.setSelectionMode(QListWidget.SingleSelection)
        self.set_dark(False)
        self.add_button = QPushButton("Add run")
        self.add_button.setToolTip("Add a run at a learning rate half a decade above the largest one.")
        self.remove_button = QPushButton("Remove run")
        self.remove_button.setToolTip("Remove the selected run (an experiment keeps at least one).")
        self.editor = LogRateEditor()
        self.editor_label = QLabel("Learning rate of the selected run:")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.editor_label)
        layout.addWidget(self.editor)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.editor.committed.connect(self._on_editor_committed)

    def set_dark(self, dark: bool) -> None:
        """Explicit colours: a style sheet does not follow a later palette change."""
        self._dark = bool(dark)
        p = style.palette(dark)
        base, text, selected = p["background"], p["foreground"], "#2F4A63" if dark else "#D3E5F3"
        self.list.setStyleSheet(f"QListWidget {{ background: {base}; color: {text}; }} "
                                f"QListWidget::item:selected {{ background: {selected}; }}")
        for k in range(self.list.count()):
            self.row(k).rate.setStyleSheet(f"color: {text};")

    # -- model -> view --------------------------------------------------------------------
    def rates(self) -> tuple:
        return self._rates

    def selected(self) -> int:
        return max(0, self.list.currentRow())

    def row(self, k: int) -> RunRow:
        return self.list.itemWidget(self.list.item(k))

    def recipes(self) -> tuple:
        return self._recipes

    def set_rates(self, rates) -> None:
        """Runs of gradient descent at these rates (``set_runs``)."""
        self.set_runs(tuple(Recipe(float(r)) for r in rates))

    def set_runs(self, recipes) -> None:
        """Show these runs (core.optim.Recipe each; no signal)."""
        recipes = tuple(recipes)
        rates = tuple(float(r.lr) for r in recipes)
        keep = self.selected()
        self._rates, self._recipes = rates, recipes
        self.list.blockSignals(True)
        if self.list.count() != len(rates):
            self.list.clear()
            for k, lr in enumerate(rates):
                item = QListWidgetItem()
                row = RunRow(style.run_color(k), lr)
                item.setSizeHint(row.sizeHint())
                self.list.addItem(item)
                self.list.setItemWidget(item, row)
            self.set_dark(self._dark)
        for k, r in enumerate(recipes):
            self.row(k).set_run(style.run_color(k), r.lr, r)
            self.row(k).set_outcome(NOT_STARTED, -1)
        self.list.setCurrentRow(min(keep, len(rates) - 1))
        self.list.blockSignals(False)
        rows = min(max(len(rates), 2), 8)
        self.list.setFixedHeight(rows * (self.row(0).sizeHint().height() + 2) + 8)
        self.remove_button.setEnabled(len(rates) > 1)
        self.add_button.setEnabled(len(rates) < MAX_RUNS)
        self.editor.set_value(rates[self.selected()] if rates else 0.1)
        self._show_critical()

    def set_outcomes(self, outcomes, diverged_steps) -> None:
        for k, (outcome, d) in enumerate(zip(outcomes, diverged_steps)):
            if k < self.list.count():
                self.row(k).set_outcome(outcome, int(d))

    def outcome_text(self, k: int) -> str:
        return self.row(k).outcome.text()

    def set_dead_units(self, dead, hidden: int | None = None) -> None:
        """Dead ReLU units per run (core.engine.Progress.dead_units), or None to hide them."""
        for k in range(self.list.count()):
            self.row(k).set_dead(None if dead is None or k >= len(dead) else dead[k], hidden)

    def dead_text(self, k: int) -> str:
        d = self.row(k).dead
        return "" if d.isHidden() else d.text()

    def set_critical_lr(self, value) -> None:
        """η* at the initial parameters, marked on the rate slider for the selected run: one
        value for every run (2/λ_max), or one per run (core.optim's ``critical_lr``: c/λ_max with
        each optimizer's c; None or NaN where there is none, RMSprop and Adam); None: unknown."""
        self._critical = value
        self._show_critical()

    def _show_critical(self) -> None:
        value, k = self._critical, self.selected()
        if value is not None and not isinstance(value, (int, float)):
            value = list(value)
            value = value[k] if k < len(value) else None
        if value is not None and not math.isfinite(value):
            value = None
        r = self._recipes[k] if k < len(self._recipes) else Recipe()
        self.editor.set_critical_lr(value, CRITICAL_FORMULAS.get(r.optimizer, "2/λ_max"))

    # -- view -> model --------------------------------------------------------------------
    @Slot(int)
    def _on_list_current_row_changed(self, k: int) -> None:
        if 0 <= k < len(self._rates):
            self.editor.set_value(self._rates[k])
            self._show_critical()
            self.selection_changed.emit(k)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        if len(self._rates) >= MAX_RUNS:
            return
        new = len(self._rates)
        self._emit(self._recipes + (replace(self._recipes[self.selected()], lr=next_rate(self._rates)),))
        if self.list.count() > new:                     # accepted: select the new run
            self.list.setCurrentRow(new)

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        if len(self._rates) <= 1:
            return
        k = self.selected()
        self._emit(self._recipes[:k] + self._recipes[k + 1:])

    @Slot(float)
    def _on_editor_committed(self, lr: float) -> None:
        k = self.selected()
        if 0 <= k < len(self._rates) and self._rates[k] != lr:
            self._emit(self._recipes[:k] + (replace(self._recipes[k], lr=lr),) + self._recipes[k + 1:])

    def _emit(self, recipes: tuple) -> None:
        self.rates_changed.emit(tuple(r.lr for r in recipes))
        self.runs_changed.emit(recipes)
