"""Member s of an ensemble trained with the engine equals one model trained alone with torch.optim."""

import pytest
import torch
from torch import nn

from reprosuite.engine.models import layers
from reprosuite.engine.train import optim, trainer

SEEDS = [3, 7, 11]


def single_model(ensemble: layers.EnsembleMLP, member: int, activation: str) -> nn.Sequential:
    """A plain nn.Sequential carrying member ``member``'s initial weights."""
    mods = []
    n = len(ensemble.weights)
    for i, w in enumerate(ensemble.weights):
        lin = nn.Linear(w.shape[2], w.shape[1], bias=ensemble.biases is not None, dtype=w.dtype)
        with torch.no_grad():
            lin.weight.copy_(w[member])
            if ensemble.biases is not None:
                lin.bias.copy_(ensemble.biases[i][member])
        mods.append(lin)
        if i < n - 1 and activation != "linear":
            mods.append({"relu": nn.ReLU(), "tanh": nn.Tanh()}[activation])
    return nn.Sequential(*mods)


def _data(n_in=5, n_out=3, batch=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, n_in, generator=g), torch.randn(batch, n_out, generator=g)


@pytest.mark.parametrize(
    ("activation", "bias", "make_opt", "make_ref"),
    [
        (
            "relu",
            True,
            lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, weight_decay=1e-3),
            lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=1e-3),
        ),
        (
            "tanh",
            True,
            lambda p, lr: optim.AdamW(p, lr=lr, betas=(0.9, 0.98), weight_decay=1.0),
            lambda p, lr: torch.optim.AdamW(p, lr=lr, betas=(0.9, 0.98), weight_decay=1.0),
        ),
        (
            "relu",
            True,
            lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True),
            lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True),
        ),
        (
            "linear",
            False,
            lambda p, lr: optim.SGD(p, lr=lr),
            lambda p, lr: torch.optim.SGD(p, lr=lr),
        ),
    ],
)
def test_member_equals_single_model(activation, bias, make_opt, make_ref):
    x, y = _data()
    lrs = [0.01, 0.03, 0.05]
    ens = layers.EnsembleMLP([5, 8, 8, 3], SEEDS, activation=activation, bias=bias, bias_init="uniform")
    singles = [single_model(ens, s, activation) for s in range(len(SEEDS))]
    opt = make_opt(list(ens.parameters()), lrs)
    refs = [make_ref(m.parameters(), lr) for m, lr in zip(singles, lrs, strict=True)]
    for _ in range(25):
        opt.zero_grad()
        ((ens(x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
        for m, r in zip(singles, refs, strict=True):
            r.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            r.step()
    for s, m in enumerate(singles):
        torch.testing.assert_close(ens(x)[s], m(x), rtol=1e-5, atol=1e-6)


def test_member_init_depends_only_on_its_seed():
    a = layers.EnsembleMLP([4, 6, 2], [1, 2, 3])
    b = layers.EnsembleMLP([4, 6, 2], [3])
    torch.testing.assert_close(a.weights[0][2], b.weights[0][0])


def test_orthogonal_init_is_orthogonal_and_product_matches_forward():
    net = layers.EnsembleMLP(
        [6, 6, 6], [0, 1], activation="linear", init="orthogonal", bias=False, dtype=torch.float64
    )
    w = net.weights[0]
    torch.testing.assert_close(w @ w.transpose(1, 2), torch.eye(6, dtype=torch.float64).expand(2, 6, 6))
    x = torch.randn(5, 6, dtype=torch.float64)
    torch.testing.assert_close(net(x), x @ net.product().transpose(1, 2))


def test_diverging_member_is_masked_and_recorded():
    x, y = _data()
    lrs = [0.01, 50.0, 0.02]  # member 1 blows up
    ens = layers.EnsembleMLP([5, 8, 3], SEEDS, activation="relu")
    ref = layers.EnsembleMLP([5, 8, 3], [SEEDS[0], SEEDS[2]], activation="relu")

    def run(net, lr):
        opt = optim.SGD(list(net.parameters()), lr=lr)
        loss = lambda step: ((net(x) - y) ** 2).mean(dim=(1, 2))  # noqa: E731
        return trainer.fit(loss, opt, 60, lambda step: {("train", "loss"): loss(step)}, [0, 60])

    hist = run(ens, lrs)
    run(ref, [lrs[0], lrs[2]])
    df = hist.frame(SEEDS)
    diverged = df[df.metric == "diverged_at"].set_index("seed").value
    assert diverged[SEEDS[1]] > 0 and diverged[[SEEDS[0], SEEDS[2]]].isna().all()
    # the healthy members are unaffected by their diverged neighbour
    torch.testing.assert_close(ens(x)[[0, 2]], ref(x))


def test_log_schedule_bounds():
    s = trainer.log_schedule(1000, 50)
    assert s[0] == 0 and s[-1] == 1000 and s == sorted(set(s))
    assert trainer.log_schedule(100, 10, "linear") == list(range(0, 101, 10))
    dense = trainer.log_schedule(1000, 50, every=25)
    assert set(range(0, 1001, 25)) <= set(dense) and set(s) <= set(dense) and dense == sorted(set(dense))
    assert len(dense) == len(set(s) | set(range(0, 1001, 25)))


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: optim.SGD(p, lr=[0.01, 0.02, 0.03], momentum=0.9, weight_decay=1e-3),
        lambda p: optim.AdamW(p, lr=[0.01, 0.02, 0.03], weight_decay=0.1),
    ],
    ids=["sgd-momentum", "adamw"],
)
def test_an_inactive_member_is_frozen_and_the_others_train_as_if_it_were_not_there(make_opt):
    x, y = _data()
    nets = [layers.EnsembleMLP([5, 8, 3], SEEDS, activation="tanh") for _ in range(2)]
    opts = [make_opt(list(n.parameters())) for n in nets]
    frozen = [p[1].clone() for p in nets[1].parameters()]
    for step in range(10):
        for k, (net, opt) in enumerate(zip(nets, opts, strict=True)):
            if k == 1 and step == 0:
                opt.active[1] = False  # member 1 diverged before its first update
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean(dim=(1, 2))
            if k == 1:
                loss = loss * torch.tensor([1.0, float("nan"), 1.0])  # its gradient is NaN from now on
            loss.sum().backward()
            opt.step()
    for a, b, f in zip(nets[0].parameters(), nets[1].parameters(), frozen, strict=True):
        torch.testing.assert_close(b[[0, 2]], a[[0, 2]], rtol=0, atol=0)
        torch.testing.assert_close(b[1], f, rtol=0, atol=0)


@pytest.mark.parametrize("shared_input", [True, False])
def test_members_run_in_groups_give_the_stacked_result(shared_input):
    x, y = _data(batch=32)
    if not shared_input:
        x = x.expand(5, -1, -1) + torch.arange(5.0).view(5, 1, 1)
    nets = [layers.EnsembleMLP([5, 8, 8, 3], range(5), activation="relu", chunk=c) for c in (None, 2)]
    assert nets[0](x).shape == (5, 32, 3)
    outs = []
    for net in nets:
        out, hidden = net(x, return_hidden=True)
        ((out - y) ** 2).mean(dim=(1, 2)).sum().backward()
        outs.append((out, hidden, [p.grad for p in net.parameters()]))
    (a, ha, ga), (b, hb, gb) = outs
    torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
    for u, v in zip([*ha, *ga], [*hb, *gb], strict=True):
        assert u.shape == v.shape
        torch.testing.assert_close(v, u, rtol=1e-6, atol=1e-7)


def test_member_chunk_runs_members_one_at_a_time_only_where_their_activations_are_large_on_cpu():
    # measured (layers.py): MLP 100-256-256-10 at full batch 2048 (2 MiB per member and layer) 1.2x the plain
    # per-member loop one member at a time through addmm, 0.8x stacked
    assert layers.member_chunk(32, 2048, 256) == layers.PER_MEMBER
    assert layers.member_chunk(32, 128, 256) == 32  # minibatch 128: all members stacked
    assert layers.member_chunk(3, 10**6, 256) == layers.PER_MEMBER
    assert layers.member_chunk(32, 2048, 256, device="meta") == 32  # not a CPU: all stacked
    net = layers.EnsembleMLP([100, 256, 256, 10], range(8), activation="relu")
    assert net(torch.zeros(4096, 100)).shape == (8, 4096, 10)  # 4 MiB per member: one member at a time


@pytest.mark.parametrize(
    ("engine", "stock", "kwargs"),
    [
        (optim.SGD, torch.optim.SGD, {"lr": 0.05}),
        (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3}),
        (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3, "nesterov": True}),
    ],
    ids=["sgd", "sgd-momentum-decay", "sgd-nesterov"],
)
def test_a_one_member_ensemble_steps_as_torch_optim_bit_for_bit(engine, stock, kwargs):
    """Members trained in turn (layers.train_parts) are one-member ensembles; their SGD runs torch.optim's
    single-tensor update with Python numbers, so a member follows a model trained alone to the last bit."""
    g = torch.Generator().manual_seed(5)
    shapes = [(40, 30), (40,), (3, 40)]
    start = [torch.randn(s, generator=g) for s in shapes]
    ours = [nn.Parameter(p.clone()[None]) for p in start]
    ref = [nn.Parameter(p.clone()) for p in start]
    opt, ref_opt = engine(ours, **kwargs), stock(ref, foreach=False, **kwargs)
    for step in range(12):
        grads = [torch.randn(s, generator=g) for s in shapes]
        for p, q, grad in zip(ours, ref, grads, strict=True):
            p.grad, q.grad = grad.clone()[None], grad.clone()
        scale = 0.5 if step >= 6 else 1.0  # a schedule's factor, as trainer.fit passes it
        for group in ref_opt.param_groups:
            group["lr"] = kwargs["lr"] * scale
        opt.step(lr_scale=scale)
        ref_opt.step()
    for p, q in zip(ours, ref, strict=True):
        assert torch.equal(p[0], q)


