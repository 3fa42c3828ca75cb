import numpy as np
import pytest

from reprosuite.studies.nc_deep_linear import collapse

K, D, PER_CLASS = 4, 10, 5
LABELS = np.repeat(np.arange(K), PER_CLASS)


def rotation(d: int, seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def orthogonal_config(scale_h: float = 0.7, scale_w: float = 2.0):
    """Class means c·e_k (rotated), every feature on its mean, classifier rows aligned with the means."""
    means = scale_h * np.eye(K, D) @ rotation(D)  # (K, D)
    return means[LABELS], scale_w / scale_h * means, means


def etf_config(offset_scale: float = 3.0):
    """Centred means forming a simplex ETF plus a common offset (what a last-layer bias allows)."""
    etf = collapse.simplex_etf(K) @ np.eye(K, D) @ rotation(D, 1)  # (K, D), rows sum to 0
    offset = offset_scale * rotation(D, 2)[-1]  # orthogonal to nothing in particular
    means = etf + offset
    return means[LABELS], 1.5 * etf, means


def test_collapsed_orthogonal_frame_has_zero_metrics():
    features, w, means = orthogonal_config()
    assert collapse.nc1(features, LABELS, K) < 1e-10
    assert collapse.nc2(w, collapse.orthogonal_frame(K)) < 1e-10
    assert collapse.nc3(w, collapse.class_means(features, LABELS, K)[0], collapse.orthogonal_frame(K)) < 1e-10


def test_collapsed_simplex_etf_has_zero_metrics_on_centred_means():
    features, w, _ = etf_config()
    means, mu_g = collapse.class_means(features, LABELS, K)
    assert collapse.nc1(features, LABELS, K) < 1e-10
    assert collapse.nc2(w, collapse.simplex_etf(K)) < 1e-10
    assert collapse.nc3(w, means - mu_g, collapse.simplex_etf(K)) < 1e-10
    # the uncentred means carry the offset, so they are not an ETF
    assert collapse.nc3(w, means, collapse.simplex_etf(K)) > 0.1


def test_frames_are_told_apart():
    _, w_orth, _ = orthogonal_config()
    _, w_etf, _ = etf_config()
    assert collapse.nc2(w_orth, collapse.simplex_etf(K)) > 0.1
    assert collapse.nc2(w_etf, collapse.orthogonal_frame(K)) > 0.1


def test_perturbations_give_positive_metrics():
    features, w, means = orthogonal_config()
    rng = np.random.default_rng(3)
    noisy = features + 0.05 * rng.normal(size=features.shape)
    assert collapse.nc1(noisy, LABELS, K) > 1e-4
    w_noisy = w + 0.05 * rng.normal(size=w.shape)
    assert collapse.nc2(w_noisy, collapse.orthogonal_frame(K)) > 1e-3
    assert collapse.nc3(w_noisy, means, collapse.orthogonal_frame(K)) > 1e-3
    # unequal row lengths break the orthogonal frame but not orthogonality
    stretched = np.diag([1.0, 1.0, 1.0, 2.0]) @ w
    assert collapse.nc2(stretched, collapse.orthogonal_frame(K)) > 0.1


def test_nc1_equals_the_trace_definition():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(len(LABELS), D)) + 2 * rng.normal(size=(K, D))[LABELS]
    means, mu_g = collapse.class_means(features, LABELS, K)
    dev = features - means[LABELS]
    sigma_w = dev.T @ dev / len(features)
    sigma_b = (means - mu_g).T @ (means - mu_g) / K
    expected = np.trace(sigma_w @ np.linalg.pinv(sigma_b, rcond=D * np.finfo(float).eps, hermitian=True)) / K
    assert collapse.nc1(features, LABELS, K) == pytest.approx(expected, rel=1e-10)
    # invariant to a global scale and to rotations of feature space
    assert collapse.nc1(3 * features @ rotation(D), LABELS, K) == pytest.approx(expected, rel=1e-10)


def test_class_means_use_the_sample_weighted_global_mean():
    labels = np.array([0, 0, 0, 1])
    features = np.array([[1.0], [1.0], [1.0], [5.0]])
    means, mu_g = collapse.class_means(features, labels, 2)
    np.testing.assert_allclose(means, [[1.0], [5.0]])
    np.testing.assert_allclose(mu_g, [2.0])
    with pytest.raises(ValueError, match="every class"):
        collapse.class_means(features, labels, 3)


