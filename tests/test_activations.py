"""core.activations: each function beside its first and second derivative, written from a = f(z)."""
import numpy as np
import pytest

from core.activations import ACTIVATIONS, get_activation


def test_relu_derivative_at_zero_is_zero_as_the_tutorial_defines_it():
    relu = get_activation("relu")
    a = relu.forward(np.array([-1.0, 0.0, 2.0]), np.empty(3))
    d = relu.derivative(a, np.empty(3))
    assert list(d) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(name):
    act = get_activation(name)
    z = np.linspace(-4, 4, 81) + 0.0123     # avoid relu's kink at exactly 0
    h = 1e-6
    f = lambda v: act.forward(v, np.empty_like(v))   # noqa: E731
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    analytic = act.derivative(f(z), np.empty_like(z))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_is_exact_far_in_the_tails_and_warns_nothing():
    act = get_activation("sigmoid")
    with np.errstate(over="ignore"):
        a = act.forward(np.array([-800.0, 0.0, 800.0]), np.empty(3))
    assert a[0] == 0.0 and a[1] == 0.5 and a[2] == 1.0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_second_derivative_matches_central_differences_of_the_first(name):
    """f''(z) from the record, against (f'(z + h) − f'(z − h)) / 2h with f' from the record too."""
    act = get_activation(name)
    z = np.linspace(-4, 4, 81) + 0.0123     # away from relu's kink
    h = 1e-5
    f = lambda v: act.forward(v, np.empty_like(v))                   # noqa: E731
    df = lambda v: act.derivative(f(v), np.empty_like(v))           # noqa: E731
    numeric = (df(z + h) - df(z - h)) / (2 * h)
    np.testing.assert_allclose(act.second_derivative(f(z)), numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_from_exp_neg_z_is_the_same_function(name):
    act = get_activation(name)
    if act.from_exp_neg_z is None:
        return
    z = np.linspace(-30, 30, 121)
    np.testing.assert_array_equal(act.from_exp_neg_z(np.exp(-z), np.empty_like(z)),
                                  act.forward(z, np.empty_like(z)))


def test_only_relu_units_can_die():
    assert [n for n, a in ACTIVATIONS.items() if a.can_die] == ["relu"]
