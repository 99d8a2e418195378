"""gui.format: every number shown as text (oracles: the texts the views showed before it existed,
and reading a text back)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from gui import format as fmt


def test_number_six_significant_digits_and_the_special_values():
    assert fmt.number(0.1) == "0.1"
    assert fmt.number(1234567.0) == "1.23457e+06"
    assert fmt.number(-0.0) == "0"                          # not "-0"
    assert fmt.number(float("nan")) == "—"
    assert fmt.number(float("inf")) == "∞" and fmt.number(-math.inf) == "−∞"


def test_short_and_rounded_agree():
    assert fmt.short(0.50312) == "0.503" and fmt.short(1.2e-05) == "1.2e-05"
    assert fmt.short(2 / 3, 5) == "0.66667"
    assert fmt.short(math.nan) == "—" and fmt.short(math.inf) == "—"
    assert fmt.rounded(0.50312) == 0.503 and fmt.short(fmt.rounded(0.50312)) == fmt.short(0.50312)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**6, 10**6))
def test_exact_reads_back_as_the_same_value(v):
    text = fmt.exact(v)
    assert (int(text) if isinstance(v, int) else float(text)) == v


@pytest.mark.parametrize("v, ref, text", [(1.0, 2.0, "0.5×"), (3.1, 1.0, "3.1×"), (12.4, 1.0, "12×"),
                                          (0.333, 1.0, "0.33×")])
def test_times(v, ref, text):
    assert fmt.times(v, ref) == text


@pytest.mark.parametrize("x, text", [(20.0, "20"), (0.001, "0.001"), (1e-5, "1e-5"), (1e5, "1e5"), (2e6, "2e6")])
def test_tick_plain_numbers(x, text):
    assert fmt.tick(x) == text


def test_the_views_use_it():
    """One family: the names the views used are this module's functions."""
    from gui.analysis_views import common
    from gui.plots import format_number
    assert format_number is fmt.number and common.short is fmt.short and common.rounded is fmt.rounded
