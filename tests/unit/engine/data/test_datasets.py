import numpy as np
import pytest

from reprosuite.engine.data import datasets


@pytest.mark.parametrize(("name", "shape", "n_train"), [("digits", 64, 1500), ("mnist1d", 40, 4000)])
def test_datasets_have_paper_sizes_and_are_standardised_on_train(name, shape, n_train):
    d = datasets.load(name)
    assert d["x"].shape == (n_train, shape) and d["x"].dtype == np.float32 and d["y"].dtype == np.int64
    assert d["x_test"].shape[1] == shape and len(d["x_test"]) == len(d["y_test"])
    assert set(np.unique(d["y"])) == set(range(10))
    assert np.allclose(d["x"].mean(0), 0, atol=1e-4)
    assert np.all(np.isclose(d["x"].std(0), 1, atol=1e-3) | (d["x"].std(0) < 1e-3))  # constant pixels stay 0


def test_load_is_cached_but_returns_fresh_arrays():
    a = datasets.load("digits", seed=1)
    a["x"][0, 0] = 1e9
    b = datasets.load("digits", seed=1)
    assert b["x"][0, 0] != 1e9
    assert not np.array_equal(b["y"], datasets.load("digits", seed=2)["y"])  # the split depends on the seed


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        datasets.load("imagenet")
