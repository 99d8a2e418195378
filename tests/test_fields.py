"""The table of experiment fields: every field described once, validation generated from it,
JSON written and read through it, the public checks and their messages.

Oracles: the messages and the file format written out by hand (as the CLI and the
window have always shown them), the bounds the tutorial's app documents (hidden 1..512,
samples 1..100000, steps 1..10^7), and a table changed in the test (the checks follow).
"""
import dataclasses
import json

import pytest

import core.fields as cf
from core.errors import ConfigError
from core.experiment import PRESETS, Experiment, preset
from core.fields import FIELDS, KINDS, check_integer, check_number


# -- the table ---------------------------------------------------------------------------
def test_every_experiment_field_is_described_once_in_its_order():
    assert list(FIELDS) == [f.name for f in dataclasses.fields(Experiment)]
    default = Experiment()
    for name, f in FIELDS.items():
        assert f.name == name and f.kind in KINDS
        assert getattr(default, name) == f.default, name
        assert f.label and f.title and f.help and f.tip, name
        assert f.group in ("Data", "Model", "Learning rates", "Training"), name
    assert Experiment().validated() == Experiment()            # the defaults are valid


def test_flags_are_unique_and_every_field_but_init_and_runs_has_one():
    flags = [f.flag for f in FIELDS.values() if f.flag]
    assert len(flags) == len(set(flags)) == len(FIELDS) - 2
    assert FIELDS["init"].flag is None
    assert FIELDS["runs"].flag is None          # recipes come from RECIPE_FIELDS' flags (not yet on the command line)


def test_words_fill_in_the_bounds_and_the_choices():
    assert FIELDS["hidden"].help_text == "hidden units, 1 to 512"
    assert FIELDS["hidden"].tip_text == "Number of hidden units, 1 to 512."
    assert FIELDS["dataset"].help_text == "one of: tutorial, linear, sine, abs"
    assert FIELDS["model"].help_text == "one of: mlp, linear (linear: no hidden layer)"
    assert FIELDS["activation"].help_text == "one of: sigmoid, relu, tanh, identity"
    assert FIELDS["x_range"].tip_text == ("Smallest x of the generated points.", "Largest x of the generated points.")
    assert (FIELDS["x_range"].nargs, FIELDS["learning_rates"].nargs, FIELDS["hidden"].nargs) == (2, "+", None)


def test_a_field_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        cf.Field("beta", "float", 0.9, "beta", "β", "help", "tip", "Training")


# -- validation, generated from the table -------------------------------------------------
@pytest.mark.parametrize("change, message", [
    ({"noise": -1}, "noise must be >= 0; got -1"),
    ({"noise": "-0.5"}, "noise must be >= 0; got -0.5"),
    ({"noise": "abc"}, "noise must be a number; got 'abc'"),
    ({"noise": float("inf")}, "noise must be a finite number; got inf"),
    ({"hidden": 0}, "hidden must be between 1 and 512; got 0"),
    ({"hidden": 513}, "hidden must be between 1 and 512; got 513"),
    ({"hidden": 2.5}, "hidden must be a whole number; got 2.5"),
    ({"hidden": True}, "hidden must be a whole number; got True"),
    ({"samples": "1.5"}, "samples must be a whole number; got '1.5'"),
    ({"samples": 0}, "samples must be between 1 and 100000; got 0"),
    ({"steps": 10_000_001}, "steps must be between 1 and 10000000; got 10000001"),
    ({"seed": -1}, "seed must be between 0 and 9223372036854775807; got -1"),
    ({"learning_rates": (0.1, -1)}, "learning rate must be > 0; got -1"),
    ({"learning_rates": ("-0.0",)}, "learning rate must be > 0; got -0.0"),
    ({"learning_rates": ("abc",)}, "learning rate must be a number; got 'abc'"),
    ({"learning_rates": ()}, "learning rate: give at least one"),
    ({"learning_rates": None}, "learning rate must be a list of numbers; got None"),
    ({"x_range": ("2", "1")}, "x range must have LO < HI; got 2 1"),
    ({"x_range": (1.0, 1.0)}, "x range must have LO < HI; got 1 1"),
    ({"x_range": 3}, "x range must be two numbers LO HI; got 3"),
    ({"x_range": ("a", 1)}, "x range must be a number; got 'a'"),
    ({"model": "rnn"}, "model must be one of mlp, linear; got 'rnn'"),
    ({"model": ["mlp"]}, "model must be one of mlp, linear; got ['mlp']"),
    ({"activation": "swish"}, "activation must be one of sigmoid, relu, tanh, identity; got 'swish'"),
    ({"dataset": "moons"}, "dataset must be one of tutorial, linear, sine, abs; got 'moons'"),
    ({"init": {"w1": [1, 2, 3], "b1": [0, 0], "w2": [1, 1], "b2": 0}},
     "init w1 must have 2 values (one per hidden unit); got 3"),
    ({"init": {"w1": [1, 2], "b1": [0, 0], "w2": [1, 1]}},
     "init must have exactly the keys w1, b1, w2, b2; missing b2"),
    ({"model": "linear", "init": {"w": 1}}, "init of the linear model must have exactly the keys w, b; got {'w': 1}"),
])
def test_messages_name_the_field_and_repeat_the_value(change, message):
    with pytest.raises(ConfigError) as e:
        dataclasses.replace(Experiment(), **change).validated()
    assert str(e.value) == message


def test_validated_normalizes_types():
    exp = Experiment(samples="7", noise=1, x_range=("-1", 2), hidden=3.0, learning_rates="0.5",
                     steps="10", seed=" 4 ").validated()
    assert (exp.samples, exp.noise, exp.x_range, exp.hidden, exp.learning_rates, exp.steps, exp.seed) == \
        (7, 1.0, (-1.0, 2.0), 3, (0.5,), 10, 4)
    assert type(exp.noise) is float and type(exp.hidden) is int and type(exp.x_range) is tuple


