import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite.engine.train import checkpoint
from reprosuite.studies.critical_periods_dln import completion as mc


def test_low_rank_has_its_rank_and_unit_rms_entries():
    w = mc.low_rank(20, 3, np.random.default_rng(0))
    assert w.shape == (20, 20)
    assert np.linalg.matrix_rank(w) == 3
    assert np.sqrt((w**2).mean()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="rank"):
        mc.low_rank(5, 6, np.random.default_rng(0))


def test_observed_and_held_out_entries_partition_the_matrix():
    idx = mc.observed_indices(6, 10, np.random.default_rng(1))
    assert len(set(idx.tolist())) == 10 and np.all(np.diff(idx) > 0)
    mask = mc.held_out_mask(6, idx)
    assert mask.sum() == 26 and not mask.flatten()[idx].any()
    with pytest.raises(ValueError, match="n_obs"):
        mc.observed_indices(3, 10, np.random.default_rng(0))


def test_init_scale_sets_the_end_to_end_norm():
    n, scale = 40, 1e-3
    model = mc.DeepFactorisation(n, [1, 2, 3], [0, 1, 2], init_scale=scale, dtype=torch.float64)
    norms = torch.linalg.matrix_norm(model.product()).detach().numpy()
    assert np.all((norms / (scale * np.sqrt(n)) > 0.7) & (norms / (scale * np.sqrt(n)) < 1.3))


def test_losses_per_member():
    e2e = torch.arange(8.0).view(2, 2, 2)
    truth = torch.zeros(2, 2, 2)
    index = torch.tensor([[0, 3], [1, 2]])
    values = truth.flatten(1).gather(1, index)
    torch.testing.assert_close(
        mc.observed_loss(e2e, index, values), torch.tensor([0.5 * 9 / 2, 0.5 * (25 + 36) / 2])
    )
    torch.testing.assert_close(mc.matrix_mse(e2e, truth), torch.tensor([3.5, 31.5]))
    mask = torch.tensor([[True, False], [False, False]])
    torch.testing.assert_close(mc.matrix_mse(e2e, truth, mask), torch.tensor([0.0, 16.0]))


def _task(n=8, m=30, seeds=(0, 1)):
    truths, index = [], []
    for s in seeds:
        rng = np.random.default_rng(s)
        truths.append(mc.low_rank(n, 2, rng))
        index.append(mc.observed_indices(n, m, rng))
    return torch.tensor(np.stack(index)), torch.tensor(np.stack(truths))


def test_a_shallow_member_trains_as_if_alone():
    index, truth = _task()
    mixed = mc.DeepFactorisation(8, [1, 3], [0, 1], init_scale=0.1, dtype=torch.float64)
    alone = mc.DeepFactorisation(8, [1], [0], init_scale=0.1, dtype=torch.float64)
    padded_before = mixed.weights[1][0].detach().clone()
    h_mixed, _ = mc.fit(mixed, index, truth, 20, lr=0.5, log_steps=[20])
    h_alone, _ = mc.fit(alone, index[:1], truth[:1], 20, lr=0.5, log_steps=[20])
    torch.testing.assert_close(mixed.product()[0], alone.product()[0])
    torch.testing.assert_close(mixed.weights[1][0], padded_before)  # the identity layer of the shallow member
    assert h_mixed.frame([0, 1]).query("seed == 0").value.tolist()[:3] == pytest.approx(
        h_alone.frame([0]).value.tolist()[:3]
    )


def test_fit_learns_and_snapshots_branch_exactly():
    index, truth = _task()
    straight = mc.DeepFactorisation(8, [2, 2], [0, 1], init_scale=0.5, dtype=torch.float64)
    branched = mc.DeepFactorisation(8, [2, 2], [0, 1], init_scale=0.5, dtype=torch.float64)
    history, _ = mc.fit(straight, index, truth, 200, lr=0.2, log_steps=[0, 200])
    frame = history.frame([0, 1])
    loss = frame[(frame.split == "train") & (frame.metric == "loss")].pivot(
        index="step", columns="seed", values="value"
    )
    assert (loss.loc[200] < 0.1 * loss.loc[0]).all()
    _, snaps = mc.fit(branched, index, truth, 120, lr=0.2, log_steps=[120], keep=[120])
    resumed = mc.DeepFactorisation.from_factors(snaps[120], [2, 2])
    mc.fit(resumed, index, truth, 80, lr=0.2, log_steps=[80])
    torch.testing.assert_close(resumed.product(), straight.product())
    with pytest.raises(ValueError, match="snapshot"):
        mc.fit(branched, index, truth, 10, lr=0.2, log_steps=[10], keep=[11])


def test_snapshot_stretches_leave_the_history_unchanged():
    index, truth = _task()
    plain = mc.DeepFactorisation(8, [3, 3], [0, 1], init_scale=0.3, dtype=torch.float64)
    split = mc.DeepFactorisation(8, [3, 3], [0, 1], init_scale=0.3, dtype=torch.float64)
    logs = list(range(0, 101, 10))
    h_plain, _ = mc.fit(
        plain, index, truth, 100, lr=0.3, log_steps=sorted(logs + [35, 70])
    )  # kept steps are logged
    h_split, snaps = mc.fit(split, index, truth, 100, lr=0.3, log_steps=logs, keep=[0, 35, 70, 100])
    a, b = h_plain.frame([0, 1]), h_split.frame([0, 1])
    pd.testing.assert_frame_equal(a, b)
    assert sorted(snaps) == [0, 35, 70, 100]
    torch.testing.assert_close(snaps[100][2], split.weights[2].detach())


def test_snapshots_survive_a_resumed_job(tmp_path):
    index, truth = _task()

    def job(kill_at=None):
        model = mc.DeepFactorisation(8, [2, 2], [0, 1], init_scale=0.3, dtype=torch.float64)
        with checkpoint.checkpointing(tmp_path, "f", every_s=0.0):
            if kill_at is not None:
                original = model.product

                def product():
                    if kill_at[0] == 0:
                        raise KeyboardInterrupt
                    kill_at[0] -= 1
                    return original()

                model.product = product
            return mc.fit(model, index, truth, 60, lr=0.3, log_steps=[0, 60], keep=[20, 40])

    reference = mc.fit(
        mc.DeepFactorisation(8, [2, 2], [0, 1], init_scale=0.3, dtype=torch.float64),
        index,
        truth,
        60,
        lr=0.3,
        log_steps=[0, 60],
        keep=[20, 40],
    )
    with pytest.raises(KeyboardInterrupt):
        job(kill_at=[50])  # dies in the third stretch, after the snapshots at 20 and 40
    history, snaps = job()
    pd.testing.assert_frame_equal(history.frame([0, 1]), reference[0].frame([0, 1]))
    for step in (20, 40):
        for got, want in zip(snaps[step], reference[1][step], strict=True):
            torch.testing.assert_close(got, want)
