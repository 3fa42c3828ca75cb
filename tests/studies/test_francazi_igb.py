import dataclasses
import typing

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import francazi_igb as fi

CFG = dataclasses.replace(config.resolve("francazi_igb", "smoke"), n=300, width=32, inits=30, chunk=16)


def test_binomial_reference():
    assert fi.binomial_std(1000) == pytest.approx(0.0158114, rel=1e-5)
    # the reference is the std of Binomial(n, 1/2)/n
    draws = np.random.default_rng(0).binomial(400, 0.5, size=200_000) / 400
    assert draws.std() == pytest.approx(fi.binomial_std(400), rel=0.02)


def test_data_and_grid():
    data = fi.make_data(CFG)
    assert data["x"].shape == (CFG.seeds, CFG.n, CFG.dim)
    assert abs(float(data["x"].mean())) < 0.05 and float(data["x"].std()) == pytest.approx(1.0, abs=0.05)
    assert not np.allclose(data["x"][0], data["x"][1])  # a fresh data set per repetition
    np.testing.assert_array_equal(data["x"], fi.make_data(CFG)["x"])
    assert set(fi.grid(CFG)) == {"linear", "tanh", "relu", "maxpool"}
    assert set(fi.grid(dataclasses.replace(CFG, activations=("gelu",), pool_kernels=()))) == {"gelu"}
    with pytest.raises(ValueError, match="multiple of the max-pool kernels"):
        fi.grid(dataclasses.replace(CFG, width=30))
    with pytest.raises(config.ConfigError, match="swish"):
        config.resolve("francazi_igb", "smoke", {"activations": ["relu", "swish"]})


def test_tiers_deviate_from_the_paper_where_said():
    st = study.get("francazi_igb")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "inits", "depths", "pool_activations", "pool_depths", "pool_kernels"}
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def test_activation_options_are_the_engine_activations():
    pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    assert set(typing.get_args(fi.Activation)) == set(layers.ACTIVATIONS)


def test_g0_matches_a_plain_network():
    """Member i equals a bias-free nn.Linear stack drawn from the same generator stream."""
    torch = pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    x = torch.as_tensor(fi.make_data(CFG)["x"][0])
    seeds = [11, 12, 13]
    got = fi.g0_untrained(x, "relu", 1, (1, 2), 16, seeds, "cpu")
    for i, s in enumerate(seeds):
        g = layers.generators([s])[0]
        h, fan_in = x, x.shape[1]
        for depth in (1, 2):
            w = torch.randn((16, fan_in), generator=g, dtype=torch.float64) / fan_in**0.5
            h = torch.relu(h @ w.float().T)
            head = torch.randn((2, 16), generator=g, dtype=torch.float64) / 16**0.5
            out = h @ head.float().T
            assert float(got[depth][i]) == pytest.approx(float((out[:, 0] > out[:, 1]).double().mean()))
            fan_in = 16


def test_training_gives_igb_for_relu_and_maxpool_only():
    pytest.importorskip("torch")
    data = fi.make_data(CFG)
    parts = []
    for name, point in fi.grid(CFG).items():
        runs = fi.train(CFG, point, data, [0, 1], "cpu")
        runs.insert(0, "point", name)
        parts.append(runs)
    runs = pd.concat(parts, ignore_index=True)
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    assert runs["value"].between(0, 1).all()
    archs = {(a, d, k) for a, d, k in zip(runs["activation"], runs["depth"], runs["pool"], strict=True)}
    assert archs == {(a, d, 1) for a in ("linear", "tanh", "relu") for d in (1, 3)} | {("tanh", 1, 4)}
    assert {fi.variant_name(*arch) for arch in archs} == set(runs["variant"])
    # deterministic
    again = fi.train(CFG, fi.grid(CFG)["relu"], data, [0, 1], "cpu")
    np.testing.assert_array_equal(again["value"], runs[runs["point"] == "relu"]["value"])
    std = runs.groupby("variant")["value"].std()
    ref = fi.binomial_std(CFG.n)
    assert std["linear-d3"] < 2 * ref and std["tanh-d3"] < 2 * ref
    assert std["relu-d3"] > 5 * ref and std["tanh-d1-pool4"] > 3 * ref
    measured = fi.measure(fi.extract(runs, CFG), CFG)
    ids = {c.id for c in fi.CLAIMS}
    assert set(measured) == ids | {i + claims.CONTROL for i in ids}
    # the controls far from their rules lie on the other side of them in every repetition (the tanh control of
    # the depth claim is sampling noise around 0 and may fall on either side)
    for c in fi.CLAIMS:
        if c.id != "relu_depth_amplifies":
            assert not any(c.rule.contains(v) for v in measured[c.id + claims.CONTROL]), c.id


