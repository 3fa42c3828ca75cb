"""The MLP on MNIST and CIFAR-10 (the full tier's real-data experiment): on a tiny subset of the real MNIST files,
and on CIFAR-10-format images (the official CIFAR-10 files are not in CI)."""

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from reprosuite import config
from reprosuite.engine.data import official
from reprosuite.engine.train import checkpoint, trainer
from reprosuite.studies import nc_deep_linear as nc
from reprosuite.studies.nc_deep_linear import collapse

PER_CLASS = 20
TINY = dataclasses.replace(
    nc.TIERS["full"],
    seeds=2,
    mlp_widths=(32,),
    mlp_depths=(2,),
    mlp_epochs=30,
    mlp_batch=20,  # 200 images: 10 steps per epoch
    mlp_lr=1e-3,
    mlp_lr_every=100,  # no decay here (the resume test decays)
    mlp_log_points=3,
)


@pytest.fixture(scope="module")
def mnist() -> dict[str, np.ndarray]:
    """The first PER_CLASS training images of each digit, from the official files (standardised)."""
    root = os.environ.get(official.ENV)
    if not root or official.missing(["mnist"], root):
        pytest.skip(f"the official MNIST is not in ${official.ENV}")
    from reprosuite.engine.data import datasets

    d = datasets.load("mnist")
    keep = np.sort(np.concatenate([np.flatnonzero(d["y"] == k)[:PER_CLASS] for k in range(10)]))
    return {"mnist_x": d["x"][keep], "mnist_y": d["y"][keep]}


def test_full_tier_grid_needs_mnist_and_cifar10_and_quick_smoke_do_not():
    full, quick = nc.TIERS["full"], nc.TIERS["quick"]
    points = nc.grid(full)
    mlp = {k: v for k, v in points.items() if v.get("kind") == "mlp"}
    assert len(mlp) == 48 and len(points) == 52
    assert mlp["mlp_w2048_M9_bias"] == {"kind": "mlp", "width": 2048, "depth": 9, "bias": True}
    assert mlp["mlp_cifar10_w512_M3_nobias"] == {
        "kind": "mlp",
        "dataset": "cifar10",
        "width": 512,
        "depth": 3,
        "bias": False,
    }
    assert sum(v.get("dataset") == "cifar10" for v in mlp.values()) == 24
    assert nc.datasets(full) == ("mnist", "cifar10")
    assert nc.datasets(quick) == () and nc.datasets(nc.TIERS["smoke"]) == ()
    assert all(v.get("kind") != "mlp" for v in nc.grid(quick).values())
    assert (
        nc.resources(full, mlp["mlp_w512_M1_nobias"])["mem_mb"] == 8000
        and nc.resources(full, points["M1"]) == {}
    )
    with pytest.raises(ValueError, match="mlp_depths"):
        nc.grid(dataclasses.replace(full, mlp_depths=(0, 2)))
    assert config.resolve("nc_deep_linear", "full") == full


