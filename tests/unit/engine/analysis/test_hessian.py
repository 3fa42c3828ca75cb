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
