import pytest

from reprosuite.engine.analysis import emc


@pytest.mark.parametrize("threshold", [1, 70, 100, 127, 128, 129, 300, 1000])
def test_a_known_threshold_is_found_exactly_with_enough_bisections(threshold):
    tried = []

    def fits(n):
        tried.append(n)
        return n <= threshold, False

    s = emc.search(fits, start=64, bisections=20)
    assert s.emc == threshold and not s.censored and s.consistent
    assert tried[0] == 64 and len(tried) == len(set(tried))


def test_doubling_then_three_bisections():
    s = emc.search(lambda n: (n <= 300, False), start=64, bisections=3)
    assert [t.n for t in s.trials] == [64, 128, 256, 512, 384, 320, 288]
    assert s.emc == 288 and s.hi == 320


def test_a_censored_failure_above_the_emc_makes_it_a_lower_bound():
    s = emc.search(lambda n: (n <= 100, n == 128), start=64, bisections=2)
    assert s.emc == 96 and s.censored
    s = emc.search(lambda n: (n <= 100, n == 112), start=64, bisections=3)
    assert s.censored  # 112 > 100 ran out of budget
    s = emc.search(lambda n: (n <= 100, False), start=64, bisections=3)
    assert not s.censored


def test_n_max_fitted_is_censored():
    s = emc.search(lambda n: (True, False), start=64, n_max=200)
    assert [t.n for t in s.trials] == [64, 128, 200] and s.emc == 200 and s.censored


def test_start_failing_bisects_below_it():
    s = emc.search(lambda n: (n <= 10, False), start=64, bisections=3)
    assert [t.n for t in s.trials] == [64, 32, 16, 8] and s.emc == 8


def test_step_by_step_matches_callback_and_resumes_from_its_log():
    ref = emc.search(lambda n: (n <= 211, False), start=64, bisections=4)
    s = emc.Search(64, 4)
    for t in ref.trials[:3]:
        s.report(t.fitted)
    resumed = emc.Search.from_trials([(t.n, t.fitted, t.censored) for t in s.trials], start=64, bisections=4)
    while (n := resumed.next()) is not None:
        resumed.report(n <= 211)
    assert resumed.trials == ref.trials
    with pytest.raises(ValueError, match="does not follow"):
        emc.Search.from_trials([(100, True, False)], start=64)
    with pytest.raises(RuntimeError):
        ref.report(True)
    with pytest.raises(ValueError):
        emc.Search(start=0)
