import math

import pytest
import torch

from reprosuite.engine.models import layers
from reprosuite.engine.train import functional as fn
from reprosuite.engine.train import gradients, optim, trainer


def _params_with_grads(grads: list[torch.Tensor]) -> list[torch.nn.Parameter]:
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    return params


def test_clip_bounds_each_member_and_leaves_small_gradients_alone():
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, 4, 5, generator=g), torch.randn(3, 7, generator=g)]
    grads = [x * torch.tensor([10.0, 0.01, 3.0]).view(-1, *[1] * (x.dim() - 1)) for x in grads]
    norms = gradients.global_norm(grads)
    clip = [1.0, 1.0, float(norms[2]) * 2]  # member 0 clipped, members 1 and 2 below their threshold
    params = _params_with_grads(grads)
    opt = gradients.GradientTransform(optim.SGD(params, lr=0.0), clip=clip)
    opt.step()
    after = gradients.global_norm([p.grad for p in params])
    assert after[0] == pytest.approx(1.0, rel=1e-5)
    torch.testing.assert_close(opt.grad_norm, norms)
    for p, x in zip(params, grads, strict=True):
        torch.testing.assert_close(p.grad[1:], x[1:])  # untouched, bit for bit up to float rounding
    # member 0 equals torch's own clipping of that member alone
    single = [torch.nn.Parameter(torch.zeros_like(x[0])) for x in grads]
    for p, x in zip(single, grads, strict=True):
        p.grad = x[0].clone()
    torch.nn.utils.clip_grad_norm_(single, 1.0)
    for p, q in zip(params, single, strict=True):
        torch.testing.assert_close(p.grad[0], q.grad)


@pytest.mark.parametrize("step", [0, 9, 999])
def test_noise_variance_follows_the_annealing_schedule(step):
    eta, gamma = 0.01, 0.55
    params = _params_with_grads([torch.zeros(2, 400, 500)])  # 200k entries per member
    opt = gradients.GradientTransform(optim.SGD(params, lr=1.0), noise_eta=[eta, 0.0], seeds=[4, 5])
    opt.t = step
    opt.step()
    drawn = -params[0].detach()[0]  # lr 1 on a zero gradient: the update is minus the noise
    expected = eta / (1 + step) ** gamma
    assert float(drawn.var()) == pytest.approx(expected, rel=0.02)
    assert abs(float(drawn.mean())) < 5 * math.sqrt(expected / drawn.numel())
    assert torch.count_nonzero(params[0][1]) == 0  # η = 0: no noise
    assert opt.t == step + 1
    assert float(opt.sigma(step)[0]) ** 2 == pytest.approx(gradients.noise_variance(step, eta, gamma))


def test_noise_of_a_member_depends_on_its_seed_only():
    def drawn(seeds):
        params = _params_with_grads([torch.zeros(len(seeds), 6, 3), torch.zeros(len(seeds), 6)])
        opt = gradients.GradientTransform(optim.SGD(params, lr=1.0), noise_eta=0.3, seeds=seeds)
        for _ in range(3):
            opt.step()
        return [p.detach() for p in params]

    together, alone = drawn([8, 3, 5]), drawn([3])
    for a, b in zip(together, alone, strict=True):
        torch.testing.assert_close(a[1], b[0])


def test_noise_stream_is_not_the_initialisation_stream_of_the_seed():
    params = _params_with_grads([torch.zeros(1, 6, 3)])
    opt = gradients.GradientTransform(optim.SGD(params, lr=1.0), noise_eta=1.0, seeds=[3])
    assert opt.generators[0].initial_seed() == 3 + gradients.NOISE_SEED_OFFSET
    opt.step()  # σ_0 = 1: the update is minus a standard normal draw
    init = layers.init_weight((6, 3), "gaussian", layers.generators([3]))[0].float()
    assert not torch.allclose(-params[0].detach()[0], init, atol=1e-3)


def test_noise_needs_seeds_and_valid_settings():
    params = _params_with_grads([torch.zeros(2, 3)])
    with pytest.raises(ValueError, match="seed"):
        gradients.GradientTransform(optim.SGD(params, lr=0.1), noise_eta=0.01)
    with pytest.raises(ValueError, match="clip"):
        gradients.GradientTransform(optim.SGD(params, lr=0.1), clip=0.0)


def test_zero_initialised_relu_mlp_has_exactly_zero_hidden_gradients_without_noise():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 8, generator=g), torch.randint(0, 4, (32,), generator=g)
    model = layers.EnsembleMLP([8, 6, 6, 6, 4], [0, 1], activation="relu", init="zeros")
    opt = gradients.GradientTransform(optim.SGD(list(model.parameters()), lr=0.5), clip=10.0)
    for _ in range(20):
        opt.zero_grad()
        fn.cross_entropy(model(x), y).sum().backward()
        for w in model.weights:
            assert torch.count_nonzero(w.grad) == 0
        for b in model.biases[:-1]:
            assert torch.count_nonzero(b.grad) == 0
        opt.step()
    assert all(torch.count_nonzero(w) == 0 for w in model.weights)
    assert torch.count_nonzero(model.biases[-1]) > 0  # only the output bias learns: the class prior

    # with noise the hidden weights leave zero, and gradients start to flow
    noisy = layers.EnsembleMLP([8, 6, 6, 6, 4], [0], activation="relu", init="zeros")
    opt = gradients.GradientTransform(
        optim.SGD(list(noisy.parameters()), lr=0.5), clip=10.0, noise_eta=0.01, seeds=[0]
    )
    for _ in range(5):
        opt.zero_grad()
        fn.cross_entropy(noisy(x), y).sum().backward()
        opt.step()
    assert all(torch.count_nonzero(w) > 0 for w in noisy.weights)
    opt.zero_grad()
    fn.cross_entropy(noisy(x), y).sum().backward()
    assert torch.count_nonzero(noisy.weights[1].grad) > 0


def test_the_trainer_drives_the_wrapper_and_freezes_diverged_members():
    params = [torch.nn.Parameter(torch.ones(2, 3))]
    opt = gradients.GradientTransform(optim.SGD(params, lr=0.1), clip=1.0, noise_eta=0.01, seeds=[0, 1])

    def loss_fn(step):
        loss = (params[0] ** 2).sum(1)
        return torch.stack([loss[0], loss[1] * (math.inf if step == 2 else 1.0)])

    history = trainer.fit(loss_fn, opt, 5, lambda step: {("train", "x"): params[0][:, 0]}, [0, 5])
    assert opt.t == 5 and bool(opt.active[0]) and not bool(opt.active[1])
    assert float(history.diverged_at[1]) == 2.0


def test_state_dict_resumes_the_noise_stream():
    def fresh():
        params = _params_with_grads([torch.zeros(2, 5, 4)])
        return params, gradients.GradientTransform(optim.SGD(params, lr=1.0), noise_eta=0.01, seeds=[1, 2])

    def step(params, opt):
        params[0].grad = torch.zeros_like(params[0])
        opt.step()

    params, opt = fresh()
    for _ in range(3):
        step(params, opt)
    state = opt.state_dict()
    saved = params[0].detach().clone()
    step(params, opt)
    expected = params[0].detach().clone()

    params, resumed = fresh()
    with torch.no_grad():
        params[0].copy_(saved)
    resumed.load_state_dict(state)
    assert resumed.t == 3
    step(params, resumed)
    torch.testing.assert_close(params[0].detach(), expected)
