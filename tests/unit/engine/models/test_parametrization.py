"""SP, NTK and μP scalings against Tensor Programs IV's abc-exponents and the mup package's conventions."""

import math

import pytest
import torch

from reprosuite.engine.models import parametrization as pz
from reprosuite.engine.train import functional as fn

BASE = 64
GAINS = [math.sqrt(2.0), math.sqrt(2.0), 1.0]

# TP4 Table 3 (SGD): W = n^-a w, w ~ N(0, n^-2b), lr η n^-c, per layer (input, hidden, output).
ABC = {
    "sp": [(0.0, 0.0, 0.0), (0.0, 0.5, 0.0), (0.0, 0.5, 0.0)],
    "ntk": [(0.0, 0.0, 0.0), (0.5, 0.0, 0.0), (0.5, 0.0, 0.0)],
    "mup": [(-0.5, 0.5, 0.0), (0.0, 0.5, 0.0), (0.5, 0.5, 0.0)],
}


def scalings(param, width):
    return pz.layer_scalings(param, pz.mlp_sizes(40, width, 10, 2), pz.mlp_sizes(40, BASE, 10, 2), GAINS)


@pytest.mark.parametrize("param", pz.PARAMETRIZATIONS)
def test_width_exponents_match_tp4_table(param):
    """Effective init std scales as n^-(a+b) and the lr felt by W_eff (multiplier² · lr_mult) as n^-(2a+c):
    the two invariants of TP4's abc-symmetry, so our mup-style scalings are TP4's parametrisations."""
    small, large = scalings(param, 256), scalings(param, 4096)
    for layer, (a, b, c) in enumerate(ABC[param]):
        std_ratio = large[layer].effective_std / small[layer].effective_std
        lr_ratio = (large[layer].multiplier ** 2 * large[layer].lr_mult) / (
            small[layer].multiplier ** 2 * small[layer].lr_mult
        )
        assert std_ratio == pytest.approx(16.0 ** (-(a + b)), rel=1e-12), (param, layer)
        assert lr_ratio == pytest.approx(16.0 ** (-(2 * a + c)), rel=1e-12), (param, layer)


def test_mup_readout_init_multiplier_and_lr_follow_mup():
    """mup's MuReadout: SP init × √width_mult, forward ÷ width_mult; MuSGD: lr × width_mult (vector-like)."""
    for width in (128, 512, 2048):
        m = width / BASE
        inp, hid, out = scalings("mup", width)
        assert [inp.kind, hid.kind, out.kind] == ["input", "hidden", "output"]
        assert out.init_std == pytest.approx(1.0 / math.sqrt(width) * math.sqrt(m))
        assert out.multiplier == pytest.approx(1 / m) and out.lr_mult == pytest.approx(m)
        assert out.effective_std * width == pytest.approx(math.sqrt(BASE))  # Θ(1/n), TP4's a + b = 1
        assert inp.lr_mult == pytest.approx(m) and hid.lr_mult == pytest.approx(1.0)
        assert hid.init_std == pytest.approx(math.sqrt(2.0 / width)) and hid.multiplier == 1.0


def test_mup_logits_at_init_shrink_as_inverse_sqrt_width():
    torch.manual_seed(0)
    x = torch.randn(256, 40)
    std = {}
    for param in ("sp", "mup"):
        for width in (256, 1024):
            model = pz.ParametrizedMLP(pz.mlp_sizes(40, width, 10, 2), [0, 1], [scalings(param, width)] * 2)
            with torch.no_grad():
                std[param, width] = float(model(x).std())
    assert std["mup", 1024] / std["mup", 256] == pytest.approx(0.5, rel=0.15)
    assert std["sp", 1024] / std["sp", 256] == pytest.approx(1.0, rel=0.15)


def test_all_parametrisations_coincide_at_the_base_width():
    sizes = pz.mlp_sizes(40, BASE, 10, 2)
    sc = {p: pz.layer_scalings(p, sizes, sizes, GAINS) for p in pz.PARAMETRIZATIONS}
    assert sc["sp"] == sc["ntk"] == sc["mup"]
    assert all(s.kind == "fixed" for s in sc["mup"])
    # the same seed gives the same network, and one SGD step keeps them equal
    model = pz.ParametrizedMLP(sizes, [5, 5, 5], [sc[p] for p in pz.PARAMETRIZATIONS])
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 40, generator=g), torch.randint(0, 10, (32,), generator=g)
    opt = pz.LayerwiseSGD(list(model.parameters()), 0.5, model.lr_mults)
    opt.zero_grad()
    fn.cross_entropy(model(x), y).sum().backward()
    opt.step()
    for w in model.weights:
        assert torch.equal(w[0], w[1]) and torch.equal(w[0], w[2])


def test_ntk_is_sp_with_lr_divided_by_width_multiplier():
    """Under SGD, NTK (multiplier 1/√m on width-fan-in layers) = SP with those layers' lr divided by m."""
    width, lr = 256, 0.3
    m = width / BASE
    sizes = pz.mlp_sizes(40, width, 10, 2)
    model = pz.ParametrizedMLP(
        sizes, [3, 3], [scalings("ntk", width), scalings("sp", width)], dtype=torch.float64
    )
    for i in range(3):
        assert torch.allclose(model.effective_weight(i)[0], model.effective_weight(i)[1])
    mults = [[1.0, 1.0], [1.0, 1 / m], [1.0, 1 / m]]
    opt = pz.LayerwiseSGD(list(model.parameters()), lr, mults)
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(16, 40, generator=g, dtype=torch.float64), torch.randint(0, 10, (16,), generator=g)
    for _ in range(3):
        opt.zero_grad()
        fn.cross_entropy(model(x), y).sum().backward()
        opt.step()
    for i in range(3):
        assert torch.allclose(model.effective_weight(i)[0], model.effective_weight(i)[1], atol=1e-12)


def test_layerwise_sgd_matches_torch_param_groups():
    sizes = [5, 7, 7, 3]
    sc = pz.layer_scalings("mup", sizes, [5, 4, 4, 3])
    model = pz.ParametrizedMLP(sizes, [0, 1], [sc, sc], dtype=torch.float64)
    lrs = [0.1, 0.4]
    refs = []
    for s in range(2):
        ws = [torch.nn.Parameter(w[s].detach().clone()) for w in model.weights]
        groups = [{"params": [w], "lr": lrs[s] * sc[i].lr_mult} for i, w in enumerate(ws)]
        refs.append((ws, torch.optim.SGD(groups, lr=lrs[s])))
    opt = pz.LayerwiseSGD(list(model.parameters()), lrs, model.lr_mults)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (8,), generator=g)
    for _ in range(4):
        opt.zero_grad()
        fn.cross_entropy(model(x), y).sum().backward()
        opt.step()
        for ws, ref in refs:
            ref.zero_grad()
            h = x
            for i, w in enumerate(ws):
                h = (h @ w.T) * sc[i].multiplier
                h = torch.relu(h) if i < 2 else h
            torch.nn.functional.cross_entropy(h, y).backward()
            ref.step()
    for s, (ws, _) in enumerate(refs):
        for w, ref_w in zip(model.weights, ws, strict=True):
            assert torch.allclose(w[s], ref_w, atol=1e-12)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown parametrisation"):
        pz.layer_scalings("mf", [4, 8, 2], [4, 4, 2])
    with pytest.raises(ValueError, match="same depth"):
        pz.layer_scalings("sp", [4, 8, 2], [4, 2])
    with pytest.raises(ValueError, match="gains"):
        pz.layer_scalings("sp", [4, 8, 2], [4, 4, 2], [1.0])
