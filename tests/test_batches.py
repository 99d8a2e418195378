"""Mini-batches: the batch order (core.batches), the engine's mini-batch steps, the batch_size
field, the seed streams.

Oracles: ``SeedSequence(seed).spawn(2)`` (the streams before the batch size), the full-batch
Trainer itself (B ≥ N must be it, bit for bit), a hand-written training loop over the batch
order the README documents (the network's chain rule written out here, micrograd style),
the model's forward pass for the whole-data loss.
"""
from dataclasses import replace

import numpy as np
import pytest

from core import outcomes as oc
from core.batches import BatchOrder, batches
from core.errors import ConfigError
from core.experiment import Experiment
from core.fields import FIELDS
from core.optim import Recipe


def exp(**kw):
    base = dict(dataset="linear", samples=23, noise=0.1, hidden=3, activation="sigmoid",
                learning_rates=(0.05, 0.3), steps=40, seed=7)
    base.update(kw)
    return Experiment(**base).validated()


# -- the seed streams and the order --------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1])
def test_spawn3_keeps_the_first_two_streams_of_spawn2(seed):
    two = [np.random.default_rng(s).standard_normal(5) for s in np.random.SeedSequence(seed).spawn(2)]
    three = [g.standard_normal(5) for g in Experiment(seed=seed).rngs()]
    assert len(three) == 3
    np.testing.assert_array_equal(three[0], two[0])
    np.testing.assert_array_equal(three[1], two[1])
    assert not np.array_equal(three[2], three[1])
    third = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2]).standard_normal(5)
    np.testing.assert_array_equal(three[2], third)


def test_batch_order_cuts_each_epochs_permutation_into_consecutive_batches():
    N, B = 23, 5                                        # 5 updates an epoch, the last of 3 samples
    order = BatchOrder(N, B, np.random.default_rng(4))
    ref = np.random.default_rng(4)
    perms = [ref.permutation(N) for _ in range(3)]
    assert order.per_epoch == 5
    for t in range(15):
        e, j = divmod(t, 5)
        np.testing.assert_array_equal(order.indices(t), perms[e][j * B:(j + 1) * B])
    assert perms[0][4 * B:].size == 3
    with pytest.raises(ValueError):                    # epochs are drawn in order, never again
        order.indices(4)
    every = np.concatenate([order.indices(t) for t in range(10, 15)])
    assert sorted(every.tolist()) == list(range(N))   # an epoch visits every sample once


# -- B >= N is today's full batch -----------------------------------------------------------
@pytest.mark.parametrize("B", [23, 24, None])
def test_batch_size_at_least_n_is_the_full_batch_run_bit_for_bit(B):
    e = exp(samples=23, steps=300, learning_rates=(0.05, 0.3, 2.5, 40.0))
    full = e.trainer()
    full.step(300)
    if B == 24:
        with pytest.raises(ConfigError):                # B > N is refused, never clamped ...
            replace(e, batch_size=B).validated()
        from core.engine import Trainer                 # ... but the engine takes B >= N as full batch
        tr = Trainer(full.data, e.model_spec(), e.learning_rates, e.initial_params(), 300, batch_size=B)
    else:
        tr = replace(e, batch_size=B).validated().trainer()
    tr.step(300)
    np.testing.assert_array_equal(tr.losses, full.losses)
    np.testing.assert_array_equal(tr.theta, full.theta)
    assert tr.batch_losses is tr.losses and tr.updates_per_epoch == 1 and tr.outcomes == full.outcomes


# -- a mini-batch run is the hand-written loop ---------------------------------------------
def hand_loss_and_grad(theta, x, y, H):
    """One run of the 1-H-1 sigmoid network: the loss on (x, y) and its gradient, by hand."""
    w1, b1, w2, b2 = theta[:H], theta[H:2 * H], theta[2 * H:3 * H], theta[3 * H]
    z1 = np.outer(x, w1) + b1                                 # (n, H)
    a1 = 1 / (1 + np.exp(-z1))
    y_pred = a1 @ w2 + b2
    loss = np.mean((y - y_pred) ** 2)
    dL_dy_pred = 2 * (y_pred - y) / len(x)
    dL_dw2, dL_db2 = a1.T @ dL_dy_pred, dL_dy_pred.sum()
    dL_dz1 = np.outer(dL_dy_pred, w2) * a1 * (1 - a1)
    dL_dw1, dL_db1 = x @ dL_dz1, dL_dz1.sum(axis=0)
    return loss, np.concatenate([dL_dw1, dL_db1, dL_dw2, [dL_db2]])


