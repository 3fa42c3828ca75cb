import dataclasses

import numpy as np
import pytest

from reprosuite.studies import critical_periods_dln as cp
from reprosuite.studies.critical_periods_dln import pathways, theory

torch = pytest.importorskip("torch")

SMALL = dataclasses.replace(
    cp.TIERS["smoke"], seeds=2, depths=(1, 2), epochs=300, deficit_length=60, deficit_starts=(0, 200)
)


def test_targets_are_the_official_hierarchy():
    assert cp.TARGETS.shape == (8, 15)
    assert cp.TARGETS[:, 0].tolist() == [1] * 8 and cp.TARGETS[:, 1].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    np.testing.assert_array_equal(cp.TARGETS[:, 7:], np.eye(8))
    u, s, v = cp.target_svd()
    np.testing.assert_allclose(u[:, :8] @ np.diag(s) @ v.T, cp.TARGETS.T, atol=1e-12)


def test_ode_without_deficit_shares_equally_and_learns_the_mode():
    ka, kb = theory.k_trajectory(3, 2.0, 0.01, start=0, length=0, lr=0.01, epochs=2000)
    np.testing.assert_allclose(ka, kb)
    assert ka[-1] + kb[-1] == pytest.approx(2.0, rel=1e-6)
    ka, kb = theory.k_trajectory(1, 2.0, 0.01, start=0, length=150, lr=0.01, epochs=3000)
    # depth 1: pathway a's head start 2·(1 − e^{−1.5}) persists, b ends with ≈ (S − head start)/2
    assert kb[-1] / (ka[-1] + kb[-1]) == pytest.approx(0.116, abs=0.005)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_official_init_sets_every_mode_to_its_initial_strength(depth):
    cfg = dataclasses.replace(SMALL, width=12)
    weights, k0 = pathways.initial_weights(cfg, depth, [0, 1], cp.make_data(cfg))
    assert len(weights) == depth
    total = weights[0]
    for w in weights[1:]:
        total = w @ total
    u, _, v = cp.target_svd()
    k = torch.as_tensor(u[:, :8]).T @ total @ torch.as_tensor(v)
    torch.testing.assert_close(k, torch.diag_embed(k0))
    assert torch.all(k0[:, :-1] >= k0[:, 1:]) and torch.all((k0 > 0.005) & (k0 < 0.015))


def test_gradient_descent_follows_the_official_ode():
    data = cp.make_data(SMALL)
    runs = pathways.run(SMALL, 2, data, [0], "cpu")
    strengths = cp.target_svd()[1]
    for start in SMALL.deficit_starts:
        g = runs[runs.variant == f"D2_start{start}"]
        for mode in (0, 3, 7):
            ka = g[g.metric == f"Ka{mode}"].sort_values("step")
            kb = g[g.metric == f"Kb{mode}"].sort_values("step")
            a, b = theory.k_trajectory(
                2, strengths[mode], ka.value.iloc[0], start, SMALL.deficit_length, SMALL.lr, SMALL.epochs
            )
            np.testing.assert_allclose(ka.value, a[ka.step], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(kb.value, b[kb.step], rtol=1e-9, atol=1e-12)