def test_dataset_is_not_checked_when_a_data_file_is_given():
    assert Experiment(dataset="moons", data_file="x.csv").validated().dataset == "moons"


def test_init_is_checked_against_the_model_and_the_width():
    exp = Experiment(hidden=1, init={"w1": 2, "b1": [-1], "w2": 1.5, "b2": [0.5]}).validated()
    assert exp.init == {"w1": [2.0], "b1": [-1.0], "w2": [1.5], "b2": 0.5}
    assert Experiment(model="linear", init={"w": 1, "b": "2"}).validated().init == {"w": 1.0, "b": 2.0}
    with pytest.raises(ConfigError, match="init w1 must have 3 values"):
        Experiment(hidden=3, init={"w1": [1], "b1": [1], "w2": [1], "b2": 0}).validated()


def test_validation_follows_the_table(monkeypatch):
    """Change a bound in the table: the experiment's check and its message follow."""
    monkeypatch.setitem(FIELDS, "hidden", dataclasses.replace(FIELDS["hidden"], hi=8))
    monkeypatch.setitem(FIELDS, "noise", dataclasses.replace(FIELDS["noise"], hi=1.5))
    assert Experiment(hidden=8).validated().hidden == 8
    with pytest.raises(ConfigError, match=r"^hidden must be between 1 and 8; got 9$"):
        Experiment(hidden=9).validated()
    with pytest.raises(ConfigError, match=r"^noise must be <= 1.5; got 2$"):
        Experiment(noise=2).validated()
    monkeypatch.setitem(FIELDS, "noise", dataclasses.replace(FIELDS["noise"], hi=1.5, hi_open=True))
    assert Experiment(noise=1.4).validated().noise == 1.4
    with pytest.raises(ConfigError, match=r"^noise must be < 1.5; got 1.5$"):
        Experiment(noise=1.5).validated()


def test_the_first_bad_field_in_the_tables_order_is_reported():
    with pytest.raises(ConfigError, match="^noise"):
        Experiment(noise=-1, hidden=0, learning_rates=(-1,)).validated()


# -- the public checks -------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (("--lr-min", "0", True), "--lr-min must be > 0; got 0"),
    (("--lr-max", "x", True), "--lr-max must be a number; got 'x'"),
    (("learning rate", " -1 ", True), "learning rate must be > 0; got -1"),
    (("x", "nan"), "x must be a finite number; got nan"),
    (("x", None), "x must be a number; got None"),
    (("x", False), "x must be a number; got False"),
])
def test_check_number_messages(args, message):
    with pytest.raises(ConfigError) as e:
        check_number(*args)
    assert str(e.value) == message


def test_check_number_and_check_integer_values():
    assert check_number("x", " 1e-3 ") == 0.001 and check_number("x", -2) == -2.0
    assert check_integer("n", " 12 ", 1, 20) == 12 and check_integer("n", 3.0, 1, 20) == 3
    assert check_integer("n", "5", 3) == 5                       # no upper bound


@pytest.mark.parametrize("args, message", [
    (("--range-steps", "2", 3), "--range-steps must be >= 3; got 2"),
    (("--range-steps", "x", 3), "--range-steps must be a whole number; got 'x'"),
    (("n", "1e3", 1, 10), "n must be a whole number; got '1e3'"),
    (("n", 1.5, 1, 10), "n must be a whole number; got 1.5"),
    (("n", 11, 1, 10), "n must be between 1 and 10; got 11"),
])
def test_check_integer_messages(args, message):
    with pytest.raises(ConfigError) as e:
        check_integer(*args)
    assert str(e.value) == message


# -- JSON through the table --------------------------------------------------------------
DEFAULT_FILE = {"format": "lrlab-experiment", "version": 1, "dataset": "linear", "data_file": None, "samples": 50,
                "noise": 0.1, "x_range": [0.0, 2.0], "model": "mlp", "activation": "sigmoid", "hidden": 2,
                "learning_rates": [0.1], "steps": 2000, "seed": 0}


def test_the_file_format_written_out():
    d = Experiment().to_dict()
    assert d == DEFAULT_FILE and list(d) == list(DEFAULT_FILE)                # no init while it is unset
    tutorial = preset("tutorial").validated().to_dict()
    assert list(tutorial)[-1] == "init" and tutorial["init"] == {"w1": [2.0], "b1": [-1.0], "w2": [1.5], "b2": 0.5}
    assert Experiment().to_json() == json.dumps(DEFAULT_FILE, indent=2) + "\n"


def test_to_dict_is_a_copy():
    exp = preset("exercise1").validated()
    d = exp.to_dict()
    d["init"]["w1"].append(9.0)
    assert exp.init["w1"] == [2.0, -1.0]


@pytest.mark.parametrize("name", list(PRESETS))
def test_json_round_trip_of_every_preset(name, tmp_path):
    exp = preset(name).validated()
    path = tmp_path / "e.json"
    path.write_text(exp.to_json())
    assert Experiment.load(path) == exp
    assert Experiment.from_dict(json.loads(exp.to_json())).to_json() == exp.to_json()


def test_unknown_keys_list_the_tables_names():
    with pytest.raises(ConfigError) as e:
        Experiment.from_dict({"colour": "red"})
    assert str(e.value) == ("config: unknown key 'colour' (known: activation, batch_size, data_file, dataset, hidden, init, "
                            "learning_rates, model, noise, runs, samples, seed, steps, x_range)")