def synthetic_runs() -> pd.DataFrame:
    """Two seeds; G₀ values chosen so that every statistic is known by hand."""
    rows = []
    table = {
        ("linear", "linear", 1, 1): [[0.5, 0.52, 0.48, 0.5], [0.5, 0.5, 0.5, 0.5]],
        ("linear", "linear", 3, 1): [[0.49, 0.51, 0.5, 0.5], [0.46, 0.54, 0.5, 0.5]],
        ("tanh", "tanh", 1, 1): [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]],
        ("tanh", "tanh", 3, 1): [[0.5, 0.52, 0.48, 0.5], [0.5, 0.5, 0.5, 0.5]],
        ("relu", "relu", 1, 1): [[0.2, 0.8, 0.5, 0.5], [0.3, 0.7, 0.5, 0.5]],
        ("relu", "relu", 3, 1): [[0.05, 0.95, 0.5, 0.5], [0.0, 1.0, 0.2, 0.8]],
        ("maxpool", "tanh", 1, 4): [[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]],
    }
    for (point, act, depth, pool), per_seed in table.items():
        for seed, values in enumerate(per_seed):
            for i, v in enumerate(values):
                rows.append(
                    (point, fi.variant_name(act, depth, pool), act, depth, pool, seed, i, "init", "g0", v)
                )
    columns = ["point", "variant", "activation", "depth", "pool", "seed", "step", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def test_extract_and_measure_known_values():
    cfg = dataclasses.replace(CFG, n=100)  # binomial std 0.05
    metrics = fi.extract(synthetic_runs(), cfg)
    lookup = metrics.set_index(["seed", "metric", "activation", "depth", "pool"])["value"]
    assert lookup[0, "extreme", "relu", 3, 1] == 0.5 and lookup[1, "extreme", "relu", 3, 1] == 0.5
    assert lookup[0, "extreme", "relu", 1, 1] == 0.0 and lookup[0, "extreme", "tanh", 1, 4] == 1.0
    assert lookup[0, "std_g0", "relu", 1, 1] == pytest.approx(np.std([0.2, 0.8, 0.5, 0.5], ddof=1))
    measured = fi.measure(metrics, cfg)
    lin0 = np.std([0.5, 0.52, 0.48, 0.5], ddof=1) / 0.05  # max over depths: d1 on seed 0
    lin1 = np.std([0.46, 0.54, 0.5, 0.5], ddof=1) / 0.05
    assert measured["linear_no_igb"] == pytest.approx([lin0, lin1])
    assert measured["tanh_no_igb"] == pytest.approx([np.std([0.5, 0.52, 0.48, 0.5], ddof=1) / 0.05, 0.0])
    rise0 = np.std([0.05, 0.95, 0.5, 0.5], ddof=1) - np.std([0.2, 0.8, 0.5, 0.5], ddof=1)
    rise1 = np.std([0.0, 1.0, 0.2, 0.8], ddof=1) - np.std([0.3, 0.7, 0.5, 0.5], ddof=1)
    assert measured["relu_depth_amplifies"] == pytest.approx([rise0, rise1])
    assert measured["relu_extreme"] == [0.5, 0.5]  # the max-pool variant is not part of the ReLU claims
    # the controls: ReLU for linear, tanh + max-pool for tanh, tanh for the ReLU claims
    assert measured["linear_no_igb/control"] == pytest.approx(
        [np.std([0.05, 0.95, 0.5, 0.5], ddof=1) / 0.05, np.std([0.0, 1.0, 0.2, 0.8], ddof=1) / 0.05]
    )
    assert measured["tanh_no_igb/control"] == pytest.approx([np.std([0, 1, 0, 1], ddof=1) / 0.05] * 2)
    assert measured["relu_depth_amplifies/control"] == pytest.approx(
        [np.std([0.5, 0.52, 0.48, 0.5], ddof=1), 0.0]
    )
    assert measured["relu_extreme/control"] == [0.0, 0.0]


def test_figure_draws():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    fig = fi.FIGURES[0].draw(runs, fi.extract(runs, CFG), CFG)
    assert len([ax for ax in fig.axes if ax.has_data()]) == 7
    plt.close(fig)
