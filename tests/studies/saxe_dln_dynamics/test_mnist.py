"""The full tier's MNIST depth sweep (Fig. 6A, App. C) on a tiny subset of the real MNIST files: 300 images, a
narrow net, a few full-batch steps."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import saxe_dln_dynamics as saxe
from reprosuite.studies.saxe_dln_dynamics import mnist

torch = pytest.importorskip("torch")

N = 300  # images
LRS = (4e-5, 1.6e-4)  # on the summed error of 300 images


def _cfg(**changes):
    base = dict(
        seeds=(5, 6),
        mnist_train=N,
        depths=(2, 4),
        depth_width=16,
        depth_lrs=LRS,
        depth_steps=40,
        mnist_threshold=90.0,
    )
    return dataclasses.replace(saxe.TIERS["full"], **(base | changes))


@pytest.fixture(scope="module")
def data():
    return saxe.make_data(_cfg())


def _images():
    from reprosuite.engine.data import official

    a = official.load("mnist")
    return a.x_train[:N].reshape(N, -1).astype(np.float64) / 255.0, np.eye(10)[a.y_train[:N]]


def test_full_tier_is_the_paper_mnist_sweep():
    full = saxe.TIERS["full"]
    assert full == saxe.Config() and full.depth_data == "mnist" and saxe.datasets(full) == ("mnist",)
    assert saxe.datasets(saxe.TIERS["quick"]) == () and saxe.datasets(saxe.TIERS["smoke"]) == ()
    assert [d + 1 for d in full.depths] == [
        3,
        5,
        8,
        10,
        14,
        20,
        28,
        36,
        44,
        54,
        64,
        74,
        84,
        94,
        100,
    ]  # App. C
    assert full.depth_width == 1000 and len(full.depth_lrs) == 20
    assert full.depth_lrs[0] == pytest.approx(1e-9) and full.depth_lrs[-1] == pytest.approx(1e-5)
    points = saxe.grid(full)
    assert len([p for p in points if p.startswith("depth-")]) == len(full.depths) * 2 * full.seeds
    assert points["depth-4-orth-s2"] == {
        "kind": "depth",
        "depth": 4,
        "inits": ["orthogonal", "orthogonal_centred"],
        "seed": 2,
    }


def test_moments_give_the_summed_error_of_the_images(data):
    x, y = _images()
    w = np.random.default_rng(0).normal(0, 0.05, (10, 784))
    direct = 0.5 * ((y - x @ w.T) ** 2).sum()
    via = 0.5 * np.sum((w @ data["mnist_sxx"]) * w) - np.sum(w * data["mnist_syx"]) + float(data["mnist_e0"])
    assert via == pytest.approx(direct, rel=1e-10)
    assert float(data["mnist_e0"]) == N / 2  # the zero map: ½ Σ ‖one-hot‖²


def test_mnist_sweep_learns_and_starts_from_the_drawn_nets(data):
    cfg = _cfg()
    runs = saxe.train(cfg, saxe.grid(cfg)["depth-2-orth-s5"], data, [5, 6], "cpu")
    assert set(runs.seed) == {5} and set(runs.variant) == {
        f"{i}-lr{lr:.4g}" for i in mnist.SCHEMES if i != "gaussian" for lr in LRS
    }
    loss = runs[runs.metric == "loss"].set_index(["variant", "step"]).value
    # step 0: the centred arm is the zero map; the orthogonal arm is the same draws as EnsembleMLP's orthogonal net
    assert loss["orthogonal_centred-lr4e-05", 0] == pytest.approx(N / 2, rel=1e-5)
    from reprosuite.engine.models import layers

    net = layers.EnsembleMLP(
        [784, 16, 10], [5], activation="linear", init="orthogonal", bias=False, dtype=torch.float64
    )
    x, y = _images()
    out = net(torch.as_tensor(x))[0].detach().numpy()
    assert loss["orthogonal-lr4e-05", 0] == pytest.approx(0.5 * ((y - out) ** 2).sum(), rel=1e-4)
    # full-batch gradient descent learns: the error falls below the threshold (90), under half the zero map's
    best = runs[runs.metric == "loss"].groupby("variant").value.min()
    assert best["orthogonal-lr0.00016"] < 0.45 * N and best["orthogonal_centred-lr0.00016"] < 0.45 * N
    assert best["orthogonal-lr4e-05"] > 90.0  # the smaller rate does not reach the threshold in 40 steps
    metrics = saxe.extract(runs.assign(point="depth-2-orth-s5"), cfg).set_index("metric").value
    assert 5 < metrics["best_iters_orthogonal"] < 40 and metrics["best_lr_orthogonal"] == 1.6e-4


def test_mnist_parts_train_each_member_as_one_ensemble_does(data, monkeypatch):
    cfg = _cfg(depth_steps=12, mnist_threshold=120.0)
    point = saxe.grid(cfg)["depth-4-orth-s6"]
    whole = saxe.train(cfg, point, data, [5, 6], "cpu")
    monkeypatch.setattr(mnist, "WEIGHT_BUDGET", 1)  # one member per part: the draws come from the cache
    parts = saxe.train(cfg, point, data, [5, 6], "cpu")
    key = ["variant", "seed", "step"]
    a, b = (f[f.metric == "loss"].set_index(key).value.sort_index() for f in (whole, parts))
    # a part stops once its own members have all met the threshold: its curves may end earlier, never differ
    common = a.index.intersection(b.index)
    assert set(whole.seed) == {6} and len(common) >= 20
    np.testing.assert_allclose(b[common].to_numpy(), a[common].to_numpy(), rtol=1e-5)
    iters = [
        saxe.extract(f.assign(point="depth-4-orth-s6"), cfg).set_index("metric").value for f in (whole, parts)
    ]
    pd.testing.assert_series_equal(iters[0], iters[1])
    assert np.isfinite(iters[0]["best_iters_orthogonal"])


class Killed(Exception):
    pass


def test_mnist_job_killed_in_a_later_part_resumes_to_the_same_runs(data, tmp_path, monkeypatch):
    from reprosuite.engine.train import checkpoint, trainer

    cfg = _cfg(depth_steps=8)
    point = saxe.grid(cfg)["depth-4-gauss-s5"]
    monkeypatch.setattr(mnist, "WEIGHT_BUDGET", 1)
    reference = saxe.train(cfg, point, data, [5], "cpu")
    fit, calls = trainer.fit, []

    def fit_killed_in_part_2(loss_fn, *args, **kwargs):
        calls.append(1)

        def loss_or_crash(step):
            if len(calls) == 2 and step == 5:
                raise Killed
            return loss_fn(step)

        return fit(loss_or_crash, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", fit_killed_in_part_2)
    with checkpoint.checkpointing(tmp_path, "saxe", every_s=0.0), pytest.raises(Killed):
        saxe.train(cfg, point, data, [5], "cpu")
    monkeypatch.setattr(trainer, "fit", fit)
    with checkpoint.checkpointing(tmp_path, "saxe", every_s=0.0):
        resumed = saxe.train(cfg, point, data, [5], "cpu")
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_mnist_threshold_decides_the_iterations():
    cfg = _cfg()
    rows = [
        ("depth-2-orth-s0", "orthogonal-lr1e-05", 0, s, "train", "loss", v)
        for s, v in ((0, 150.0), (7, 89.0))
    ]
    runs = pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])
    m = saxe.extract(runs, cfg).set_index("metric").value
    assert m["iters_orthogonal_lr1e-05"] == 7
    assert math.isinf(saxe.extract(runs, dataclasses.replace(cfg, mnist_threshold=50.0)).value.iloc[0])


def test_quick_and_smoke_keep_the_hierarchy_sweep():
    st = study.get("saxe_dln_dynamics")
    quick = config.resolve(st, "quick")
    assert quick.depth_data == "hierarchy" and list(saxe.grid(quick)) == [
        "modes-decoupled",
        "modes-random",
        "modes-tanh",
        *(f"depth-{d}" for d in (2, 4, 8, 16, 32)),
    ]
