import torch

from reprosuite.engine.analysis import robustness
from reprosuite.engine.models import layers
from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import optim, trainer


def trained_mlp(seeds=(0, 1)):
    """A small ReLU ensemble fitted to two Gaussian blobs in 2-d."""
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(64, 2, generator=g) * 0.5 + 1.5, torch.randn(64, 2, generator=g) * 0.5 - 1.5])
    y = torch.cat([torch.zeros(64, dtype=torch.long), torch.ones(64, dtype=torch.long)])
    model = layers.EnsembleMLP([2, 32, 32, 2], list(seeds), activation="relu")
    opt = optim.AdamW(list(model.parameters()), lr=1e-2, weight_decay=0.0)
    trainer.fit(lambda step: fn.cross_entropy(model(x), y), opt, 300, lambda step: {}, [])
    return model, x, y


def test_pgd_stays_in_the_ball_and_lowers_accuracy():
    model, x, y = trained_mlp()
    for p in model.parameters():
        p.grad = None
    clean = fn.accuracy(model(x), y)
    assert bool((clean > 0.95).all())
    eps = 1.5
    adv = robustness.pgd_linf(model, x, y, eps=eps, alpha=0.3, steps=10, lo=-10.0, hi=10.0)
    assert adv.shape == (2, *x.shape)
    assert float((adv - x).abs().max()) <= eps + 1e-6
    robust = robustness.adversarial_accuracy(model, x, y, eps=eps, alpha=0.3, steps=10, lo=-10.0, hi=10.0)
    assert robust.shape == (2,)
    assert bool((robust < clean - 0.2).all())
    # the data-range clip is honoured and parameter gradients are not touched
    clipped = robustness.pgd_linf(model, x, y, eps=eps, alpha=0.3, steps=3, lo=-1.0, hi=1.0)
    assert float(clipped.max()) <= 1.0 and float(clipped.min()) >= -1.0
    assert all(p.grad is None for p in model.parameters())


def test_pgd_runs_under_no_grad():
    model, x, y = trained_mlp()
    with torch.no_grad():
        robust = robustness.adversarial_accuracy(model, x, y, eps=1.5, alpha=0.3, steps=5)
    assert robust.shape == (2,)


def test_cross_polytope_vertices():
    dirs = robustness.orthonormal_directions(5, 3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(dirs @ dirs.T, torch.eye(3, dtype=torch.float64))
    x = torch.randn(4, 5, dtype=torch.float64)
    frame = robustness.cross_polytope(x, dirs, 0.5)
    assert frame.shape == (4, 6, 5)
    torch.testing.assert_close(frame.mean(dim=1), x)
    torch.testing.assert_close(
        (frame - x[:, None]).norm(dim=-1), torch.full((4, 6), 0.5, dtype=torch.float64)
    )


def hand_built():
    """One member, 2 → 3 → 2: hidden neuron k has hyperplane x₀ = k (so they are at x₀ = 0, 1, 2)."""
    model = layers.EnsembleMLP([2, 3, 2], [0], activation="relu", dtype=torch.float64)
    with torch.no_grad():
        model.weights[0].copy_(torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]]))
        model.biases[0].copy_(-torch.arange(3.0)[None])
    return model


def test_local_complexity_counts_hyperplanes_through_the_frame():
    model = hand_built()
    dirs = robustness.orthonormal_directions(2, 2, torch.Generator().manual_seed(0))
    x = torch.tensor([[10.0, 0.0], [1.0, 3.0], [0.5, 0.0], [-5.0, 1.0]], dtype=torch.float64)
    lc = robustness.local_complexity(model, x, radius=0.2, directions=dirs)
    assert lc.shape == (1, 4)
    assert lc.tolist() == [[0, 1, 0, 0]]  # only the point on x₀ = 1 is cut
    axes = torch.eye(2, dtype=torch.float64)  # vertices x ± 1.5·e_i: x₀ spans [x₀ − 1.5, x₀ + 1.5]
    wide = robustness.local_complexity(model, x, radius=1.5, directions=axes)
    assert wide.tolist() == [[0, 3, 2, 0]]
    with_out = robustness.local_complexity(model, x, radius=0.2, directions=dirs, include_output=True)
    assert bool((with_out >= lc).all())


def test_local_complexity_of_an_ensemble_and_chunks():
    model, x, _ = trained_mlp(seeds=(0, 1, 2))
    dirs = robustness.orthonormal_directions(2, 2, torch.Generator().manual_seed(0))
    lc = robustness.local_complexity(model, x, 0.3, dirs)
    assert lc.shape == (3, len(x))
    torch.testing.assert_close(lc, robustness.local_complexity(model, x, 0.3, dirs, chunk=7))
    assert bool((lc <= 64).all()) and int(lc.sum()) > 0
    far = robustness.local_complexity(model, x, 1e-9, dirs)
    assert int(far.sum()) <= 3  # a vanishing frame meets (almost) no hyperplane
