import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite import claims
from reprosuite.studies import kwok_butterfly as kb
from reprosuite.studies.kwok_butterfly import butterfly as bf

SMOKE = kb.TIERS["smoke"]


def test_roles_and_grid():
    names = [r["role"] for r in kb.roles(kb.TIERS["quick"])]
    assert names == ["parent", "sham", "one_t0", "one_t0.25", "one_t1", "one_t5", "gauss_s1"]
    assert [r["index"] for r in kb.roles(kb.Config())] == list(range(4 + 2 + 4))
    g = kb.grid(kb.TIERS["quick"])
    assert g["control"]["lr"] == pytest.approx(g["main"]["lr"] / 100)
    with pytest.raises(ValueError, match="t = 0"):
        kb.grid(replace(SMOKE, spawn_epochs=(1.0, 2.0)))
    with pytest.raises(ValueError, match="lower the lr"):
        kb.grid(replace(SMOKE, control_lr_factor=2.0))
    assert kb.datasets(kb.TIERS["full"]) == ("mnist",) and kb.datasets(kb.TIERS["quick"]) == ()


def test_triangle_schedule():
    steps = 1000
    f = [bf.triangle(s, steps, 0.02) for s in range(steps)]
    assert f[19] == 1.0 and f[0] == pytest.approx(1 / 20)
    assert all(a <= b for a, b in zip(f[:20], f[1:20], strict=False))
    assert all(a >= b for a, b in zip(f[19:], f[20:], strict=False)) and f[-1] == pytest.approx(1 / 980)


def test_perturbations_follow_the_official_noise():
    sizes = [40, 64, 64, 10]
    rs = [
        {"kind": "none", "sigma": 0.0, "index": 0},
        {"kind": "gauss", "sigma": 0.0, "index": 1},
        {"kind": "one", "sigma": 1.0, "index": 2},
        {"kind": "gauss", "sigma": 0.5, "index": 3},
    ]
    d = bf.perturbations(sizes, rs, [7] * 4)
    nonzero = [sum(int((layer[m] != 0).sum()) for layer in d) for m in range(4)]
    assert nonzero[:3] == [0, 0, 1]  # parent, sham: nothing; one weight: exactly one entry over all layers
    assert nonzero[3] == sum(o * i for i, o in zip(sizes[:-1], sizes[1:], strict=False))
    # Gaussian σ: entries ~ N(0, (σ · init std)²) per layer
    assert d[1][3].std().item() == pytest.approx(0.5 * bf.init_std(64), rel=0.05)
    assert bf.init_std(64) == pytest.approx(torch.empty(20000).uniform_(-1 / 8, 1 / 8).std().item(), rel=0.03)
    # deterministic per (seed, role), different across seeds
    again = bf.perturbations(sizes, rs, [7] * 4)
    assert all(torch.equal(a, b) for a, b in zip(d, again, strict=True))
    other = bf.perturbations(sizes, rs, [8] * 4)
    assert not torch.equal(d[0][3], other[0][3])


def test_barrier_of_a_parent_and_of_an_identical_copy_is_zero():
    model = bf.LNMLP([6, 16, 16, 3], [1, 1, 2], "cpu")
    x, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    parent_of = torch.tensor([0, 0, 0])  # member 1 is a copy of member 0; member 2 an independent net
    b = bf.barriers(model, parent_of, x, y, 11)
    assert b["barrier_ce"][:2].abs().max() < 1e-6 and b["ce_curve"].shape == (3, 11)
    l2, rel = bf.distance(model, parent_of)
    assert l2[:2].tolist() == [0.0, 0.0] and rel[2] > 0.5


def test_training_keeps_copies_identical_until_their_spawn():
    cfg = replace(SMOKE, train_size=256, widths=(16, 16), epochs=3, spawn_epochs=(0.0, 2.0), batch=32)
    data = {k: v[:256] if k in ("x", "y") else v[:200] for k, v in kb.make_data(cfg).items()}
    runs = kb.train(cfg, kb.grid(cfg)["main"], data, [3], "cpu")
    l2 = runs[runs.metric == "l2"]
    assert (l2[l2.variant == "sham"].value == 0).all()
    late = l2[l2.variant == "one_t2"]
    assert (late[late.step < 16].value == 0).all() and late[late.step == late.step.max()].value.iloc[0] > 0
    first = l2[(l2.variant == "one_t0") & (l2.step > 0)]
    assert (first.value > 0).all()
    final = runs[(runs.step == runs.step.max()) & (runs.metric == "barrier_ce")].set_index("variant").value
    assert abs(final["parent"]) < 1e-6 and abs(final["sham"]) < 1e-6