def test_a_diverged_one_member_ensemble_is_left_as_it_was():
    p = nn.Parameter(torch.ones(1, 4))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.active[0] = False
    p.grad = torch.full((1, 4), float("nan"))
    opt.step()
    assert torch.equal(p.detach(), torch.ones(1, 4))


@pytest.mark.parametrize(
    "kwargs",
    [{"momentum": 0.9}, {"weight_decay": [1e-3, 0.0, 1e-2]}, {}, {"momentum": 0.9, "nesterov": True}],
)
def test_small_and_large_parameters_take_the_same_update(kwargs, monkeypatch):
    """Small parameters are updated with torch._foreach_* operations, large ones one by one through a scratch
    buffer: the same operations, so the same bits, diverged members and per-member learning rates included."""
    g = torch.Generator().manual_seed(6)
    shapes = [(3, 16, 16), (3, 16)]
    start = [torch.randn(s, generator=g) for s in shapes]
    runs = []
    for small_bytes in (optim.SMALL_BYTES, 0):
        monkeypatch.setattr(optim, "SMALL_BYTES", small_bytes)
        params = [p.clone() for p in start]
        opt = optim.SGD(params, lr=[0.1, 0.02, 0.05], **kwargs)
        assert opt.small == (small_bytes > 0)
        gen = torch.Generator().manual_seed(7)
        for step in range(8):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            if step == 4:
                opt.active[1] = False
                params[0].grad[1] = float("nan")
            opt.step(lr_scale=0.9)
        runs.append(params)
    for a, b, s in zip(*runs, start, strict=True):
        assert torch.equal(a, b)
        assert not torch.equal(a[0], s[0])  # the members trained


def test_a_one_member_adamw_takes_the_ensembles_update_bit_for_bit():
    """AdamW's update does not depend on how the members are grouped: member 1 of three, and alone."""
    g = torch.Generator().manual_seed(8)
    start = torch.randn(3, 20, 10, generator=g)
    three, one = nn.Parameter(start.clone()), nn.Parameter(start[1:2].clone())
    opts = [
        optim.AdamW([three], lr=[1e-3, 2e-3, 3e-3], weight_decay=1e-2),
        optim.AdamW([one], lr=2e-3, weight_decay=1e-2),
    ]
    for _ in range(15):
        grad = torch.randn(3, 20, 10, generator=g)
        three.grad, one.grad = grad.clone(), grad[1:2].clone()
        for opt in opts:
            opt.step(lr_scale=0.7)
    assert torch.equal(three[1], one[0])
