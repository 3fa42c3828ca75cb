import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reprosuite.engine.models.transformer import EnsembleTransformer  # noqa: E402
from reprosuite.studies.nanda_progress_measures import fourier  # noqa: E402

P = 13


def _wave(k, phase=0.0, p=P):
    return torch.cos(2 * math.pi * k * torch.arange(p, dtype=torch.float64) / p + phase)


def test_basis_is_orthonormal_and_names_match():
    b = fourier.fourier_basis(P)
    torch.testing.assert_close(b @ b.T, torch.eye(P, dtype=torch.float64))
    assert (
        fourier.component_names(P)[:3] == ["const", "cos 1", "sin 1"] and len(fourier.component_names(P)) == P
    )
    torch.testing.assert_close(b[3], _wave(2) / _wave(2).norm())
    with pytest.raises(ValueError):
        fourier.fourier_basis(12)


def test_embedding_of_three_pure_frequencies_and_parseval():
    g = torch.Generator().manual_seed(0)
    d = 8
    embed = torch.zeros(1, P + 1, d, dtype=torch.float64)
    for k in (2, 3, 5):
        embed[0, :P] += torch.outer(_wave(k, phase=0.3 * k), torch.randn(d, generator=g, dtype=torch.float64))
    embed[0, P] = 100.0  # the "=" token is ignored
    norms = fourier.embedding_component_norms(embed, P)
    energy = fourier.frequency_energy(norms)[0]
    assert energy.shape == (P // 2,)
    assert set(torch.nonzero(energy > 1e-9).flatten().add(1).tolist()) == {2, 3, 5}
    # Parseval: component energies add up to the squared Frobenius norm of the number-token rows
    torch.testing.assert_close(norms.pow(2).sum(), embed[0, :P].pow(2).sum())
    torch.testing.assert_close(energy.sum() + norms[0, 0] ** 2, embed[0, :P].pow(2).sum())


def _grid(p=P):
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    return a.reshape(-1).double(), b.reshape(-1).double()


def test_neuron_frequencies_and_key_mask():
    a, b = _grid()
    w = lambda k: 2 * math.pi * k / P  # noqa: E731
    neurons = torch.stack(
        [
            torch.cos(w(3) * (a + b)),  # quadratic terms of frequency 3
            torch.cos(w(4) * a) + 0.5 * torch.sin(w(4) * b),  # linear terms of frequency 4
            torch.relu(torch.cos(w(6) * a + 0.2) + torch.cos(w(6) * b)),  # mostly frequency 6
            torch.cos(w(3) * (a - b)) + 2.0,  # still frequency 3 (constant removed)
            torch.zeros_like(a),  # dead: no frequency
        ],
        dim=-1,
    ).unsqueeze(0)
    freqs, frac = fourier.neuron_frequencies(neurons, P)
    assert freqs[0].tolist() == [3, 4, 6, 3, 0] and float(frac[0, 4]) == 0.0
    torch.testing.assert_close(frac[0, [0, 1, 3]], torch.ones(3, dtype=torch.float64))
    assert 0.5 < float(frac[0, 2]) < 1.0
    mask = fourier.key_frequency_mask(neurons, P)
    assert torch.nonzero(mask[0]).flatten().add(1).tolist() == [3, 4, 6]


def test_xpy_directions_are_orthonormal_waves():
    d = fourier.xpy_directions(P)
    flat = d.reshape(-1, P * P)
    torch.testing.assert_close(flat @ flat.T, torch.eye(flat.shape[0], dtype=torch.float64))
    a, b = _grid()
    wave = torch.cos(2 * math.pi * 4 * (a + b) / P)
    torch.testing.assert_close(d[3, 0], wave / wave.norm())


def _trig_logits(freqs, scale, p=P):
    """Logits Σ_k cos(w_k (a + b − c)), the paper's algorithm, (1, p², p)."""
    a, b = _grid(p)
    c = torch.arange(p, dtype=torch.float64)
    out = sum(torch.cos(2 * math.pi * k * (a[:, None] + b[:, None] - c) / p) for k in freqs)
    return scale * out.unsqueeze(0)


def test_restricted_and_excluded_loss_on_the_trig_algorithm():
    a, b = _grid()
    labels = ((a + b) % P).long()
    keys = (2, 5)
    mask = torch.zeros(1, P // 2, dtype=torch.bool)
    mask[0, [k - 1 for k in keys]] = True
    clean = _trig_logits(keys, 6.0)
    noise = 3.0 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    logits = clean + noise
    train = (torch.rand(1, P * P, generator=torch.Generator().manual_seed(2)) < 0.5).double()
    # the key part is exactly the clean trig logits plus the noise's own key-frequency component
    directions = fourier.xpy_directions(P)
    torch.testing.assert_close(fourier.key_component(clean, mask, directions), clean)
    full = torch.nn.functional.cross_entropy(logits[0], labels)
    restricted = fourier.restricted_loss(logits, labels, mask)
    excluded = fourier.excluded_loss(logits, labels, mask, train)
    assert float(restricted) < float(full)  # removing the noise helps
    assert float(excluded) > math.log(P) - 0.5  # without the key frequencies: no better than chance
    # reference: restricting the clean logits changes nothing; excluding everything leaves chance level
    torch.testing.assert_close(
        fourier.restricted_loss(clean, labels, mask),
        torch.nn.functional.cross_entropy(clean[0], labels).reshape(1),
    )
    torch.testing.assert_close(
        fourier.excluded_loss(clean, labels, mask, train), torch.full((1,), math.log(P), dtype=torch.float64)
    )


def test_bias_correction_keeps_a_constant_logit_offset():
    a, b = _grid()
    labels = ((a + b) % P).long()
    mask = torch.zeros(1, P // 2, dtype=torch.bool)
    mask[0, 1] = True
    offset = torch.linspace(-2, 2, P, dtype=torch.float64)
    logits = _trig_logits((2,), 4.0) + offset
    expected = torch.nn.functional.cross_entropy(logits[0], labels)
    torch.testing.assert_close(fourier.restricted_loss(logits, labels, mask), expected.reshape(1))


def test_forward_with_neurons_matches_the_model():
    model = EnsembleTransformer(P + 1, P, 3, 16, 4, 32, 1, [0, 1], norm="none", dtype=torch.float64)
    a, b = _grid()
    tokens = torch.stack([a.long(), b.long(), torch.full_like(a.long(), P)], dim=-1)
    logits, neurons = fourier.forward_with_neurons(model, tokens)
    torch.testing.assert_close(logits, model(tokens))
    assert neurons.shape == (2, P * P, 32) and bool((neurons >= 0).all())
    per_member = tokens[:10].expand(2, -1, -1)
    torch.testing.assert_close(fourier.forward_with_neurons(model, per_member)[0], model(per_member))
    with pytest.raises(ValueError):
        fourier.forward_with_neurons(EnsembleTransformer(P + 1, P, 3, 16, 4, 32, 1, [0], norm="post"), tokens)


def test_sum_squared_weights():
    params = [torch.ones(2, 3), torch.full((2, 2, 2), 2.0)]
    torch.testing.assert_close(fourier.sum_squared_weights(params), torch.tensor([19.0, 19.0]))


def test_numpy_helpers_agree_on_spectrum():
    from reprosuite.studies.nanda_progress_measures.sparsity import count_for_share

    e = np.zeros(P // 2)
    e[[1, 2, 4]] = [5.0, 3.0, 2.0]
    assert count_for_share(e, 0.9) == 3 and count_for_share(e, 0.5) == 1


def test_forward_fixed_last_is_an_exact_rewrite():
    model = EnsembleTransformer(P + 1, P, 3, 16, 4, 32, 1, [0, 1, 2], norm="none", dtype=torch.float64)
    a, b = _grid()
    a, b = a.long(), b.long()
    tokens = torch.stack([a, b, torch.full_like(a, P)], dim=-1)
    ref_logits, ref_neurons = fourier.forward_with_neurons(model, tokens)
    logits, neurons = fourier.forward_fixed_last(model, a, b, P)
    torch.testing.assert_close(logits, ref_logits)
    torch.testing.assert_close(neurons, ref_neurons)
    # per-member inputs, and gradients agree too
    idx = torch.stack([torch.arange(0, 30), torch.arange(30, 60), torch.arange(60, 90)])
    fast = fourier.forward_fixed_last(model, a[idx], b[idx], P)[0]
    slow = model(tokens[idx])
    torch.testing.assert_close(fast, slow)
    g_fast = torch.autograd.grad(fast.pow(2).sum(), list(model.parameters()), allow_unused=True)
    g_slow = torch.autograd.grad(slow.pow(2).sum(), list(model.parameters()), allow_unused=True)
    for x, y in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(x, y)
