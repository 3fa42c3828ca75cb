import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite.studies import shwartz_ziv_flexible as szf
from reprosuite.studies.shwartz_ziv_flexible import analysis, fitting

HP = dict(
    classes=2,
    momentum=0.9,
    batch=16,
    budget=300,
    budget_gd=300,
    check_every=50,
    g_tol=1e-3,
    min_steps=100,
    eval_chunk=64,
)


def _trial(y, n, opt="sgd", **hp):
    x = torch.randn(256, 5, generator=torch.Generator().manual_seed(0))
    arch = dict(kind="mlp", width=16, depth=2, act="relu")
    yt = torch.zeros(10, dtype=torch.long)
    return fitting.run_trial(
        arch,
        x,
        y(x),
        n,
        [0.05] * len(n),
        list(range(len(n))),
        0,
        opt,
        {**HP, **hp},
        x[:10],
        yt,
        yt,
        lambda i: None,
    )


@pytest.mark.parametrize("opt", ["sgd", "gd"])
def test_a_linearly_separable_set_is_fitted_and_a_random_one_hits_the_budget(opt):
    def labels(x):
        sep = (x[:, 0] > 0).long()
        rnd = torch.randint(0, 2, (256,), generator=torch.Generator().manual_seed(1))
        return torch.stack([sep, rnd])

    res = _trial(labels, [64, 256], opt)
    assert res["fitted"].tolist() == [True, False]
    assert res["censored"].tolist() == [False, True] and res["steps"][1] == 300
    assert res["acc"][0] == 1.0 and res["acc"][1] < 1.0
    assert szf.flags_ok([{"fitted": 0.0, "censored": 1.0, "steps": 300.0}], 300)
    assert not szf.flags_ok([{"fitted": 0.0, "censored": 0.0, "steps": 300.0}], 300)


def test_a_stationary_unfittable_run_fails_uncensored():
    # identical inputs with both labels cannot be fitted; GD reaches the stationary point (p = 1/2) quickly
    x_same = lambda x: torch.stack([torch.arange(256) % 2])  # noqa: E731
    x = torch.zeros(256, 5)
    arch = dict(kind="mlp", width=4, depth=1, act="relu")
    yt = torch.zeros(4, dtype=torch.long)
    res = fitting.run_trial(
        arch,
        x,
        x_same(x),
        [64],
        [0.05],
        [0],
        0,
        "gd",
        {**HP, "budget_gd": 5000},
        x[:4],
        yt,
        yt,
        lambda i: None,
    )
    assert not res["fitted"][0] and not res["censored"][0] and res["steps"][0] < 5000
    assert res["acc"][0] == pytest.approx(0.5) and res["drift"][0] < 1e-3


def test_batched_cnn_members_equal_single_member_nets_and_params_are_counted():
    x = torch.randn(3, 784)
    both = fitting.EnsembleCNN2d(28, 4, 10, [3, 5])
    for j, seed in enumerate([3, 5]):
        one = fitting.EnsembleCNN2d(28, 4, 10, [seed])
        torch.testing.assert_close(both(x)[j], one(x)[0], rtol=1e-5, atol=1e-5)
    for arch in (
        dict(kind="cnn", width=4, act="relu"),
        dict(kind="mlp", width=8, depth=3, act="relu"),
        dict(kind="readout", width=32, act="sigmoid"),
    ):
        _, params = fitting.build(arch, 784, 10, [0])
        assert fitting.count_params(arch, 784, 10) == sum(p[0].numel() for p in params)


def _metrics(rows):
    return pd.DataFrame(rows, columns=["point", "seed", "metric", "value"])


def test_log_ratio_and_gap_correlation_by_hand():
    rows = []
    for s in (0, 1):
        rows += [
            ("mlp", s, "emc_true", 400.0),
            ("mlp", s, "emc_random", 200.0),
            ("mlp", s, "params", 1000.0),
            ("cnn", s, "emc_random", 100.0),
            ("cnn", s, "params", 250.0),
        ]
    m = _metrics(rows)
    assert analysis.log_ratio(m, ("mlp", "true"), ("mlp", "random")).values == pytest.approx(
        (math.log(2),) * 2
    )
    per_param = analysis.log_ratio(m, ("cnn", "random"), ("mlp", "random"), per_param=True)
    assert per_param.values == pytest.approx((math.log(2),) * 2)
    assert analysis.log_ratio(m, ("noise", "true"), ("noise", "random")).values == ()
    rows = []
    for i, p in enumerate(analysis.MODELS[:4]):
        rows += [
            (p, 0, "emc_true", 100.0),
            (p, 0, "emc_random", 90.0 - 10 * i),
            (p, 0, "test_acc_true", 0.5 + i / 10),
            (p, 0, "test_acc_shuf_true", 0.1 - i / 100),
        ]
    m = _metrics(rows)
    assert analysis.gap_rank_correlation(m) == [pytest.approx(1.0)]
    assert analysis.gap_rank_correlation(m, shuffled=True) == [pytest.approx(-1.0)]


def test_grid_and_labels():
    with pytest.raises(ValueError, match="unknown conditions"):
        szf.grid(replace(szf.TIERS["quick"], conditions=("mlp", "vit")))
    with pytest.raises(ValueError, match="square images"):
        szf.grid(replace(szf.TIERS["quick"], conditions=("cnn",)))
    g = szf.grid(szf.TIERS["full"])
    assert g["rf"]["width"] == 8 * g["mlp"]["width"] and g["mlp_l"]["width"] == 2 * g["mlp"]["width"]
    assert set(analysis.MODELS) <= set(g) and szf.datasets(szf.TIERS["full"]) == ("mnist",)
    a, b = szf.random_labels(3, 1000, 10), szf.random_labels(3, 1000, 10)
    assert np.array_equal(a, b) and not np.array_equal(a, szf.random_labels(4, 1000, 10))
    assert len(szf.members(szf.TIERS["full"], [0, 1])) == 2 * 2 * 3