def test_collapse_metrics_match_the_numpy_definitions(mnist):
    torch = pytest.importorskip("torch")
    from reprosuite.studies.nc_deep_linear import mlp

    x = mlp.images(mnist["mnist_x"], "cpu")
    y = torch.as_tensor(mnist["mnist_y"])
    assert x.shape == (200, 1024)
    for bias in (False, True):
        net = mlp.CollapseMLP([3, 4], width=24, relu_depth=6, depth=3, bias=bias)
        with torch.no_grad():  # move the running statistics off their initial 0 / 1
            net(x)
        got = mlp.collapse_metrics(net, x, y)
        net.eval()
        with torch.no_grad():
            out, h = net(x)
        labels = mnist["mnist_y"]
        fc = [w.detach().double().numpy() for w in net.fc]
        for i in range(2):
            feats = [h[i].double().numpy()]
            for w in fc[:-1]:
                feats.append(feats[-1] @ w[i].T)
            nc1 = [collapse.nc1(f, labels, 10) for f in feats]
            assert got["nc1"][i].item() == pytest.approx(max(nc1), rel=1e-6)
            assert got["nc1_h"][i].item() == pytest.approx(nc1[0], rel=1e-6)
            clfs = [fc[-1][i]]
            for w in fc[-2::-1]:
                clfs.append(clfs[-1] @ w[i])
            eye, etf = collapse.orthogonal_frame(10), collapse.simplex_etf(10)
            assert got["nc2_i"][i].item() == pytest.approx(max(collapse.nc2(c, eye) for c in clfs), rel=1e-9)
            means, mu_g = collapse.class_means(feats[0], labels, 10)
            assert got["nc3_etf"][i].item() == pytest.approx(
                collapse.nc3(clfs[-1], means - mu_g, etf), rel=1e-6
            )
            onehot = np.eye(10)[labels]
            mse = ((out[i].double().numpy() - onehot) ** 2).mean()
            assert got["mse"][i].item() == pytest.approx(mse, rel=1e-6)
    # orthogonal initialisation: W_M⋯W_m has orthonormal rows, an orthogonal frame before any training
    fresh = mlp.CollapseMLP([5], width=24, relu_depth=6, depth=3, bias=False)
    assert mlp.collapse_metrics(fresh, x, y)["nc2_i"].item() < 1e-6


def test_training_on_real_mnist_fits_and_collapses(mnist):
    pytest.importorskip("torch")
    runs = nc.train(TINY, {"kind": "mlp", "width": 32, "depth": 2, "bias": False}, mnist, [0, 1], "cpu")
    assert set(runs["variant"]) == {"mlp_nobias"} and sorted(runs["seed"].unique()) == [0, 1]
    steps = 10 * TINY.mlp_epochs
    values = runs.set_index(["seed", "step", "metric"])["value"]
    for seed in (0, 1):
        # 300 steps (measured: MSE 0.11 → 0.03–0.04, accuracy 0.90–0.92, NC1 16–17 → 1.3–1.9)
        assert values[seed, steps, "mse"] < 0.5 * values[seed, 0, "mse"]
        assert values[seed, steps, "accuracy"] > 0.85
        assert values[seed, steps, "nc1"] < 0.25 * values[seed, 0, "nc1"]
        assert values[seed, 0, "nc2_i"] < 1e-6  # orthogonal init: an orthogonal frame before training
        assert values[seed, 0, "nc2_etf"] == pytest.approx(0.3204, abs=1e-4)  # I vs the ETF at K = 10
    metrics = nc.extract(runs.assign(point="mlp_w32_M2_nobias"), TINY)
    lookup = metrics.set_index(["seed", "metric"])["value"]
    assert lookup[0, "mlp_nobias.nc1_init"] == values[0, 0, "nc1"]
    assert lookup[1, "mlp_nobias.nc2_i"] == values[1, steps, "nc2_i"]


class Killed(Exception):
    pass


