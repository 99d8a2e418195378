"""Data sets and the CSV loader."""
import numpy as np
import pytest

from core.data import TARGETS, load_csv, make_dataset
from core.errors import ConfigError


def test_linear_data_is_evenly_spaced_with_seeded_noise():
    d1 = make_dataset("linear", 11, 0.1, (0, 2), np.random.default_rng(7))
    d2 = make_dataset("linear", 11, 0.1, (0, 2), np.random.default_rng(7))
    np.testing.assert_allclose(d1.x, np.arange(11) * 0.2, atol=1e-15)
    np.testing.assert_array_equal(d1.y, d2.y)
    noise = d1.y - (2 * d1.x + 1)
    np.testing.assert_allclose(noise, 0.1 * np.random.default_rng(7).standard_normal(11))


def test_noise_free_targets():
    rng = np.random.default_rng(0)
    s = make_dataset("sine", 5, 0.0, (0, 4), rng)
    np.testing.assert_allclose(s.y, [0, 1, 0, -1, 0], atol=1e-12)
    a = make_dataset("abs", 5, 0.0, (-1, 3), rng)
    np.testing.assert_allclose(a.y, [2, 1, 0, 1, 2])
    t = make_dataset("tutorial", 50, 1.0, (0, 1), rng)
    assert list(t.x) == [3.0] and list(t.y) == [2.5]
    assert set(TARGETS) >= {"tutorial", "linear", "sine", "abs"}


def test_csv_with_and_without_header(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x,y\n0,1\n1,3\n\n2,5\n")
    b = tmp_path / "b.csv"
    b.write_text("0,1\n1,3\n2,5\n")
    for p in (a, b):
        d = load_csv(p)
        assert list(d.x) == [0, 1, 2] and list(d.y) == [1, 3, 5]


@pytest.mark.parametrize("text, words", [
    ("x,y\n0,1\n1,abc\n", ["line 3", "column y", "'abc'"]),
    ("0,1\nfoo,2\n", ["line 2", "column x", "'foo'"]),
    ("0,1\n1,nan\n", ["line 2", "column y", "'nan'"]),
    ("0,1,2\n", ["line 1", "3 columns"]),
    ("x,y\n", ["no data rows"]),
])
def test_bad_csv_cell_names_line_and_column(tmp_path, text, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_csv(p)
    for w in words:
        assert w in str(e.value)
    assert "\n" not in str(e.value)


def test_a_data_file_over_the_samples_limit_is_refused_while_read(tmp_path):
    from core.data import MAX_SAMPLES, count_rows
    p = tmp_path / "big.csv"
    p.write_text("x,y\n" + "1,2\n" * MAX_SAMPLES)                 # exactly the limit, and a header
    assert len(load_csv(p)) == MAX_SAMPLES and count_rows(p) == MAX_SAMPLES + 1
    p.write_text("1,2\n" * (MAX_SAMPLES + 1))
    with pytest.raises(ConfigError, match=f"more than {MAX_SAMPLES} data rows"):
        load_csv(p)
    assert count_rows(p) == MAX_SAMPLES + 1                          # perhaps a header: load_csv decides
    p.write_text("1,2\n" * (MAX_SAMPLES + 2))
    for f in (load_csv, count_rows):
        with pytest.raises(ConfigError, match=f"more than {MAX_SAMPLES} data rows; samples must be between 1 and "
                                              f"{MAX_SAMPLES}"):
            f(p)
    assert len(load_csv(p, max_rows=MAX_SAMPLES + 2)) == MAX_SAMPLES + 2   # the cap refused it, not the parser


def test_data_beyond_the_magnitude_bound_and_names_that_are_not_files_are_refused(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("0,1\n1,1.5e308\n")
    with pytest.raises(ConfigError, match=r"line 2, column y: '1.5e308' is beyond ±1e\+300"):
        load_csv(p)
    p.write_text("0,1\n1,-1e300\n")
    assert load_csv(p).y[1] == -1e300
    for bad in (0, 1, None):
        with pytest.raises(ConfigError, match="data file must be a file name"):
            load_csv(bad)
