"""The learning rates: the log scale, the rate editor (slider and typed field) and the run list.

Oracles: the decades written out (1e-5 … 10, ten values each), core's messages written out
by hand, and the rates the test itself proposes.
"""
import math

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core.errors import ConfigError  # noqa: E402
from gui.format import exact  # noqa: E402
from gui.runs import (SLIDER_VALUES, LogRateEditor, RunList, next_rate, parse_rate,  # noqa: E402
                      slider_index, slider_position)
from gui.style import FIELD_ERROR_STYLE  # noqa: E402


# -- the scale ---------------------------------------------------------------------------------
def test_the_slider_spans_six_decades_of_nice_values():
    assert len(SLIDER_VALUES) == 6 * 10 + 1 and SLIDER_VALUES[0] == 1e-5 and SLIDER_VALUES[-1] == 10.0
    assert SLIDER_VALUES[10:20] == [1e-4, 1.2e-4, 1.5e-4, 2e-4, 2.5e-4, 3e-4, 4e-4, 5e-4, 6e-4, 8e-4]
    assert SLIDER_VALUES[slider_index(0.1)] == 0.1 and SLIDER_VALUES[slider_index(0.0031)] == 0.003
    assert slider_index(1e-9) == 0 and slider_index(1e3) == len(SLIDER_VALUES) - 1
    assert slider_position(0.1) == SLIDER_VALUES.index(0.1)
    i = SLIDER_VALUES.index(0.1)                                # halfway between 0.1 and 0.12 on a log scale
    assert slider_position(math.sqrt(0.1 * 0.12)) == pytest.approx(i + 0.5)


def test_rates_read_back_exactly_and_bad_ones_get_cores_message():
    for lr in (0.1, 0.003, 1e-05, 20.0, 0.30000000000000004):
        assert parse_rate(exact(lr)) == lr
    assert parse_rate(" 3e-3 ") == 0.003
    for text, message in (("-1", "learning rate must be > 0; got -1"),
                          ("abc", "learning rate must be a number; got 'abc'"),
                          ("inf", "learning rate must be a finite number; got inf")):
        with pytest.raises(ConfigError) as e:
            parse_rate(text)
        assert str(e.value) == message


def test_a_new_run_is_half_a_decade_above_the_largest():
    assert next_rate((0.01, 0.1)) == 0.3 and next_rate((1.0,)) == 3.0 and next_rate(()) == 0.03
    assert next_rate((10.0,)) == 30.0                              # beyond the slider


# -- the editor --------------------------------------------------------------------------------
@pytest.fixture
def editor(qtbot):
    e = LogRateEditor()
    qtbot.addWidget(e)
    e.show()
    qtbot.waitExposed(e)
    e.commits = []
    e.committed.connect(e.commits.append)
    return e


def type_rate(field, text):
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key_Return)


def test_a_typed_rate_is_committed_exactly_and_moves_the_slider(editor):
    type_rate(editor.field, "3e-3")
    assert editor.commits == [0.003] and SLIDER_VALUES[editor.slider.value()] == 0.003
    type_rate(editor.field, "20")                                   # beyond the slider: used as typed
    assert editor.commits == [0.003, 20.0] and editor.slider.value() == editor.slider.maximum()


def test_a_bad_typed_rate_is_red_with_cores_message_and_not_committed(editor):
    type_rate(editor.field, "0")
    assert editor.error_text() == "learning rate must be > 0; got 0"
    assert editor.field.styleSheet() == FIELD_ERROR_STYLE and editor.field.text() == "0"
    assert editor.commits == []
    editor.set_value(0.5)                                           # model -> view clears it
    assert editor.error_text() == "" and editor.field.styleSheet() == "" and editor.field.text() == "0.5"


def test_the_slider_commits_its_value_and_shows_it(editor):
    editor.slider.setValue(editor.slider.minimum())
    assert editor.commits == [1e-5] and editor.field.text() == "1e-05"


# -- the list ----------------------------------------------------------------------------------
@pytest.fixture
def runs(qtbot):
    r = RunList()
    qtbot.addWidget(r)
    r.set_rates((0.01, 0.1, 0.5))
    r.show()
    qtbot.waitExposed(r)
    r.proposed = []
    r.rates_changed.connect(r.proposed.append)
    return r


def test_the_list_proposes_added_removed_and_edited_rates(runs):
    assert runs.list.count() == 3 and runs.editor.field.text() == "0.01"
    runs.add_button.click()
    runs.list.setCurrentRow(1)
    assert runs.editor.field.text() == "0.1"
    runs.remove_button.click()
    type_rate(runs.editor.field, "0.2")
    assert runs.proposed == [(0.01, 0.1, 0.5, 1.5), (0.01, 0.5), (0.01, 0.2, 0.5)]
    assert runs.rates() == (0.01, 0.1, 0.5)                         # view only: the window sets the rates back


def test_one_run_cannot_be_removed(runs):
    runs.set_rates((0.1,))
    assert not runs.remove_button.isEnabled()