def _table(barriers: dict[str, float], point="main", seed=0) -> pd.DataFrame:
    rows = []
    for role, b in barriers.items():
        for metric, v in (("barrier_ce", b), ("barrier_err", 0.0), ("l2", 0.0 if role == "sham" else 1.0)):
            rows.append((point, seed, role, 10, "train", metric, v))
        rows.append((point, seed, role, 10, "train", "l2_rel", 0.1))
        rows.append((point, seed, role, 10, "test", "ce", 1.0))
        rows.append((point, seed, role, 10, "test", "acc", 0.5))
    return pd.DataFrame(rows, columns=["point", "seed", "variant", "step", "split", "metric", "value"])


def test_extract_and_measure_compute_the_claims():
    cfg = kb.TIERS["quick"]
    main = _table(
        {
            "parent": 0,
            "sham": 0,
            "one_t0": 0.2,
            "one_t0.25": 0.1,
            "one_t1": 0.01,
            "one_t5": 0.002,
            "gauss_s1": 1.0,
        }
    )
    # control: barriers below the floor → ratios of floors, no monotone fall
    ctrl = _table(
        {
            "parent": 0,
            "sham": 0,
            "one_t0": 5e-4,
            "one_t0.25": 4e-4,
            "one_t1": 3e-4,
            "one_t5": 1e-4,
            "gauss_s1": 0.5,
        },
        point="control",
    )
    m = kb.extract(pd.concat([main, ctrl]), cfg)
    v = m.set_index(["point", "metric"]).value
    assert v[("main", "k1_ratio")] == pytest.approx(0.2)
    assert v[("main", "k2_log_ratio")] == pytest.approx(math.log10(100))
    assert v[("main", "k2_rho")] == pytest.approx(-1.0)
    assert v[("control", "k1_ratio")] == pytest.approx(1e-3 / 0.5)
    assert v[("control", "k2_log_ratio")] == 0.0 and v[("control", "k2_rho")] == 0.0
    assert v[("main", "k0_sham")] == 0.0
    got = kb.measure(m, cfg)
    assert set(got) == {"K0", *(f"{c}{s}" for c in ("K1", "K2", "K2b", "K4") for s in ("", "/control"))}
    assert got["K4"].empty
    k1 = next(c for c in kb.CLAIMS if c.id == "K1")
    assert claims.verdict(k1.rule, [0.2] * 6, k1) == "pass"
    assert claims.verdict(k1.rule, [0.2] * 5, k1) == "inconclusive"  # 5/5 cannot pass: CP lower 0.48
    assert claims.verdict(k1.rule, [0.002] * 6, k1) == "fail"


def test_missing_member_is_a_key_error():
    cfg = kb.TIERS["quick"]
    with pytest.raises(KeyError):
        kb.extract(_table({"parent": 0, "sham": 0, "one_t0": 0.2}), cfg)


def test_spearman_handles_ties():
    assert kb._spearman([0, 1, 2, 3], [4, 3, 2, 1]) == pytest.approx(-1)
    assert kb._spearman([0, 1, 2, 3], [1, 1, 1, 1]) == 0.0
    assert kb._spearman([0, 1, 2, 3], [3, 2, 1, 1]) > -0.999
    assert np.isfinite(kb._spearman([0, 1], [1, 0]))


def test_pretraining_arm_and_its_control():
    from reprosuite.studies.kwok_butterfly import pretrain

    cfg = replace(SMOKE, train_size=600, widths=(16, 16), epochs=2, batch=32, pretrain_epochs=2)
    data = kb.make_data(cfg)
    pre, fine = pretrain.split(data)
    assert set(np.unique(pre["y"])) == set(range(5)) and set(np.unique(fine["y"])) == set(range(5))
    assert len(pre["y"]) + len(fine["y"]) == 600
    points = kb.grid(cfg)
    assert points["k4_pretrain0"]["pretrain_epochs"] == 0 and "k4_pretrained" in points
    assert "k4_pretrained" not in kb.grid(kb.TIERS["quick"])
    frames = []
    for name in ("k4_pretrained", "k4_pretrain0"):
        runs = kb.train(cfg, points[name], data, [4], "cpu")
        runs["point"] = name
        frames.append(runs)
    zero = frames[1]
    # 0 pre-training epochs: the two arms are the same nets with the same δ, so the ratio is exactly 1
    l2 = zero[(zero.metric == "l2") & (zero.step == 0)].set_index("variant").value
    assert l2["pre_parent"] == 0 and l2["rand_parent"] == 0
    acc = zero[(zero.metric == "acc") & (zero.step == zero.step.max())].set_index("variant").value
    assert acc["pre_parent"] == acc["rand_parent"]
    m = kb.extract(pd.concat(frames), cfg)
    ratio = m[m.metric == "k4_ratio"].set_index("point").value
    assert ratio["k4_pretrain0"] == 1.0 and np.isfinite(ratio["k4_pretrained"])
