import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import study
from reprosuite.engine.analysis import groups
from reprosuite.studies import chughtai_universality as ch
from reprosuite.studies.chughtai_universality import analysis, claims

torch = pytest.importorskip("torch")
from reprosuite.studies.chughtai_universality import gcr  # noqa: E402


def _pairs(g):
    a, b = np.divmod(np.arange(g.order**2), g.order)
    return a, b, g.table[a, b]


def test_sanity_checks_hold():
    assert ch.sanity_value() == 1.0
    assert all(claims.group_checks(n) for n in ("S3", "D4", "C7"))


def test_logit_similarity_matches_the_explicit_cube_and_scores_one_on_gcr_logits():
    g = groups.symmetric(3)
    a, b, c = _pairs(g)
    irreps = [r for r in g.real_irreps if not r.trivial]
    cubes = [torch.as_tensor(g.character_cube(r)) for r in irreps]
    rng = np.random.default_rng(0)
    logits = torch.as_tensor(rng.standard_normal((2, len(a), g.order)))
    for r, cube in zip(irreps, cubes, strict=True):
        explicit = np.array(
            [
                [r.character[g.table[g.table[x, y], g.inverse[z]]] for z in range(6)]
                for x, y in zip(a, b, strict=True)
            ]
        )
        lg = logits.numpy() - logits.numpy().mean(-1, keepdims=True)
        want = [np.sum(lg[s] * explicit) / np.linalg.norm(lg[s]) / np.linalg.norm(explicit) for s in range(2)]
        np.testing.assert_allclose(
            gcr.logit_similarity(logits, torch.as_tensor(c), cube).numpy(), want, rtol=1e-10
        )
    # hand-built GCR logits of the standard irrep: similarity 1 for it, 0 for the sign irrep, and 100 % accuracy
    std = irreps[-1]
    built = torch.as_tensor(gcr.gcr_logits(g, [std], a, b))[None]
    sims = [float(gcr.logit_similarity(built, torch.as_tensor(c), k)[0]) for k in cubes]
    assert sims == pytest.approx([0.0, 1.0], abs=1e-12)
    assert bool((built[0].argmax(-1).numpy() == c).all())


def test_factored_forward_is_the_official_mlp():
    g = groups.symmetric(3)
    a, b, c = (torch.as_tensor(x) for x in _pairs(g))
    params = gcr.init_params([0, 1], g.order, 8, 5, "cpu")
    wx, wy, w1, w2, wu = params
    concat = torch.cat([wx[:, a], wy[:, b]], -1)  # official: cat(W_x[a], W_y[b]) @ W, ReLU, @ W_U
    official = torch.relu(concat @ torch.cat([w1, w2], 1)) @ wu
    torch.testing.assert_close(gcr.logits_of(params, a, b), official)
    torch.testing.assert_close(gcr.all_pairs_logits(params), official)


def test_fve_is_one_inside_an_irreps_span_and_the_projector_split_is_complete():
    g = groups.symmetric(4)
    projs = [torch.as_tensor(g.projector(r)) for r in g.real_irreps]
    x = torch.as_tensor(np.random.default_rng(1).standard_normal((1, 24, 7)))
    inside = projs[3] @ x
    assert float(gcr.fve(inside, projs)[3][0]) == pytest.approx(1.0)
    assert float(sum(gcr.fve(x, projs))[0]) == pytest.approx(1.0)


def test_restriction_to_every_irrep_keeps_the_fibre_average():
    g = groups.symmetric(3)
    a, b, c = (torch.as_tensor(x) for x in _pairs(g))
    params = gcr.init_params([0], g.order, 8, 6, "cpu")
    is_train = torch.ones(1, len(a), dtype=torch.float64)
    everything = torch.eye(g.order, dtype=torch.float64)[None]
    with torch.no_grad():
        restricted, excluded = gcr.restricted_excluded(params, a, b, c, is_train, everything)
    hid = gcr.hidden_of(params, a, b).double().detach()
    mean = torch.stack([hid[0, c == k].mean(0) for k in range(g.order)])
    want = torch.nn.functional.cross_entropy(mean[c] @ params[-1][0].double(), c).detach()
    assert float(restricted[0]) == pytest.approx(float(want))
    nothing = torch.zeros_like(everything)
    with torch.no_grad():
        restricted0, excluded0 = gcr.restricted_excluded(params, a, b, c, is_train, nothing)
    full = torch.nn.functional.cross_entropy(hid[0] @ params[-1][0].double(), c).detach()
    assert float(excluded0[0]) == pytest.approx(float(full)) and float(restricted0[0]) == pytest.approx(
        math.log(6)
    )


