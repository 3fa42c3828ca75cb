"""The forward-forward study: label embedding, negatives, the control's labels, hybrid masks, the trained
jobs of every tier's kinds on a tiny config, and the claims' arithmetic."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite import study
from reprosuite.claims import evaluate
from reprosuite.studies import hinton_forward_forward as hff
from reprosuite.studies.hinton_forward_forward import ff, run


def test_label_overwrites_the_first_pixels_or_is_prepended():
    x = torch.full((2, 12), 0.5)
    out = ff.embed(x, torch.tensor([3, -1]), 4, "overwrite")
    assert out.shape == (2, 12) and torch.equal(out[0, :4], torch.tensor([0.0, 0, 0, 1]))
    assert torch.allclose(out[1, :4], torch.full((4,), 0.25)) and torch.equal(out[:, 4:], x[:, 4:])
    cat = ff.embed(x, torch.tensor([0, 1]), 4, "concat")
    assert cat.shape == (2, 16) and torch.equal(cat[:, 4:], x)
    with pytest.raises(ValueError, match="label mode"):
        ff.embed(x, torch.tensor([0, 1]), 4, "add")


def test_negatives_are_wrong_and_uniform_and_the_control_is_independent_of_the_image():
    y = torch.arange(10).repeat(2, 500)  # (S=2, B=5000)
    pos, neg = ff.phase_labels(y, [0, 0], step=7, n_classes=10, independent=torch.tensor([False, True]))
    assert torch.equal(pos[0], y[0]) and (neg[0] != y[0]).all()
    counts = torch.bincount((neg[0] - y[0]) % 10, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 400  # uniform over the 9 wrong labels
    # control: the true label appears in both phases at the chance rate 1/10, and the phases are independent
    assert (
        abs((pos[1] == y[1]).float().mean() - 0.1) < 0.02
        and abs((neg[1] == y[1]).float().mean() - 0.1) < 0.02
    )
    assert abs((pos[1] == neg[1]).float().mean() - 0.1) < 0.02
    again = ff.phase_labels(y, [0, 0], step=7, n_classes=10, independent=torch.tensor([False, True]))
    assert all(torch.equal(a, b) for a, b in zip((pos, neg), again, strict=True)), "stateless per-step draws"


def test_hybrid_masks_are_binary_and_blurred_into_large_regions():
    g = torch.Generator().manual_seed(0)
    raw = ff.hybrid_masks(200, 28, 0, g)
    blurred = ff.hybrid_masks(200, 28, 6, torch.Generator().manual_seed(0))
    assert set(blurred.unique().tolist()) <= {0.0, 1.0} and 0.3 < blurred.mean() < 0.7

    def flips(m):  # horizontal neighbours that differ: rare in coherent regions
        m = m.view(-1, 28, 28)
        return (m[:, :, 1:] != m[:, :, :-1]).float().mean()

    assert flips(raw) > 0.4 and flips(blurred) < 0.15
    x = torch.rand(1, 6, 784)
    h = ff.hybrids(x, [0], 0, 6)
    assert h.shape == x.shape and not torch.equal(h, x)


def test_cooldown_follows_the_official_schedule():
    scale = ff.cooldown(epochs=10, per_epoch=3)
    assert [scale(3 * e) for e in (0, 5, 6, 9)] == [1.0, 1.0, 2 * 5 / 10, 2 * 2 / 10]


def _tiny(**kw):
    return replace(hff.TIERS["smoke"], epochs=2, **kw)


def test_every_kind_of_job_trains_and_extracts_on_a_tiny_config():
    cfg = _tiny(bp=True, unsup=True, hidden=(16, 16), test_layers=(0, 1), readout_layers=(1,), unsup_epochs=2)
    data = hff.make_data(cfg)
    # hybrids need square images: pad the 64 digit pixels into 784
    data = dict(
        data, x=np.pad(data["x"], ((0, 0), (0, 720))), x_test=np.pad(data["x_test"], ((0, 0), (0, 720)))
    )
    seeds = study.seed_list(cfg)
    frames = []
    for name, point in hff.grid(cfg).items():
        frames.append(hff.train(cfg, point, data, seeds, "cpu").assign(point=name))
    runs = pd.concat(frames, ignore_index=True).fillna({"variant": ""})
    metrics = hff.extract(runs, cfg)
    models = set(metrics[metrics.metric == "test_accuracy"].model)
    assert models == {"ff", "control", "linear", "bp", "unsup", "unsup_random"}
    assert (metrics[metrics.metric == "cross_layer_grad"].value == 0).all()
    assert set(metrics[metrics.metric == "bp_epochs_to_ff"].seed) == set(seeds)
    measured = hff.measure(metrics, cfg)
    assert len(measured["FF2"]) == 2 and len(measured["FF2/control"]) == cfg.control_seeds


def test_control_member_learns_nothing_and_ff_learns():
    cfg = replace(hff.TIERS["smoke"], epochs=10)
    data = hff.make_data(cfg)
    runs = run.train_supervised(cfg, data, [0], [0], "cpu").assign(point="ff")
    metrics = hff.extract(runs, cfg)
    acc = metrics[metrics.metric == "test_accuracy"].set_index("model")["value"]
    assert acc["ff"] > 0.6 and acc["control"] < 0.3


def test_claims_arithmetic_and_the_control_blocks_a_pass():
    rows = []
    for seed, (f, c, lin) in enumerate([(0.95, 0.10, 0.92), (0.951, None, 0.921), (0.949, None, 0.919)]):
        rows += [("ff", "ff", seed, "test_accuracy", f), ("linear", "linear", seed, "test_accuracy", lin)]
        if c is not None:
            rows.append(("ff", "control", seed, "test_accuracy", c))
    metrics = pd.DataFrame(rows, columns=["point", "model", "seed", "metric", "value"])
    m = hff.measure(metrics, hff.TIERS["quick"])
    assert np.allclose(m["FF2"], [0.03, 0.03, 0.03]) and np.allclose(m["FF2/control"], [-0.82])
    claim = next(c for c in hff.CLAIMS if c.id == "FF2")
    row = evaluate(claim, m["FF2"], "quick", control=m["FF2/control"])
    assert row["verdict"] == "pass" and row["control_verdict"] == "fail"
    row = evaluate(claim, m["FF2"], "quick", control=m["FF2"])
    assert row["verdict"] == "not discriminating"


def test_datasets_and_grid():
    assert hff.datasets(hff.TIERS["quick"]) == ("mnist",) and hff.datasets(hff.TIERS["full"]) == ("mnist",)
    assert hff.datasets(hff.TIERS["smoke"]) == ()
    assert set(hff.grid(hff.TIERS["full"])) == {"ff", "linear", "bp", "unsup"}
    assert set(hff.grid(hff.TIERS["quick"])) == {"ff", "linear"}
    with pytest.raises(ValueError, match="control_seeds"):
        hff.grid(replace(hff.TIERS["quick"], control_seeds=0))
