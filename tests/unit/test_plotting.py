import math

import pandas as pd
import pytest

from reprosuite import plotting


@pytest.mark.parametrize(
    ("value", "rule", "expected"),
    [
        (0.01, "<= 0.05", 0.8),
        (0.1, "<= 0.05", -1.0),
        (-0.95, "in [-1.15, -0.85]", 0.1 / 0.85),
        (-1.2, "in [-1.15, -0.85]", -0.05 / 1.15),
        (math.inf, ">= 5", math.inf),
        (10.0, ">= 5", 1.0),
        (0.5, "<= 0", -0.5),
    ],
)
def test_margin_is_signed_relative_distance_to_the_nearest_bound(value, rule, expected):
    assert plotting.margin(value, rule) == pytest.approx(expected)
    assert math.isnan(plotting.margin(math.nan, rule))


def test_overview_and_html_handle_infinite_and_missing_values(tmp_path):
    table = pd.DataFrame(
        {
            "study": ["a", "a", "b"],
            "claim": ["x", "y", "z"],
            "rule": ["<= 0.05", ">= 5", "in [-1.15, -0.85]"],
            "measured": [0.01, math.inf, math.nan],
            "ci_low": [0.0, math.inf, math.nan],
            "ci_high": [0.02, math.inf, math.nan],
            "verdict": ["pass", "pass", "inconclusive"],
        }
    )
    plotting.save(plotting.overview(table), tmp_path / "o.png")
    assert (tmp_path / "o.png").stat().st_size > 5000 and (tmp_path / "o.pdf").exists()


def test_claims_table_fragment_has_one_coloured_row_per_claim_and_escapes_text():
    table = pd.DataFrame(
        {
            "study": ["a", "b"],
            "paper": ["A et al. 2020", "B <&> 2021"],
            "paper_url": ["https://arxiv.org/abs/1", "https://arxiv.org/abs/2"],
            "claim": ["x", "y"],
            "statement": ["x holds", "y < 1 & z"],
            "paper_text": ["", "about 1"],
            "paper_value": [0.5, math.nan],
            "metric": ["m", "n"],
            "rule": [">= 0.4", "<= 1"],
            "measured": [0.6, 2.0],
            "ci_low": [0.55, 1.5],
            "ci_high": [0.65, 2.5],
            "verdict": ["pass", "fail"],
            "tier": ["quick", "quick"],
            "n_seeds": [3, 3],
            "note": ["", ""],
        }
    )
    fragment = plotting.claims_table_html(table)
    assert (
        fragment.count("class='verdict'") == 2 and "1 of 2 empirical claims reproduced (1 fail)" in fragment
    )
    studies = fragment.split("<table id='claims'")[0]
    assert studies.count("<tr>") == 3 and "1 pass (of 1)" in studies and "1 fail (of 1)" in studies
    assert f"background:{plotting.VERDICT_COLOURS['fail']}'>fail</td>" in fragment
    assert "B &lt;&amp;&gt; 2021" in fragment and "y &lt; 1 &amp; z" in fragment and "<&>" not in fragment
    assert "0.6 [0.55, 0.65]" in fragment and "about 1" in fragment
    page = plotting.claims_html(table)
    assert page.startswith("<!doctype html>") and fragment in page


def test_headline_counts_empirical_claims_only_and_names_the_rest():
    table = pd.DataFrame(
        {
            "kind": ["empirical", "empirical", "sanity", "analytic", "empirical"],
            "verdict": ["pass", "not discriminating", "pass", "pass", "fail"],
        }
    )
    assert plotting.headline(table) == (
        "1 of 3 empirical claims reproduced (1 fail, 1 not discriminating); 2 analytic or sanity claims not counted"
    )