def _rows(point, seed, sims_by_step):
    rows = []
    for step, sims in sims_by_step.items():
        rows += [(point, seed, step, "sim", n, v) for n, v in sims.items()]
        rows += [(point, seed, step, split, m, 1.0) for split in ("train", "test") for m in ("acc", "loss")]
    return pd.DataFrame(rows, columns=["point", "seed", "step", "split", "metric", "value"])


def test_key_sets_order_and_the_late_change_flag():
    cfg = ch.TIERS["quick"]
    names, spans = ["1b", "2a"], [1, 4]
    stable = _rows(
        "P",
        0,
        {
            0: {"1b": 0.0, "2a": 0.0},
            10: {"1b": 0.0, "2a": 0.3},
            75: {"1b": 0.5, "2a": 0.3},
            100: {"1b": 0.6, "2a": 0.3},
        },
    )
    v = analysis.seed_values(stable, names, spans, 24, cfg)
    assert v["key_code"] == 3 and v["key_set_changed_late"] == 0 and v["first_learned"] == 1
    assert v["null"] == pytest.approx(5 / 24) and v["logit_fve"] == pytest.approx(0.45)
    late = _rows(
        "P", 1, {0: {"1b": 0.0, "2a": 0.0}, 75: {"1b": 0.0, "2a": 0.3}, 100: {"1b": 0.01, "2a": 0.3}}
    )
    w = analysis.seed_values(late, names, spans, 24, cfg)
    assert w["key_set_changed_late"] == 1 and w["key_code"] == 3
    table = pd.DataFrame(
        [
            {"point": "P", "seed": s, "metric": m, "value": val[m]}
            for s, val in ((0, v), (1, w), (2, v))
            for m in val
        ]
    )
    table.loc[(table.seed == 2) & (table.metric == "key_code"), "value"] = 2.0
    out = analysis.across_seeds(table).set_index(["metric", "seed"])["value"]
    assert out[("key_differs", 0)] == 0.0 and out[("key_differs", 2)] == 1.0
    assert math.isnan(out[("key_differs", 1)])  # its set changed after 0.75·T: void


def test_grid_refuses_bad_groups_and_keeps_seeds_from_the_seed_list():
    cfg = ch.TIERS["full"]
    pts = ch.grid(cfg)
    assert pts["S5_wd1"]["n_seeds"] == 50 and pts["C113_wd1"]["n_seeds"] == 4 and pts["S6_wd0"]["wd"] == 0.0
    with pytest.raises(ValueError):
        ch.grid(dataclasses.replace(cfg, groups=("Q8",), fractions=(0.5,), many_group="Q8"))
    with pytest.raises(ValueError):
        ch.grid(dataclasses.replace(cfg, fractions=(0.3,)))
    shifted = dataclasses.replace(ch.TIERS["smoke"], seeds=(100, 101))
    assert study.seed_list(shifted) == [100, 101]
    data = ch.make_data(shifted)
    assert data["train_S4"].shape == (2, 576) and abs(data["train_S4"].mean() - 0.6) < 0.01


def test_control_claims_are_measured_by_the_same_code():
    by_id = {c.id: c for c in ch.CLAIMS}
    assert by_id["CH4"].statistic == "share" and by_id["CH4"].control
    assert by_id["CH2"].tiers == ("full",) and by_id["CH3"].tiers == ("full",)
    assert by_id["CH0"].kind == "sanity" and not by_id["CH0"].control
