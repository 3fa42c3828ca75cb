import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import jepa_dln_bias as jepa
from reprosuite.studies.jepa_dln_bias import theory

torch = pytest.importorskip("torch")

COLUMNS = ["point", "seed", "metric", "objective", "case", "depth", "feature", "value"]
SMALL = dataclasses.replace(jepa.TIERS["smoke"], seeds=2, depths=(1, 3), log_points=60)


def test_grid_validates_the_setting():
    assert jepa.grid(SMALL) == {"all": {"depths": [1, 3]}}
    with pytest.raises(ValueError, match="eps"):
        jepa.grid(dataclasses.replace(SMALL, eps=0.3))
    with pytest.raises(ValueError, match="low"):
        jepa.grid(dataclasses.replace(SMALL, low=1.2))


def test_data_covariances_share_the_basis():
    data = jepa.make_data(SMALL)
    q = data["basis"][1]
    for c, case in enumerate(jepa.CASES):
        lam, rho = jepa.case_values(SMALL)[case]
        np.testing.assert_allclose(q.T @ data["syx"][1, c] @ q, np.diag(lam), atol=1e-12)
        np.testing.assert_allclose(q.T @ data["sxx"][1, c] @ q, np.diag(lam / rho), atol=1e-12)


@pytest.fixture(scope="module")
def small_run():
    torch.set_num_threads(1)
    data = jepa.make_data(SMALL)
    runs = jepa.train(SMALL, {"depths": [1, 3]}, data, [0, 1], "cpu").assign(point="all")
    return runs, jepa.extract(runs, SMALL)


def test_training_starts_at_eps_and_follows_the_ode(small_run):
    runs, metrics = small_run
    first = runs[(runs.step == 0) & runs.metric.str.match(r"^w\d$")]
    np.testing.assert_allclose(first.value, SMALL.eps, rtol=1e-9)
    times = metrics[metrics.metric == "t"]
    values = jepa.case_values(SMALL)
    for row in times[times.depth == 3].itertuples():
        lam, rho = values[row.case][0][row.feature], values[row.case][1][row.feature]
        assert row.value == pytest.approx(
            theory.ode_time(row.objective, 3, lam, rho, SMALL.eps, 0.5), rel=0.01
        )
    converged = metrics[metrics.metric == "converged"].value
    np.testing.assert_allclose(converged, 1.0, atol=1e-3)


def test_a_diverged_member_is_not_measured(small_run):
    runs, _ = small_run
    runs = runs.copy()
    dead = (
        (runs.metric == "diverged_at") & (runs.depth == 3) & (runs.objective == "jepa") & (runs.case == "rho")
    )
    runs.loc[dead & (runs.seed == 1), "value"] = 100.0
    metrics = jepa.extract(runs, SMALL)
    member = (metrics.depth == 3) & (metrics.objective == "jepa") & (metrics["case"] == "rho")
    assert metrics[member & (metrics.seed == 1)].value.isna().all()
    assert metrics[~(member & (metrics.seed == 1))].value.notna().all()
    assert np.isnan(jepa.measure(metrics, SMALL)["jepa_rho_order"][1])


def test_seeds_only_rotate_the_problem(small_run):
    _, metrics = small_run
    t = metrics[metrics.metric == "t"].pivot_table(
        index=["objective", "case", "depth", "feature"], columns="seed", values="value"
    )
    np.testing.assert_allclose(t[0], t[1], rtol=1e-8)


def test_measure_orders_and_inversion(small_run):
    _, metrics = small_run
    got = jepa.measure(metrics, SMALL)
    assert set(got) == {c.id for c in jepa.CLAIMS}
    assert got["lambda_order"] == [-1.0, -1.0]
    assert got["jepa_rho_order"] == [-1.0, -1.0]
    assert got["mae_ignores_rho"] == [1.0, 1.0]
    assert got["jepa_ratio_grows"] == pytest.approx([(1 / SMALL.low) ** 3 / (1 / SMALL.low)] * 2, rel=1e-3)
    # the ODE inverts the order only from depth 5 on: depths 1 and 3 have no depth to check it at
    assert all(math.isnan(v) for v in got["anti_inversion"])


def test_measure_on_synthetic_times():
    cfg = dataclasses.replace(SMALL, depths=(1, 5, 6))
    rows = []
    lam = jepa.case_values(cfg)["anti"][0]
    for depth in cfg.depths:
        for obj in jepa.OBJECTIVES:
            for case in jepa.CASES:
                for i in range(SMALL.features):
                    by_lambda = 1.0 / jepa.case_values(cfg)[case][0][i] + 0.01 * i
                    # JEPA inverts at depth 5 but not at depth 6: the claim reads every inverting depth
                    inverts = obj == "jepa" and depth == 5 and case == "anti"
                    rows.append(("all", 0, "t", obj, case, depth, i, lam[i] if inverts else by_lambda))
                    rows.append(("all", 0, "final", obj, case, depth, i, 2.0 - 0.05 * i * depth))
    got = jepa.measure(pd.DataFrame(rows, columns=COLUMNS), cfg)
    assert got["anti_inversion"] == [1.0]
    inverted = [
        (*r[:-1], lam[r[6]]) if (r[2], r[3], r[4], r[5]) == ("t", "jepa", "anti", 6) else r for r in rows
    ]
    assert jepa.measure(pd.DataFrame(inverted, columns=COLUMNS), cfg)["anti_inversion"] == [-1.0]
    ratio = {d: 2.0 / (2.0 - 0.2 * d) for d in cfg.depths}  # first over last feature's final strength
    assert got["jepa_ratio_grows"] == pytest.approx([min(ratio[5] / ratio[1], ratio[6] / ratio[5])])
    rows[0] = (*rows[0][:-1], math.inf)  # a feature never learned: no order
    assert math.isnan(jepa.measure(pd.DataFrame(rows, columns=COLUMNS), cfg)["lambda_order"][0])


def test_the_ode_inverts_the_order_from_depth_5_only():
    quick = config.resolve("jepa_dln_bias", "quick")
    assert [d for d in range(1, 9) if theory.ode_inversion(quick, d) <= 0] == [5, 6, 7, 8]
    assert all(theory.ode_inversion(quick, d) == pytest.approx(1.0) for d in (1, 2, 3))


def test_figures_draw(small_run):
    import matplotlib.pyplot as plt

    runs, metrics = small_run
    for figure in jepa.FIGURES:
        fig = figure.draw(runs, metrics, SMALL)
        assert fig.axes
        plt.close(fig)


def test_quick_deviates_from_the_paper_in_budget_only():
    st = study.get("jepa_dln_bias")
    devs = study.deviations(st, config.resolve(st, "quick"), "quick")
    assert {d.field for d in devs} == {"seeds", "depths", "lr_depth", "log_points"}
