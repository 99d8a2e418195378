"""A typed setting checked by core: the one checked-field mechanism of the window.

``CheckedField`` is a line edit given ``check(text)`` — a core function that returns the
value or raises ConfigError with a message naming the field and the value.  While the text
is invalid the field is red (whoever set the text) and, as the user types, ``problem``
carries core's message (typing is never blocked, nothing is clamped); ``committed``
carries the checked value on Enter or when the field is left, and only when the text is
valid.  The controls' number fields, the
learning-rate editor and (as its line edit) the hidden-width spin box all use it.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QLineEdit

from core.errors import ConfigError

from .style import FIELD_ERROR_STYLE


class CoreValidator(QValidator):
    """Acceptable when the field's check passes, else Intermediate (typing is never blocked):
    a QLineEdit emits editingFinished only for a valid text."""

    def __init__(self, field: "CheckedField"):
        super().__init__(field)
        self.field = field

    def validate(self, text, pos):
        state = QValidator.State.Intermediate if self.field.problem_with(text) else QValidator.State.Acceptable
        return state, text, pos


class CheckedField(QLineEdit):
    """A line edit whose text core checks: red with core's message while invalid; ``committed``
    only with a valid value."""

    problem = Signal(str)          # core's message, or "" when the text is fine
    committed = Signal(object)     # check(text), on Enter or leaving the field, only when it passes

    def __init__(self, check, tooltip: str = "", parent=None):
        super().__init__(parent)
        self.check = check
        self.message = ""
        self.setValidator(CoreValidator(self))
        self.setToolTip(tooltip)
        self.textChanged.connect(self._on_self_text_changed)
        self.textEdited.connect(self._on_self_text_edited)
        self.editingFinished.connect(self._on_self_editing_finished)

    def value(self):
        """The checked value of the current text, or ConfigError with core's message."""
        return self.check(self.text())

    def problem_with(self, text: str) -> str:
        """Core's message about ``text``, or "" when it is valid."""
        try:
            self.check(text)
        except ConfigError as e:
            return str(e)
        return ""

    def _show(self, message: str) -> None:
        if bool(message) != bool(self.message):
            self.setStyleSheet(FIELD_ERROR_STYLE if message else "")
        self.message = message

    @Slot(str)
    def _on_self_text_changed(self, text: str) -> None:      # typed or set: red while invalid
        self._show(self.problem_with(text))

    @Slot(str)
    def _on_self_text_edited(self, text: str) -> None:       # typed: say why
        self.problem.emit(self.problem_with(text))

    @Slot()
    def _on_self_editing_finished(self) -> None:     # a QLineEdit emits it only for an acceptable text
        try:
            value = self.check(self.text())
        except ConfigError as e:                     # (a spin box's own validator let it through)
            self._show(str(e))
            self.problem.emit(self.message)
            return
        self.committed.emit(value)
