import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import sohl_dickstein_fractal as sf

CFG = dataclasses.replace(
    config.resolve("sohl_dickstein_fractal", "smoke"), steps=30, resolution=16, zooms=(0.01,), seeds=2
)


def test_grid_and_data():
    cfg = dataclasses.replace(CFG, conditions=("tanh", "relu-single"), zooms=(0.1, 1e-10))
    points = sf.grid(cfg)
    conditions = ("tanh", "relu-single", "tanh-linearised")  # the control condition last
    assert list(points) == [f"{c}_{p}" for c in conditions for p in ("global", "zoom1", "zoom2")]
    assert [p["width"] for p in points.values()][:3] == [cfg.global_width, 0.1, 1e-10]
    assert [p["level"] for p in points.values()][:3] == [0, 1, 2]
    assert [p["condition"] for p in points.values()] == ["tanh"] * 3 + ["relu-single"] * 3 + [
        conditions[2]
    ] * 3
    assert sf.is_linearised("tanh-linearised") and not sf.is_linearised("tanh-single")
    data = sf.make_data(dataclasses.replace(CFG, width=8, seeds=3))
    assert data["x_2"].shape == (72, 8) and data["w1_0"].shape == (8, 8) and data["y_1"].shape == (72, 1)
    assert not np.array_equal(data["x_0"], data["x_1"])
    assert sf.parse_condition("tanh-single") == ("tanh", True)
    assert sf.parse_condition("identity") == ("identity", False)
    with pytest.raises(config.ConfigError, match="gelu"):
        config.resolve("sohl_dickstein_fractal", "smoke", {"conditions": ["gelu"]})


def test_tiers_deviate_from_the_paper_where_said():
    st = study.get("sohl_dickstein_fractal")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "conditions", "width", "steps", "resolution", "zooms", "max_elements"}
    full = {d.field for d in study.deviations(st, config.resolve(st, "full"), "full")}
    assert full == {"seeds", "resolution"}
    # the zooms alone (the first window is not counted) span the paper's ten decades at the full tier
    zooms = [p["width"] for p in sf.grid(config.resolve(st, "full")).values() if p["level"] > 0]
    assert math.log10(max(zooms) / min(zooms)) == pytest.approx(10)
    # the first window is the notebook's log10 lr ∈ [−3, 6]²
    cfg = config.resolve(st, "quick")
    assert [c - cfg.global_width / 2 for c in cfg.global_center] == [-3, -3]
    assert [c + cfg.global_width / 2 for c in cfg.global_center] == [6, 6]
    # the control runs at every tier
    for tier in study.TIERS:
        assert any(sf.is_linearised(p["condition"]) for p in sf.grid(config.resolve(st, tier)).values())


def test_training_a_zoom_gives_a_boundary_through_its_centre():
    torch = pytest.importorskip("torch")
    data = sf.make_data(CFG)
    point = sf.grid(CFG)["tanh_zoom1"]
    runs = sf.train(CFG, point, data, [0, 1], torch.device("cpu"))
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    for seed in (0, 1):
        sel = runs[runs["seed"] == seed]
        window = sel[sel["split"] == "window"].set_index("metric")["value"]
        assert window["width_decades"] == 0.01 and window["image_side"] == 16
        img = sel[sel["split"] == "image"].sort_values("step")["value"].to_numpy().reshape(16, 16)
        # the zoom is centred on a converged/diverged switch: both phases appear
        assert (img < 0).any() and (img > 0).any()
        frac = sel[sel["metric"] == "converged_fraction"]["value"].item()
        assert frac == pytest.approx((img < 0).mean())
        dim = sel[sel["metric"] == "box_dimension"]["value"].item()
        assert 0.5 < dim < 2.0
    # the global window is not searched: its centre is the configured one
    glob = sf.train(CFG, sf.grid(CFG)["tanh_global"], data, [0], "cpu")
    centre = glob[glob["metric"] == "center_lr1"]["value"].item()
    assert centre == CFG.global_center[0]


