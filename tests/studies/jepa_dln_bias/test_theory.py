import numpy as np
import pytest

from reprosuite.studies.jepa_dln_bias import theory


@pytest.mark.parametrize("objective", theory.OBJECTIVES)
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_ode_converges_to_its_fixed_point(objective, depth):
    tau = np.linspace(0, 200_000, 50)
    w = theory.ode_curve(objective, depth, 0.9, 0.85, 0.02, tau)
    assert w[-1] == pytest.approx(float(theory.fixed_point(objective, depth, 0.85)), rel=1e-5)


@pytest.mark.parametrize("depth", [2, 3])
def test_jepa_critical_time_has_the_papers_small_eps_form(depth):
    """t* ≈ (1/λ)·Σ_{n=1}^{2L−1} L / (n ρ^{2L−n−1} ε^{n/L}) up to O(log ε) as ε → 0."""
    lam, rho, eps = 0.7, 0.6, 1e-4
    series = (
        sum(depth / (n * rho ** (2 * depth - n - 1) * eps ** (n / depth)) for n in range(1, 2 * depth)) / lam
    )
    assert theory.ode_time("jepa", depth, lam, rho, eps, 0.5) == pytest.approx(series, rel=1e-3)
    # MAE: leading term (1/λ)·L/((L−1) ε^{(L−1)/L}), no ρ
    mae = theory.ode_time("mae", depth, lam, rho, eps, 0.5)
    assert mae == pytest.approx(depth / ((depth - 1) * eps ** ((depth - 1) / depth)) / lam, rel=0.05)