def test_a_killed_mlp_job_resumes_to_the_same_run_table(mnist, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    cfg = dataclasses.replace(TINY, mlp_epochs=4, mlp_log_points=2)
    point = {"kind": "mlp", "width": 16, "depth": 1, "bias": True}
    fit = trainer.fit

    def fit_killed_at_step_25(loss_fn, *args, **kwargs):
        def loss_or_crash(step):
            if step == 25:  # mid-way through the third epoch, after an lr decay and an evaluation
                raise Killed
            return loss_fn(step)

        return fit(loss_or_crash, *args, **kwargs)

    cfg = dataclasses.replace(cfg, mlp_lr_every=2)
    reference = nc.train(cfg, point, mnist, [0, 1], "cpu")
    monkeypatch.setattr(trainer, "fit", fit_killed_at_step_25)
    with checkpoint.checkpointing(tmp_path, "nc", every_s=0.0), pytest.raises(Killed):
        nc.train(cfg, point, mnist, [0, 1], "cpu")
    monkeypatch.setattr(trainer, "fit", fit)
    with checkpoint.checkpointing(tmp_path, "nc", every_s=0.0):
        resumed = nc.train(cfg, point, mnist, [0, 1], "cpu")
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_members_trained_in_parts_train_as_in_one_ensemble(mnist, monkeypatch):
    pytest.importorskip("torch")
    from reprosuite.studies.nc_deep_linear import mlp

    cfg = dataclasses.replace(TINY, mlp_epochs=2, mlp_log_points=2)
    point = {"kind": "mlp", "width": 16, "depth": 2, "bias": True}
    whole = nc.train(cfg, point, mnist, [0, 1, 2], "cpu")
    size = mlp.parameter_count(16, 6, 2, True)
    assert size == sum(p.numel() for p in mlp.CollapseMLP([0], 16, 6, 2, True).parameters())
    monkeypatch.setattr(mlp, "STATE_BUDGET", 16 * size * 2)  # two members per part
    assert mlp.parts([0, 1, 2], 16, 6, 2, True) == [[0, 1], [2]]
    split = nc.train(cfg, point, mnist, [0, 1, 2], "cpu")
    key = ["seed", "step", "metric"]
    a, b = (t.sort_values(key).reset_index(drop=True) for t in (whole, split))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-4, atol=1e-6)


def mlp_runs(final: dict[str, dict[str, float]], init_nc1: float, dataset: str = "mnist") -> pd.DataFrame:
    """A run table as train_mlp writes it: two MLP points (with and without bias), two seeds, steps 0 and 10."""
    rows = []
    tag = "mlp" if dataset == "mnist" else f"mlp_{dataset}"
    for bias in ("nobias", "bias"):
        variant, point = f"{tag}_{bias}", f"{tag}_w8_M2_{bias}"
        for seed in (0, 1):
            for metric, value in final[f"mlp_{bias}"].items():
                rows.append((point, variant, seed, 0, "train", metric, init_nc1 if metric == "nc1" else 1.0))
                rows.append((point, variant, seed, 10, "train", metric, value + 0.01 * seed))
            rows.append((point, variant, seed, 10, "train", "diverged_at", np.nan))
    return pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])


def test_measure_gives_the_mlp_claims_and_their_controls():
    base = {"nc1": 0.02, "nc1_h": 0.01, "nc3_i": 0.03, "nc3_etf": 0.5, "mse": 1e-3, "accuracy": 1.0}
    runs = mlp_runs(
        {
            "mlp_nobias": base | {"nc2_i": 0.04, "nc2_etf": 0.3},
            "mlp_bias": base | {"nc1": 0.05, "nc2_i": 0.33, "nc2_etf": 0.06, "nc3_etf": 0.07},
        },
        init_nc1=5.0,
    )
    measured = nc.measure(nc.extract(runs, TINY), TINY)
    assert measured["mlp_nc1"] == pytest.approx([0.05, 0.06])  # the worse of the two bias settings
    assert measured["mlp_nc1/control"] == pytest.approx([5.0, 5.0])
    assert measured["mlp_nc2_orthogonal"] == pytest.approx([0.04, 0.05])
    assert measured["mlp_nc2_orthogonal/control"] == pytest.approx([0.33, 0.34])
    assert measured["mlp_nc2_etf"] == pytest.approx([0.06, 0.07])
    assert measured["mlp_nc2_etf/control"] == pytest.approx([0.3, 0.31])
    assert measured["mlp_nc3_etf"] == pytest.approx([0.07, 0.08]) and "mlp_nc3_etf/control" not in measured
    assert "nc1_balanced" not in measured  # no synthetic runs
    claims = {c.id: c for c in nc.CLAIMS}
    assert all(claims[c].tiers == ("full",) for c in measured if c.startswith("mlp") and "/" not in c)


