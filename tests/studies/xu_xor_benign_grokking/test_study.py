import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.metrics import curves
from reprosuite.studies import xu_xor_benign_grokking as xu

CFG = dataclasses.replace(
    config.resolve("xu_xor_benign_grokking", "smoke"), d=1500, n=20, mu_norm=12.0, flip=0.15, n_test=200
)


def test_grid_and_data():
    quick = config.resolve("xu_xor_benign_grokking", "quick")
    assert xu.grid(dataclasses.replace(quick, d=3000, extra_dims=(20000, 3000, 100))) == {
        "d100": {"d": 100},
        "d3000": {"d": 3000},
        "d20000": {"d": 20000},
        "control_low_d": {"d": 100},  # d = n
        "control_separable": {"d": 3000, "labels": "linear", "steps": 1},
        "control_random_labels": {"d": 3000, "labels": "random"},
    }
    assert set(xu.CONTROLS.values()) <= set(xu.grid(quick)) and set(xu.CONTROLS) == {c.id for c in xu.CLAIMS}
    mu = xu.make_data(quick)["mu"]
    assert mu.shape == (2, 20000) and np.allclose(np.linalg.norm(mu[:, :2000], axis=1), 2.5 * math.sqrt(200))
    train, test = xu.seed_data(quick, mu[:, :2000], 0)
    assert train["x"].shape == (100, 2000) and test["x"].shape == (200, 2000)
    assert not test["flipped"].any() and train["flipped"].sum() < 20
    full = config.resolve("xu_xor_benign_grokking", "full")  # Appendix A.7
    assert (full.d, full.n, full.width, full.flip, full.seeds) == (40000, 200, 1000, 0.05, 100)
    assert full.mu_norm == pytest.approx(35.36, abs=0.01) and (full.init_var, full.lr) == (1e-30, 1e-12)


def test_control_labels():
    mu = xu.make_data(CFG)["mu"][:, :50]
    rng = np.random.default_rng(0)
    lin = xu.xc.sample(mu, 400, 0.0, rng, "linear")
    # linearly separable: the label is the sign of the projection on μ1 + μ2
    assert np.mean(np.sign(lin["x"] @ (mu[0] + mu[1])) == lin["y"]) > 0.95
    xor = xu.xc.sample(mu, 400, 0.0, np.random.default_rng(1), "xor")
    rnd = xu.xc.sample(mu, 400, 0.1, np.random.default_rng(1), "random")
    assert np.array_equal(xor["x"], rnd["x"]) and np.array_equal(xor["y"], rnd["y"])  # the same draws
    assert 0.35 < np.mean(rnd["y_noisy"] == rnd["y"]) < 0.65  # observed labels independent of x
    with pytest.raises(ValueError):
        xu.xc.sample(mu, 10, 0.0, rng, "parity")


def test_training_fits_noise_then_generalises():
    torch = pytest.importorskip("torch")
    data = xu.make_data(CFG)
    runs = xu.train(CFG, {"d": 1500}, data, [0, 1], torch.device("cpu"))
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    again = xu.train(CFG, {"d": 1500}, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(runs, again)  # deterministic
    acc = runs[runs["metric"] == "accuracy"].pivot_table(
        index=["seed", "step"], columns="split", values="value"
    )
    # d ≫ √n‖μ‖²: one step fits the noisy labels with chance-level clean test accuracy
    assert (acc.xs(1, level="step")["train"] == 1.0).all()
    assert (acc.xs(1, level="step")["test"] < 0.65).all()
    # later: still fitting every noisy label while the clean test accuracy has risen well above chance
    last, first = acc.xs(CFG.steps, level="step"), acc.xs(1, level="step")
    assert (last["train"] == 1.0).all() and (last["test"] > first["test"] + 0.15).all()
    flipped = runs[runs["metric"] == "n_flipped"]
    assert len(flipped) == 2 and (flipped["value"] > 0).all()


def test_tiers_deviate_from_the_paper_where_said():
    st = study.get("xu_xor_benign_grokking")
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "d", "n", "width", "steps", "log_points"}  # d/n, ‖μ‖, η, init, step as A.7
    smoke = {d.field for d in study.deviations(st, config.resolve(st, "smoke"), "smoke")}
    assert smoke == quick
    assert study.deviations(st, config.resolve(st, "full"), "full") == []


