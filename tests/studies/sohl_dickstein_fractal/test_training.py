import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
fr = pytest.importorskip("reprosuite.studies.sohl_dickstein_fractal.training")


def problem(nl, width=4, seed=0, n_points=None):
    rng = np.random.default_rng(seed)
    n = width * width + width
    return fr.make_problem(
        rng.standard_normal((n, width)),
        rng.standard_normal((n, 1)),
        rng.standard_normal((width, width)),
        rng.standard_normal((width, 1)),
        nl,
        n_points=n_points,
    )


def test_problem_sizes_follow_the_official_data_rule():
    assert problem("tanh").x.shape == (20, 4)
    assert problem("identity").x.shape == (4, 4)
    assert problem("relu", n_points=1).y.shape == (1, 1)
    with pytest.raises(ValueError, match="nonlinearity"):
        problem("gelu")


@pytest.mark.parametrize("nl", ["tanh", "relu", "identity"])
def test_batched_grid_equals_per_pixel_autograd_loop(nl):
    p = problem(nl)
    lr1 = torch.tensor([0.3, 3.0, 30.0, 100.0, 2.0], dtype=torch.float64)
    lr2 = torch.tensor([0.5, 10.0, 2.0, 300.0, 60.0], dtype=torch.float64)
    steps = 25
    ref = fr.train_pixels_reference(p, lr1, lr2, steps)
    # max_elements small: two chunks, so chunking and resumption of chunk results are exercised
    out = fr.train_grid(p, lr1, lr2, steps, max_elements=3 * 20 * 4)
    measure, converged = fr.convergence_measure(ref)
    assert out["converged"].tolist() == converged.tolist()
    assert out["converged"].any() and not out["converged"].all()
    # stable trajectories agree to rounding; chaotic divergent ones only in sign and magnitude
    stable = converged
    assert torch.allclose(out["measure"][stable], measure[stable], rtol=1e-8)
    assert (torch.sign(out["measure"]) == torch.sign(measure)).all()
    # the first losses (before chaos can amplify rounding) agree everywhere
    losses = fr._train_chunk(p, lr1, lr2, 3, lambda: None)
    assert torch.allclose(losses, ref[:3], rtol=1e-10)


def test_convergence_measure_official_rule():
    t = torch.arange(40, dtype=torch.float64)
    decaying = 2.0 * 0.9**t
    growing = 2.0 * 1.5**t
    exploding = torch.cat([torch.ones(5), torch.full((35,), math.inf)]).double()
    measure, converged = fr.convergence_measure(torch.stack([decaying, growing, exploding], 1))
    assert converged.tolist() == [True, False, False]
    assert measure[0] == pytest.approx(-float((0.9**t).sum()))
    assert measure[1] == pytest.approx(float((1.5**-t).clamp(min=1e-6).sum()))
    assert measure[2] == pytest.approx(5 + 35 * 1e-6)


def test_lr_grid_layout_rows_follow_the_output_layer():
    lr1, lr2 = fr.lr_grid((0.0, 1.0), 2.0, 3)
    assert torch.allclose(lr1.view(3, 3)[0], torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64))
    assert torch.allclose(lr2.view(3, 3)[:, 0], torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64))


def test_find_boundary_brackets_a_switch():
    p = problem("tanh", width=4)
    steps = 30
    c, (a, b) = fr.find_boundary(p, (-1.0, -1.0), (4.0, 4.0), steps, points=9, rounds=6, return_bracket=True)
    assert c[0] == pytest.approx(c[1]) and a[0] < c[0] < b[0]
    assert b[0] - a[0] == pytest.approx(5.0 * (1 / 8) ** 6)
    lr = torch.tensor([a[0], b[0]], dtype=torch.float64)
    conv = fr.train_grid(p, 10.0**lr, 10.0**lr, steps)["converged"]
    assert conv.tolist() == [True, False]  # the lower-left corner converges, the bracket straddles a switch
    # no switch when both ends converge
    assert fr.find_boundary(p, (-3.0, -3.0), (-2.0, -2.0), steps, points=5, rounds=2) is None


def test_train_grid_resumes_from_done_chunks():
    p = problem("relu")
    lr1, lr2 = fr.lr_grid((1.0, 1.0), 3.0, 4)
    full = fr.train_grid(p, lr1, lr2, 20, max_elements=4 * 80)
    saved = []
    fr.train_grid(
        p,
        lr1,
        lr2,
        20,
        max_elements=4 * 80,
        on_chunk=lambda r: saved.append({k: list(v) for k, v in r.items()}),
    )
    assert len(saved) == 4
    resumed = fr.train_grid(p, lr1, lr2, 20, max_elements=4 * 80, done=saved[1])
    assert torch.equal(resumed["measure"], full["measure"])


def test_linearised_network_matches_its_taylor_model():
    p = problem("tanh", width=4, seed=3)
    lin = fr.make_problem(p.x, p.y, p.w1, p.w2, "tanh", linearised=True)
    k1, k2, r0 = fr.tangent_kernels(lin)
    assert k1.shape == k2.shape == (20, 20)
    assert torch.allclose(k1, k1.t()) and torch.linalg.eigvalsh(k2).min() > -1e-10  # Gram matrices
    # the kernel of the readout layer by hand: ∂f/∂W₂ = tanh(√2 x W₁ / √w) / w
    h = torch.tanh(math.sqrt(2.0) * p.x @ p.w1 / 2.0) / 4.0
    assert torch.allclose(k2, h @ h.t(), rtol=1e-12)
    lr = torch.tensor([1e-4, 1e-3], dtype=torch.float64)
    net = fr._train_chunk(p, lr, lr, 6, lambda: None)
    taylor = fr._train_chunk_linearised(lin, lr, lr, 6, lambda: None)
    torch.testing.assert_close(taylor[0], net[0], rtol=1e-13, atol=0)  # the same initial loss
    # first-order agreement: the gap is second order in the lr, 100× smaller at a 10× smaller lr
    gap = (taylor - net).abs().max(0).values / net[0]
    assert gap[1] < 1e-7 and gap[1] / gap[0] == pytest.approx(100, rel=0.05)
    # one step by hand: r₁ = r₀ − (2/n)(η₁K₁ + η₂K₂) r₀
    r1 = r0 - (2.0 / 20) * (1e-3 * k1 @ r0 + 1e-3 * k2 @ r0)
    assert taylor[1, 1] == pytest.approx(float((r1 * r1).mean()), rel=1e-12)


def test_linearised_network_zoom_shows_a_straight_boundary():
    mf = pytest.importorskip("reprosuite.studies.sohl_dickstein_fractal.boxcount")
    p = problem("tanh", width=4, seed=1)
    lin = fr.make_problem(p.x, p.y, p.w1, p.w2, "tanh", linearised=True)
    steps = 60
    centre = fr.find_boundary(lin, (-3.0, -3.0), (6.0, 6.0), steps)
    lr1, lr2 = fr.lr_grid(centre, 0.01, 64)
    conv = fr.train_grid(lin, lr1, lr2, steps)["converged"].numpy().reshape(64, 64)
    assert conv.any() and not conv.all()
    # linear dynamics: the boundary is a smooth curve, and a zoom into it a near-straight line
    assert mf.image_dimension(conv) == pytest.approx(1.0, abs=0.04)
