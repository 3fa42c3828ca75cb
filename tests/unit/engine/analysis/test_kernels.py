import pytest

torch = pytest.importorskip("torch")

from reprosuite.engine.analysis import kernels  # noqa: E402

EPS = 0.3


def phi(z):
    return z + 0.5 * EPS * z * z


def dphi(z):
    return 1 + EPS * z


def net(seed=0, s=3, n=7, d=5, b=9):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, d, generator=g, dtype=torch.float64)
    w = torch.randn(s, n, d, generator=g, dtype=torch.float64)
    a = torch.randn(s, n, generator=g, dtype=torch.float64) / n
    return x, w, a


def test_alignment_of_the_targets_own_kernel_is_one():
    g = torch.Generator().manual_seed(1)
    y = torch.randn(2, 12, generator=g, dtype=torch.float64) + 3.0
    yc = y - y.mean(-1, keepdim=True)
    own = yc.unsqueeze(-1) * yc.unsqueeze(-2)
    assert torch.allclose(kernels.kernel_alignment(own, y), torch.ones(2, dtype=torch.float64))
    assert torch.allclose(kernels.kernel_alignment(5.0 * own, y), torch.ones(2, dtype=torch.float64))
    # any other kernel aligns less (Cauchy–Schwarz), e.g. a random PSD one and the identity
    f = torch.randn(2, 12, 30, generator=g, dtype=torch.float64)
    assert (kernels.kernel_alignment(f @ f.transpose(1, 2), y) < 1).all()
    eye = torch.eye(12, dtype=torch.float64).expand(2, 12, 12)
    assert (kernels.kernel_alignment(eye, y) < 0.5).all()
    # the official formula by hand for one member (numpy-style, column means removed)
    k = (f @ f.transpose(1, 2))[0]
    kc = k - k.mean(0, keepdim=True)
    by_hand = yc[0] @ kc @ yc[0] / (torch.linalg.norm(kc) * (yc[0] @ yc[0]))
    assert kernels.kernel_alignment(k.unsqueeze(0), y[0]).item() == pytest.approx(by_hand.item())


def test_ntk_of_a_linear_model_is_the_gram_matrix():
    x, _, _ = net()
    x2 = x[:4] * 2 + 1
    theta = torch.randn(x.shape[1], dtype=torch.float64)
    generic = kernels.empirical_ntk(lambda p, inp: inp @ p, theta, x, x2)
    assert torch.allclose(generic, x @ x2.T)
    # a two-layer net with identity activation, one unit and unit readout is that linear model
    w = theta.view(1, 1, -1)
    ntk = kernels.two_layer_ntk(x, x2, w, torch.ones(1, 1, dtype=torch.float64), lambda z: torch.ones_like(z))
    assert torch.allclose(ntk[0], x @ x2.T)
    # with N units and readouts a: (Σ a_i²) · Gram
    _, w, a = net()
    ntk = kernels.two_layer_ntk(x, x2, w, a, lambda z: torch.ones_like(z))
    assert torch.allclose(ntk, (a**2).sum(-1).view(-1, 1, 1) * (x @ x2.T))


@pytest.mark.parametrize("readouts", [False, True])
def test_closed_form_ntk_matches_autograd(readouts):
    x, w, a = net()
    x2 = x[:4] - 0.5
    closed = kernels.two_layer_ntk(x, x2, w, a, dphi, phi if readouts else None)
    for s in range(w.shape[0]):
        if readouts:
            params = torch.cat([w[s].flatten(), a[s]])

            def fn(p, inp, n=w.shape[1], d=w.shape[2]):
                return kernels.two_layer(inp, p[: n * d].view(1, n, d), p[n * d :].view(1, n), phi)[0]
        else:
            params = w[s]

            def fn(p, inp, s=s):
                return kernels.two_layer(inp, p.unsqueeze(0), a[s : s + 1], phi)[0]

        assert torch.allclose(closed[s], kernels.empirical_ntk(fn, params, x, x2))


def test_linearised_model_is_the_first_order_taylor_expansion():
    from torch.func import jvp

    x, w0, a = net(2)
    delta = torch.randn_like(w0)
    f0 = kernels.two_layer(x, w0, a, phi)
    _, tangent = jvp(lambda w: kernels.two_layer(x, w, a, phi), (w0,), (delta,))
    lin = kernels.linearised_two_layer(x, w0, delta, a, dphi)
    assert torch.allclose(lin, tangent)
    # and the net departs from it at second order: the remainder shrinks as h²
    rem = [
        (
            kernels.two_layer(x, w0 + h * delta, a, phi)
            - f0
            - kernels.linearised_two_layer(x, w0, h * delta, a, dphi)
        )
        .abs()
        .max()
        for h in (1e-1, 1e-2)
    ]
    assert rem[1] / rem[0] == pytest.approx(1e-2, rel=1e-6)  # φ quadratic: the remainder is exactly h²·(…)
    gates = kernels.linearised_features(x, w0, a, dphi)
    assert torch.allclose((gates * (x @ delta.transpose(1, 2))).sum(-1), lin)


def test_quadratic_net_equals_the_two_layer_net_and_its_gradient():
    x, w, a = net(3)
    w = w.clone().requires_grad_(True)
    direct = kernels.two_layer(x, w, a, phi)
    fast = kernels.quadratic_two_layer(x, w, a, EPS)
    assert torch.allclose(direct, fast)
    (g1,) = torch.autograd.grad((direct**2).sum(), w)
    (g2,) = torch.autograd.grad((fast**2).sum(), w)
    assert torch.allclose(g1, g2)


def test_closed_form_lazy_training_equals_iterated_gradient_descent():
    x, w0, a = net(4, s=2, n=6, d=4, b=10)
    xt = x[:3] + 0.3
    y = torch.randn(2, 10, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    lr = torch.tensor([0.02, 0.1], dtype=torch.float64) / (a**2).sum(-1)  # stable: 2ηλ_max/P < 2
    k_tr = kernels.two_layer_ntk(x, x, w0, a, dphi)
    k_te = kernels.two_layer_ntk(xt, x, w0, a, dphi)
    steps = [0, 1, 5, 30]
    pred_tr, pred_te = kernels.lazy_gd_predictions(k_tr, k_te, y, lr, steps)
    delta = torch.zeros_like(w0, requires_grad=True)
    for t in range(max(steps) + 1):
        if t in steps:
            i = steps.index(t)
            with torch.no_grad():
                assert torch.allclose(pred_tr[:, i], kernels.linearised_two_layer(x, w0, delta, a, dphi))
                assert torch.allclose(pred_te[:, i], kernels.linearised_two_layer(xt, w0, delta, a, dphi))
        loss = ((kernels.linearised_two_layer(x, w0, delta, a, dphi) - y) ** 2).mean(-1)
        (grad,) = torch.autograd.grad(loss.sum(), delta)
        with torch.no_grad():
            delta -= lr.view(-1, 1, 1) * grad
    with pytest.raises(ValueError):
        kernels.lazy_gd_predictions(k_tr, k_te, y, 1e6, steps)