def test_checkpointed_seeds_are_not_recomputed(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint
    from reprosuite.studies.sohl_dickstein_fractal import training as fr

    cfg = dataclasses.replace(CFG, max_elements=16 * 72 * 8 // 4)  # 4 chunks per image
    data = sf.make_data(cfg)
    point = sf.grid(cfg)["tanh_zoom1"]
    with checkpoint.checkpointing(tmp_path, "fp"):
        first = sf.train(cfg, point, data, [0, 1], torch.device("cpu"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit0.pt", "fit1.pt"]

    def boom(*args, **kwargs):
        raise AssertionError("recomputed a finished image")

    monkeypatch.setattr(fr, "_train_chunk", boom)
    monkeypatch.setattr(fr, "find_boundary", boom)
    with checkpoint.checkpointing(tmp_path, "fp"):
        again = sf.train(cfg, point, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(first, again)


def synthetic_metrics() -> pd.DataFrame:
    dims = {  # (point, width): per-seed dimensions
        ("tanh_global", 5.0): [1.10, 1.02],
        ("tanh_zoom1", 0.1): [1.5, 1.4],
        ("tanh_zoom2", 0.01): [1.6, 1.3],
        ("tanh_zoom3", 0.001): [1.2, float("nan")],
        ("relu_global", 5.0): [1.2, 1.2],
        ("relu_zoom1", 0.1): [1.3, 1.3],
        ("relu_zoom2", 0.01): [1.01, 1.3],
        ("relu_zoom3", 0.001): [1.3, 1.3],
        ("tanh-linearised_global", 5.0): [1.3, 1.3],
        ("tanh-linearised_zoom1", 0.1): [1.0, 1.0],
        ("tanh-linearised_zoom2", 0.01): [1.06, 1.01],
        ("tanh-linearised_zoom3", 0.001): [1.0, 1.0],
    }
    rows = []
    for (point, width), per_seed in dims.items():
        cond = point.rsplit("_", 1)[0]
        for seed, d in enumerate(per_seed):
            values = {"box_dimension": d, "width_decades": width, "converged_fraction": 0.5}
            values |= {"center_lr1": 1.0, "center_lr2": 1.0}
            rows += [(point, cond, seed, metric, v) for metric, v in values.items()]
    return pd.DataFrame(rows, columns=["point", "condition", "seed", "metric", "value"])


def test_extract_and_measure_known_values():
    runs = pd.DataFrame(
        {
            "study": "sohl_dickstein_fractal",
            "point": "tanh_zoom1",
            "variant": "tanh",
            "condition": "tanh",
            "seed": 0,
            "step": [0, 100, 100, 0],
            "split": ["window", "train", "train", "image"],
            "metric": ["width_decades", "box_dimension", "converged_fraction", "measure"],
            "value": [0.1, 1.4, 0.3, -2.0],
        }
    )
    metrics = sf.extract(runs, CFG)
    assert sorted(metrics["metric"]) == ["box_dimension", "converged_fraction", "width_decades"]
    assert set(metrics["condition"]) == {"tanh"}
    cfg = dataclasses.replace(CFG, conditions=("tanh", "relu"))
    measured = sf.measure(synthetic_metrics(), cfg)
    # the first windows never count; seed 0: tanh 3 fractal zooms (0.1 → 0.001: 2 decades), relu 2 (0.01 fails:
    # still 0.1 → 0.001); seed 1: tanh 2 (NaN fails: 0.1 → 0.01, 1 decade), relu 3; minimum over conditions
    assert measured["fractal_levels"] == [2.0, 2.0]
    assert measured["fractal_span"] == [2.0, 1.0]  # exactly 2: a rounded ratio of decimal widths
    assert measured["fractal_span_full"] == measured["fractal_span"]
    # the control (linearised network): seed 0 one fractal zoom (1.06), seed 1 none
    assert measured["fractal_levels/control"] == [1.0, 0.0]
    assert measured["fractal_span/control"] == [0.0, 0.0]
    ids = {c.id for c in sf.CLAIMS}
    assert ids | {i + "/control" for i in ids} == set(measured)
    assert all(c.statistic == "share" and c.control for c in sf.CLAIMS)
    # with the quick tier's conditions only tanh counts: seed 0 meets both criteria
    quick = sf.measure(synthetic_metrics(), CFG)
    assert quick["fractal_levels"] == [3.0, 2.0] and quick["fractal_span"] == [2.0, 1.0]


def test_cdf_stretch_keeps_the_sign():
    from reprosuite.studies.sohl_dickstein_fractal import figures

    x = np.array([[-5.0, -1.0], [0.5, 30.0]])
    y = figures.cdf_stretch(x)
    assert (np.sign(y) == -np.sign(x)).all()
    assert y.max() == 1 and y.min() == -1


def test_figures_draw():
    import matplotlib.pyplot as plt

    metrics = synthetic_metrics()
    rows = [
        ("sohl_dickstein_fractal", p, "tanh", 0, i, "image", "measure", float(np.sin(i) or 1.0))
        for p in ("tanh_global", "tanh_zoom1", "tanh_zoom2")
        for i in range(64)
    ]
    runs = pd.DataFrame(
        rows, columns=["study", "point", "variant", "seed", "step", "split", "metric", "value"]
    )
    cfg = dataclasses.replace(CFG, conditions=("tanh", "relu"))
    for figure in sf.FIGURES:
        fig = figure.draw(runs, metrics, cfg)
        assert fig.axes
        plt.close(fig)
