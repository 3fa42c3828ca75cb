"""hoffer_train_longer: the batched ghost-BN nets, the regimes of the grid, the decade ratio of H1 and its
random-walk control, the H0 check and the paired measurements."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite.studies import hoffer_train_longer as st
from reprosuite.studies.hoffer_train_longer import nets, runs

QUICK = st.TIERS["quick"]


@pytest.mark.parametrize("kind,dim", [("cnn1d", 40), ("f1", 30)])
def test_batched_net_with_ghost_equal_to_batch_is_each_member_through_plain_torch(kind, dim):
    net = nets.GhostNet(kind, dim, [3, 7], width=16, channels=(4, 8, 8)).double()
    x = torch.randn(12, dim, dtype=torch.float64)
    out = net(x, None)
    for i in range(2):
        assert torch.allclose(out[i], net.member(i, x), atol=1e-12)
    # members are independent: member 1 of seeds [3, 7] is member 0 of seeds [7]
    alone = nets.GhostNet(kind, dim, [7], width=16, channels=(4, 8, 8)).double()
    assert torch.allclose(alone(x, None)[0], out[1], atol=1e-12)


def test_ghost_batches_change_the_output_only_through_the_statistics():
    net = nets.GhostNet("cnn1d", 40, [0], channels=(4, 8, 8)).double()
    x = torch.randn(16, 40, dtype=torch.float64)
    chunked = net(x, 8)
    halves = torch.cat([net(x[:8], None), net(x[8:], None)], dim=1)
    assert torch.allclose(chunked, halves, atol=1e-12)
    assert not torch.allclose(chunked, net(x, None), atol=1e-3)


def test_grid_regimes_follow_the_official_scaling():
    g = st.grid(QUICK)
    ratio = QUICK.batch_large // QUICK.batch_small
    assert g["lb"]["lr"] == QUICK.lr and g["lb"]["ghost"] is None
    assert g["lb_lr"]["lr"] == pytest.approx(QUICK.lr * math.sqrt(ratio))
    assert g["lb_lr_gbn"]["ghost"] == QUICK.ghost
    assert g["lb_lr_gbn_ra"]["epochs"] == QUICK.epochs * ratio
    assert g["lb_lr_gbn_ra"]["decays"] == [d * ratio for d in QUICK.decays]
    assert g["walk"]["wd"] == 0.0 and g["walk"]["decays"] == []
    assert "lb_lr_gbn_half" not in g and st.grid(st.TIERS["full"])["lb_lr_gbn_half"]["ghost"] == 2048
    # RA makes as many updates as SB: n / B_L · E · ratio = n / B_S · E (up to the dropped partial batches)
    n = QUICK.n_train
    assert (n // QUICK.batch_large) * g["lb_lr_gbn_ra"]["epochs"] == pytest.approx(
        (n // QUICK.batch_small) * QUICK.epochs, rel=0.05
    )
    with pytest.raises(ValueError, match="multiple"):
        st.grid(dataclasses.replace(QUICK, batch_large=200))


def test_lr_schedule_divides_by_ten_at_each_decay_epoch():
    assert runs.lr_scale(0, 10, [2, 3]) == 1.0
    assert runs.lr_scale(19, 10, [2, 3]) == 1.0
    assert runs.lr_scale(20, 10, [2, 3]) == pytest.approx(0.1)
    assert runs.lr_scale(35, 10, [2, 3]) == pytest.approx(0.01)


def test_decade_ratio_closed_forms():
    t = np.array([1, 10, 100, 1000, 10_000])
    assert st.decade_ratio(t, 3 * np.log(t) + 2, 10_000) == pytest.approx(1.0)
    assert st.decade_ratio(t, np.sqrt(t), 10_000) == pytest.approx(math.sqrt(10))
    assert st.decade_ratio(t, np.minimum(t, 500), 10_000) == 0.0  # saturation


def test_random_walk_diffuses_with_ratio_sqrt10():
    # diffusion: d ∝ √t, r = √10 (a little below it while momentum's ~10-step transient still shows at T/100)
    steps = [30, 300, 3000]
    d = runs.random_walk(3000, 3000, steps, [0, 1], lr=0.1, momentum=0.9).numpy()
    r = (d[2] - d[1]) / (d[1] - d[0])
    assert np.all((r > 2.6) & (r < 3.5))
    again = runs.random_walk(3000, 3000, steps, [1], lr=0.1, momentum=0.9).numpy()
    assert np.allclose(again[:, 0], d[:, 1])  # a seed's walk does not depend on the others


def test_h0_sanity_is_exact_in_float64():
    cfg = dataclasses.replace(st.TIERS["smoke"], channels=(4, 8, 8))
    rng = np.random.default_rng(0)
    data = {"x": rng.standard_normal((64, 40)).astype(np.float32), "y": rng.integers(0, 10, 64)}
    df = runs.sanity(cfg, {"batch": 64, "ghost": 16}, data, [0, 1], "cpu")
    assert set(df.metric) == {"h0_bn", "h0_grad", "h0_running"}
    assert df.value.max() < 1e-10


def test_measure_pairs_by_seed():
    rows = [("sb", s, "acc", 90.0 + s) for s in (0, 1, 2)]
    rows += [("lb", s, "acc", 85.0 + 2 * s) for s in (0, 1, 2)]
    rows += [("lb_lr_gbn_ra", s, "acc", 91.0) for s in (0, 1, 2)]
    rows += [("lb_lr_gbn", s, "acc", 88.0) for s in (0, 1, 2)]
    m = pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])
    out = st.measure(m, QUICK)
    assert list(out["H2"]) == [5.0, 4.0, 3.0]
    assert list(out["H2/control"]) == [-1.0, 0.0, 1.0]
    assert list(out["H3/control"]) == [-2.0, -3.0, -4.0]
    assert "H4" not in out or out["H4"].empty
