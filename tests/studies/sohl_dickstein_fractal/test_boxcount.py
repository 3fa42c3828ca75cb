import math

import numpy as np
import pytest

from reprosuite.studies.sohl_dickstein_fractal import boxcount as mf


def test_boundary_marks_mixed_windows_only():
    img = np.zeros((4, 5), dtype=bool)
    img[:, 3:] = True  # vertical interface between columns 2 and 3
    edges = mf.boundary(img)
    assert edges.shape == (3, 4)
    assert edges[:, 2].all() and edges.sum() == 3
    assert not mf.boundary(np.ones((6, 6))).any()
    with pytest.raises(ValueError, match="2-D image"):
        mf.boundary(np.zeros(5))


def test_box_counts_by_hand():
    e = np.zeros((8, 8), dtype=bool)
    e[0, 0] = e[7, 7] = e[0, 1] = True
    assert mf.box_sizes(e.shape) == [1, 2]
    assert mf.box_counts(e, [1, 2, 4, 8]).tolist() == [3, 2, 2, 1]
    # partial boxes at the far edges count: a 5-wide image with an edge in column 4 has 2 boxes of size 4
    f = np.zeros((5, 5), dtype=bool)
    f[0, 4] = f[0, 0] = True
    assert mf.box_counts(f, [4]).tolist() == [2]


def test_straight_lines_and_square_boundary_have_dimension_one():
    n = 256
    diag = np.eye(n, dtype=bool)
    assert mf.box_dimension(diag) == pytest.approx(1.0, abs=0.02)
    horiz = np.zeros((n, n), dtype=bool)
    horiz[100] = True
    assert mf.box_dimension(horiz) == pytest.approx(1.0, abs=0.02)
    square = np.zeros((n, n), dtype=bool)
    square[64:192, 64:192] = True
    assert mf.image_dimension(square) == pytest.approx(1.0, abs=0.05)


def test_sierpinski_and_random_sets():
    n = 512
    i, j = np.indices((n, n))
    sierpinski = (i & j) == 0  # Pascal's triangle mod 2: N(2^k) = 3^(9-k)
    assert mf.box_dimension(sierpinski) == pytest.approx(math.log2(3), abs=1e-9)
    # a random set of density 1/2: an s×s box is empty with probability 0.5^(s²), so E N(s) = (n/s)² (1 − 0.5^(s²));
    # the fitted slope is that of these expected counts, slightly below 2
    dense = np.random.default_rng(0).random((n, n)) < 0.5
    sizes = np.asarray(mf.box_sizes(dense.shape), dtype=float)
    expected = (n / sizes) ** 2 * (1 - 0.5 ** (sizes**2))
    slope = np.polyfit(-np.log(sizes), np.log(expected), 1)[0]
    assert 1.85 < slope < 2.0
    assert mf.box_dimension(dense) == pytest.approx(slope, abs=0.002)
    assert math.isnan(mf.box_dimension(np.zeros((64, 64), dtype=bool)))


def test_fractal_image_boundary_is_between_one_and_two():
    # the converged set of a noisy image: its boundary fills the plane at fine scales
    n = 256
    rng = np.random.default_rng(1)
    x, y = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    smooth = (x + 0.3 * np.sin(6 * y)) > 0
    assert 0.95 < mf.image_dimension(smooth) < 1.1
    noisy = (x + 0.3 * np.sin(6 * y) + 0.6 * rng.standard_normal((n, n))) > 0
    assert 1.2 < mf.image_dimension(noisy) < 2.0


def koch_snowflake(n: int, level: int) -> np.ndarray:
    """The filled Koch snowflake of ``level`` iterations rasterised on n × n pixels (boundary dimension
    log 4 / log 3 ≈ 1.262 in the limit)."""
    from matplotlib.path import Path

    pts = np.array([[0, 1], [math.sqrt(3) / 2, -0.5], [-math.sqrt(3) / 2, -0.5], [0, 1]]) * 0.8
    rot = np.array([[0.5, -math.sqrt(3) / 2], [math.sqrt(3) / 2, 0.5]])
    for _ in range(level):
        new = []
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            d = (b - a) / 3
            new += [a, a + d, a + d + rot @ d, a + 2 * d]
        pts = np.array([*new, pts[-1]])
    g = np.linspace(-1, 1, n)
    x, y = np.meshgrid(g, g)
    return Path(pts).contains_points(np.c_[x.ravel(), y.ravel()]).reshape(n, n)


def fbm_level_set(n: int, hurst: float, seed: int = 0) -> np.ndarray:
    """The median level set of a spectrally synthesised fractional Brownian surface: its boundary has
    dimension 2 − H."""
    rng = np.random.default_rng(seed)
    k2 = np.fft.fftfreq(n)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2
    k2[0, 0] = 1.0
    amp = k2 ** (-(hurst + 1) / 2)
    amp[0, 0] = 0.0
    f = np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((n, n)))).real
    return f > np.median(f)


def test_known_smooth_and_fractal_boundaries_at_the_quick_resolution():
    # 128² as at the quick tier; smooth boundaries read 1.00 ± 0.05, below the fractal threshold 1.05
    n = 128
    i, j = np.indices((n, n))
    x, y = j - n / 2, i - n / 2
    smooth = {
        "line": (x > 3.3, 0.998),
        "diagonal": (x > y + 0.5, 1.019),
        "circle": (x**2 + y**2 < 38.4**2, 1.001),
        "sinusoid": (y > 20 * np.sin(x / 10), 0.948),
    }
    for name, (img, value) in smooth.items():
        d = mf.image_dimension(img)
        assert d == pytest.approx(value, abs=0.002), name
        assert d < 1.05, name
    # known fractals read above 1.05 and below their true dimension (a least-squares fit down to one pixel
    # sees the pixelised boundary as a line): the 1.05 threshold is conservative
    fractal = {
        "koch": (koch_snowflake(n, 5), 1.183, math.log(4) / math.log(3)),
        "fbm H=0.5": (fbm_level_set(n, 0.5), 1.380, 1.5),
        "fbm H=0.2": (fbm_level_set(n, 0.2), 1.570, 1.8),
    }
    for name, (img, value, true) in fractal.items():
        d = mf.image_dimension(img)
        assert d == pytest.approx(value, abs=0.002), name
        assert 1.05 < d < true and true - d < 0.25, name


def test_several_smooth_components_read_above_threshold_at_coarse_scale_only():
    # parallel stripes 20 px apart: at box sizes above the spacing the boundary fills the plane, so one coarse
    # window is not evidence of fractality (why only zooms centred on the boundary count) ...
    n = 128
    j = np.indices((n, n))[1]
    stripes = np.sin(2 * np.pi * (j - n / 2) / 20) > 0
    assert mf.image_dimension(stripes) == pytest.approx(1.138, abs=0.002)
    # ... while a zoom (one stripe edge magnified 16×) is a straight line
    fine = np.sin(2 * np.pi * (j - n / 2) / (20 * 16)) > 0
    assert mf.image_dimension(fine) == pytest.approx(1.0, abs=0.01)
