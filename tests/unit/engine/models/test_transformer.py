"""The grokking models: shapes, a plain single-model reference, member independence, AdamW equivalence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from reprosuite.engine.data import modular
from reprosuite.engine.models.transformer import (
    EnsembleEmbeddingMLP,
    EnsembleTransformer,
    sinusoidal_positions,
    weight_norm,
)
from reprosuite.engine.train.functional import cross_entropy
from reprosuite.engine.train.optim import AdamW

P = 7  # modulus of the toy task
D = torch.float64  # exact comparisons: Adam's normalisation amplifies float32 rounding where gradients vanish


def _tokens(n: int, gen: torch.Generator) -> torch.Tensor:
    a, b = torch.randint(0, P, (n,), generator=gen), torch.randint(0, P, (n,), generator=gen)
    return torch.stack([a, torch.full_like(a, P), b, torch.full_like(a, P + 1)], dim=-1)  # a ∘ b =


def _transformer(seeds, norm="post", causal=True, layers=2) -> EnsembleTransformer:
    return EnsembleTransformer(P + 2, P, 4, 16, 4, 32, layers, seeds, norm=norm, causal=causal, dtype=D)


def _perturb(model: torch.nn.Module, seed: int = 0) -> None:
    """Move LayerNorm weights off their (1, 0) init so that the reference comparison exercises them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))


# --- a plain single model: every position computed, weights of member s --------------------------------------


def _member(model: torch.nn.Module, s: int) -> dict[str, torch.Tensor]:
    return {name: p[s].detach().clone().requires_grad_(True) for name, p in model.named_parameters()}


