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
