"""The experiment: its JSON format, its validation messages, the presets and the seed."""
import json
from dataclasses import replace

import numpy as np
import pytest

from core.errors import ConfigError
from core.experiment import PRESETS, Experiment, preset


def test_json_round_trip_and_version(tmp_path):
    exp = replace(preset("tutorial"), learning_rates=(0.1, 0.5)).validated()
    d = json.loads(exp.to_json())
    assert d["format"] == "lrlab-experiment" and d["version"] == 1
    assert d["init"] == {"w1": [2.0], "b1": [-1.0], "w2": [1.5], "b2": 0.5}
    assert Experiment.from_dict(d) == exp


@pytest.mark.parametrize("change, words", [
    ({"learning_rates": [0.1, -1]}, ["learning rate", "-1"]),
    ({"learning_rates": ["x"]}, ["learning rate", "'x'"]),
    ({"learning_rates": []}, ["learning rate"]),
    ({"hidden": 0}, ["hidden", "0"]),
    ({"hidden": 513}, ["hidden", "513"]),
    ({"steps": 0}, ["steps", "0"]),
    ({"activation": "swish"}, ["activation", "'swish'"]),
    ({"dataset": "moons"}, ["dataset", "'moons'"]),
    ({"x_range": [2, 1]}, ["x range", "2 1"]),
    ({"noise": -0.5}, ["noise", "-0.5"]),
    ({"version": 9}, ["version", "9"]),
    ({"colour": "red"}, ["unknown key", "'colour'"]),
    ({"init": {"w1": [1, 2, 3], "b1": [0, 0], "w2": [1, 1], "b2": 0}}, ["init w1", "2 values", "got 3"]),
])
def test_validation_names_the_field_and_the_value(change, words):
    d = json.loads(Experiment().to_json())
    d.update(change)
    with pytest.raises(ConfigError) as e:
        Experiment.from_dict(d)
    for w in words:
        assert w in str(e.value)


def test_presets_are_the_tutorials():
    assert list(PRESETS) == ["tutorial", "exercise1", "exercise2", "exercise3", "exercise4", "momentum", "warmup"]
    t = preset("tutorial").validated()
    assert (t.hidden, t.activation, t.learning_rates, t.dataset) == (1, "sigmoid", (0.1,), "tutorial")
    assert preset("exercise1").validated().hidden == 2
    assert preset("exercise2").activation == "relu"
    assert preset("exercise3").dataset == "linear"
    assert preset("exercise4").learning_rates == (0.01, 0.1, 0.5, 1.0)
    for p in PRESETS.values():
        p.experiment.validated()


def test_seed_drives_data_and_initial_parameters():
    a, b = Experiment(seed=1).validated(), Experiment(seed=2).validated()
    assert not np.array_equal(a.make_data().y, b.make_data().y)
    assert not np.array_equal(a.initial_params(), b.initial_params())
    np.testing.assert_array_equal(a.initial_params(), Experiment(seed=1).validated().initial_params())


# -- every malformed file is a ConfigError (one line), never another exception ------------------
import math  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.errors import SHOWN_CHARS  # noqa: E402
from core.experiment import MEMORY_FLOOR, memory_limit  # noqa: E402
from core.fields import FIELDS, MAX_RUNS  # noqa: E402

MALFORMED = {
    "a list for dataset": '{"dataset": ["linear"]}',
    "a list for model": '{"model": ["mlp"]}',
    "a list for activation": '{"activation": ["relu"]}',
    "learning_rates null": '{"learning_rates": null}',
    "learning_rates an object": '{"learning_rates": {"a": 1}}',
    "a number for data_file": '{"data_file": 0}',
    "true for data_file": '{"data_file": true}',
    "a list for data_file": '{"data_file": ["a.csv"]}',
    "an empty data_file": '{"data_file": ""}',
    "a NUL in data_file": '{"data_file": "a\\u0000.csv"}',
    "nesting past the parser": "[" * 100_000 + "]" * 100_000,
    "nesting in a value": '{"learning_rates": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "an integer past 4300 digits": '{"samples": ' + "9" * 5000 + "}",
    "a 400-digit noise": '{"noise": ' + "9" * 400 + "}",
    "a 400-digit rate": '{"learning_rates": [' + "9" * 400 + "]}",
    "a 400-digit x": '{"x_range": [0, ' + "9" * 400 + "]}",
    "a 400-digit float": '{"noise": 1' + "0" * 400 + ".0}",
    "10^6 learning rates": '{"learning_rates": [' + ",".join(["0.1"] * 1_000_000) + "]}",
    "a list": "[]",
    "null": "null",
    "a list for format": '{"format": ["x"]}',
    "x_range an object": '{"x_range": {"a": 1, "b": 2}}',
    "x_range of three": '{"x_range": [1, 2, 3]}',
    "x beyond 1e300": '{"x_range": [-1.5e308, 1.5e308]}',
    "noise 1e308": '{"noise": 1e308}',
    "Infinity steps": '{"steps": Infinity}',
    "init a list": '{"init": [1, 2]}',
    "a 1 MB string": '{"dataset": "' + "a" * 1_000_000 + '"}',
    "a 1 MB key": '{"' + "k" * 1_000_000 + '": 1}',
    "trailing NUL": '{"noise": 0.2}\x00',
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_every_hand_made_malformed_file_is_one_short_config_error(name, tmp_path):
    path = tmp_path / "e.json"
    path.write_text(MALFORMED[name], encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        Experiment.load(path)
    message = str(e.value)
    assert "\n" not in message and len(message) < 400, message


def test_a_config_may_start_with_a_bom(tmp_path):
    path = tmp_path / "e.json"
    path.write_text('\ufeff{"noise": 0.25}', encoding="utf-8")
    assert Experiment.load(path).noise == 0.25


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=5),
                    max_leaves=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(FIELDS)), JSON, min_size=1, max_size=4))