def test_the_mlp_figure_draws_on_a_run_table():
    import matplotlib.pyplot as plt

    base = {m: 0.05 for m in ("nc1", "nc1_h", "nc2_i", "nc2_etf", "nc3_i", "nc3_etf", "mse", "accuracy")}
    runs = mlp_runs({"mlp_nobias": base, "mlp_bias": base}, init_nc1=5.0)
    (figure,) = [f for f in nc.FIGURES if f.name == "mlp_nc_curves"]
    assert figure.tiers == ("full",)
    fig = figure.draw(runs, nc.extract(runs, TINY), TINY)
    assert len(fig.axes) == 6
    plt.close(fig)


def test_mlp_claims_on_cifar10_are_measured_apart_from_mnist():
    base = {"nc1": 0.02, "nc1_h": 0.01, "nc3_i": 0.03, "nc3_etf": 0.5, "mse": 1e-3, "accuracy": 1.0}
    finals = {"mlp_nobias": base | {"nc2_i": 0.04, "nc2_etf": 0.3}, "mlp_bias": base | {"nc2_i": 0.33}}
    cifar = mlp_runs({k: {m: v * 2 for m, v in f.items()} for k, f in finals.items()}, 7.0, "cifar10")
    runs = pd.concat([mlp_runs(finals, 5.0), cifar], ignore_index=True)
    measured = nc.measure(nc.extract(runs, TINY), TINY)
    assert measured["mlp_nc2_orthogonal"] == pytest.approx([0.04, 0.05])
    assert measured["mlp_cifar10_nc2_orthogonal"] == pytest.approx([0.08, 0.09])
    assert measured["mlp_cifar10_nc2_orthogonal/control"] == pytest.approx([0.66, 0.67])
    assert measured["mlp_nc1/control"] == pytest.approx([5.0, 5.0])
    assert measured["mlp_cifar10_nc1/control"] == pytest.approx([7.0, 7.0])
    claims = {c.id: c for c in nc.CLAIMS}
    for suffix in ("nc1", "nc2_orthogonal", "nc2_etf", "nc3_orthogonal", "nc3_etf"):
        mnist, cifar10 = claims[f"mlp_{suffix}"], claims[f"mlp_cifar10_{suffix}"]
        assert "MNIST" in mnist.statement and "CIFAR-10" in cifar10.statement
        assert (cifar10.rule, cifar10.kind, cifar10.control, cifar10.tiers) == (
            mnist.rule,
            mnist.kind,
            mnist.control,
            mnist.tiers,
        )
    (added,) = [a for a in nc.AMENDMENTS if "mlp_cifar10_nc1" in a.claims]
    assert set(added.claims) == {c for c in claims if c.startswith("mlp_cifar10_")}


def test_the_cifar10_figure_draws_its_own_runs():
    import matplotlib.pyplot as plt

    base = {m: 0.05 for m in ("nc1", "nc1_h", "nc2_i", "nc2_etf", "nc3_i", "nc3_etf", "mse", "accuracy")}
    mnist = mlp_runs({"mlp_nobias": base, "mlp_bias": base}, init_nc1=5.0)
    (figure,) = [f for f in nc.FIGURES if f.name == "mlp_cifar10_nc_curves"]
    fig = figure.draw(mnist, nc.extract(mnist, TINY), TINY)  # MNIST runs only: nothing of CIFAR-10 to draw
    assert fig.axes[0].texts and "no MLP runs on cifar10" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
    runs = pd.concat([mnist, mlp_runs({"mlp_nobias": base, "mlp_bias": base}, 5.0, "cifar10")])
    fig = figure.draw(runs, nc.extract(runs, TINY), TINY)
    assert len(fig.axes) == 6 and all(len(ax.lines) > 0 for ax in fig.axes[:6])
    plt.close(fig)


