import itertools

import pytest
import torch

from reprosuite.studies.tversky_xor import model as tversky

REDUCTIONS = list(itertools.product(tversky.INTERSECTIONS, tversky.DIFFERENCES))


def reference_similarity(a, p, bank, alpha, beta, theta, inter, diff):
    """Tversky's contrast model for one object and one prototype, feature by feature (the official formulas)."""
    xa = [float(a @ f) for f in bank]
    xp = [float(p @ f) for f in bank]
    in_a, in_p = [v > 0 for v in xa], [v > 0 for v in xp]
    sal_a = [v if m else 0.0 for v, m in zip(xa, in_a, strict=True)]
    sal_p = [v if m else 0.0 for v, m in zip(xp, in_p, strict=True)]

    def summed(sal, other):  # salience of one object on the features the other has
        return sum(s for s, m in zip(sal, other, strict=True) if m)

    if inter == "product":
        common = sum(u * v for u, v in zip(sal_a, sal_p, strict=True))
    else:
        ca, cp = summed(sal_a, in_p), summed(sal_p, in_a)
        common = {
            "min": min(ca, cp),
            "max": max(ca, cp),
            "mean": (ca + cp) / 2,
            "gmean": (ca * cp) ** 0.5,
            "softmin": -float(torch.logsumexp(torch.tensor([-ca, -cp], dtype=torch.float64), 0)),
        }[inter]

    def distinct(sal_x, in_x, sal_y, in_y):
        only = sum(s for s, m in zip(sal_x, in_y, strict=True) if not m)
        if diff == "ignorematch":
            return only
        cx, cy = summed(sal_x, in_y), summed(sal_y, in_x)
        return only + (cx - cy if cx > cy else 0.0)

    return (
        theta * common
        - alpha * distinct(sal_a, in_a, sal_p, in_p)
        - beta * distinct(sal_p, in_p, sal_a, in_a)
    )


@pytest.mark.parametrize(("inter", "diff"), REDUCTIONS)
def test_contrast_similarity_matches_the_feature_by_feature_definition(inter, diff):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 3, generator=g, dtype=torch.float64) + 0.1  # positive: gmean's log stays finite
    protos = torch.rand(2, 4, 3, generator=g, dtype=torch.float64)
    bank = torch.randn(2, 6, 3, generator=g, dtype=torch.float64)
    alpha, beta, theta = torch.tensor([[0.5, 0.3], [0.2, 0.7], [1.0, 1.5]], dtype=torch.float64)
    out = tversky.contrast_similarity(x, protos, bank, alpha, beta, theta, inter, diff)
    assert out.shape == (2, 5, 4)
    for s, i, j in itertools.product(range(2), range(5), range(4)):
        ref = reference_similarity(x[i], protos[s, j], bank[s], alpha[s], beta[s], theta[s], inter, diff)
        assert float(out[s, i, j]) == pytest.approx(float(ref), rel=1e-9, abs=1e-12)


def test_unknown_reductions_are_errors():
    x, p, f = torch.ones(1, 2), torch.ones(1, 1, 2), torch.ones(1, 1, 2)
    one = torch.ones(1)
    with pytest.raises(ValueError, match="intersection"):
        tversky.contrast_similarity(x, p, f, one, one, one, "median", "ignorematch")
    with pytest.raises(ValueError, match="difference"):
        tversky.contrast_similarity(x, p, f, one, one, one, "product", "both")
    with pytest.raises(ValueError, match="intersection"):
        tversky.EnsembleTverskyProjection(2, 2, [0], 3, intersection="median")


def test_members_equal_single_layers_and_padding_is_inert():
    x = torch.rand(7, 2, generator=torch.Generator().manual_seed(1))
    kwargs = {
        "intersection": ["product", "mean", "max"],
        "difference": ["ignorematch", "substractmatch", "ignorematch"],
    }
    ens = tversky.EnsembleTverskyProjection(
        2, 2, [3, 4, 5], [1, 4, 16], init=["uniform", "normal", "uniform"], **kwargs
    )
    out = ens(x)
    assert out.shape == (3, 7, 2) and ens.features.shape == (3, 16, 2)
    for s, (seed, count, init) in enumerate([(3, 1, "uniform"), (4, 4, "normal"), (5, 16, "uniform")]):
        single = tversky.EnsembleTverskyProjection(
            2, 2, [seed], count, kwargs["intersection"][s], kwargs["difference"][s], init
        )
        torch.testing.assert_close(single.features[0], ens.features[s, :count])
        torch.testing.assert_close(single(x)[0], out[s])


def test_initialisation_follows_the_official_library():
    ens = tversky.EnsembleTverskyProjection(2, 3, [0, 1], 50, init=["uniform", "normal"])
    uniform, normal = ens.features[0], ens.features[1]
    uniform, normal = uniform.detach(), normal.detach()
    assert float(uniform.min()) >= 0 and float(uniform.max()) < 1  # nn.init.uniform_: U(0, 1)
    assert float(normal.min()) < 0 and abs(float(normal.std()) - 1) < 0.2
    assert (
        ens.theta.tolist() == [1.0, 1.0]
        and ens.alpha.tolist() == [0.5, 0.5]
        and ens.beta.tolist() == [0.5, 0.5]
    )
    again = tversky.EnsembleTverskyProjection(2, 3, [0, 1], 50, init=["uniform", "normal"])
    torch.testing.assert_close(again.prototypes, ens.prototypes)


def test_a_nan_gradient_of_a_gmean_member_does_not_reach_the_others():
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (0, 0) shares no feature: log 0
    ens = tversky.EnsembleTverskyProjection(2, 2, [0, 0], 4, intersection=["gmean", "product"])
    alone = tversky.EnsembleTverskyProjection(2, 2, [0], 4, intersection="product")
    ens(x).sum().backward()
    alone(x).sum().backward()
    assert torch.isnan(ens.features.grad[0]).any()
    torch.testing.assert_close(ens.features.grad[1], alone.features.grad[0])
    torch.testing.assert_close(ens.theta.grad[1:], alone.theta.grad)


def test_normalize_makes_the_similarity_scale_free():
    x = torch.rand(4, 2, generator=torch.Generator().manual_seed(2)) + 0.1
    ens = tversky.EnsembleTverskyProjection(2, 2, [0], 4, normalize=True)
    torch.testing.assert_close(ens(x), ens(5 * x))
    plain = tversky.EnsembleTverskyProjection(2, 2, [0], 4)
    assert not torch.allclose(plain(x), plain(5 * x))


def test_linear_baseline_is_an_affine_map_with_default_init():
    model = tversky.linear_baseline(2, 2, [0, 1])
    w, b = model.weights[0].detach(), model.biases[0].detach()
    assert w.shape == (2, 2, 2) and b.shape == (2, 2)
    assert float(w.abs().max()) <= 2**-0.5 and float(b.abs().max()) <= 2**-0.5 and float(b.abs().min()) > 0
    x = torch.randn(5, 2)
    torch.testing.assert_close(model(x)[1].detach(), x @ w[1].T + b[1])
