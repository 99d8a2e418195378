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