def _ref_transformer(w: dict, model: EnsembleTransformer, tokens: torch.Tensor) -> torch.Tensor:
    d, h, t = model.d_model, model.heads, tokens.shape[1]
    x = w["embed"][tokens] + model.pos  # (B, T, d)
    allowed = torch.ones(t, t).tril().bool() if model.causal else torch.ones(t, t).bool()

    def ln(z, i, k):
        return F.layer_norm(z, (d,), w[f"ln{k}_w.{i}"], w[f"ln{k}_b.{i}"])

    def heads(z):
        return z.view(z.shape[0], t, h, d // h).transpose(1, 2)  # (B, h, T, dk)

    def mlp(z, i):
        return torch.relu(z @ w[f"w_in.{i}"].T) @ w[f"w_out.{i}"].T

    for i in range(model.n_layers):
        h_in = ln(x, i, 1) if model.norm == "pre" else x
        q, k, v = (h_in @ w[f"wqkv.{i}"].T).split(d, dim=-1)
        att = (heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(d // h)).masked_fill(~allowed, float("-inf"))
        a = (att.softmax(-1) @ heads(v)).transpose(1, 2).reshape(-1, t, d) @ w[f"wo.{i}"].T
        if model.norm == "post":
            x = ln(x + a, i, 1)
            x = ln(x + mlp(x, i), i, 2)
        elif model.norm == "pre":
            x = x + a
            x = x + mlp(ln(x, i, 2), i)
        else:
            x = x + a
            x = x + mlp(x, i)
    x = x[:, -1]
    if model.norm == "pre":
        x = F.layer_norm(x, (d,), w["lnf_w"], w["lnf_b"])
    return x @ w["unembed"].T


def _ref_mlp(w: dict, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    x = torch.cat([w["embed"][a], w["embed"][b]], dim=-1)
    return torch.relu(x @ w["w1"].T + w["b1"]) @ w["w2"].T + w["b2"]


# --- tests --------------------------------------------------------------------------------------------------


def test_shapes():
    gen = torch.Generator().manual_seed(0)
    tokens = _tokens(10, gen)
    model = _transformer([0, 1, 2])
    assert model(tokens).shape == (3, 10, P)
    assert model(tokens.expand(3, -1, -1)).shape == (3, 10, P)
    mlp = EnsembleEmbeddingMLP(P, 8, 16, P, [0, 1], dtype=D)
    assert mlp(tokens[:, 0], tokens[:, 2]).shape == (2, 10, P)
    assert mlp(tokens[:, 0].expand(2, -1), tokens[:, 2].expand(2, -1)).shape == (2, 10, P)
    assert weight_norm(list(model.parameters())).shape == (3,)
    with pytest.raises(ValueError, match="length"):
        model(tokens[:, :3])


@pytest.mark.parametrize("norm", ["post", "pre", "none"])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
def test_transformer_matches_plain_reference(norm, causal, layers):
    gen = torch.Generator().manual_seed(1)
    model = _transformer([4, 5, 6], norm=norm, causal=causal, layers=layers)
    _perturb(model)
    tokens = _tokens(20, gen)
    per_member = torch.stack([tokens, tokens.flip(0), tokens.roll(3, 0)])
    out, out_pm = model(tokens), model(per_member)
    for s in range(3):
        w = _member(model, s)
        torch.testing.assert_close(out[s], _ref_transformer(w, model, tokens))
        torch.testing.assert_close(out_pm[s], _ref_transformer(w, model, per_member[s]))


def test_causal_mask_matters_with_two_layers():
    # the last position sees every token either way, but the first layer's earlier positions do not under the mask
    gen = torch.Generator().manual_seed(2)
    causal, full = _transformer([0], causal=True), _transformer([0], causal=False)
    tokens = _tokens(8, gen)
    assert not torch.allclose(causal(tokens), full(tokens))


def test_embedding_mlp_matches_plain_reference():
    gen = torch.Generator().manual_seed(3)
    mlp = EnsembleEmbeddingMLP(P, 8, 16, P, [0, 1, 2], dtype=D)
    a, b = torch.randint(0, P, (30,), generator=gen), torch.randint(0, P, (30,), generator=gen)
    out = mlp(a, b)
    for s in range(3):
        torch.testing.assert_close(out[s], _ref_mlp(_member(mlp, s), a, b))


def test_initialisation_follows_torch_defaults():
    model = _transformer(list(range(4)))
    assert model.embed.std().item() == pytest.approx(1.0, rel=0.15)  # nn.Embedding: N(0, 1)
    bound = 1 / math.sqrt(16)  # nn.Linear: U(±1/√fan_in)
    assert model.wqkv[0].abs().max().item() <= bound
    assert model.wqkv[0].abs().max().item() > 0.9 * bound
    assert torch.equal(model.ln1_w[0], torch.ones_like(model.ln1_w[0]))


def test_sinusoidal_positions_follow_official_code():
    pe = sinusoidal_positions(5, 6)
    for pos in range(5):
        for i in range(6):
            expected = (
                math.sin(pos / 10000 ** (i / 6)) if i % 2 == 0 else math.cos(pos / 10000 ** ((i - 1) / 6))
            )
            assert pe[pos, i].item() == pytest.approx(expected)


def test_cross_entropy_per_member_and_weighted():
    gen = torch.Generator().manual_seed(4)
    logits = torch.randn(2, 5, P, generator=gen, dtype=D)
    targets = torch.randint(0, P, (5,), generator=gen)
    loss = cross_entropy(logits, targets)
    for s in range(2):
        assert loss[s].item() == pytest.approx(F.cross_entropy(logits[s], targets).item())
    weight = torch.tensor([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]], dtype=D)
    wl = cross_entropy(logits, targets, weight)
    assert wl[0].item() == pytest.approx(F.cross_entropy(logits[0, :2], targets[:2]).item())
    assert wl[1].item() == pytest.approx(F.cross_entropy(logits[1, 2:], targets[2:]).item())


def _train_ensemble(model, forward, seeds, mask, answers, steps=6, weight_decay=1.0):
    opt = AdamW(list(model.parameters()), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=weight_decay)
    batches = modular.MemberBatches(mask, 8, seeds)
    for step in range(steps):
        i = torch.from_numpy(batches.at(step))
        loss = cross_entropy(forward(i), answers[i])
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    return model


@pytest.mark.parametrize("kind", ["transformer", "mlp"])
def test_member_equals_single_model_with_its_seed(kind):
    a, b, c = (torch.from_numpy(x) for x in modular.equations(P))
    tokens = torch.stack([a, torch.full_like(a, P), b, torch.full_like(a, P + 1)], dim=-1)
    seeds = [3, 5, 7]
    mask = modular.train_masks(len(a), [0.5], seeds)[0]

    def build(member_seeds):
        if kind == "transformer":
            model = _transformer(member_seeds)
            return model, lambda i: model(tokens[i])
        model = EnsembleEmbeddingMLP(P, 8, 16, P, member_seeds, dtype=D)
        return model, lambda i: model(a[i], b[i])

    ensemble = _train_ensemble(*build(seeds), seeds, mask, c)
    single = _train_ensemble(*build([5]), [5], mask[1:2], c)
    for (name, p_ens), p_one in zip(ensemble.named_parameters(), single.parameters(), strict=True):
        torch.testing.assert_close(p_ens[1], p_one[0], msg=name)
    assert not torch.allclose(ensemble.embed[0], ensemble.embed[1])


def test_ensemble_adamw_matches_torch_adamw():
    gen = torch.Generator().manual_seed(5)
    model = _transformer([0, 1], norm="post")
    members = [_member(model, s) for s in range(2)]
    torch_opts = [
        torch.optim.AdamW(list(w.values()), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=wd)
        for w, wd in zip(members, (1.0, 0.0), strict=True)
    ]
    opt = AdamW(list(model.parameters()), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=[1.0, 0.0])
    for step in range(5):
        tokens = _tokens(12, gen)
        answers = (tokens[:, 0] + tokens[:, 2]) % P
        scale = min(1.0, step / 3)  # the study's warmup, lr · step / warmup from 0
        loss = cross_entropy(model(tokens), answers)
        opt.zero_grad()
        loss.sum().backward()
        opt.step(scale)
        for w, t_opt in zip(members, torch_opts, strict=True):
            for group in t_opt.param_groups:
                group["lr"] = 1e-2 * scale
            t_opt.zero_grad()
            F.cross_entropy(_ref_transformer(w, model, tokens), answers).backward()
            t_opt.step()
    for s, w in enumerate(members):
        for name, p in model.named_parameters():
            torch.testing.assert_close(p[s], w[name].detach(), msg=f"member {s} {name}")


def test_member_batches_reshuffle_each_epoch():
    mask = modular.train_masks(49, [0.5], [0, 1])[0]  # 24 training equations per member
    batches = modular.MemberBatches(mask, 12, [0, 1])
    epoch = np.concatenate([batches.at(0), batches.at(1)], axis=1)  # (2, 24)
    for s in range(2):
        assert sorted(epoch[s]) == sorted(np.flatnonzero(mask[s]))  # each equation once per epoch
    assert not np.array_equal(np.concatenate([batches.at(2), batches.at(3)], axis=1), epoch)
    np.testing.assert_array_equal(modular.MemberBatches(mask, 12, [0, 1]).at(1), batches.at(1))  # step alone
    with pytest.raises(ValueError, match="training-set sizes"):
        modular.MemberBatches(np.stack([mask[0], np.ones(49, dtype=bool)]), 12, [0, 1])
