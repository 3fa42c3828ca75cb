import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import teney_neural_redshift as nr
from reprosuite.studies.teney_neural_redshift import spectral

CFG = dataclasses.replace(
    config.resolve("teney_neural_redshift", "smoke"), depths=(1, 3), amplitudes=(0.5, 8.0), resolution=24
)


def test_grid_and_data():
    assert set(nr.grid(CFG)) == {"relu", "tanh", "sin", "gaussian"}
    data = nr.make_data(CFG)
    assert data["grid"].shape == (24 * 24, 2)
    # row-major with x fastest: consecutive points move along x
    assert data["grid"][1, 0] > data["grid"][0, 0] and data["grid"][1, 1] == data["grid"][0, 1]
    with pytest.raises(config.ConfigError, match="gelu"):
        config.resolve("teney_neural_redshift", "smoke", {"activations": ["relu", "gelu"]})


def test_tiers_deviate_from_the_paper_where_said():
    st = study.get("teney_neural_redshift")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "depths", "amplitudes", "resolution", "sample_side"}
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def test_random_functions_follow_the_init_rule():
    torch = pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    x = torch.as_tensor(nr.make_data(CFG)["grid"])
    # depth 1 ReLU, no bias effect on shape: f_a = a²·f_1 + a·b₂ exactly (relu is positively homogeneous)
    out = nr.random_functions(x, (1,), 16, [1.0, 3.0], layers.generators([0, 1]), "relu")[0]
    assert out.shape == (2, 2, 24 * 24)
    b2 = (out[1] - 9 * out[0]) / (3 - 9)  # solve a²f + a b₂ for b₂ with a = 1, 3
    assert torch.allclose(out[0], (out[1] - 3 * b2) / 9 + b2, atol=1e-9)
    assert (b2.std(-1) < 1e-9).all() and (b2.abs().amax(-1) <= 3.0).all()
    # same seed, same base draw; different seeds differ
    again = nr.random_functions(x, (1,), 16, [1.0], layers.generators([0]), "relu")[0]
    assert torch.allclose(again[0, 0], out[0, 0], rtol=1e-12) and not torch.allclose(out[0, 0], out[0, 1])
    # tanh at tiny amplitude is nearly linear in x
    tiny = nr.random_functions(x, (2,), 64, [1e-3], layers.generators([0]), "tanh")[0, 0, 0].numpy()
    design = np.c_[np.ones(len(x)), x.numpy()]
    resid = tiny - design @ np.linalg.lstsq(design, tiny, rcond=None)[0]
    assert np.abs(resid).max() < 1e-4 * np.abs(tiny - tiny.mean()).max()


def test_networks_are_nested_with_official_uniform_weights():
    torch = pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    x = torch.as_tensor(nr.make_data(CFG)["grid"])
    width, a = 8, 2.5
    out = nr.random_functions(x, (1, 3), width, [a], layers.generators([7]), "tanh")
    assert out.shape == (2, 1, 1, 24 * 24)
    # by hand from the same generator: three hidden layers, then the readout, all U(−a, a) with no fan-in factor
    g = layers.generators([7])[0]
    draw = []
    for fan_in, fan_out in ((2, width), (width, width), (width, width), (width, 1)):
        w = torch.rand(fan_in, fan_out, generator=g, dtype=torch.float64) * 2 - 1
        b = torch.rand(fan_out, generator=g, dtype=torch.float64) * 2 - 1
        draw.append((a * w, a * b))
    assert all(float(w.abs().max()) <= a and float(w.abs().max()) > 0.5 * a for w, _ in draw)
    h, readout = x, draw[-1]
    for depth, (w, b) in enumerate(draw[:-1], start=1):
        h = torch.tanh(h @ w + b)
        if depth in (1, 3):  # the depth-1 network is the depth-3 one's first layer with the same readout
            f = (h @ readout[0] + readout[1])[:, 0]
            assert torch.allclose(out[(1, 3).index(depth), 0, 0], f, rtol=1e-12)