def test_gram_distance_is_scale_free_and_bounded():
    g = np.diag([1.0, 2.0, 3.0])
    assert collapse.gram_distance(7 * g, g) < 1e-12
    assert collapse.gram_distance(-g, g) == pytest.approx(2.0)


@pytest.mark.parametrize("depth", [1, 2, 3, 6, 9])
def test_closed_form_x_solves_the_official_equation(depth):
    sizes, lam_w, lam_h = (200, 100, 50, 50), 5e-4, 5e-4
    n = sum(sizes)
    b = depth * n * (n * lam_w**depth * lam_h) ** (1 / depth)
    x = collapse.closed_form_x(sizes, depth, lam_w, lam_h)
    lhs = b / np.asarray(sizes)
    rhs = depth * x ** (depth - 1) / (x**depth + 1) ** 2
    np.testing.assert_allclose(rhs, lhs, rtol=1e-9)
    # the largest root lies past the maximum of the right-hand side, at x^M = (M−1)/(M+1)
    assert (x**depth >= (depth - 1) / (depth + 1)).all()


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_closed_form_minimises_the_per_class_objective(depth):
    """With orthogonal, balanced layers of singular value s and means h̄_k = c·e_k, class k costs
    n_k(s^M c − 1)²/(2N) + Mλ_W s²/2 + λ_H n_k c²/2; minimising over c gives c = s^M/(s^{2M} + Nλ_H)."""
    sizes, lam_w, lam_h = (200, 100, 50, 50), 5e-4, 5e-4
    n = sum(sizes)
    s_grid = np.linspace(1e-3, 10, 200_001)
    s_m = s_grid**depth
    c = s_m / (s_m**2 + n * lam_h)
    for n_k, s_k in zip(sizes, collapse.closed_form_s(sizes, depth, lam_w, lam_h), strict=True):
        cost = n_k * (s_m * c - 1) ** 2 / (2 * n) + depth * lam_w * s_grid**2 / 2 + lam_h * n_k * c**2 / 2
        assert s_k == pytest.approx(s_grid[np.argmin(cost)], abs=1e-3)


def test_closed_form_depth_one_matches_the_known_solution():
    sizes, lam_w, lam_h = (200, 100, 50, 50), 1e-3, 2e-4
    n = sum(sizes)
    s = collapse.closed_form_s(sizes, 1, lam_w, lam_h)
    np.testing.assert_allclose(s**2, np.sqrt(lam_h * np.asarray(sizes) / lam_w) - n * lam_h, rtol=1e-10)


def test_closed_form_orders_and_degenerates():
    s = collapse.closed_form_s((200, 100, 50, 50), 3, 5e-4, 5e-4)
    assert s[0] > s[1] > s[2] == s[3] > 0
    balanced = collapse.closed_form_s((100,) * 4, 3, 5e-4, 5e-4)
    np.testing.assert_allclose(balanced, balanced[0])
    # regularisation too strong for the smallest class: no positive root, the class collapses to zero
    s = collapse.closed_form_s((1000, 10), 2, 1e-2, 1e-2)
    assert s[0] > 0 and s[1] == 0


def test_closed_form_targets_and_norms_are_consistent():
    sizes, depth = (200, 100, 50, 50), 3
    s = collapse.closed_form_s(sizes, depth, 5e-4, 5e-4)
    nc2_targets, nc3_target = collapse.closed_form_targets(sizes, depth, 5e-4, 5e-4)
    assert len(nc2_targets) == depth
    np.testing.assert_allclose(np.diag(nc2_targets[0]), s ** (2 * depth))
    np.testing.assert_allclose(np.diag(nc2_targets[-1]), s**2)
    w_norms, h_norms = collapse.closed_form_norms(sizes, depth, 5e-4, 5e-4)
    np.testing.assert_allclose(np.diag(nc3_target), w_norms * h_norms)
    balanced_targets, _ = collapse.closed_form_targets((100,) * 4, depth, 5e-4, 5e-4)
    assert collapse.gram_distance(balanced_targets[0], collapse.orthogonal_frame(4)) < 1e-12


def test_size_rank_correlation_pools_equal_sizes():
    sizes = (200, 100, 50, 50)
    assert collapse.size_rank_correlation([3.0, 2.0, 1.0, 1.1], sizes) == 1.0
    assert collapse.size_rank_correlation([1.0, 2.0, 3.0, 3.0], sizes) == -1.0
    assert collapse.size_rank_correlation([2.0, 3.0, 1.0, 1.0], sizes) == pytest.approx(0.5)
    assert np.isnan(collapse.size_rank_correlation([1.0, 2.0], (5, 5)))
