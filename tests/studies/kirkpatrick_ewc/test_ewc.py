import pytest

from reprosuite.studies.kirkpatrick_ewc import ewc


def test_permutations_start_with_identity():
    p = ewc.permutations(4, 10, seed=1)
    assert p[0].tolist() == list(range(10))
    assert all(sorted(row) == list(range(10)) for row in p)
    assert not (p[1] == p[0]).all()


def test_diagonal_fisher_matches_a_per_example_gradient_loop():
    torch = pytest.importorskip("torch")
    from reprosuite.engine.models import layers

    model = layers.EnsembleMLP([3, 5, 4, 3], [0, 1], activation="relu", dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (7,), generator=gen)
    fisher = ewc.diagonal_fisher(model, x, y, batch_size=3)
    params = list(model.parameters())
    assert [f.shape for f in fisher] == [p.shape for p in params]
    expected = [torch.zeros_like(p) for p in params]
    for i in range(7):
        logits = model(x[i : i + 1])  # (S, 1, C)
        nll = torch.nn.functional.cross_entropy(logits[:, 0], y[i].expand(2), reduction="sum")
        grads = torch.autograd.grad(nll, params)
        for e, g in zip(expected, grads, strict=True):
            e += g**2 / 7
    for f, e in zip(fisher, expected, strict=True):
        torch.testing.assert_close(f, e)


def test_quadratic_penalty_is_zero_at_the_anchor_and_weighted_elsewhere():
    torch = pytest.importorskip("torch")
    params = [torch.randn(3, 2, 2), torch.randn(3, 4)]
    anchors = [p.clone() for p in params]
    importance = [torch.rand(3, 2, 2), torch.rand(3, 4)]
    strength = torch.tensor([0.0, 1.0, 10.0])
    assert ewc.quadratic_penalty(params, anchors, importance, strength).tolist() == [0.0, 0.0, 0.0]
    moved = [p + 1.0 for p in params]
    total = sum(f.flatten(1).sum(1) for f in importance)
    torch.testing.assert_close(
        ewc.quadratic_penalty(moved, anchors, importance, strength), 0.5 * strength * total
    )
    # the gradient pulls toward the anchor, scaled by the importance
    p = params[1].clone().requires_grad_()
    ewc.quadratic_penalty([p], [anchors[1] - 1.0], [importance[1]], strength).sum().backward()
    torch.testing.assert_close(p.grad, strength.view(-1, 1) * importance[1])