def test_training_rows_and_qualitative_behaviour():
    torch = pytest.importorskip("torch")
    data = nr.make_data(CFG)
    relu = nr.train(CFG, {"activation": "relu"}, data, [0, 1], torch.device("cpu"))
    sin = nr.train(CFG, {"activation": "sin"}, data, [0, 1], "cpu")
    for runs in (relu, sin):
        assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
        stats = runs[runs["split"] == "random_init"]
        assert len(stats) == 2 * 2 * 2 * 2  # depths × amplitudes × seeds × (mean_frequency, lz)
        assert len(runs[runs["split"] == "function"]) == 4 * 24 * 24  # 2 depths × 2 amplitudes, seed 0
        assert runs["depth"].dtype.kind == "i" and runs["amplitude"].dtype.kind == "f"
        assert set(zip(runs["variant"], runs["depth"], runs["amplitude"], strict=True)) == {
            (nr.variant(d, a), d, a) for d in CFG.depths for a in CFG.amplitudes
        }

    def mf(runs, depth, amplitude):
        sel = runs[(runs.metric == "mean_frequency") & (runs.depth == depth) & (runs.amplitude == amplitude)]
        return sel["value"].to_numpy()

    # depth-1 ReLU: exactly the same mean frequency at every amplitude (homogeneity)
    assert np.allclose(mf(relu, 1, 0.5), mf(relu, 1, 8.0))
    # deep sin network at large amplitude is far higher-frequency than at small amplitude
    assert (mf(sin, 3, 8.0) > 1.5 * mf(sin, 3, 0.5)).all()


def synthetic_metrics() -> pd.DataFrame:
    rows = []
    values = {
        "relu": {
            (1, 0.5): [0.20, 0.22],
            (1, 8.0): [0.21, 0.21],
            (3, 0.5): [0.22, 0.20],
            (3, 8.0): [0.20, 0.22],
        },
        "tanh": {(1, 0.5): [0.2, 0.2], (1, 8.0): [0.2, 0.2], (3, 0.5): [0.2, 0.25], (3, 8.0): [0.3, 0.5]},
    }
    for act, cells in values.items():
        for (d, a), per_seed in cells.items():
            for seed, v in enumerate(per_seed):
                rows.append((act, seed, d, a, "mean_frequency", v))
                rows.append((act, seed, d, a, "lz_complexity", 1.0))
    return pd.DataFrame(rows, columns=["point", "seed", "depth", "amplitude", "metric", "value"])


def test_extract_and_measure_known_values():
    runs = pd.DataFrame(
        {
            "study": "teney_neural_redshift",
            "point": "relu",
            "variant": ["d1-a0.5", "d1-a0.5", "d1-a0.5"],
            "depth": 1,
            "amplitude": 0.5,
            "seed": [0, 0, 0],
            "step": [0, 0, 5],
            "split": ["random_init", "random_init", "function"],
            "metric": ["mean_frequency", "lz_complexity", "output"],
            "value": [0.2, 0.9, 1.0],
        }
    )
    metrics = nr.extract(runs, CFG)
    assert metrics["metric"].tolist() == ["mean_frequency", "lz_complexity"]
    assert metrics[["depth", "amplitude"]].drop_duplicates().values.tolist() == [[1, 0.5]]
    measured = nr.measure(synthetic_metrics(), CFG)
    assert set(measured) == {"relu_invariant", "relu_invariant/control", "tanh_grows", "tanh_grows/control"}
    # relu: per seed max / min over the seed's four cells, 0.22 / 0.20 for both seeds
    assert measured["relu_invariant"] == [pytest.approx(1.1), pytest.approx(1.1)]
    # its control, tanh: 0.3 / 0.2 and 0.5 / 0.2
    assert measured["relu_invariant/control"] == [pytest.approx(1.5), pytest.approx(2.5)]
    assert measured["tanh_grows"] == [pytest.approx(1.5), pytest.approx(2.0)]
    # the control of a growth claim is ReLU's ratio at (depth 3, a 8) / (depth 3, a 0.5)
    assert measured["tanh_grows/control"] == [pytest.approx(0.20 / 0.22), pytest.approx(0.22 / 0.20)]
    assert all(c.control for c in nr.CLAIMS)


def test_figures_draw():
    import matplotlib.pyplot as plt

    metrics = synthetic_metrics()
    n = 4
    runs = pd.DataFrame(
        [
            ("teney_neural_redshift", act, nr.variant(d, a), d, a, 0, i, "function", "output", math.sin(i))
            for act in ("relu", "tanh")
            for d, a in ((1, 0.5), (3, 8.0))
            for i in range(n * n)
        ],
        columns=[
            "study",
            "point",
            "variant",
            "depth",
            "amplitude",
            "seed",
            "step",
            "split",
            "metric",
            "value",
        ],
    )
    for figure in nr.FIGURES:
        fig = figure.draw(runs, metrics, CFG)
        assert fig.axes
        plt.close(fig)


def test_mean_frequency_is_used_as_in_the_metric_module():
    n = 32
    j = np.arange(n)
    cos = np.tile(np.cos(2 * np.pi * 4 * j / n), (n, 1))
    assert spectral.mean_frequency_2d(cos) == pytest.approx(4 / round(math.sqrt(2) * n / 2))