def cifar_like(per_class: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """CIFAR-10-format uint8 images (N, 3072), channels first: a fixed colour pattern per class plus noise."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(40, 216, (10, 3072))
    y = np.repeat(np.arange(10), per_class)
    x = np.clip(patterns[y] + rng.integers(-40, 41, (len(y), 3072)), 0, 255).astype(np.uint8)
    return {"cifar10_x": x, "cifar10_y": y.astype(np.int64)}


def test_cifar10_images_are_the_official_to_tensor_and_normalize():
    pytest.importorskip("torch")
    from reprosuite.studies.nc_deep_linear import mlp

    x = cifar_like(2)["cifar10_x"]
    got = mlp.cifar_images(x, "cpu").numpy()
    # torchvision: ToTensor (float32 pixels / 255), then Normalize per channel, (x − mean) / std, in float32
    pixels = x.reshape(-1, 3, 1024).astype(np.float32) / np.float32(255)
    mean, std = (np.array(v, np.float32)[:, None] for v in (mlp.CIFAR10_MEAN, mlp.CIFAR10_STD))
    assert got.dtype == np.float32 and got.shape == (20, 3072)
    assert np.array_equal(got, ((pixels - mean) / std).reshape(20, 3072))
    assert got[:, :1024].mean() == pytest.approx((x[:, :1024].mean() / 255 - 0.4914) / 0.2023, rel=1e-5)


def test_the_colour_net_on_three_equal_channels_is_the_grey_net():
    """MNIST's shortcut (the first layer's three channel blocks summed over one grey image) computes what the
    CIFAR-10 net computes on a 3-channel image whose channels are equal: the same parameters, the same output."""
    torch = pytest.importorskip("torch")
    from reprosuite.studies.nc_deep_linear import mlp

    grey = torch.randn(6, 1024, generator=torch.Generator().manual_seed(0))
    colour = mlp.CollapseMLP([1, 2], 16, relu_depth=6, depth=2, bias=True, grey=False)
    shortcut = mlp.CollapseMLP([1, 2], 16, relu_depth=6, depth=2, bias=True)
    assert all(torch.equal(a, b) for a, b in zip(colour.parameters(), shortcut.parameters(), strict=True))
    out, h = colour(grey.repeat(1, 3))
    out_grey, h_grey = shortcut(grey)
    torch.testing.assert_close(out, out_grey, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(h, h_grey, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError):
        colour(grey)  # 1024 inputs are not a colour image


def test_training_on_cifar10_format_images_fits_and_is_labelled_by_dataset():
    pytest.importorskip("torch")
    data = cifar_like()
    point = {"kind": "mlp", "dataset": "cifar10", "width": 32, "depth": 2, "bias": True}
    runs = nc.train(TINY, point, data, [0, 1], "cpu")
    assert set(runs["variant"]) == {"mlp_cifar10_bias"}
    values = runs.set_index(["seed", "step", "metric"])["value"]
    steps = 10 * TINY.mlp_epochs
    for seed in (0, 1):
        assert values[seed, steps, "accuracy"] == 1.0 and values[seed, 0, "accuracy"] < 0.5
        assert values[seed, steps, "nc1"] < 0.25 * values[seed, 0, "nc1"]
    metrics = nc.extract(runs.assign(point="mlp_cifar10_w32_M2_bias"), TINY)
    assert {"mlp_cifar10_bias.nc1", "mlp_cifar10_bias.nc1_init"} <= set(metrics["metric"])
    assert not metrics["metric"].str.startswith("mlp_bias").any()


def test_full_tier_data_holds_both_training_sets(tmp_path, monkeypatch):
    """Read with stand-in arrays (the check's path where the files are absent): the official shapes."""
    monkeypatch.setenv(official.ENV, str(tmp_path))
    monkeypatch.setenv(official.STAND_IN_ENV, "1")
    data = nc.make_data(nc.TIERS["full"])
    assert data["mnist_x"].shape == (60_000, 784) and data["mnist_x"].dtype == np.float32
    assert data["cifar10_x"].shape == (50_000, 3072) and data["cifar10_x"].dtype == np.uint8
    assert data["cifar10_y"].dtype == np.int64 and np.array_equal(np.bincount(data["cifar10_y"]), [5000] * 10)