def synthetic_runs() -> pd.DataFrame:
    rows = []
    curves = {  # seed: (train accuracy, flipped accuracy, test accuracy) at steps 0, 1, 2, 10
        0: ([0.5, 1.0, 1.0, 1.0], [0.4, 1.0, 1.0, 1.0], [0.5, 0.52, 0.9, 0.99]),
        1: ([0.5, 0.9, 1.0, 1.0], [0.4, 0.5, 1.0, 1.0], [0.5, 0.48, 0.96, 0.97]),
    }
    for seed, (tr, fl, te) in curves.items():
        for i, step in enumerate([0, 1, 2, 10]):
            rows.append(("d50", seed, step, "train", "accuracy", tr[i]))
            rows.append(("d50", seed, step, "train", "accuracy_flipped", fl[i]))
            rows.append(("d50", seed, step, "test", "accuracy", te[i]))
            rows.append(("d99", seed, step, "test", "accuracy", 0.0))
            rows.append(("d99", seed, step, "train", "accuracy", 0.0))
            rows.append(("d99", seed, step, "train", "accuracy_flipped", 0.0))
        for point in ("d50", "d99"):
            rows.append((point, seed, 10, "train", "diverged_at", math.nan))
            rows.append((point, seed, 0, "train", "n_flipped", 3.0))
    runs = pd.DataFrame(rows, columns=["point", "seed", "step", "split", "metric", "value"])
    runs.insert(2, "variant", "")
    runs.insert(0, "study", "xu_xor_benign_grokking")
    return runs


def test_extract_and_measure():
    cfg = dataclasses.replace(CFG, d=50)
    metrics = xu.extract(synthetic_runs(), cfg)
    assert set(metrics.columns) == {"point", "seed", "metric", "value"}
    lookup = metrics.set_index(["point", "seed", "metric"])["value"]
    assert lookup["d50", 0, "grok_step"] == 10 and lookup["d50", 1, "grok_step"] == 2
    assert lookup["d99", 0, "grok_step"] == curves.NEVER
    assert lookup["d50", 1, "step1_flipped_accuracy"] == 0.5
    measured = xu.measure(metrics, cfg)  # claims use the point at cfg.d only
    assert measured == {
        "step1_fits_noisy_labels": [1.0, 0.9],
        "step1_test_near_chance": [0.52, 0.48],
        "later_test_near_optimal": [0.99, 0.97],
        "later_still_fits_noisy_labels": [1.0, 1.0],
    }
    assert set(measured) == {c.id for c in xu.CLAIMS}


def test_figure_draws():
    import matplotlib.pyplot as plt

    runs = synthetic_runs()
    fig = xu.FIGURES[0].draw(runs, xu.extract(runs, CFG), CFG)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_member_groups_bound_the_state_and_keep_every_number(monkeypatch):
    torch = pytest.importorskip("torch")
    full = config.resolve("xu_xor_benign_grokking", "full")
    seeds = list(range(full.seeds))
    # full tier on a CPU: 544 MB of state a member, groups of 4 (their (n,)-rows start at multiples of 32 floats)
    groups = xu.member_groups(full, full.d, seeds, "cpu")
    assert [len(g) for g in groups] == [4] * 25 and sum(groups, []) == seeds
    assert xu.member_groups(full, full.d, seeds, torch.device("cuda")) == [seeds]  # a GPU: all at once
    quick = config.resolve("xu_xor_benign_grokking", "quick")
    assert xu.member_groups(quick, quick.d, [0, 1, 2], "cpu") == [[0, 1, 2]]
    nine = xu.member_groups(full, full.d, list(range(9)), "cpu")
    assert nine == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]  # no one-member group
    # grouped training gives each member the numbers of one batch of all members
    cfg, seeds = dataclasses.replace(CFG, d=300, width=50, n=8, steps=4), list(range(7))
    data = xu.make_data(cfg)
    together = xu.train(cfg, {"d": 300}, data, seeds, "cpu")
    monkeypatch.setattr(xu, "GROUP_BYTES", 1)  # the smallest aligned groups
    assert [len(g) for g in xu.member_groups(cfg, 300, seeds, "cpu")] == [4, 3]
    pd.testing.assert_frame_equal(xu.train(cfg, {"d": 300}, data, seeds, "cpu"), together)


def test_inputs_and_init_cast_member_by_member_as_stacked():
    torch = pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    mu = xu.make_data(CFG)["mu"][:, :300]
    inputs = xu.group_data(CFG, mu, [3, 5], "xor", "cpu")
    sets = [xu.seed_data(CFG, mu, s) for s in (3, 5)]
    fields = (("x", 0, "x"), ("x_test", 1, "x"), ("y_noisy", 0, "y_noisy"), ("y_test", 1, "y"))
    for key, split, name in fields:
        stacked = torch.as_tensor(np.stack([s[split][name] for s in sets])).to(torch.float32)
        assert torch.equal(inputs[key], stacked)
    assert inputs["n_flipped"] == [float(s[0]["flipped"].sum()) for s in sets]
    w, _ = xu.xc.init_params([3, 5], 6, 300, 1e-3)
    gens = layers.generators([3, 5])
    for g in gens:  # the readout signs are drawn first
        torch.randint(0, 2, (6,), generator=g)
    assert torch.equal(w.detach(), layers.init_weight((6, 300), "gaussian", gens, 1e-3).to(torch.float32))