@pytest.mark.parametrize("B", [1, 5, 10])
def test_a_mini_batch_run_equals_a_hand_written_loop_over_the_documented_order(B):
    e = exp(batch_size=B, steps=60)
    data, H = e.make_data(), e.hidden
    tr = e.trainer(data)
    tr.step(25)
    tr.step(35)                                             # in two pieces: the order carries on
    order = batches(len(data), B, np.random.default_rng(np.random.SeedSequence(e.seed).spawn(3)[2]), epochs=100)
    for k, lr in enumerate(e.learning_rates):
        theta = e.initial_params().copy()
        whole, batch = [], []
        for t in range(61):
            whole.append(hand_loss_and_grad(theta, data.x, data.y, H)[0])
            idx = order[t]
            loss, g = hand_loss_and_grad(theta, data.x[idx], data.y[idx], H)
            batch.append(loss)
            theta = theta - lr * g
        np.testing.assert_allclose(tr.losses[k], whole, rtol=1e-12, atol=0)
        np.testing.assert_allclose(tr.batch_losses[k], batch, rtol=1e-12, atol=0)
    assert tr.updates_per_epoch == -(-23 // B)
    assert tr.epochs() == pytest.approx(60 / tr.updates_per_epoch)


def test_mini_batches_apply_to_every_optimizer():
    """Heavy-ball momentum on the batches, against its recurrence by hand: v ← βv + g; θ ← θ − ηv."""
    e = exp(batch_size=4, steps=30, runs=(Recipe(0.05, optimizer="momentum", momentum=0.8),))
    data, H = e.make_data(), e.hidden
    tr = e.trainer(data)
    tr.step(30)
    order = batches(len(data), 4, e.rngs()[2], epochs=10)
    theta, v = e.initial_params().copy(), 0.0
    for t in range(30):
        g = hand_loss_and_grad(theta, data.x[order[t]], data.y[order[t]], H)[1]
        v = 0.8 * v + g
        theta = theta - 0.05 * v
    np.testing.assert_allclose(tr.theta[0], theta, rtol=1e-12, atol=1e-14)


def test_loss_once_an_epoch_records_the_same_losses_at_epoch_ends():
    e = exp(batch_size=5, steps=47)                         # 5 updates an epoch; the budget ends mid-epoch
    every, once = e.trainer(), e.trainer(loss_every="epoch")
    every.step(47)
    once.step(20)
    once.step(27)
    recorded = [0] + list(range(5, 47, 5)) + [47]
    np.testing.assert_array_equal(once.losses[:, recorded], every.losses[:, recorded])
    assert np.isnan(np.delete(once.losses, recorded, axis=1)).all()
    np.testing.assert_array_equal(once.batch_losses, every.batch_losses)
    np.testing.assert_array_equal(once.theta, every.theta)


def test_a_blown_up_mini_batch_run_stops_and_the_others_go_on():
    e = exp(model="linear", samples=50, batch_size=1, learning_rates=(0.01, 5.0), steps=400)
    tr = e.trainer()
    tr.step(400)
    assert tr.outcomes[1] == oc.DIVERGED and tr.diverged_step[1] > 0
    assert np.isnan(tr.losses[1, tr.diverged_step[1] + 1:]).all()
    assert np.isnan(tr.batch_losses[1, tr.diverged_step[1] + 1:]).all()
    assert np.isfinite(tr.losses[0]).all() and tr.outcomes[0] != oc.DIVERGED


# -- the field ------------------------------------------------------------------------------
def test_batch_size_field_defaults_to_full_batch_and_is_left_out_of_json_then():
    assert FIELDS["batch_size"].default is None and FIELDS["batch_size"].flag == "--batch-size"
    assert "batch_size" not in Experiment().to_dict()
    e = exp(batch_size=5)
    assert e.to_dict()["batch_size"] == 5
    assert Experiment.parse(e.to_json()) == e
    assert replace(e, batch_size="full").validated().batch_size is None
    assert replace(e, batch_size="7").validated().batch_size == 7


@pytest.mark.parametrize("value, words", [
    (0, "batch size must be between 1 and 100000; got 0"),
    (-3, "batch size must be between 1 and 100000; got -3"),
    (2.5, "batch size must be a whole number; got 2.5"),
    ("ten", "batch size must be a whole number; got 'ten'"),
    (True, "batch size must be a whole number; got True"),
    (24, "batch size must be at most the number of samples (23), or 'full'; got 24"),
])
def test_bad_batch_sizes_are_refused_naming_the_field_and_the_value(value, words):
    with pytest.raises(ConfigError) as e:
        exp(batch_size=value)
    assert str(e.value) == words


def test_batch_size_above_a_data_files_rows_is_refused_when_the_file_is_read(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("x,y\n0,1\n1,3\n2,5\n")
    e = Experiment(data_file=str(f), batch_size=4).validated()     # N unknown until the file is read
    with pytest.raises(ConfigError, match=r"batch size must be at most the number of samples \(3\).*got 4"):
        e.trainer()
    assert Experiment(data_file=str(f), batch_size=2).validated().trainer().updates_per_epoch == 2


def test_the_tutorials_single_point_refuses_two():
    with pytest.raises(ConfigError, match=r"at most the number of samples \(1\).*got 2"):
        Experiment(dataset="tutorial", batch_size=2).validated()


def test_the_range_test_with_mini_batches_records_each_batchs_loss_as_fastai_does():
    from core.range_test import lr_schedule, range_test
    e = exp(model="linear", samples=30, batch_size=4)
    data = e.make_data()
    result = range_test(e, data, 1e-3, 1.0, 40)
    lrs, order = lr_schedule(1e-3, 1.0, 40), batches(30, 4, e.rngs()[2], epochs=6)
    theta, want = e.initial_params().copy(), []
    for i in range(len(result.losses)):
        xb, yb = data.x[order[i]], data.y[order[i]]
        r = theta[0] * xb + theta[1] - yb                       # ŷ − y on batch i, before update i
        want.append(np.mean(r ** 2))
        theta = theta - lrs[i] * np.array([np.mean(2 * r * xb), np.mean(2 * r)])
    np.testing.assert_allclose(result.losses, want, rtol=1e-12)


# -- the command line ----------------------------------------------------------------------
def test_analyze_json_has_the_noise_scale_at_the_initial_parameters(tmp_path, capsys):
    import json

    import main
    from core.noise import noise_scale
    out = tmp_path / "a.json"
    assert main.main(["analyze", "--model", "linear", "--samples", "40", "--batch-size", "5",
                      "--eps-opt-at", "1", "5", "full", "--steps", "10", "--json", str(out)]) == 0
    e = Experiment(model="linear", samples=40, batch_size=5, steps=10).validated()
    d = e.make_data()
    n = noise_scale(e.model_spec(), e.initial_params(), d.x, d.y)
    got = json.loads(out.read_text())
    assert got["noise_scale"] == n.noise[0] and got["noise_scale_simple"] == n.simple[0]
    assert got["eps_max"] == n.eps_max[0] and got["experiment"]["batch_size"] == 5
    assert [r["batch_size"] for r in got["eps_opt"]] == [1, 5, 40]
    assert [r["eps_opt"] for r in got["eps_opt"]] == n.eps_opt([1, 5, 40])[0].tolist()
    assert "B_noise" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "analyze", "lr-find"])