def test_random_json_values_are_a_config_error_or_a_valid_experiment(d):
    try:
        exp = Experiment.from_dict(d)
    except ConfigError as e:
        assert "\n" not in str(e) and len(str(e)) < 400
        return
    assert exp.validated() == exp and 1 <= len(exp.learning_rates) <= MAX_RUNS
    assert exp.data_file is None or isinstance(exp.data_file, str)
    assert all(math.isfinite(v) for v in (*exp.learning_rates, *exp.x_range, exp.noise))
    try:
        exp.check_working_set()
    except ConfigError:
        pass


def test_quoted_values_are_cut():
    with pytest.raises(ConfigError) as e:
        Experiment.from_dict({"activation": "x" * 50_000_000})
    assert len(str(e.value)) < 80 + SHOWN_CHARS and str(e.value).endswith("…")


# -- a relative data file is the experiment file's neighbour -----------------------------------
def test_a_relative_data_file_is_read_from_the_experiment_files_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("0,1\n1,3\n")
    (tmp_path / "e.json").write_text(json.dumps({"data_file": "sub/d.csv"}))
    monkeypatch.chdir("/")
    exp = Experiment.load(tmp_path / "e.json")
    assert exp.data_file == str(tmp_path / "sub" / "d.csv")
    assert list(exp.make_data().y) == [1.0, 3.0]


def test_a_data_file_beside_the_experiment_is_saved_relative_any_other_absolute(tmp_path):
    exp = Experiment(data_file=str(tmp_path / "sub" / "d.csv"))
    assert json.loads(exp.file_text(tmp_path / "e.json"))["data_file"] == "sub/d.csv"
    assert json.loads(exp.file_text(tmp_path / "sub" / "e.json"))["data_file"] == "d.csv"
    elsewhere = tmp_path / "other" / "e.json"
    assert json.loads(exp.file_text(elsewhere))["data_file"] == str(tmp_path / "sub" / "d.csv")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("0,1\n")
    (tmp_path / "e.json").write_text(exp.file_text(tmp_path / "e.json"))
    assert Experiment.load(tmp_path / "e.json").data_file == str(tmp_path / "sub" / "d.csv")   # round trip


# -- memory is checked before it is spent ---------------------------------------------------------
def test_working_set_counts_losses_work_area_rings_and_hessians():
    K, N, H, S = 3, 40, 5, 100
    exp = Experiment(samples=N, hidden=H, steps=S, learning_rates=(0.1, 0.2, 0.3)).validated()
    P = 3 * H + 1
    by_hand = 8 * (K * (S + 1) + (2 * H + 2) * K * N + 2 * 51 * K * P + 6 * N)
    assert exp.working_set_bytes() == by_hand
    assert exp.working_set_bytes(loss_records=2) == by_hand + 8 * K * (S + 1)
    assert exp.working_set_bytes(hessian_runs=2) == by_hand + 8 * 2 * (N * (P + 6 * H + 2) + 3 * P * P)
    assert preset("tutorial").working_set_bytes() == preset("tutorial").working_set_bytes(1)   # one point


def test_an_experiment_over_the_memory_limit_is_refused_naming_its_sizes(monkeypatch):
    assert memory_limit() >= MEMORY_FLOOR
    exp = Experiment(samples=100_000, hidden=512, learning_rates=(0.1,) * 16).validated()
    monkeypatch.setattr("core.experiment.memory_limit", lambda: exp.working_set_bytes() - 1)
    with pytest.raises(ConfigError) as e:
        exp.check_working_set()
    assert "16 runs × 100000 samples × 512 hidden units, 2000 steps" in str(e.value)
    monkeypatch.setattr("core.experiment.memory_limit", lambda: exp.working_set_bytes())
    exp.check_working_set()
