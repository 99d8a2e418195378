"""core.models: each kind of model answers for itself."""
import numpy as np
import pytest

from core.experiment import TUTORIAL_INIT
from core.models import MODELS, ModelSpec
from core.network import pack


def test_what_each_kind_can_show():
    net, line = ModelSpec("mlp", 2, "sigmoid"), ModelSpec("linear")
    assert net.has_hidden_layer and not net.exact_forecast and net.worked_example_chain_rule
    assert not line.has_hidden_layer and line.exact_forecast and line.quadratic_loss
    assert not line.worked_example_chain_rule
    assert set(MODELS) == {"mlp", "linear"}


def test_initial_params_from_an_explicit_init_and_from_the_seed():
    net = ModelSpec("mlp", 1, "sigmoid")
    np.testing.assert_array_equal(net.initial_params(None, TUTORIAL_INIT), pack(2.0, -1.0, 1.5, 0.5))
    np.testing.assert_array_equal(ModelSpec("linear").initial_params(None, {"w": 3.0, "b": -1.0}), [3.0, -1.0])
    rng = lambda: np.random.default_rng(4)                  # noqa: E731
    theta = ModelSpec("mlp", 4, "relu").initial_params(rng())
    r = rng()
    w1, b1, w2 = r.standard_normal(4), r.standard_normal(4), r.standard_normal(4) / 2.0
    np.testing.assert_array_equal(theta, np.concatenate([w1, b1, w2, [0.0]]))
    assert ModelSpec("linear").initial_params(rng())[1] == 0.0
    assert ModelSpec("mlp", 3).init_names == ("w1", "b1", "w2", "b2")
    assert ModelSpec("linear").init_names == ("w", "b")


@pytest.mark.parametrize("activation, counted", [("relu", True), ("sigmoid", False), ("tanh", False)])
def test_dead_units_only_where_units_can_die(activation, counted):
    # unit 0: w1 = 0, b1 = −1 → z1 = −1 on every sample (dead for ReLU); unit 1 alive
    theta = pack([0.0, 1.0], [-1.0, 0.5], [1.0, 1.0], 0.0)
    dead = ModelSpec("mlp", 2, activation).dead_units(theta[None], np.linspace(0, 1, 5))
    assert (dead is not None) == counted
    if counted:
        assert list(dead) == [1]
    assert ModelSpec("linear").dead_units(np.zeros((1, 2)), [0.0, 1.0]) is None


def test_linear_model_predicts_and_fits_by_hand():
    spec = ModelSpec("linear")
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(spec.predict([[2.0, 1.0]], x), [[1.0, 3.0, 5.0]])
    assert spec.loss([[2.0, 1.0]], x, y)[0] == pytest.approx((0 + 1 + 1) / 3)
