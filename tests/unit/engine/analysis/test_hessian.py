import torch

from reprosuite.engine.analysis import hessian


def quadratic(eigs: list[list[float]]):
    """Per-member quadratics ½ xᵀ A_s x with known spectra, rotated; params (S, 2, 3) so shapes are non-trivial."""
    gen = torch.Generator().manual_seed(0)
    mats = []
    for e in eigs:
        q, _ = torch.linalg.qr(torch.randn(6, 6, generator=gen, dtype=torch.float64))
        mats.append(q @ torch.diag(torch.tensor(e, dtype=torch.float64)) @ q.T)
    a = torch.stack(mats)  # (S, 6, 6)
    x = torch.randn(len(eigs), 2, 3, generator=gen, dtype=torch.float64, requires_grad=True)

    def loss():
        flat = x.reshape(len(eigs), 6, 1)
        return 0.5 * (flat.transpose(1, 2) @ a @ flat).view(-1)

    return loss, x, a


def test_hvp_matches_the_matrix():
    loss, x, a = quadratic([[1, 2, 3, 4, 5, 6], [0.5, 0.1, 0, 0, 0, 9]])
    v = torch.randn(2, 2, 3, dtype=torch.float64)
    (hv,) = hessian.hvp(loss, [x], [v])
    expected = (a @ v.reshape(2, 6, 1)).reshape(2, 2, 3)
    torch.testing.assert_close(hv, expected)


def test_top_eigenvalue_per_member():
    loss, x, _ = quadratic([[1, 2, 3, 4, 5, 10], [0.5, 0.1, 0, 0, 0, 3], [7, 1, 1, 1, 1, 1]])
    lam = hessian.top_eigenvalue(loss, [x], iters=200, generator=torch.Generator().manual_seed(1), tol=1e-12)
    torch.testing.assert_close(lam, torch.tensor([10.0, 3.0, 7.0], dtype=torch.float64), rtol=1e-6, atol=0)


def test_a_dominant_negative_eigenvalue_is_reported_signed():
    loss, x, _ = quadratic([[1, 1, 1, 1, 1, -5]])
    lam = hessian.top_eigenvalue(loss, [x], iters=200, generator=torch.Generator().manual_seed(2), tol=1e-12)
    assert abs(float(lam[0]) + 5.0) < 1e-6


def test_members_are_independent_of_each_other():
    loss, x, _ = quadratic([[1, 2, 3, 4, 5, 10], [0.5, 0.1, 0, 0, 0, 3]])
    v = torch.randn(2, 2, 3, dtype=torch.float64)
    w = v.clone()
    w[1] = torch.randn(2, 3, dtype=torch.float64)  # change only the second member's direction
    (hv,) = hessian.hvp(loss, [x], [v])
    (hw,) = hessian.hvp(loss, [x], [w])
    torch.testing.assert_close(hv[0], hw[0])
    assert not torch.allclose(hv[1], hw[1])


def test_a_loss_in_parts_gives_the_whole_losses_products_and_eigenvalue():
    """A cross-entropy over 60 examples equals three chunks of 20, each weighted by its share: the same H·v and
    λ_max; an empty list of parts is refused."""
    import pytest

    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional

    gen = torch.Generator().manual_seed(3)
    x = torch.randn(60, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (60,), generator=gen)
    model = layers.EnsembleMLP((5, 7, 3), [0, 1], activation="tanh", dtype=torch.float64)
    params = list(model.parameters())

    def whole():
        return functional.cross_entropy(model(x), y)

    def part(a):
        return lambda: functional.cross_entropy(model(x[a : a + 20]), y[a : a + 20]) * (20 / 60)

    parts = [part(a) for a in (0, 20, 40)]
    v = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
    for h_whole, h_parts in zip(hessian.hvp(whole, params, v), hessian.hvp(parts, params, v), strict=True):
        torch.testing.assert_close(h_parts, h_whole, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(hessian.hvp(parts[:1], params, v)[0], hessian.hvp(whole, params, v)[0])
    lam = [
        hessian.top_eigenvalue(f, params, 30, torch.Generator().manual_seed(4), tol=0) for f in (whole, parts)
    ]
    torch.testing.assert_close(lam[1], lam[0], rtol=1e-9, atol=0)
    with pytest.raises(ValueError, match="at least one part"):
        hessian.hvp([], params, v)
