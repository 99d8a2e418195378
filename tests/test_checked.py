"""The one checked-field mechanism: red with core's message while invalid, committed only valid.

Oracles: core's public checks called in the test, and the messages written out by hand.
"""
from functools import partial

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core.fields import check_integer  # noqa: E402
from gui.checked import CheckedField  # noqa: E402
from gui.style import FIELD_ERROR_STYLE  # noqa: E402


@pytest.fixture
def field(qtbot):
    f = CheckedField(partial(check_integer, "width", lo=1, hi=10), "A width, 1 to 10.")
    qtbot.addWidget(f)
    f.show()
    qtbot.waitExposed(f)
    f.setFocus()
    f.problems, f.commits = [], []
    f.problem.connect(f.problems.append)
    f.committed.connect(f.commits.append)
    return f


def type_text(f, text):
    f.selectAll()
    QTest.keyClicks(f, text)


def test_invalid_text_is_red_with_cores_message_and_never_committed(field):
    type_text(field, "12")
    assert field.problems[-1] == "width must be between 1 and 10; got 12"
    assert field.styleSheet() == FIELD_ERROR_STYLE and field.message == field.problems[-1]
    QTest.keyClick(field, Qt.Key_Return)
    assert field.commits == [] and field.text() == "12"              # not clamped, not committed
    type_text(field, "abc")
    assert field.problems[-1] == "width must be a whole number; got 'abc'"
    field.clearFocus()                                                 # leaving it commits nothing either
    assert field.commits == []


def test_valid_text_clears_the_red_and_commits_the_checked_value(field):
    type_text(field, "0")
    assert field.styleSheet() == FIELD_ERROR_STYLE
    type_text(field, " 7")
    assert field.problems[-1] == "" and field.styleSheet() == ""
    QTest.keyClick(field, Qt.Key_Return)
    assert field.commits == [7] and type(field.commits[0]) is int     # the check's value, not the text


def test_a_text_set_by_the_program_is_checked_but_explains_nothing(field):
    field.setText("99")
    assert field.styleSheet() == FIELD_ERROR_STYLE and field.problems == []
    field.setText("3")
    assert field.styleSheet() == "" and field.problems == [] and field.commits == []