@pytest.mark.parametrize("value, words", [("0", "got 0"), ("2.5", "got '2.5'"), ("51", "(50), or 'full'; got 51")])
def test_bad_batch_size_flags_exit_2_with_one_line_naming_field_and_value(command, value, words, capsys):
    import main
    assert main.main([command, "--samples", "50", "--batch-size", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lrlab: error: batch size") and words in err


# -- presets and the phase diagram over batch sizes -----------------------------------------
def test_batch_presets_differ_only_in_the_batch_size_and_the_phase_preset_has_its_noise_scale():
    from core.experiment import ALL_PRESETS, BATCH_PHASE_SIZES, PRESETS, preset
    from core.noise import noise_scale
    assert set(PRESETS) < set(ALL_PRESETS)
    full, one = preset("full-batch").validated(), preset("one-sample").validated()
    assert replace(one, batch_size=None) == full and one.batch_size == 1
    e = preset("batch-phase").validated()
    d = e.make_data()
    assert BATCH_PHASE_SIZES[-1] == len(d)
    n = noise_scale(e.model_spec(), e.initial_params(), d.x, d.y)
    assert 13 < n.noise[0] < 15 and 0.2 < n.eps_max[0] < 0.25          # what its description says
    eps = n.eps_opt(BATCH_PHASE_SIZES)[0]
    assert 1.8 < eps[1] / eps[0] < 2.0 and eps[-1] / eps[-2] < 1.1       # doubling below B_noise, flat above


def test_phase_diagram_over_batch_sizes_rows_are_the_experiments_and_carry_eps_opt():
    from core.noise import noise_scale
    from core.phase import phase_diagram
    e = exp(model="linear", samples=40, steps=30, learning_rates=(0.01, 0.1, 0.3))
    d = e.make_data()
    pd = phase_diagram(e, [0.01, 0.1, 0.3], batch_sizes=[1, 8, None], data=d)
    assert pd.row_name == "batch_size" and pd.rows == (1, 8, None)
    for i, B in enumerate(pd.rows):
        tr = replace(e, batch_size=B).validated().trainer(d)
        tr.step(30)
        np.testing.assert_array_equal(pd.final[i], tr.losses[:, -1])
        assert tuple(pd.outcomes[i]) == tr.outcomes
    n = noise_scale(e.model_spec(), e.initial_params(), d.x, d.y)
    np.testing.assert_array_equal(pd.eps_opt, n.eps_opt([1, 8, 40])[0])
    for i in range(3):
        finite = np.where(np.isfinite(pd.final[i]), pd.final[i], np.inf)
        assert pd.best_lr[i] == pd.lrs[np.argmin(finite)]
    with pytest.raises(ConfigError, match="got 41"):
        phase_diagram(e, [0.1], batch_sizes=[41], data=d)
