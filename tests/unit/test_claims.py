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


def test_share_uses_the_exact_clopper_pearson_interval():
    from reprosuite.claims import share_ci

    assert share_ci(3, 3) == pytest.approx((1.0, 0.2924018, 1.0), rel=1e-6)  # (α/2)^(1/3) = 0.025^(1/3)
    assert share_ci(0, 5)[1:] == pytest.approx((0.0, 0.5218238), rel=1e-6)
    k, lo, hi = share_ci(7, 10)  # scipy.stats.binomtest(7, 10).proportion_ci(): (0.3475, 0.9333)
    assert (k, lo, hi) == pytest.approx((0.7, 0.3475471, 0.9332605), rel=1e-5)


def test_median_interval_from_order_statistics():
    from reprosuite.claims import median_ci

    m, lo, hi = median_ci([5.0, 1.0, 4.0, 2.0, 3.0])
    assert m == 3.0 and math.isnan(lo) and math.isnan(hi)  # n = 5: no interval reaches 95 %
    m, lo, hi = median_ci(range(1, 7))  # n = 6: [x_(1), x_(6)] covers 1 - 2/64 = 96.9 %
    assert (m, lo, hi) == (3.5, 1.0, 6.0)
    m, lo, hi = median_ci(range(1, 10))  # n = 9: [x_(2), x_(8)] covers 96.1 %, [x_(3), x_(7)] only 82 %
    assert (m, lo, hi) == (5.0, 2.0, 8.0)


@pytest.mark.parametrize(
    ("claim", "values", "expected"),
    [
        # every seed meets the criterion, but 3 seeds cannot show a share ≥ 0.5 at 95 %: the interval says so
        (
            Claim("c", "s", "m", Rule.at_least(0.5), statistic="share", criterion=Rule.at_least(1.0)),
            [2, 3, 4],
            "inconclusive",
        ),
        (
            Claim("c", "s", "m", Rule.at_least(0.5), statistic="share", criterion=Rule.at_least(1.0)),
            [2.0] * 8,
            "pass",
        ),
        (
            Claim("c", "s", "m", Rule.at_least(0.5), statistic="share", criterion=Rule.at_least(1.0)),
            [0.0] * 8,
            "fail",
        ),
        # a heavy-tailed ratio: one huge seed moves the mean's interval over 10, not the geometric mean's
        (
            Claim("c", "s", "m", Rule.at_most(10.0), statistic="geomean"),
            [2.0, 3.0, 2.5, 400.0],
            "inconclusive",
        ),
        (Claim("c", "s", "m", Rule.at_most(10.0)), [2.0, 3.0, 2.5, 400.0], "inconclusive"),
        (Claim("c", "s", "m", Rule.at_most(10.0), statistic="geomean"), [2.0, 3.0, 2.5, 3.5], "pass"),
        (
            Claim("c", "s", "m", Rule.at_least(1.0), statistic="median"),
            [2.0, 3.0, 2.5, 5.0, 9.0, 4.0],
            "pass",
        ),
    ],
)
def test_verdict_under_each_statistic(claim, values, expected):
    assert verdict(claim.rule, values, claim) == expected


def test_censored_values_decide_only_when_any_completion_agrees():
    from reprosuite.claims import Sample, censored_at, judge

    ratio = Claim("c", "s", "m", Rule.at_least(5.0))
    sample = censored_at([10.0, math.inf, 12.0], bounds=[0.0, 8.0, 0.0])  # seed 1: ≥ 8 within the budget
    assert sample == Sample((10.0, 8.0, 12.0), (0, 1, 0))
    assert judge(ratio, sample)[0] == "pass" and "same verdict" in judge(ratio, sample)[1]
    short = censored_at([1.0, math.inf, 2.0], bounds=2.0)  # ≥ 2 only: the verdict hinges on the censored seed
    v, note = judge(ratio, short)
    assert v == "inconclusive" and "decided by censoring alone" in note
    slow = Claim("c", "s", "m", Rule.at_most(100.0), statistic="median")
    times = [150.0, 160.0, 170.0, 155.0, 165.0, math.inf]
    assert judge(slow, censored_at(times, 500.0))[0] == "fail"  # a seed ≥ 500: fails at any value
    with pytest.raises(ValueError, match="bounds"):
        censored_at([1.0, math.inf], [1.0])


def test_a_claim_whose_control_passes_is_not_discriminating():
    claim = Claim("c", "s", "m", Rule.at_least(1.0), control="weight decay 0")
    row = evaluate(claim, [2.0, 2.1, 2.2], "quick", control=[0.1, 0.2, 0.15])
    assert row["verdict"] == "pass" and row["control_verdict"] == "fail"
    assert row["control_measured"] == pytest.approx(0.15)
    row = evaluate(claim, [2.0, 2.1, 2.2], "quick", control=[2.0, 2.1, 2.3])
    assert row["verdict"] == "not discriminating" and "control passes too" in row["note"]
    row = evaluate(claim, [2.0, 2.1, 2.2], "quick")
    assert row["verdict"] == "inconclusive" and row["control_verdict"] == "not measured"
    row = evaluate(claim, [0.0, 0.1, 0.2], "quick", control=[2.0, 2.1, 2.3])
    assert row["verdict"] == "fail"  # a failing claim stays a fail whatever its control does


def test_claim_definitions_are_checked():
    with pytest.raises(ValueError, match="kind"):
        Claim("c", "s", "m", Rule(), kind="theorem")
    with pytest.raises(ValueError, match="statistic"):
        Claim("c", "s", "m", Rule(), statistic="mode")
    with pytest.raises(ValueError, match="criterion"):
        Claim("c", "s", "m", Rule(), statistic="share")
    with pytest.raises(ValueError, match="only empirical"):
        Claim("c", "s", "m", Rule(), kind="sanity", control="x")


def test_near_threshold_flags_intervals_ending_close_to_a_bound():
    from reprosuite.claims import near_threshold

    assert near_threshold(Rule.at_least(1.0), 1.02, 1.5)
    assert not near_threshold(Rule.at_least(1.0), 1.2, 1.3)
    assert near_threshold(Rule.at_most(0.0), -0.5, -0.01)  # width 0.49: within 5 % of it
    assert not near_threshold(Rule.at_least(1.0), math.nan, math.nan)
