import math

import numpy as np
import pytest

from reprosuite.claims import Claim, Rule, evaluate, mean_ci, verdict


def test_mean_ci_matches_student_t():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0)
    # t_{0.975, 2} = 4.302653, sd = 1, n = 3
    assert hi - m == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert m - lo == pytest.approx(hi - m)


def test_equal_samples_give_zero_width_ci_even_infinite():
    assert mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)
    assert mean_ci([math.inf, math.inf]) == (math.inf, math.inf, math.inf)


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        (Rule.at_most(0.05), [0.01, 0.02, 0.015], "pass"),
        (Rule.at_most(0.05), [0.5, 0.6, 0.55], "fail"),
        (Rule.at_most(0.05), [0.01, 0.09, 0.05], "inconclusive"),
        (Rule.between(-1.15, -0.85), [-1.0, -0.98, -1.02], "pass"),
        (Rule.between(-1.15, -0.85), [-0.5, -0.45, -0.55], "fail"),
        (Rule.at_least(5.0), [math.inf, math.inf, math.inf], "pass"),
        (Rule.at_least(5.0), [math.inf, 10.0, 20.0], "pass"),
        (Rule.at_least(5.0), [math.inf, 1.0, 20.0], "inconclusive"),
        (Rule.at_least(5.0), [], "inconclusive"),
        (Rule.at_least(5.0), [math.nan, 6.0], "inconclusive"),
        (Rule.at_least(5.0), [6.0], "pass"),
        (Rule.at_least(5.0), [4.0], "fail"),
    ],
)
def test_verdict(rule, values, expected):
    assert verdict(rule, values) == expected


def test_evaluate_row_and_tier_gating():
    claim = Claim("c", "a claim", "m", Rule.at_most(1.0), paper_value=0.5, tiers=("full",))
    row = evaluate(claim, [0.1, 0.2, 0.3], "quick")
    assert row["verdict"] == "inconclusive"
    assert row["n_seeds"] == 0
    assert "full" in row["note"]
    row = evaluate(claim, [0.1, 0.2, 0.3], "full")
    assert row["verdict"] == "pass"
    assert row["measured"] == pytest.approx(0.2)
    assert row["ci_low"] < 0.2 < row["ci_high"]
    assert np.allclose(row["per_seed"], [0.1, 0.2, 0.3])


def test_per_seed_selects_by_metric_point_and_member_columns():
    import pandas as pd

    from reprosuite.claims import per_seed

    metrics = pd.DataFrame(
        {
            "point": ["p", "p", "p", "q", "p"],
            "seed": [1, 0, 0, 0, 1],
            "metric": ["t", "t", "t", "t", "u"],
            "wd": [1.0, 1.0, 0.0, 1.0, 1.0],
            "value": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    assert per_seed(metrics, "t", "p", wd=1.0).to_dict() == {0: 20.0, 1: 10.0}
    assert per_seed(metrics, "t", wd=1.0).tolist() == [20.0, 40.0, 10.0]
    assert per_seed(metrics, "t", "p", wd=0.0).to_dict() == {0: 30.0}
    assert per_seed(metrics, "v").empty
