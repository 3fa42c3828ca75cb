import math

import numpy as np
import pytest

from reprosuite.studies.teney_neural_redshift import spectral as sp


def reference_mean_frequency(f):
    """The official get_mean_frequency_2d and caller, transcribed loop by loop."""
    coeff = np.abs(np.fft.rfft2(f))
    coeff[0, 0] = 0
    coeff = coeff[: coeff.shape[0] // 2 + 1]
    du, dv = coeff.shape
    max_freq = round(((du - 1) ** 2 + (dv - 1) ** 2) ** 0.5)
    radial = np.zeros(max_freq + 1)
    for i in range(du):
        for j in range(dv):
            radial[round(math.sqrt(i * i + j * j))] += coeff[i, j]
    radial[0] = 0
    radial /= radial.sum()
    return (radial * np.arange(max_freq + 1)).sum() / max_freq


@pytest.mark.parametrize("k", [1, 3, 10])
def test_pure_cosine_has_mean_frequency_k_over_max_bin(k):
    n = 64
    j = np.arange(n)
    along_columns = np.tile(np.cos(2 * np.pi * k * j / n), (n, 1))
    max_freq = round(math.sqrt(2) * n / 2)  # 45
    assert sp.mean_frequency_2d(along_columns) == pytest.approx(k / max_freq)
    assert sp.mean_frequency_2d(along_columns.T) == pytest.approx(k / max_freq)


def test_matches_official_loop_and_batches():
    rng = np.random.default_rng(0)
    fs = rng.standard_normal((3, 20, 30)).cumsum(-1)
    got = sp.mean_frequency_2d(fs)
    assert got.shape == (3,)
    for f, g in zip(fs, got, strict=True):
        assert g == pytest.approx(reference_mean_frequency(f), rel=1e-12)
    assert math.isnan(sp.mean_frequency_2d(np.ones((8, 8))))
    with pytest.raises(ValueError, match="2-D grid"):
        sp.mean_frequency_2d(np.ones(8))


def test_noise_is_higher_frequency_than_a_smooth_ramp():
    x, y = np.meshgrid(np.linspace(-1, 1, 64), np.linspace(-1, 1, 64))
    noise = np.random.default_rng(1).standard_normal((64, 64))
    assert sp.mean_frequency_2d(x + y) < 0.25 < sp.mean_frequency_2d(noise)


def test_lempel_ziv_official_examples():
    assert sp.lempel_ziv(np.array([int(c) for c in "1001111011000010"])) == 8
    assert sp.lempel_ziv(np.array([int(c) for c in "1010101010101010"])) == 7
    assert (
        sp.lempel_ziv(
            b"\x01\x00\x00\x01\x01\x01\x01\x00\x01\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01\x00"
        )
        == 9
    )


def test_lz_complexity_constant_minimal_random_high():
    n = 64
    const = np.zeros(n * n)
    # a constant sequence yields phrases of length 1, 2, 3, ...: about √(2N) of them
    assert sp.lempel_ziv(const.astype(np.uint8)) == pytest.approx(math.sqrt(2 * n * n), rel=0.05)
    x, _ = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    smooth = sp.lz_complexity(x)
    rand = sp.lz_complexity(np.random.default_rng(2).standard_normal((n, n)))
    assert sp.lz_complexity(np.ones((n, n))) < 0.3 < smooth < 0.7 < 1.2 < rand
    assert sp.binarise(np.array([[0.0, 3.0], [1.0, 2.0]])).tolist() == [0, 1, 0, 1]
