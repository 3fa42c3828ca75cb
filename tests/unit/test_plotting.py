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
